"""NetSuite SuiteTalk SOAP (legacy, v2025_2): connector, a zeep-driven client with token-based authentication, error
classification and sandbox. See docs/connectors/netsuitesoap.md."""

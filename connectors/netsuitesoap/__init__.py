"""NetSuite SuiteTalk SOAP (legacy, v2025_2): a zeep-driven client with token-based authentication, and its
sandbox. Not registered yet: see docs/connectors/netsuitesoap.md."""

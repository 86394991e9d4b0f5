"""SAP Business One Service Layer (OData v4, ``/b1s/v2/``): connector, client, error classification, translation
and sandbox. See docs/connectors/sapb1.md."""

"""SAP Business One Service Layer (OData v4, ``/b1s/v2/``): client, error classification and sandbox. No
connector is registered yet: see docs/connectors/sapb1.md."""

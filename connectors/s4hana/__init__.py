"""SAP S/4HANA Cloud: customer invoices, credit memos and incoming payments as FI-AR journal entries over OData V2
(see docs/connectors/s4hana.md)."""

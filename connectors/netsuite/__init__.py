"""Oracle NetSuite over its REST web services (record/v1 and SuiteQL). Work in progress:
see docs/connectors/netsuite.md."""

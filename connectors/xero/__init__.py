"""Xero connector: ``connector.py`` registers ``xero``; see docs/connectors/xero.md."""

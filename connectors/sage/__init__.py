"""Sage Business Cloud Accounting (API v3.1) connector."""

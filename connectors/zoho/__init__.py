"""Zoho Books: the connector, its HTTP client, payload translation, error classification and its sandbox."""

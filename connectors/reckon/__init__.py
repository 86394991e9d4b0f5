"""Reckon One (API v2): the connector, its HTTP client, payload translation, error classification and its sandbox."""

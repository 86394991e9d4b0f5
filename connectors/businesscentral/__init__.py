"""Dynamics 365 Business Central (API v2.0): the connector, its HTTP client, payload translation, error
classification and its sandbox."""

"""OneUp (REST JSON API v1 at api.oneup.com/v1; HTTP Basic with the API email and API key)."""

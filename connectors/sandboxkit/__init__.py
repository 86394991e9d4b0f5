"""Building blocks shared by the platform sandboxes (fault injection, loopback HTTP server, limits, webhooks)."""

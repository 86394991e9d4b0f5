"""Bill.com accounts receivable (API v3) connector."""

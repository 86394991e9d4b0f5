"""Kashoo (TrulySmall Accounting) connector."""

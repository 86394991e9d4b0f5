"""The pipeline: a saved document becomes an outbox change, an entry, a call to the platform and a sync log.

Knows nothing of the policies it applies (they are installed behind ``core.policy``), of inbound sync, of the
feature packages or of the staff pages.
"""

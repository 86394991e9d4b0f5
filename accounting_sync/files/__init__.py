"""File delivery: documents for platforms without an API travel in export batches of the platform's import files.

The path, bounded and separate from the API one (``engine.sync_object`` hands an entry here when its connector's
``delivery`` is "file"; nothing else of the engine runs for it):

1. ``stage``: a worker takes the entry like any other, builds its snapshot, runs preflight, resolves mappings and
   has the connector render it into rows of the platform's import files (``FileConnector.render``). A document the
   platform's import would refuse, or with a mapping missing, stops here with the plain-language reason, in the
   attention list: it is never put in a file. A good one becomes an ``ExportItem`` waiting for the next batch;
   the entry is "ready for the next export file".
2. ``batches.export``: staff (admin action) or ops (``accounting_sync_export``) take every ready item of a
   connection into one new ``ExportBatch``: its files are written once, stored with their SHA-256 and never
   changed. The entries are "exported, awaiting import" with their batch.
3. ``batches.confirm``: staff confirm the batch imported (admin action), or upload the platform's export file
   (``batches.read_back``), which closes each document found in it: the ``ExternalReference`` gets the platform's
   number, the entry is done.

Nothing is exported twice unless staff ask: an item belongs to one batch; ``batches.reexport`` makes a new batch of
an old one's documents, explicitly, and records who did it in the audit trail.
"""

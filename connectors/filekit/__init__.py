"""The file-delivery family of the platform kit: platforms without a public API, reached through their own
import files.

A file platform's connector (``FileConnector``, ``delivery = "file"``) renders each document into rows of the
platform's import format; the pipeline groups staged documents into an immutable export batch; staff import the
files into the platform and confirm, or upload the platform's own export file, which closes the documents and
records their numbers there. The same export file feeds reconciliation (``read_documents`` / ``list_documents``).

- ``formats``: ``FileFormat`` (columns, delimiter, encoding, line endings, header row, record separator, rows per
  file, date and number formats) and the value formatting every format shares;
- ``writer``: rows -> files (split at the platform's row limit, never inside a document's record);
- ``parser``: files -> records, with the csv module, as the platform's import would read them;
- ``delivery``: ``FileConnector``, the connector base class of the family;
- ``manual``: ``ManualFormat`` and the generic CSV of the manual fallback: a platform *with* an API that is down
  has its unsynced documents written in files for a person to key in (its own import format where it has one);
- ``importer``: ``ImporterEmulator``, the in-process stand-in for the platform's import screen and export report
  (what the tests and the demo use instead of a sandbox over HTTP).
"""

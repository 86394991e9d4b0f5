"""Patriot Software Accounting: no public API; documents go out as the CSV import files Patriot accepts (file
delivery, ``connectors.filekit``). Sources and guesses: docs/connectors/patriot.md."""

"""What the pipeline tells the rest of the app about, beyond Django's own model signals."""
from django.dispatch import Signal

#: Sent with sync-log rows written together with one statement (a chunk of documents sent in one batch), which
#: Django's ``post_save`` does not report: ``logs`` is the list of rows, saved, in the transaction that wrote them.
#: Whatever hears about each row as it is written (the audit trail) must hear about these too.
sync_logs_written = Signal()

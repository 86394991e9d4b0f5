"""Platform -> local: signed webhooks (``webhooks``), polling and applying remote changes (``sync``), and the
ledger's side of documents created on a platform (``ledger``). Sits on the pipeline and the policies."""

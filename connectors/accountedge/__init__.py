"""AccountEdge (formerly MYOB AccountEdge, Acclivity): a desktop product with no public API; documents go out as its
tab-delimited Sales and Receive Payments import files (file delivery, ``connectors.filekit``). Sources and guesses:
docs/connectors/accountedge.md."""

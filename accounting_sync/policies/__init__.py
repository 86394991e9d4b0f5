"""What the pipeline applies to a document before it is sent: preflight checks, the connection's financial rules
(hierarchy, exchange rates), mapping drift. Installed into the pipeline through ``core.policy`` at start-up."""

"""Alerts: one incident per problem that needs a person, with one notice when it opens and one when it clears.

``engine.evaluate`` (a Schedule, every minute) looks at the state of the sync (connections needing reconnecting,
entries needing attention or failing, a stopped task queue, a spent rate budget, reconciliation variances) in a
few aggregate queries, opens, updates and resolves ``Incident`` rows, and hands each opening and resolution to
the channels in ``notify``: email, the ``signals`` hosts receive, and an optional signed webhook. ``digest``
sends the daily summary. See docs/alerts.md.
"""
from . import checks  # noqa: F401 - registers the settings check

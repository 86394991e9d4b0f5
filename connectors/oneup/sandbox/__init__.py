"""Local emulator of the OneUp API v1 (HTTP Basic API email and key, customers, items, invoices, payments,
accounts, currencies), built on the sandbox kit. See docs/sandbox-oneup.md."""
from .server import OneUpSandbox

__all__ = ["OneUpSandbox"]

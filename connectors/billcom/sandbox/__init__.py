"""Local emulator of the Bill.com AR API v3 (sign-in sessions, customers, invoices, recorded payments, chart of
accounts), built on the sandbox kit. See docs/sandbox-billcom.md."""
from .seed import DEV_KEY, ORGANIZATION_ID
from .server import BillcomSandbox

__all__ = ["BillcomSandbox", "DEV_KEY", "ORGANIZATION_ID"]

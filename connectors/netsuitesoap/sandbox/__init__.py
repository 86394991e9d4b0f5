"""Local emulator of NetSuite SuiteTalk SOAP (v2025_2, a subset) on the sandbox kit. See
docs/sandbox-netsuitesoap.md."""
from .seed import ACCOUNT_ID, CONSUMER_KEY, CONSUMER_SECRET, TOKEN_ID, TOKEN_SECRET
from .server import NetSuiteSoapSandbox

__all__ = ["NetSuiteSoapSandbox", "ACCOUNT_ID", "CONSUMER_KEY", "CONSUMER_SECRET", "TOKEN_ID", "TOKEN_SECRET"]

"""Local emulator of the Reckon One API v2, its API Management gateway and Reckon's identity server ("the
sandbox"), built on the sandbox kit. See docs/sandbox-reckon.md."""
from .seed import BOOK_ID, SUBSCRIPTION_KEY
from .server import ReckonError, ReckonSandbox

__all__ = ["ReckonSandbox", "ReckonError", "BOOK_ID", "SUBSCRIPTION_KEY"]

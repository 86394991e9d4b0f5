"""Local emulator of the Sage Business Cloud Accounting API v3.1 and Sage's OAuth server ("the sandbox"), built on
the sandbox kit. See docs/sandbox-sage.md."""
from .seed import BUSINESS_ID
from .server import SageError, SageSandbox

__all__ = ["SageSandbox", "SageError", "BUSINESS_ID"]

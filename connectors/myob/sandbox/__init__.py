"""Local emulator of the MYOB Business (AccountRight) API v2 and MYOB's OAuth server ("the sandbox"), built on
the sandbox kit. See docs/sandbox-myob.md."""
from .seed import COMPANY_FILE_ID
from .server import MyobError, MyobSandbox

__all__ = ["MyobSandbox", "MyobError", "COMPANY_FILE_ID"]

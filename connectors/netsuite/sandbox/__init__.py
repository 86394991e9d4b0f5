"""Local emulator of NetSuite's REST web services (record/v1, SuiteQL) with TBA and OAuth 2.0, on the sandbox kit.
See docs/sandbox-netsuite.md."""
from .seed import ACCOUNT_ID
from .server import NetSuiteError, NetSuiteSandbox

__all__ = ["NetSuiteSandbox", "NetSuiteError", "ACCOUNT_ID"]

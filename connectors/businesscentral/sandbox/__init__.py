"""Local emulator of the Business Central API v2.0 and of the Entra ID token endpoints ("the sandbox"), built on
the sandbox kit. See docs/sandbox-businesscentral.md."""
from .seed import COMPANY_ID, ENVIRONMENT, TENANT_ID
from .server import BCError, BusinessCentralSandbox

__all__ = ["BusinessCentralSandbox", "BCError", "COMPANY_ID", "TENANT_ID", "ENVIRONMENT"]

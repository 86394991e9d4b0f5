"""Local emulator of the SAP Business One Service Layer (``/b1s/v2/``), built on the sandbox kit. See
docs/sandbox-sapb1.md."""
from .seed import COMPANY_DB, PASSWORD, USER
from .server import ServiceLayerSandbox

__all__ = ["ServiceLayerSandbox", "COMPANY_DB", "USER", "PASSWORD"]

"""Local emulator of the SAP S/4HANA Cloud OData V2 services the connector uses, built on the sandbox kit. See
docs/sandbox-s4hana.md."""
from .seed import CLIENT_ID, CLIENT_SECRET, COMPANY_CODE
from .server import S4HanaSandbox

__all__ = ["S4HanaSandbox", "COMPANY_CODE", "CLIENT_ID", "CLIENT_SECRET"]

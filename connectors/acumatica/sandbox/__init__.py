"""Local emulator of Acumatica's contract-based REST API, built on the sandbox kit. See docs/sandbox-acumatica.md."""
from .seed import PASSWORD, TENANT, USER, VERSION
from .server import AcumaticaSandbox

__all__ = ["AcumaticaSandbox", "TENANT", "USER", "PASSWORD", "VERSION"]

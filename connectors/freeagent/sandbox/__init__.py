"""Local emulator of the FreeAgent API v2 and its OAuth server ("the sandbox"), built on the sandbox kit.

Host developers and our tests exercise a FreeAgent integration offline over real loopback HTTP with it.
See docs/sandbox-freeagent.md.
"""
from .seed import COMPANY_ID
from .server import FreeAgentError, FreeAgentSandbox

__all__ = ["FreeAgentSandbox", "FreeAgentError", "COMPANY_ID"]

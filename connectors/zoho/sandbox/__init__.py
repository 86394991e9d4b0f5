"""Local emulator of the Zoho Books API v3 and Zoho's OAuth server ("the sandbox"), built on the sandbox kit.

Host developers and our tests exercise a Zoho Books integration offline over real loopback HTTP with it.
See docs/sandbox-zoho.md.
"""
from .server import ZohoError, ZohoSandbox
from .seed import ORGANIZATION_ID

__all__ = ["ZohoSandbox", "ZohoError", "ORGANIZATION_ID"]

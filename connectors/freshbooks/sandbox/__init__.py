"""Local emulator of the FreshBooks accounting API and its OAuth server ("the sandbox"), built on the sandbox kit.

See docs/sandbox-freshbooks.md.
"""
from .seed import ACCOUNT_ID
from .server import FreshBooksError, FreshBooksSandbox

__all__ = ["FreshBooksSandbox", "FreshBooksError", "ACCOUNT_ID"]

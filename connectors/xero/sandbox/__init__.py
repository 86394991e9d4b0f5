"""Local emulator of the Xero Accounting API 2.0 and Xero's identity service ("the sandbox").

Host developers and our test-suite use it to exercise a Xero integration offline over real loopback HTTP.
See docs/sandbox-xero.md.
"""

from .server import DEFAULT_TENANT_ID, XeroFaults, XeroLimiter, XeroSandbox
from .store import Store
from .wire import XeroError

__all__ = ["XeroSandbox", "Store", "XeroError", "XeroFaults", "XeroLimiter", "DEFAULT_TENANT_ID"]

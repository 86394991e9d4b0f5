"""Local emulator of the QuickBooks Online Accounting API v3 ("the sandbox").

Host developers and our test-suite use it to exercise the QBO connector
offline over real loopback HTTP. See docs/sandbox-qbo.md.
"""

from ...sandboxkit.faults import FaultInjector
from .server import QBOSandbox
from .store import Store
from .wire import QBOFault

__all__ = ["QBOSandbox", "Store", "QBOFault", "FaultInjector"]

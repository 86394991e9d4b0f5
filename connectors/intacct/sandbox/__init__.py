"""Local emulator of Sage Intacct's XML gateway on the sandbox kit. See docs/sandbox-intacct.md."""
from .seed import COMPANY_ID, SENDER_ID, SENDER_PASSWORD, USER_ID, USER_PASSWORD
from .server import IntacctSandbox

__all__ = ["IntacctSandbox", "COMPANY_ID", "SENDER_ID", "SENDER_PASSWORD", "USER_ID", "USER_PASSWORD"]

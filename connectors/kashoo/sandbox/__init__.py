"""Local emulator of the Kashoo API (token sign-in, customers, invoice and payment records in cents, accounts),
built on the sandbox kit. See docs/sandbox-kashoo.md."""
from .seed import BUSINESS_ID
from .server import KashooSandbox

__all__ = ["BUSINESS_ID", "KashooSandbox"]

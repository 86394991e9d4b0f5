"""``python -m connectors.billcom.sandbox [--port 8777]``: run the Bill.com sandbox in the foreground."""
from ...sandboxkit.platform import run_cli
from .server import BillcomSandbox

if __name__ == "__main__":
    run_cli(BillcomSandbox)

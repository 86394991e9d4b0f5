"""``python -m connectors.intacct.sandbox [--port 8786]``: run the Sage Intacct sandbox in the foreground."""
from ...sandboxkit.platform import run_cli
from .server import IntacctSandbox

if __name__ == "__main__":
    run_cli(IntacctSandbox)

"""``python -m connectors.netsuite.sandbox [--port 8791]``: run the NetSuite REST sandbox in the foreground."""
from ...sandboxkit.platform import run_cli
from .server import NetSuiteSandbox

if __name__ == "__main__":
    run_cli(NetSuiteSandbox)

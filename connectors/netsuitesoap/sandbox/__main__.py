"""``python -m connectors.netsuitesoap.sandbox [--port 8793]``: run the NetSuite SOAP sandbox in the foreground."""
from ...sandboxkit.platform import run_cli
from .server import NetSuiteSoapSandbox

if __name__ == "__main__":
    run_cli(NetSuiteSoapSandbox)

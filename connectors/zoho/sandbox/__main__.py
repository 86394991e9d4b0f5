"""``python -m connectors.zoho.sandbox [--port 8767]``: run the Zoho Books sandbox in the foreground."""
from ...sandboxkit.platform import run_cli
from .server import ZohoSandbox

if __name__ == "__main__":
    run_cli(ZohoSandbox)

"""``python -m connectors.zoho.sandbox [--port 8767]``: run the Zoho Books sandbox in the foreground."""
import sys

from ...sandboxkit.platform import run_cli
from .server import ZohoSandbox

if __name__ == "__main__":
    run_cli(ZohoSandbox, sys.argv[1:])

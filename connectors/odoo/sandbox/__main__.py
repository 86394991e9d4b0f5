"""``python -m connectors.odoo.sandbox [--port 8769]``: run the Odoo sandbox in the foreground."""
from ...sandboxkit.platform import run_cli
from .server import OdooSandbox

if __name__ == "__main__":
    run_cli(OdooSandbox)

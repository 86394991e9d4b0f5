"""``python -m connectors.businesscentral.sandbox [--port 8770]``: run the Business Central sandbox in the
foreground."""
from ...sandboxkit.platform import run_cli
from .server import BusinessCentralSandbox

if __name__ == "__main__":
    run_cli(BusinessCentralSandbox)

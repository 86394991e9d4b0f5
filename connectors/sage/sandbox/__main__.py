"""``python -m connectors.sage.sandbox [--port 8768]``: run the Sage Business Cloud Accounting sandbox."""
from ...sandboxkit.platform import run_cli
from .server import SageSandbox

if __name__ == "__main__":
    run_cli(SageSandbox)

"""``python -m connectors.freshbooks.sandbox [--port 8769]``: run the FreshBooks sandbox in the foreground."""
from ...sandboxkit.platform import run_cli
from .server import FreshBooksSandbox

if __name__ == "__main__":
    run_cli(FreshBooksSandbox)

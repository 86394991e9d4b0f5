"""``python -m connectors.kashoo.sandbox [--port 8775]``: run the Kashoo sandbox in the foreground."""
from ...sandboxkit.platform import run_cli
from .server import KashooSandbox

if __name__ == "__main__":
    run_cli(KashooSandbox)

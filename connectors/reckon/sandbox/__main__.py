"""``python -m connectors.reckon.sandbox [--port 8771]``: run the Reckon One sandbox in the foreground."""
from ...sandboxkit.platform import run_cli
from .server import ReckonSandbox

if __name__ == "__main__":
    run_cli(ReckonSandbox)

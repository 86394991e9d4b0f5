"""``python -m connectors.sapb1.sandbox [--port 8780]``: run the Service Layer sandbox in the foreground."""
from ...sandboxkit.platform import run_cli
from .server import ServiceLayerSandbox

if __name__ == "__main__":
    run_cli(ServiceLayerSandbox)

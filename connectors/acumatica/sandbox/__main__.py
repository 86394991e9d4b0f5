"""``python -m connectors.acumatica.sandbox [--port 8784]``: run the Acumatica sandbox in the foreground."""
from ...sandboxkit.platform import run_cli
from .server import AcumaticaSandbox

if __name__ == "__main__":
    run_cli(AcumaticaSandbox)

"""``python -m connectors.myob.sandbox [--port 8772]``: run the MYOB Business sandbox in the foreground."""
from ...sandboxkit.platform import run_cli
from .server import MyobSandbox

if __name__ == "__main__":
    run_cli(MyobSandbox)

"""``python -m connectors.oneup.sandbox [--port 8776]``: run the OneUp sandbox in the foreground."""
from ...sandboxkit.platform import run_cli
from .server import OneUpSandbox

if __name__ == "__main__":
    run_cli(OneUpSandbox)

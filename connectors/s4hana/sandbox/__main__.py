"""``python -m connectors.s4hana.sandbox [--port 8790]``: run the S/4HANA Cloud sandbox in the foreground."""
from ...sandboxkit.platform import run_cli
from .server import S4HanaSandbox

if __name__ == "__main__":
    run_cli(S4HanaSandbox)

"""``python -m connectors.freeagent.sandbox [--port 8773]``: run the FreeAgent sandbox in the foreground."""
from ...sandboxkit.platform import run_cli
from .server import FreeAgentSandbox

if __name__ == "__main__":
    run_cli(FreeAgentSandbox)

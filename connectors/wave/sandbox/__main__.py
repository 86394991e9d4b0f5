"""``python -m connectors.wave.sandbox [--port 8774]``: run the Wave sandbox in the foreground."""
from ...sandboxkit.platform import run_cli
from .server import WaveSandbox

if __name__ == "__main__":
    run_cli(WaveSandbox)

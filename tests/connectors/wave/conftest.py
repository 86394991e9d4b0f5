"""The Wave sandbox on loopback: one per test session (``wave_sandbox``), reset for each test (``wsandbox``)."""
from tests.connectors.sandboxkit.wire import sandbox_fixtures

wave_sandbox, wsandbox = sandbox_fixtures("connectors.wave.sandbox.WaveSandbox", "wave_sandbox", "wsandbox")

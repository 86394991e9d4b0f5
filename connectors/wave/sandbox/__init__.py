"""Local emulator of Wave's public GraphQL API and Wave's OAuth server ("the sandbox"), built on the sandbox kit.

Queries are parsed, validated and executed with graphql-core against the SDL in ``connectors/wave/spec``.
See docs/sandbox-wave.md.
"""
from .server import WaveSandbox

__all__ = ["WaveSandbox"]

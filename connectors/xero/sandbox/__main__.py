"""``python -m connectors.xero.sandbox --port 8766``: run the Xero sandbox in the foreground.

Works from the installed package (no repository needed); ``--port 0`` takes a free port and the first line
printed names the URL. Request bodies are validated against Xero's OpenAPI document when ``jsonschema`` and
``PyYAML`` are installed (the ``sandbox`` extra): the copy vendored in ``connectors/xero/spec/`` by default,
another file with ``--spec`` (or ``XERO_OPENAPI_SPEC``); otherwise validation is skipped and the
``validation:`` line says why."""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
from pathlib import Path

from ...sandboxkit.platform import add_latency_argument, latency_from_argument
from .server import DEFAULT_TENANT_ID, XeroSandbox


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Local Xero Accounting API sandbox")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--client-id", default="sandbox-client")
    parser.add_argument("--client-secret", default="sandbox-secret")
    parser.add_argument("--tenant-id", default=DEFAULT_TENANT_ID)
    parser.add_argument("--access-token-ttl", type=int, default=1800)
    parser.add_argument("--no-limits", action="store_true", help="switch Xero's rate limits off")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    parser.add_argument("--spec", type=Path, default=None, metavar="FILE",
                        help="another xero_accounting.yaml to validate request bodies against (default: the "
                             "vendored copy)")
    add_latency_argument(parser)
    args = parser.parse_args(argv)
    sandbox = XeroSandbox(host=args.host, port=args.port, client_id=args.client_id,
                          client_secret=args.client_secret, tenant_id=args.tenant_id,
                          access_token_ttl=args.access_token_ttl, spec_path=args.spec, verbose=args.verbose,
                          latency=latency_from_argument(parser, args.latency))
    if args.no_limits:
        sandbox.limits.off()
    sandbox.bind()
    print(f"Xero sandbox on {sandbox.base_url} (tenant {sandbox.tenant_id})", flush=True)
    print(f"api: {sandbox.api_base}  token: {sandbox.token_url}", flush=True)
    print(f"validation: {json.dumps(sandbox.state()['validation'])}", flush=True)
    print("tokens:", json.dumps(sandbox.issue_tokens()), flush=True)
    # Ctrl-C and a SIGTERM (a supervisor, a test harness) both close the socket and exit 0.
    signal.signal(signal.SIGTERM, _interrupt)
    with contextlib.suppress(KeyboardInterrupt):
        sandbox.serve_forever()


def _interrupt(signum, frame):
    raise KeyboardInterrupt


if __name__ == "__main__":
    main()

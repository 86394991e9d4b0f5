"""``python -m connectors.qbo.sandbox --port 8765``: run the sandbox in the foreground.

Works from the installed package (no repository needed); ``--port 0`` takes a free port and the first line
printed names the URL."""

from __future__ import annotations

import argparse
import contextlib
import json
import signal

from ...sandboxkit.platform import add_latency_argument, latency_from_argument
from .server import QBOSandbox


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Local QuickBooks Online API sandbox")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--client-id", default="sandbox-client")
    parser.add_argument("--client-secret", default="sandbox-secret")
    parser.add_argument("--realm-id", default="9130000000000001")
    parser.add_argument("--access-token-ttl", type=int, default=3600)
    parser.add_argument("--refresh-grace-seconds", type=float, default=0)
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    parser.add_argument("--no-limits", action="store_true",
                        help="start with QBO's rate and concurrency limits switched off")
    parser.add_argument("--company-per-consent", action="store_true",
                        help="every consent after the first connects to a new company of its own (many tenants)")
    add_latency_argument(parser)
    args = parser.parse_args(argv)
    sandbox = QBOSandbox(host=args.host, port=args.port, client_id=args.client_id,
                         client_secret=args.client_secret, realm_id=args.realm_id,
                         access_token_ttl=args.access_token_ttl,
                         refresh_grace_seconds=args.refresh_grace_seconds, verbose=args.verbose,
                         limits=not args.no_limits, latency=latency_from_argument(parser, args.latency),
                         company_per_consent=args.company_per_consent)
    sandbox.bind()
    print(f"QBO sandbox on {sandbox.base_url} (realm {sandbox.realm_id})", flush=True)
    print(f"discovery: {sandbox.discovery_url}", flush=True)
    print("tokens:", json.dumps(sandbox.issue_tokens()), flush=True)
    # Ctrl-C and a SIGTERM (a supervisor, a test harness) both close the socket and exit 0.
    signal.signal(signal.SIGTERM, _interrupt)
    with contextlib.suppress(KeyboardInterrupt):
        sandbox.serve_forever()


def _interrupt(signum, frame):
    raise KeyboardInterrupt


if __name__ == "__main__":
    main()

"""Serve a platform sandbox (a local emulator of its API) over loopback HTTP.

Examples:
    manage.py accounting_sync_sandbox                          # QuickBooks Online sandbox on 127.0.0.1:8765
    manage.py accounting_sync_sandbox --platform xero          # Xero sandbox on 127.0.0.1:8766
    manage.py accounting_sync_sandbox --port 9000 --verbose
    manage.py accounting_sync_sandbox --no-limits              # the platform's rate limits switched off
Point a connection at it with settings {"api_base": "http://127.0.0.1:8765/v3", ...} (the demo does this).
"""
from accounting_sync.management.base import ExamplesCommand

DEFAULT_PORTS = {"qbo": 8765, "xero": 8766}


class Command(ExamplesCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--platform", default="qbo", choices=sorted(DEFAULT_PORTS))
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, help="Default: 8765 (QBO), 8766 (Xero)")
        parser.add_argument("--no-limits", action="store_true", help="Switch the platform's rate limits off")
        parser.add_argument("--verbose", action="store_true", help="Log every request")

    def handle(self, *args, **opts):
        port = opts["port"] or DEFAULT_PORTS[opts["platform"]]
        if opts["platform"] == "xero":
            from connectors.xero.sandbox import XeroSandbox

            sandbox = XeroSandbox(host=opts["host"], port=port, verbose=opts["verbose"])
            company = f"  tenant id:  {sandbox.tenant_id}"
            title = "Xero"
        else:
            from connectors.qbo.sandbox import QBOSandbox

            sandbox = QBOSandbox(host=opts["host"], port=port, verbose=opts["verbose"])
            company = f"  realm id:   {sandbox.realm_id}"
            title = "QuickBooks Online"
        if opts["no_limits"]:
            sandbox.limits.off()
        sandbox.bind()
        self.stdout.write(f"{title} sandbox at {sandbox.base_url}\n"
                          f"  API base:   {sandbox.api_base}\n  token URL:  {sandbox.token_url}\n"
                          f"{company}\n  client id:  {sandbox.client_id}\n"
                          "Ctrl-C stops it.")
        self.stdout.flush()
        try:
            sandbox.serve_forever()
        except KeyboardInterrupt:
            pass

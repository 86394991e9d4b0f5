"""Serve a platform sandbox (a local emulator of its API) over loopback HTTP.

Examples:
    manage.py accounting_sync_sandbox                      # QuickBooks Online sandbox on 127.0.0.1:8765
    manage.py accounting_sync_sandbox --port 9000 --verbose
Point a connection at it with settings {"api_base": "http://127.0.0.1:8765/v3", ...} (the demo does this).
"""
from accounting_sync.management.base import ExamplesCommand


class Command(ExamplesCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--platform", default="qbo", choices=["qbo"])
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--verbose", action="store_true", help="Log every request")

    def handle(self, *args, **opts):
        from connectors.qbo.sandbox import QBOSandbox

        sandbox = QBOSandbox(host=opts["host"], port=opts["port"], verbose=opts["verbose"])
        sandbox.bind()
        self.stdout.write(f"QuickBooks Online sandbox at {sandbox.base_url}\n"
                          f"  API base:   {sandbox.api_base}\n  token URL:  {sandbox.token_url}\n"
                          f"  realm id:   {sandbox.realm_id}\n  client id:  {sandbox.client_id}\n"
                          "Ctrl-C stops it.")
        self.stdout.flush()
        try:
            sandbox.serve_forever()
        except KeyboardInterrupt:
            pass

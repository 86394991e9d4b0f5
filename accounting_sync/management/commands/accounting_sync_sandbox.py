"""Serve a platform sandbox (a local emulator of its API) over loopback HTTP.

Examples:
    manage.py accounting_sync_sandbox --list                   # the platforms with a sandbox, and their ports
    manage.py accounting_sync_sandbox --platform <id>          # that platform's sandbox on its default port
    manage.py accounting_sync_sandbox --platform <id> --port 9000 --verbose
    manage.py accounting_sync_sandbox --platform <id> --no-limits   # the platform's rate limits switched off
    manage.py accounting_sync_sandbox --platform <id> --latency 150ms          # every request waits 150 ms
    manage.py accounting_sync_sandbox --platform <id> --latency "read=0.1+0.05,write=0.15,batch=0.4,auth=0.1"
    SANDBOX_LATENCY=0.15 manage.py accounting_sync_sandbox --platform <id>     # the same from the environment
Point a connection at it with the settings its connector's ``sandbox_settings(base_url)`` gives (the demo does this).
"""
import contextlib
from django.core.management.base import CommandError

from accounting_sync.staff import demo
from accounting_sync.management.base import ExamplesCommand
from connectors.sandboxkit.latency import Latency
from connectors.sandboxkit.platform import add_latency_argument


class Command(ExamplesCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--platform", choices=demo.platforms(), help="The platform whose sandbox to serve")
        parser.add_argument("--list", action="store_true", help="List the platforms with a sandbox and exit")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, help="Default: the sandbox's own port (see --list)")
        parser.add_argument("--no-limits", action="store_true", help="Switch the platform's rate limits off")
        parser.add_argument("--verbose", action="store_true", help="Log every request")
        add_latency_argument(parser)

    def handle(self, *args, **opts):
        if opts["list"]:
            for platform in demo.platforms():
                cls = demo.sandbox_class(platform)
                self.stdout.write(f"{platform:<10} {cls.title:<24} port {cls.default_port}")
            return
        if not opts["platform"]:
            raise CommandError(f"name a platform with --platform ({', '.join(demo.platforms())})")
        try:
            latency = Latency(opts["latency"])
        except ValueError as exc:
            raise CommandError(f"--latency: {exc}") from None
        cls = demo.sandbox_class(opts["platform"])
        sandbox = cls(host=opts["host"], port=opts["port"] or cls.default_port, verbose=opts["verbose"])
        sandbox.latency.set(latency)
        if opts["no_limits"]:
            sandbox.limits.off()
        sandbox.bind()
        self.stdout.write(f"{cls.title} sandbox at {sandbox.base_url}\n"
                          f"  API base:   {sandbox.api_base}\n  token URL:  {sandbox.token_url}\n"
                          f"  company id: {sandbox.company_id}\n  client id:  {sandbox.client_id}\n"
                          f"  latency:    {_describe(latency)}\n"
                          "Ctrl-C stops it.")
        self.stdout.flush()
        with contextlib.suppress(KeyboardInterrupt):
            sandbox.serve_forever()


def _describe(latency: Latency) -> str:
    delays = latency.delays
    if not latency.enabled:
        return "none"
    return ", ".join(f"{kind} {d.fixed * 1000:g} ms" + (f" + up to {d.jitter * 1000:g} ms" if d.jitter else "")
                     for kind, d in delays.items())

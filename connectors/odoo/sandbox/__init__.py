"""Local emulator of an Odoo server's external API (XML-RPC and JSON-2) on the sandbox kit. See
docs/sandbox-odoo.md."""
from .seed import API_KEY, DATABASE, LOGIN, UID
from .server import OdooSandbox, xmlrpc_proxy

__all__ = ["OdooSandbox", "xmlrpc_proxy", "API_KEY", "DATABASE", "LOGIN", "UID"]

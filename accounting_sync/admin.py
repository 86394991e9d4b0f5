"""Django's admin autodiscovery imports ``<app>.admin``: the staff layer registers every admin page."""
from .staff import admin  # noqa: F401

"""django-accounting-sync: keep a Django business system's books in step with its accounting platform."""

#: The release; pyproject.toml reads it from here, so ``importlib.metadata.version("django-accounting-sync")``
#: and this agree. CHANGELOG.md has a section per release.
__version__ = "0.1.0"

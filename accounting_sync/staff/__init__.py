"""The staff-facing layer, on top of everything else: admin pages, the mapping editor, the GL preview, status and
dashboard, the REST API and the demo. Nothing below imports it."""

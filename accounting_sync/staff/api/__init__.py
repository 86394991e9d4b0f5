"""The REST API (Django REST framework): views in ``views``, what they read and write in ``serializers``, the
routes in ``accounting_sync.urls``. See docs/api.md."""

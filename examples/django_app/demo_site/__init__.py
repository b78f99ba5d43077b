"""The Django project of the sequin-orm demo (settings, URLs, WSGI and ASGI entry points)."""

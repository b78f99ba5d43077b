"""Django integration of sequin-orm.

Add ``"sequin_orm.contrib.django"`` to ``INSTALLED_APPS`` and
``"sequin_orm.contrib.django.middleware.SequinSessionMiddleware"`` to ``MIDDLEWARE``, then
configure everything in one ``SEQUIN`` dict (see ``conf.DEFAULTS`` and docs/django.md)::

    SEQUIN = {"API_TOKEN": os.environ["SEQUIN_API_TOKEN"], "SYNCS": {"salesforce": "..."}}

- ``conf.sequin_settings``: the settings, read lazily, reloaded under ``override_settings``;
- ``conf.get_client()``: the default client, built from ``SEQUIN`` at first use;
- system checks ``sequin_orm.E001``-``E004`` and ``W001``-``W005`` (``manage.py check``);
- ``middleware.SequinSessionMiddleware``: one ``Session`` per request, committed after a
  successful response and only if the database committed;
- commands ``sequin_syncs``, ``sequin_generate``, ``sequin_emulator``;
- ``testing``: point the default client at a fresh emulator in tests.
"""

try:
    import django  # noqa: F401  (only to say what to install when it is missing)
except ImportError as missing:  # pragma: no cover - depends on the environment
    raise ImportError(
        f'sequin_orm.contrib.django needs Django ({missing}): pip install "sequin-orm[django]"'
    ) from missing

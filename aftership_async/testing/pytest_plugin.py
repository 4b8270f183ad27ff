"""The pytest fixtures ``aftership_fake`` and ``aftership_client``, by their former path.

The plugin now lives in :mod:`aftership_async_pytest` (pytest loads it through
the ``pytest11`` entry point, so nothing needs to name it); this module keeps
``pytest_plugins = ["aftership_async.testing.pytest_plugin"]`` working.
"""

from aftership_async_pytest import aftership_client, aftership_fake

__all__ = ["aftership_client", "aftership_fake"]

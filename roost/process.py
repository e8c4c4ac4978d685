"""What a Roost process sets up from its settings before it does any work.

Two things are process-wide because the code that needs them cannot be handed
them: sealed columns are opened inside SQLAlchemy's result processing with the
installation's key store (roost/keys/ring.py), and media URLs are signed deep
inside the serializers with a key from the secret (roost/media/urls.py).

``prepare_process(settings)`` installs both, and every entry point calls it
explicitly as soon as it has settings: ``create_app`` (servers, tests,
benchmarks), each ``roost`` command (roost/cli/base.py), and the test fixtures.
Nothing installs them as a side effect (making a ``Database`` does not), so a
code path that needs them works as the first thing its process does, not only
after something else happened to run.
"""

from __future__ import annotations

from roost.config import Settings
from roost.keys import ring
from roost.media import urls as media_urls


def prepare_process(settings: Settings) -> None:
    """Install the key store and the media URL key these settings name.

    Idempotent; called again with other settings (tests run many
    installations in one process), it switches to theirs.
    """
    ring.install(settings)
    media_urls.configure(settings.secret_key)

"""The ``roost`` command: run the server and look after it.

Every command reads the same ROOST_* settings as the server. Errors are one
sentence naming the problem and the fix, and exit 1; never a traceback.
"""

from __future__ import annotations

from roost.cli import accounts as _accounts  # noqa: F401  (registers its commands)
from roost.cli import announcements as _announcements  # noqa: F401
from roost.cli import appeals as _appeals  # noqa: F401
from roost.cli import audit as _audit  # noqa: F401
from roost.cli import backup as _backup  # noqa: F401
from roost.cli import blocks as _blocks  # noqa: F401
from roost.cli import check as _check  # noqa: F401
from roost.cli import confirm as _confirm  # noqa: F401
from roost.cli import db as _db  # noqa: F401
from roost.cli import doctor as _doctor  # noqa: F401
from roost.cli import email_domains as _email_domains  # noqa: F401
from roost.cli import emoji as _emoji  # noqa: F401
from roost.cli import erase as _erase  # noqa: F401
from roost.cli import export as _export  # noqa: F401
from roost.cli import federation as _federation  # noqa: F401
from roost.cli import hashes as _hashes  # noqa: F401
from roost.cli import imports as _imports  # noqa: F401
from roost.cli import invites as _invites  # noqa: F401
from roost.cli import jobs as _jobs  # noqa: F401
from roost.cli import lawful as _lawful  # noqa: F401
from roost.cli import roles as _roles  # noqa: F401
from roost.cli import rules as _rules  # noqa: F401
from roost.cli import search as _search  # noqa: F401
from roost.cli import serve as _serve  # noqa: F401
from roost.cli import spam as _spam  # noqa: F401
from roost.cli import suggestions as _suggestions  # noqa: F401
from roost.cli import trends as _trends  # noqa: F401
from roost.cli import warning_presets as _warning_presets  # noqa: F401
from roost.cli.base import app

__all__ = ["app"]

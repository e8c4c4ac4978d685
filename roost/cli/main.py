"""The ``roost`` command: run the server and look after it.

Every command reads the same ROOST_* settings as the server. Errors are one
sentence naming the problem and the fix, and exit 1; never a traceback.

Importing this module registers every command: the modules are the ones the
installed program's map names (roost/cli/entry.py), so the whole program and
the one that loads a command's modules alone cannot list different commands.
"""

from __future__ import annotations

import importlib

from roost.cli.base import app
from roost.cli.entry import every_module

for _module in every_module():
    importlib.import_module(f"roost.cli.{_module}")

__all__ = ["app"]

"""The installed ``roost`` program: load the command modules the invoked
command needs, then run it.

Importing every command module costs about a second of CPU in each process,
most of it in domain modules that one command never touches; an operator's
`roost accounts confirm` or a cron job's `roost backup create` pays it on
every run. So the program reads the command's first word and imports only the
modules that register commands under it (``COMMAND_MODULES``, held true by
tests/cli/test_entry.py against what each module registers). ``roost``,
``roost --help`` and a word it does not know load every module, so the help
lists every command and a mistyped word gets typer's own error.

``roost.cli.main.app`` stays the whole application, for code that imports it
(every module this map names, as ``load`` imports them for an unknown word).
"""

from __future__ import annotations

import importlib
import sys

# The first word of a command line -> the roost.cli modules that register
# commands under it.
COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "accounts": ("accounts", "confirm", "erase"),
    "announcements": ("announcements",),
    "appeals": ("appeals",),
    "audit": ("audit",),
    "backup": ("backup",),
    "check": ("check",),
    "db": ("db",),
    "doctor": ("doctor",),
    "domain-allows": ("blocks",),
    "domain-blocks": ("blocks",),
    "email-domains": ("email_domains",),
    "emoji": ("emoji",),
    "export": ("export",),
    "federation": ("federation",),
    "hashes": ("hashes",),
    "import": ("imports",),
    "invites": ("invites",),
    "ip-blocks": ("blocks",),
    "jobs": ("jobs",),
    "lawful": ("lawful",),
    "media": ("media",),
    "roles": ("roles",),
    "rules": ("rules",),
    "search": ("search",),
    "serve": ("serve",),
    "spam": ("spam",),
    "suggestions": ("suggestions",),
    "tokens": ("accounts",),
    "trends": ("trends",),
    "warning-presets": ("warning_presets",),
    "worker": ("serve",),
}


def command_word(arguments: list[str]) -> str | None:
    """The command's first word: the first argument that is not an option."""
    for argument in arguments:
        if not argument.startswith("-"):
            return argument
    return None


def every_module() -> list[str]:
    """Every module the map names, once, in the order of their names."""
    return sorted({module for modules in COMMAND_MODULES.values() for module in modules})


def load(word: str | None) -> None:
    """Import the modules the command ``word`` needs (every one if unknown)."""
    modules = COMMAND_MODULES.get(word) if word is not None else None
    for module in every_module() if modules is None else modules:
        importlib.import_module(f"roost.cli.{module}")


def main() -> None:
    load(command_word(sys.argv[1:]))
    from roost.cli.base import app

    app()

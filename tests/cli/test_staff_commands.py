"""Every staff command names its permission and takes ``--as``."""

from __future__ import annotations

from typing import Any

import typer

from roost.cli.main import app
from roost.cli.staff import STAFF_COMMANDS


def _commands() -> dict[str, Any]:
    found: dict[str, Any] = {}

    def walk(command: Any, path: tuple[str, ...]) -> None:
        subcommands = getattr(command, "commands", None)
        if subcommands:
            for name, sub in subcommands.items():
                walk(sub, (*path, name))
        else:
            found[" ".join(path)] = command

    walk(typer.main.get_command(app), ())
    return found


def test_every_staff_command_exists_and_takes_as() -> None:
    commands = _commands()
    for name in STAFF_COMMANDS:
        assert name in commands, f"STAFF_COMMANDS names {name!r}, which is no command"
        options = {opt for param in commands[name].params for opt in getattr(param, "opts", [])}
        assert "--as" in options, f"`roost {name}` is a staff command without --as"

"""The installed program loads only the command modules a command needs
(roost/cli/entry.py): its map must name every module that registers commands
under a word, or that word's commands would be missing for the operator.

What each module registers is read in a new interpreter (this one has
imported every module already): import roost.cli.base, then each command
module in turn, and see which first words of the command tree it changed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from roost.cli.entry import COMMAND_MODULES, command_word

_REGISTERS = textwrap.dedent(
    """
    import importlib, json, pkgutil
    import roost.cli
    from roost.cli import base

    def tree(group):
        found = {}
        for command in group.registered_commands:
            name = command.name or command.callback.__name__.replace("_", "-")
            found[name] = "command"
        for sub in group.registered_groups:
            found[sub.name] = tree(sub.typer_instance)
        return found

    registers = {}
    for info in sorted(pkgutil.iter_modules(roost.cli.__path__), key=lambda m: m.name):
        if info.name in ("main", "entry"):  # they load the others
            continue
        before = json.dumps(tree(base.app), sort_keys=True)
        old = json.loads(before)
        importlib.import_module("roost.cli." + info.name)
        new = tree(base.app)
        registers[info.name] = sorted(
            word for word in new if json.dumps(new[word], sort_keys=True)
            != json.dumps(old.get(word), sort_keys=True)
        )
    print(json.dumps(registers))
    """
)


@pytest.fixture(scope="module")
def registers() -> dict[str, list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", _REGISTERS], capture_output=True, text=True, check=True
    )
    return dict(json.loads(done.stdout))


def test_given_every_command_module_when_the_map_is_read_then_each_word_loads_its_modules(
    registers: dict[str, list[str]],
) -> None:
    missing = [
        (module, word)
        for module, words in registers.items()
        for word in words
        if module not in COMMAND_MODULES.get(word, ())
    ]
    assert missing == [], "add these (module, word) pairs to COMMAND_MODULES"


def test_given_the_map_when_compared_with_the_whole_program_then_it_names_every_word(
    registers: dict[str, list[str]],
) -> None:
    words = {word for found in registers.values() for word in found}
    assert set(COMMAND_MODULES) == words


@pytest.mark.parametrize(
    ("arguments", "word"),
    [
        (["accounts", "create", "alice"], "accounts"),
        (["--help"], None),
        ([], None),
        (["--version"], None),
        (["db", "--help"], "db"),
    ],
)
def test_given_a_command_line_when_its_word_is_read_then_options_are_skipped(
    arguments: list[str], word: str | None
) -> None:
    assert command_word(arguments) == word

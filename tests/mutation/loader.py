"""pytest plugin (``-p tests.mutation.loader``): import a mutant in place of a module.

ROOST_MUTANT_MODULE names the module and ROOST_MUTANT_SOURCE the file holding
its mutated source. Loaded with ``-p``, this runs before any conftest imports
the module, so every importer, and every name bound by ``from ... import``,
gets the mutant.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from types import ModuleType


class _MutantLoader(importlib.abc.Loader):
    def __init__(self, original: importlib.machinery.ModuleSpec, source: str) -> None:
        self.original = original
        self.source = source

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        module.__file__ = self.original.origin
        code = compile(self.source, self.original.origin or "<mutant>", "exec")
        exec(code, module.__dict__)


class _MutantFinder(importlib.abc.MetaPathFinder):
    def __init__(self, name: str, source: str) -> None:
        self.name = name
        self.source = source

    def find_spec(
        self, fullname: str, path: object = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != self.name:
            return None
        sys.meta_path.remove(self)
        try:
            original = importlib.util.find_spec(fullname)
        finally:
            sys.meta_path.insert(0, self)
        if original is None:
            return None
        return importlib.util.spec_from_loader(
            fullname, _MutantLoader(original, self.source), origin=original.origin
        )


def derandomised() -> None:
    """Property tests draw the same examples in every run of a mutant and of
    the unmutated tests: a verdict must not depend on the draw (and no
    examples are saved between runs)."""
    try:
        from hypothesis import settings
    except ImportError:  # pragma: no cover - hypothesis is a test requirement
        return
    settings.register_profile("roost-mutation", derandomize=True, database=None)
    settings.load_profile("roost-mutation")


def _install() -> None:
    name = os.environ.get("ROOST_MUTANT_MODULE")
    path = os.environ.get("ROOST_MUTANT_SOURCE")
    if not name or not path:
        return
    derandomised()
    if name in sys.modules:
        raise RuntimeError(f"{name} was imported before its mutant could be put in place")
    with open(path, encoding="utf-8") as f:
        sys.meta_path.insert(0, _MutantFinder(name, f.read()))


_install()

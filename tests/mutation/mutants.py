"""Mutants of one module's source: small, plausible slips, one at a time.

A mutant is what a tired author might have typed: ``==`` for ``!=``, ``or``
for ``and``, one condition of ``and_(...)`` left out, a ``~`` or a ``not``
forgotten, ``True`` for ``False``, a bound off by one, a check that no longer
raises, a call whose effect is lost. A test suite that lets such a slip pass
does not guard that line.

Mutations are made on the AST, so every mutant is valid Python. What cannot
change behaviour is left alone: docstrings and other strings, annotations
(unevaluated under ``from __future__ import annotations``), decorators and
``if TYPE_CHECKING:`` blocks. Mutants are numbered by their place in a walk of
the tree, so the same source always yields the same mutants in the same order.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

_COMPARE_SWAP: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}
_BINOP_SWAP: dict[type[ast.operator], type[ast.operator]] = {
    ast.BitAnd: ast.BitOr,
    ast.BitOr: ast.BitAnd,
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
}
_SYMBOL = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Is: "is",
    ast.IsNot: "is not",
    ast.In: "in",
    ast.NotIn: "not in",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.Add: "+",
    ast.Sub: "-",
}
# SQL builders whose arguments are conditions joined together: leaving one
# out is the slip that widens (and_, where) or narrows (or_) who sees a row.
_CONDITION_CALLS = {"and_", "or_", "where", "filter"}
_NAME_SWAP = {"and_": "or_", "or_": "and_", "true": "false", "false": "true"}


@dataclass(frozen=True)
class Mutant:
    number: int
    line: int
    description: str
    source: str
    # Where the slip can act, for choosing the tests that reach it
    # (tests/mutation/worker.py): the lines a test must execute for the
    # mutant to make any difference, and the outermost function whose code
    # holds it (None for a slip made when the module is imported: a module
    # constant, a class body).
    lines: tuple[int, int] = (0, 0)
    function: str | None = None

    @property
    def ident(self) -> str:
        return f"{self.number}@{self.line}"


@dataclass(frozen=True)
class _Site:
    node_index: int
    line: int
    description: str
    apply: Callable[[ast.AST, ast.AST], None]  # (node, its parent)
    lines: tuple[int, int] = (0, 0)
    function: str | None = None


_Functions = (ast.FunctionDef, ast.AsyncFunctionDef)


def _places(tree: ast.Module) -> dict[int, tuple[tuple[int, int], str | None]]:
    """For every node (by id): the lines a test must execute for a slip there
    to act, and the outermost function (by qualified name) holding it.

    A slip in a function's body acts when its own lines run. One in the
    defaults of an outermost function is evaluated at import but acts only
    when the function is called: its lines are the function's body. One at
    module or class level acts at import: its own lines, and no function."""
    places: dict[int, tuple[tuple[int, int], str | None]] = {}

    def own(node: ast.AST) -> tuple[int, int]:
        first = getattr(node, "lineno", 0)
        return first, getattr(node, "end_lineno", None) or first

    def visit(node: ast.AST, scope: str, function: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, _Functions) and function is None:
                name = f"{scope}{child.name}"
                body = (child.body[0].lineno, child.end_lineno or child.lineno)
                # The header (defaults, decorators): acts through calls.
                for part in [*child.args.defaults, *child.args.kw_defaults]:
                    if part is not None:
                        for n in ast.walk(part):
                            places[id(n)] = (body, name)
                places[id(child)] = (own(child), None)
                for statement in child.body:
                    visit_all(statement, f"{name}.<locals>.", name)
            elif isinstance(child, ast.ClassDef) and function is None:
                places[id(child)] = (own(child), None)
                visit(child, f"{scope}{child.name}.", None)
            else:
                if id(child) not in places:
                    places[id(child)] = (own(child), function)
                visit(child, scope, function)

    def visit_all(statement: ast.AST, scope: str, function: str) -> None:
        for n in ast.walk(statement):
            if id(n) not in places:
                places[id(n)] = (own(n), function)

    visit(tree, "", None)
    return places


def _call_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _skipped_subtrees(tree: ast.Module) -> set[int]:
    """ids of nodes never mutated: annotations, decorators, docstrings,
    TYPE_CHECKING blocks."""
    skip: set[int] = set()

    def mark(node: ast.AST | None) -> None:
        if node is not None:
            skip.update(id(n) for n in ast.walk(node))

    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            mark(node.returns)
            for arg in [*node.args.args, *node.args.kwonlyargs, *node.args.posonlyargs]:
                mark(arg.annotation)
            for extra in (node.args.vararg, node.args.kwarg):
                if extra is not None:
                    mark(extra.annotation)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for decorator in node.decorator_list:
                mark(decorator)
        if isinstance(node, ast.AnnAssign):
            mark(node.annotation)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            mark(node)
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            body = node.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                mark(body[0])
    return skip


def _indexed(tree: ast.Module) -> Iterator[tuple[int, ast.AST, ast.AST]]:
    """Every node with its parent, in a fixed order (index, node, parent)."""
    index = 0
    stack: list[tuple[ast.AST, ast.AST]] = [(tree, tree)]
    while stack:
        node, parent = stack.pop(0)
        yield index, node, parent
        index += 1
        stack[0:0] = [(child, node) for child in ast.iter_child_nodes(node)]


def _sites(tree: ast.Module) -> list[_Site]:
    skip = _skipped_subtrees(tree)
    places = _places(tree)
    sites: list[_Site] = []
    for index, node, _parent in _indexed(tree):
        if id(node) in skip:
            continue
        line = getattr(node, "lineno", 0)
        lines, function = places.get(id(node), ((line, line), None))
        sites.extend(
            replace(site, lines=lines, function=function) for site in _node_sites(index, line, node)
        )
    return sites


def _replace_in_parent(parent: ast.AST, old: ast.AST, new: ast.AST) -> None:
    for field, value in ast.iter_fields(parent):
        if value is old:
            setattr(parent, field, new)
            return
        if isinstance(value, list):
            for i, item in enumerate(value):
                if item is old:
                    value[i] = new
                    return
    raise LookupError("node not found under its parent")


def _negated_elsewhere(test: ast.expr) -> bool:
    """A test whose negation another mutant already makes (``x is None`` ->
    ``x is not None``, ``not x`` -> ``x``): negating it again would only
    repeat that mutant."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return True
    return (
        isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and type(test.ops[0]) in (ast.Eq, ast.NotEq, ast.Is, ast.IsNot, ast.In, ast.NotIn)
    )


def _node_sites(index: int, line: int, node: ast.AST) -> Iterator[_Site]:
    if isinstance(node, ast.Compare):
        for position, op in enumerate(node.ops):
            swap = _COMPARE_SWAP.get(type(op))
            if swap is None:
                continue

            def compare(n: ast.AST, _p: ast.AST, i: int = position, to: type = swap) -> None:
                assert isinstance(n, ast.Compare)
                n.ops[i] = to()

            yield _Site(index, line, f"{_SYMBOL[type(op)]} -> {_SYMBOL[swap]}", compare)
    elif isinstance(node, ast.BoolOp):
        to_op: type[ast.boolop] = ast.Or if isinstance(node.op, ast.And) else ast.And
        name = "and -> or" if isinstance(node.op, ast.And) else "or -> and"

        def boolop(n: ast.AST, _p: ast.AST, to: type[ast.boolop] = to_op) -> None:
            assert isinstance(n, ast.BoolOp)
            n.op = to()

        yield _Site(index, line, name, boolop)
    elif isinstance(node, ast.BinOp) and type(node.op) in _BINOP_SWAP:
        swap_op = _BINOP_SWAP[type(node.op)]

        def binop(n: ast.AST, _p: ast.AST, to: type[ast.operator] = swap_op) -> None:
            assert isinstance(n, ast.BinOp)
            n.op = to()

        yield _Site(index, line, f"{_SYMBOL[type(node.op)]} -> {_SYMBOL[swap_op]}", binop)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.Invert)):
        symbol = "not" if isinstance(node.op, ast.Not) else "~"

        def unwrap(n: ast.AST, p: ast.AST) -> None:
            assert isinstance(n, ast.UnaryOp)
            _replace_in_parent(p, n, n.operand)

        yield _Site(index, line, f"drops `{symbol}`", unwrap)
    elif isinstance(node, ast.Call):
        name = _call_name(node)
        if name in _NAME_SWAP:
            to_name = _NAME_SWAP[name]

            def rename(n: ast.AST, _p: ast.AST, to: str = to_name) -> None:
                assert isinstance(n, ast.Call)
                if isinstance(n.func, ast.Name):
                    n.func.id = to
                elif isinstance(n.func, ast.Attribute):
                    n.func.attr = to

            yield _Site(index, line, f"{name}() -> {to_name}()", rename)
        if name in _CONDITION_CALLS and len(node.args) >= 2:
            for position in range(len(node.args)):
                if isinstance(node.args[position], ast.Starred):
                    continue

                def drop(n: ast.AST, _p: ast.AST, i: int = position) -> None:
                    assert isinstance(n, ast.Call)
                    del n.args[i]

                yield _Site(index, line, f"{name}() without condition {position + 1}", drop)
    elif isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool):

            def flip(n: ast.AST, _p: ast.AST) -> None:
                assert isinstance(n, ast.Constant)
                n.value = not n.value

            yield _Site(index, line, f"{value} -> {not value}", flip)
        elif isinstance(value, int):

            def bump(n: ast.AST, _p: ast.AST) -> None:
                assert isinstance(n, ast.Constant)
                n.value = n.value + 1

            yield _Site(index, line, f"{value} -> {value + 1}", bump)
    elif isinstance(node, (ast.If, ast.While, ast.IfExp)) and not _negated_elsewhere(node.test):

        def negate(n: ast.AST, _p: ast.AST) -> None:
            assert isinstance(n, (ast.If, ast.While, ast.IfExp))
            n.test = ast.UnaryOp(op=ast.Not(), operand=n.test)

        yield _Site(
            index, line, f"negates the condition of `{type(node).__name__.lower()}`", negate
        )
    elif isinstance(node, ast.Raise) or (
        isinstance(node, ast.Expr) and isinstance(node.value, (ast.Call, ast.Await))
    ):
        what = "raise" if isinstance(node, ast.Raise) else "call"

        def remove(n: ast.AST, p: ast.AST) -> None:
            _replace_in_parent(p, n, ast.Pass())

        yield _Site(index, line, f"removes the {what} statement", remove)


def mutants(source: str) -> list[Mutant]:
    """Every mutant of ``source``, numbered from 1."""
    sites = _sites(ast.parse(source))
    made: list[Mutant] = []
    for number, site in enumerate(sites, start=1):
        tree = copy.deepcopy(ast.parse(source))
        for index, node, parent in _indexed(tree):
            if index == site.node_index:
                site.apply(node, parent)
                break
        ast.fix_missing_locations(tree)
        made.append(
            Mutant(
                number,
                site.line,
                site.description,
                ast.unparse(tree),
                site.lines,
                site.function,
            )
        )
    return made


def mutated_line(original: str, mutant: Mutant) -> str:
    """The original line the mutant changes, for the report."""
    lines = original.splitlines()
    return lines[mutant.line - 1].strip() if 0 < mutant.line <= len(lines) else ""

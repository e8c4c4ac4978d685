"""Job kinds and their handlers: the mechanism, knowing no kind of its own.

A job is a frozen dataclass deriving from ``Job`` and naming its kind:

    @dataclass(frozen=True)
    class StatusPublished(Job, kind="status.published"):
        status_id: int

Its fields are its payload, stored as JSON beside the kind in the ``jobs``
table (``outbox.enqueue``); the runner reads a row back into the dataclass and
hands it to the one handler registered for that class:

    @handles(StatusPublished)
    async def announce(ctx: JobContext, job: StatusPublished) -> None: ...

The kind names and payload keys are what is stored, so they stay as they are
from release to release: a job a previous release queued still runs. Kinds
and handlers are defined by the areas that own them (the domain, the
importers) and registered when their modules are imported; roost/job_handlers.py
imports them all, from above. A handler must be idempotent: a job can run more
than once (a worker killed after the work but before the job was marked done
runs it again), so handlers write with unique keys and "insert if absent",
never blind inserts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, ClassVar, TypeVar

from roost.errors import RetryLater as RetryLater

J = TypeVar("J", bound="Job")

_kinds: dict[str, type[Job]] = {}
_handlers: dict[type[Job], Callable[[Any, Any], Awaitable[None]]] = {}


@dataclasses.dataclass(frozen=True)
class Job:
    """The base of every job kind (see the module docstring)."""

    kind: ClassVar[str]
    # True for a kind whose handler mostly waits on another server (a
    # delivery): the runner runs such jobs beside the others, so that one
    # waiting out a dead server's timeout holds up nothing else.
    concurrent: ClassVar[bool] = False

    def __init_subclass__(cls, *, kind: str, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if kind in _kinds:
            raise RuntimeError(f"two job classes for kind {kind!r}")
        cls.kind = kind
        _kinds[kind] = cls

    def payload(self) -> dict[str, Any]:
        """The fields, as stored (JSON)."""
        return {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}

    @classmethod
    def from_payload(cls: type[J], payload: Mapping[str, Any]) -> J:
        """The job a stored payload describes. Keys it does not know are left
        aside; a missing field without a default is an error (the job fails)."""
        names = {field.name for field in dataclasses.fields(cls)}
        return cls(**{name: value for name, value in payload.items() if name in names})


Handler = Callable[[Any, J], Awaitable[None]]


def handles(kind: type[J]) -> Callable[[Handler[J]], Handler[J]]:
    """Register the handler of one job class (one only)."""

    def register(handler: Handler[J]) -> Handler[J]:
        if kind in _handlers:
            raise RuntimeError(f"two handlers for job kind {kind.kind!r}")
        _handlers[kind] = handler
        return handler

    return register


def job_class(kind: str) -> type[Job] | None:
    """The class of a stored kind, if any module defining it was imported."""
    return _kinds.get(kind)


def handler_for(kind: type[J]) -> Handler[J] | None:
    return _handlers.get(kind)


async def dispatch(context: Any, job: Job) -> None:
    """Run ``job``'s handler (LookupError when it has none)."""
    handler = _handlers.get(type(job))
    if handler is None:
        raise LookupError(f"no handler for job kind {job.kind!r}")
    await handler(context, job)


def job_classes() -> list[type[Job]]:
    return sorted(_kinds.values(), key=lambda cls: cls.kind)


def handled_classes() -> list[type[Job]]:
    return sorted(_handlers, key=lambda cls: cls.kind)

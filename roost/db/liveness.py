"""Whether a pooled PostgreSQL connection is alive when it is lent.

SQLAlchemy's ``pool_pre_ping`` asks the server at every checkout: one round
trip before each transaction, on every request. Most of those questions have
a known answer. A link that died by the server's doing (a restart, a backend
terminated, an idle timeout, a pooler closing it) is closed by the server,
and asyncpg sees the close while the connection sits in the pool: the event
loop reads the socket all along. So a connection is lent as it is when:

- asyncpg has not seen it closed, and
- it was last given back less than ``ASK_AFTER_IDLE_S`` ago (it worked then).

Only a connection idle for longer is asked (``SELECT 1`` in the simple
protocol: no prepare, no transaction, safe behind a pooler in transaction
mode), for a link that a firewall or NAT dropped without a word (it gets
``ASK_TIMEOUT_S`` to answer). A connection found closed or failing is
replaced before anyone uses it; the others in the pool are judged each on
its own at their next checkout.

What this gives up: a connection given back a moment ago whose close
asyncpg has not read yet (the loop busy, or a failover that keeps the
address and answers only what is sent) is lent, and the request that uses
it fails (503) where a ping would have replaced it first. A restart closes
every connection, which the loop reads between requests.

The prepared reads' pool (asyncpg's own, roost/db/fastread.py) never asked:
it replaces a connection it has seen closed when one is acquired.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import await_

# Longer than any pause between requests under load, far shorter than the
# idle timeouts of firewalls and NATs (minutes).
ASK_AFTER_IDLE_S = 5.0

# How long the question may take before the connection is taken for dead.
ASK_TIMEOUT_S = 2.0

_GIVEN_BACK = "roost_given_back_at"


def check_at_checkout(engine: AsyncEngine) -> None:
    """Install the check on ``engine``'s pool (instead of ``pool_pre_ping``)."""

    @event.listens_for(engine.sync_engine, "checkin")
    def _given_back(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_GIVEN_BACK] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _alive(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        raw = dbapi_connection._connection  # asyncpg's Connection
        if raw.is_closed():
            raise DisconnectionError("the server closed this connection")
        given_back = record.info.get(_GIVEN_BACK)
        if given_back is None or time.monotonic() - given_back < ASK_AFTER_IDLE_S:
            # Just opened, or working a moment ago.
            return
        try:
            # A silently dropped link answers nothing: give up on it soon
            # rather than hold the request until TCP does (minutes).
            await_(raw.execute("SELECT 1", timeout=ASK_TIMEOUT_S))
        except Exception as error:
            raise DisconnectionError(f"the connection failed its check: {error!r}") from error

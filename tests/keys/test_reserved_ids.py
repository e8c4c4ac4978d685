"""Keys that belong to no account each serve one purpose.

A key id used twice would make one secret both an AES key and, say, the seed
of the Web Push signing key: whoever could read one could forge the other.
"""

from __future__ import annotations

from roost.domain.federation.keys import INSTANCE_ACTOR_ID
from roost.ids import min_id_for_time
from roost.keys import ring, vapid


def test_given_the_reserved_key_ids_then_each_is_distinct_and_below_every_account_id() -> None:
    reserved = ring.RESERVED_KEY_IDS
    assert len(set(reserved)) == len(reserved)
    assert vapid.VAPID_KEY_ID in reserved
    assert INSTANCE_ACTOR_ID in reserved
    assert ring.QUARANTINE_KEY_ID in reserved
    # Account ids are time-based: the smallest possible one is far above.
    from datetime import UTC, datetime

    assert max(reserved) < min_id_for_time(datetime(2000, 1, 1, tzinfo=UTC))

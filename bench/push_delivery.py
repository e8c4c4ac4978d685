"""Web Push: how long one encrypted delivery takes, and how many run per
second, against a push service on this machine (roost/domain/push/delivery.py).

Builds a fresh SQLite data directory with two accounts; the recipient's token
is subscribed to a local push service (tests/push/receiver.py: it records
each message, and every one is decrypted afterwards with the subscription's
keys and its VAPID signature checked, as a browser would). The sender then
favourites the recipient's post N times as N notifications (each queues a
``push.deliver`` job, as in production). Then runs the delivery:

1. one at a time (latency of a whole delivery: read the subscription and the
   notification through the privacy policy, encrypt (RFC 8291 aes128gcm),
   sign (RFC 8292 VAPID), send, read the answer);
2. 8 at once (throughput of a runner with 8 jobs in flight);
3. the encryption and signature alone, to show their share of a delivery;
4. a push service answering 410: the subscription is removed.

Run: .venv/bin/python -m bench.push_delivery   (about 20 seconds)
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import orjson
from sqlalchemy import func, select

from bench import _results
from roost.config import load_settings
from roost.db.engine import Database
from roost.db.migrate import upgrade
from roost.db.tables import jobs, notifications, push_subscriptions
from roost.domain.accounts import passwords
from roost.domain.accounts.actions import NewAccount, do_create_account
from roost.domain.notifications.actions import do_notify
from roost.domain.oauth.actions import do_issue_token, do_register_app
from roost.domain.oauth.scopes import parse as parse_scopes
from roost.domain.push.delivery import deliver, encrypted_request
from roost.domain.push.subscriptions import do_subscribe
from roost.domain.statuses.actions import NewStatus, do_create_status
from roost.domain.types import Viewer
from roost.keys import vapid
from roost.process import prepare_process
from tests.push.receiver import Subscriber, push_service

N = 400
IN_FLIGHT = 8


async def main() -> int:
    passwords.use_fast_hashing_for_tests()
    subscriber = Subscriber()
    with tempfile.TemporaryDirectory() as directory, push_service() as service:
        settings = load_settings(
            data_dir=Path(directory), secret_key="b" * 40, outbound_allow_private=True
        )
        prepare_process(settings)
        db = Database(settings)
        await upgrade(db)
        async with db.write() as tx:
            alice = await do_create_account(
                tx, NewAccount(username="alice", email="a@example.org", password="x" * 12)
            )
            bob = await do_create_account(
                tx, NewAccount(username="bob", email="b@example.org", password="x" * 12)
            )
        async with db.write() as tx:
            post = await do_create_status(
                tx,
                Viewer(account_id=alice),
                NewStatus(text="a post worth liking"),
                base_url=settings.base_url,
                max_chars=500,
            )
            app = await do_register_app(tx, "bench", "urn:ietf:wg:oauth:2.0:oob", None, None)
            scopes = parse_scopes("read write push")
            token = await do_issue_token(tx, alice, app.id, scopes)
            viewer = Viewer(
                account_id=alice, scopes=scopes, application_id=app.id, token_id=token.id
            )
            subscription = await do_subscribe(
                tx,
                viewer,
                token=token.token,
                endpoint=service.endpoint("alice"),
                p256dh=subscriber.p256dh,
                auth=subscriber.auth_b64,
                alerts={"favourite": True},
                policy="all",
                standard=True,
            )
        started = time.perf_counter()
        for number in range(N + N // 4):
            async with db.write() as tx:
                await do_notify(
                    tx,
                    type="favourite",
                    account_id=alice,
                    from_account_id=bob,
                    status_id=post,
                    event_key=f"bench:{number}",
                )
        notify_s = time.perf_counter() - started
        async with db.read() as conn:
            ids = [
                row.id
                for row in await conn.execute(
                    select(notifications.c.id).order_by(notifications.c.id)
                )
            ]
            queued = (
                await conn.execute(
                    select(func.count()).select_from(jobs).where(jobs.c.kind == "push.deliver")
                )
            ).scalar_one()
        assert len(ids) == queued == N + N // 4, (len(ids), queued)

        single, batch = ids[: N // 4], ids[N // 4 :]
        timings = []
        for notification_id in single:
            begun = time.perf_counter()
            outcome = await deliver(db, settings, subscription.id, notification_id)
            timings.append(time.perf_counter() - begun)
            assert outcome.status == 201, outcome
        semaphore = asyncio.Semaphore(IN_FLIGHT)

        async def one(notification_id: int) -> None:
            async with semaphore:
                await deliver(db, settings, subscription.id, notification_id)

        begun = time.perf_counter()
        await asyncio.gather(*(one(n) for n in batch))
        parallel_s = time.perf_counter() - begun

        payload = orjson.dumps({"title": "bob favourited your post", "body": "x" * 140})
        sealing = []
        for _ in range(N // 4):
            begun = time.perf_counter()
            encrypted_request(
                settings,
                service.endpoint("alice"),
                subscriber.p256dh,
                subscriber.auth_b64,
                payload,
                standard=True,
            )
            sealing.append(time.perf_counter() - begun)

        server_key = vapid.b64url(vapid.public_key_bytes())
        opened = [subscriber.open(received, server_key) for received in service.received]
        assert len(opened) == N + N // 4, len(opened)
        assert {m["notification_id"] for m in opened} == {str(i) for i in ids}

        service.answers["/push/alice"] = [410]
        gone = await deliver(db, settings, subscription.id, ids[0])
        async with db.read() as conn:
            left = (
                await conn.execute(select(func.count()).select_from(push_subscriptions))
            ).scalar_one()
        assert gone.removed and left == 0, (gone, left)
        await db.dispose()

    median_ms = statistics.median(timings) * 1000
    p90_ms = statistics.quantiles(timings, n=100)[89] * 1000
    sealing_ms = statistics.median(sealing) * 1000
    rate = len(batch) / parallel_s
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}")
    print(
        f"notifications recorded with a push queued: {N + N // 4} in {notify_s:.2f} s"
        f" ({notify_s / (N + N // 4) * 1000:.1f} ms each)"
    )
    print(f"one delivery at a time ({len(single)}): median {median_ms:.1f} ms, p90 {p90_ms:.1f} ms")
    print(f"{IN_FLIGHT} deliveries in flight ({len(batch)}): {rate:.0f} deliveries/s")
    print(
        f"encryption and VAPID signature alone: median {sealing_ms:.2f} ms"
        f" ({sealing_ms / median_ms:.0%} of a delivery)"
    )
    print(f"every message decrypted by the receiver: {len(opened)} of {N + N // 4}")
    print("a push service answering 410: the subscription removed")
    _results.record(
        "push_delivery",
        {
            "one_median_ms": _results.lower(median_ms, "ms"),
            "one_p90_ms": _results.lower(p90_ms, "ms"),
            "parallel_per_s": _results.higher(rate, "deliveries/s"),
            "sealing_ms": _results.lower(sealing_ms, "ms"),
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

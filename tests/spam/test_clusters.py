"""Spam waves: new posts that are near duplicates of each other are clustered
by the job each post leaves, and staff act on a whole cluster at once."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine

from roost.db.tables import spam_bands, spam_cluster_posts, spam_signatures
from roost.domain.audit.chain import Staff, entries
from roost.domain.roles.permissions import Permission
from roost.domain.spam import clustering
from roost.domain.spam.actions import Decision
from roost.domain.spam.clustering import PER_BAND, do_cluster_post
from roost.errors import Forbidden
from tests.api.staff_support import staff_with
from tests.conftest import Roost
from tests.spam.support import act, open_clusters, wave_post


def _count(roost: Roost, table: object) -> int:
    async def read() -> int:
        async with roost.db.read() as conn:
            return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())  # type: ignore[arg-type]

    return roost.run(read)


def test_given_five_accounts_posting_near_duplicates_then_one_cluster_holds_them_all(
    roost: Roost,
) -> None:
    spammers = [roost.account(f"wave{i}") for i in range(5)]
    ordinary = roost.account("ordinary")
    for n, user in enumerate(spammers):
        wave_post(user, n)
    ordinary.post_status("Went to the harbour this morning; the fog lifted by ten.")
    roost.drain_jobs()

    found = open_clusters(roost)

    assert len(found) == 1
    assert found[0].size == 5 and found[0].accounts == 5 and found[0].new_accounts == 5
    assert found[0].domains == ("bonus.example",)
    assert _count(roost, spam_cluster_posts) == 5


def test_given_a_cluster_below_the_minimum_size_then_staff_are_not_shown_it(
    roost: Roost,
) -> None:
    for n, user in enumerate([roost.account(f"pair{i}") for i in range(2)]):
        wave_post(user, n)
    roost.drain_jobs()

    assert open_clusters(roost) == []
    assert _count(roost, spam_cluster_posts) == 2


def test_given_a_post_clustered_once_when_its_job_runs_again_then_nothing_changes(
    roost: Roost,
) -> None:
    users = [roost.account(f"twice{i}") for i in range(3)]
    ids = [int(wave_post(u, n)) for n, u in enumerate(users)]
    roost.drain_jobs()
    before = (_count(roost, spam_signatures), _count(roost, spam_bands))

    async def again() -> int | None:
        async with roost.db.write() as tx:
            return await do_cluster_post(tx, roost.settings, ids[-1])

    assert roost.run(again) is not None
    assert (_count(roost, spam_signatures), _count(roost, spam_bands)) == before
    assert _count(roost, spam_cluster_posts) == 3


@pytest.mark.settings(spam_clustering=False)
def test_given_clustering_turned_off_then_posts_are_not_clustered(roost: Roost) -> None:
    for n, user in enumerate([roost.account(f"off{i}") for i in range(5)]):
        wave_post(user, n)
    roost.drain_jobs()

    assert open_clusters(roost) == []
    assert _count(roost, spam_signatures) == 0


def test_given_a_wave_when_staff_suspend_the_cluster_then_every_account_is_suspended_and_audited(
    roost: Roost,
) -> None:
    spammers = [roost.account(f"sus{i}") for i in range(5)]
    first = wave_post(spammers[0], 0)
    for n, user in enumerate(spammers[1:], start=1):
        wave_post(user, n)
    roost.drain_jobs()
    cluster_id = open_clusters(roost)[0].id

    assert act(roost, cluster_id, Decision.SUSPEND) == 5

    assert roost.client.get(f"/api/v1/statuses/{first}").status_code == 404
    assert open_clusters(roost) == []

    async def audit() -> list[str]:
        async with roost.db.read() as conn:
            return [e.action for e in await entries(conn, limit=50)]

    actions = roost.run(audit)
    assert actions.count("account.suspend") == 5 and actions.count("spam.suspend") == 1


def test_given_a_wave_when_staff_delete_the_cluster_then_its_posts_are_gone(
    roost: Roost,
) -> None:
    spammers = [roost.account(f"del{i}") for i in range(5)]
    ids = [wave_post(user, n) for n, user in enumerate(spammers)]
    roost.drain_jobs()
    cluster_id = open_clusters(roost)[0].id

    assert act(roost, cluster_id, Decision.DELETE) == 5

    assert all(roost.client.get(f"/api/v1/statuses/{i}").status_code == 404 for i in ids)
    assert _count(roost, spam_cluster_posts) == 0
    assert spammers[0].get(f"/api/v1/accounts/{spammers[0].id}").json()["statuses_count"] == 0


def test_given_a_moderator_without_manage_users_then_they_cannot_suspend_a_cluster(
    roost: Roost,
) -> None:
    moderator = staff_with(roost, "mod", int(Permission.MANAGE_REPORTS))
    spammers = [roost.account(f"mods{i}") for i in range(5)]
    for n, user in enumerate(spammers):
        wave_post(user, n)
    roost.drain_jobs()
    cluster_id = open_clusters(roost)[0].id

    with pytest.raises(Forbidden):
        act(roost, cluster_id, Decision.SUSPEND, Staff(int(moderator.id), "api"))
    assert act(roost, cluster_id, Decision.NOT_SPAM, Staff(int(moderator.id), "api")) == 0
    assert open_clusters(roost) == []


@pytest.mark.settings(spam_hold_cluster_size=5)
def test_given_holds_when_a_cluster_grows_large_then_its_posts_show_to_their_authors_only(
    roost: Roost,
) -> None:
    spammers = [roost.account(f"hold{i}") for i in range(6)]
    reader = roost.account("reader")
    ids = [wave_post(user, n) for n, user in enumerate(spammers)]
    roost.drain_jobs()
    cluster = open_clusters(roost)[0]
    assert cluster.held == 6

    assert roost.client.get(f"/api/v1/statuses/{ids[0]}").status_code == 404
    assert reader.get(f"/api/v1/statuses/{ids[0]}").status_code == 404
    assert spammers[0].get(f"/api/v1/statuses/{ids[0]}").status_code == 200
    public = {s["id"] for s in reader.get("/api/v1/timelines/public").json()}
    assert public.isdisjoint(ids)
    profile = reader.get(f"/api/v1/accounts/{spammers[1].id}/statuses").json()
    assert profile == []

    assert act(roost, cluster.id, Decision.NOT_SPAM) == 6

    assert reader.get(f"/api/v1/statuses/{ids[0]}").status_code == 200
    public = {s["id"] for s in reader.get("/api/v1/timelines/public").json()}
    assert set(ids) <= public


@pytest.mark.settings(spam_hold_cluster_size=3, spam_hold_account_days=0)
def test_given_holds_only_for_accounts_younger_than_no_days_then_nothing_is_held(
    roost: Roost,
) -> None:
    for n, user in enumerate([roost.account(f"old{i}") for i in range(5)]):
        wave_post(user, n)
    roost.drain_jobs()

    assert open_clusters(roost)[0].held == 0


@pytest.mark.settings(registrations="open")
def test_given_a_sign_up_from_an_address_then_only_its_network_is_kept(roost: Roost) -> None:
    from roost.config import Registrations
    from roost.db.tables import sign_up_networks
    from roost.domain.accounts.sign_up import SignUp, do_sign_up

    async def sign_up() -> list[tuple[int, str]]:
        async with roost.db.write() as tx:
            done = await do_sign_up(
                tx,
                Registrations.OPEN,
                SignUp(
                    username="newcomer",
                    email="newcomer@example.org",
                    password="correct horse battery",
                    agreement=True,
                    address="203.0.113.77",
                ),
            )
        async with roost.db.read() as conn:
            rows = await conn.execute(select(sign_up_networks))
            assert done.account_id
            return [(int(r.account_id), str(r.network)) for r in rows]

    [(_, network)] = roost.run(sign_up)
    assert network == "203.0.113.0/24"


def test_given_a_suspended_cluster_when_the_wave_goes_on_then_staff_see_it_again(
    roost: Roost,
) -> None:
    spammers = [roost.account(f"again{i}") for i in range(8)]
    for n, user in enumerate(spammers[:5]):
        wave_post(user, n)
    roost.drain_jobs()
    cluster_id = open_clusters(roost)[0].id
    act(roost, cluster_id, Decision.SUSPEND)
    assert open_clusters(roost) == []

    for n, user in enumerate(spammers[5:], start=5):
        wave_post(user, n)
    roost.drain_jobs()

    [again] = open_clusters(roost)
    assert again.id == cluster_id and again.state == "open"


def test_given_a_wave_larger_than_a_bands_share_when_a_post_joins_it_then_the_work_is_bounded(
    roost: Roost,
) -> None:
    # Given: 40 identical posts (one account posting them does not matter to
    # the bands), clustered.
    spammer = roost.account("bigwave")
    for n in range(40):
        wave_post(spammer, n)
    roost.drain_jobs()
    [cluster] = open_clusters(roost)
    latest = int(wave_post(spammer, 99))
    seen: list[str] = []

    def counted(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    async def cluster_latest() -> tuple[int | None, int]:
        async with roost.db.write() as tx:
            event.listen(Engine, "before_cursor_execute", counted)
            try:
                found = await do_cluster_post(tx, roost.settings, latest)
            finally:
                event.remove(Engine, "before_cursor_execute", counted)
            rows = await tx.execute(
                select(func.count())
                .select_from(spam_cluster_posts)
                .where(spam_cluster_posts.c.cluster_id == found)
            )
            return found, int(rows.scalar_one())

    # When: the next post of the wave is clustered.
    found, size = roost.run(cluster_latest)

    # Then: it joins the wave's cluster, which holds every post of it, in 8
    # statements (the post, its candidates, their signatures, its signature,
    # its bands, which candidates are clustered, the cluster, its new row).
    assert found == cluster.id and size == 41
    assert len(seen) <= 8, seen


def test_given_more_posts_in_a_band_than_its_share_then_only_the_newest_are_candidates(
    roost: Roost,
) -> None:
    spammer = roost.account("bandshare")
    ids = [int(wave_post(spammer, n)) for n in range(PER_BAND + 6)]
    roost.drain_jobs()

    async def candidates_of_latest() -> list[int]:
        async with roost.db.read() as conn:
            keys = [
                int(r.band_key)
                for r in await conn.execute(
                    select(spam_bands.c.band_key).where(spam_bands.c.status_id == ids[-1])
                )
            ]
        async with roost.db.write() as tx:
            return await clustering._candidates(tx, keys)

    found = roost.run(candidates_of_latest)

    assert found == sorted(ids, reverse=True)[:PER_BAND]

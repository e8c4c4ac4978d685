"""The audit log: staff actions, role changes, staff sign-ins, token
revocations, exports and erasures append entries; changing, removing or
reordering any of them is found and named; erasure blanks the personal part
without breaking the chain (threats 31-35)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update

from roost.db.tables import audit_entries, audit_personal
from roost.domain.audit.chain import (
    CONSOLE,
    GENESIS,
    Entry,
    Verdict,
    canonical,
    entries,
    entry_hash,
    head,
    personal_digest,
    record,
    verify,
)
from roost.domain.oauth.actions import do_issue_token
from roost.domain.oauth.queries import app_by_client_id
from roost.erasure.erase import erase_account
from roost.services import Services
from tests.api.staff_support import ADMIN_SCOPES, grant
from tests.conftest import Roost, User


def _verify(roost: Roost, head: str | None = None) -> Verdict:
    async def run() -> Verdict:
        async with roost.db.read() as conn:
            return await verify(conn, expected_head=head)

    return roost.run(run)


def _entries(roost: Roost) -> list[Entry]:
    async def run() -> list[Entry]:
        async with roost.db.read() as conn:
            return await entries(conn, limit=1000)

    return list(reversed(roost.run(run)))


def _sql(roost: Roost, *statements: Any) -> None:
    async def run() -> None:
        async with roost.db.write() as tx:
            for statement in statements:
                await tx.execute(statement)

    roost.run(run)


def _staff_history(roost: Roost) -> tuple[User, User]:
    """A moderator who suspends and lifts a suspension: four entries
    (the role given, the moderator's token, the suspension, its lifting)."""
    mod = roost.account("mod", scopes=ADMIN_SCOPES)
    grant(roost, mod, "Moderator")
    spammer = roost.account("spammer")
    url = f"/api/v1/admin/accounts/{spammer.id}"
    assert mod.post(f"{url}/action", data={"type": "suspend", "text": "spam"}).status_code == 200
    assert mod.post(f"{url}/unsuspend").status_code == 200
    return mod, spammer


def test_given_an_entry_hashed_by_an_earlier_release_then_this_one_hashes_it_alike() -> None:
    """The hash form is a format on disk: logs written by every earlier release
    must verify with this one, so the genesis, the canonical JSON (sorted
    keys, compact, UTF-8 kept) and the digest of the personal record may never
    change. A test that fails here means existing logs would stop verifying."""
    entry = {"seq": 1, "action": "account.suspend", "details": {"via": "api", "note": "café"}}
    entry["subject"] = "7"
    assert canonical(entry) == (
        '{"action":"account.suspend","details":{"note":"café","via":"api"},"seq":1,"subject":"7"}'
    )
    assert GENESIS == "0" * 64
    assert entry_hash(GENESIS, entry) == (
        "4c2eca8c498d3acfc32b19399dbb8803655d62f540c1dd785e5c10a73fc4a007"
    )
    assert personal_digest("00ff", 3, 7, {"text": "spam, café"}) == (
        "c2419e18db7d6dd5e662249d87734dc0d72200fc10f344cac3dc63fb144401a0"
    )


def test_given_staff_actions_when_the_log_is_read_then_each_is_an_entry_that_verifies(
    roost: Roost,
) -> None:
    mod, spammer = _staff_history(roost)

    found = _entries(roost)

    assert [e.action for e in found] == ["role.grant", "account.suspend", "account.unsuspend"]
    suspension = found[1]
    assert suspension.permission == "manage_users"
    assert suspension.actor_account_id == int(mod.id)
    assert suspension.target_account_id == int(spammer.id)
    assert suspension.personal == {"username": "spammer", "reason": "spam"}
    assert suspension.details == {"via": "api"}
    # The account is the target (erasable), not a subject id kept in the clear.
    assert (suspension.subject_type, suspension.subject_id) == ("account", None)
    verdict = _verify(roost)
    assert verdict.intact and verdict.count == 3 and verdict.head == found[-1].hash

    async def older_than_the_suspension() -> list[Entry]:
        async with roost.db.read() as conn:
            return await entries(conn, before=suspension.seq)

    # Paging back from an entry starts strictly before it.
    assert [e.action for e in roost.run(older_than_the_suspension)] == ["role.grant"]


def test_given_a_staff_account_when_it_signs_in_or_its_tokens_are_revoked_then_both_are_logged(
    roost: Roost,
) -> None:
    boss = roost.account("boss", admin=True)  # the Owner role: the grant and its first token
    plain = roost.account("plain")
    app = roost.client.post(
        "/api/v1/apps",
        data={"client_name": "t", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "read"},
    ).json()

    async def sign_in() -> str:
        async with roost.db.write() as tx:
            registered = await app_by_client_id(tx.conn, app["client_id"])
            assert registered is not None
            await do_issue_token(tx, int(boss.id), registered.id, frozenset({"read"}))
            issued = await do_issue_token(tx, int(plain.id), registered.id, frozenset({"read"}))
        return issued.token

    token = roost.run(sign_in)
    revoked = roost.client.post(
        "/oauth/revoke",
        data={"client_id": app["client_id"], "client_secret": app["client_secret"], "token": token},
    )
    assert revoked.status_code == 200

    actions = [(e.action, e.target_account_id) for e in _entries(roost)]

    boss_id, plain_id = int(boss.id), int(plain.id)
    assert actions == [
        ("role.grant", boss_id),
        ("staff.sign_in", boss_id),  # the token the test fixture issued
        ("staff.sign_in", boss_id),  # a token for the app
        ("token.revoke", plain_id),  # a plain account's sign-in is not logged; its revocation is
    ]
    assert _verify(roost).intact


def test_given_an_entry_changed_removed_or_reordered_when_verified_then_the_first_is_named(
    roost: Roost,
) -> None:
    _staff_history(roost)
    found = _entries(roost)
    second = found[1]

    _sql(roost, update(audit_entries).where(audit_entries.c.seq == 2).values(action="nothing"))
    changed = _verify(roost)
    assert not changed.intact and changed.seq == 2 and "entry 2 was changed" in str(changed.problem)
    _sql(roost, update(audit_entries).where(audit_entries.c.seq == 2).values(action=second.action))
    assert _verify(roost).intact

    _sql(
        roost,
        update(audit_personal)
        .where(audit_personal.c.seq == 2)
        .values(data='{"reason":"none","username":"spammer"}'),
    )
    personal = _verify(roost)
    assert not personal.intact and personal.seq == 2
    assert "personal record was changed" in str(personal.problem)


def test_given_an_entry_removed_when_verified_then_it_is_named(roost: Roost) -> None:
    _staff_history(roost)
    _sql(roost, delete(audit_entries).where(audit_entries.c.seq == 2))

    verdict = _verify(roost)

    assert not verdict.intact and verdict.seq == 2 and "entry 2 was removed" in str(verdict.problem)


def test_given_a_personal_record_removed_when_verified_then_its_entry_is_named(
    roost: Roost,
) -> None:
    """The personal record is kept apart so that erasure can blank it; deleting
    it outright (rather than erasing it) is tampering."""
    _staff_history(roost)
    _sql(roost, delete(audit_personal).where(audit_personal.c.seq == 2))

    verdict = _verify(roost)

    assert not verdict.intact and verdict.seq == 2
    assert verdict.problem == "entry 2's personal record was removed"


def test_given_two_entries_swapped_when_verified_then_the_first_is_named(roost: Roost) -> None:
    _staff_history(roost)
    assert [e.seq for e in _entries(roost)] == [1, 2, 3]

    async def swap() -> None:
        """Entries 2 and 3 change places, each keeping its own personal record."""
        async with roost.db.write() as tx:
            picked = {}
            for table in (audit_entries, audit_personal):
                rows = await tx.execute(select(table).where(table.c.seq.in_([2, 3])))
                picked[table.name] = {row.seq: row._asdict() for row in rows}
            await tx.execute(delete(audit_personal).where(audit_personal.c.seq.in_([2, 3])))
            await tx.execute(delete(audit_entries).where(audit_entries.c.seq.in_([2, 3])))
            for table in (audit_entries, audit_personal):
                for seq, other in ((2, 3), (3, 2)):
                    row = picked[table.name][other]
                    await tx.execute(table.insert().values({**row, "seq": seq}))

    roost.run(swap)
    verdict = _verify(roost)

    assert not verdict.intact and verdict.seq == 2


def test_given_a_head_from_a_backup_when_entries_are_cut_from_the_end_then_verify_says_so(
    roost: Roost,
) -> None:
    _staff_history(roost)
    head = _entries(roost)[-1].hash
    assert _verify(roost, head).intact and _verify(roost, GENESIS).intact

    _sql(roost, delete(audit_entries).where(audit_entries.c.seq == 3))

    assert _verify(roost).intact  # the chain alone cannot tell
    cut = _verify(roost, head)
    assert not cut.intact and cut.seq == 3 and "not in the chain" in str(cut.problem)


def test_given_an_erased_account_when_the_log_is_verified_then_its_data_is_gone_and_it_holds(
    roost: Roost,
) -> None:
    mod, spammer = _staff_history(roost)
    services: Services = roost.client.app.state.services  # type: ignore[attr-defined]

    receipt = roost.run(lambda: erase_account(services, int(spammer.id)))

    assert receipt.clean, receipt.as_dict()
    # The suspension and its lifting name the spammer: both records are
    # anonymised by the registry's policy, then blanked by erase_personal,
    # and the receipt counts each step.
    assert receipt.tables["audit_personal"] == 2 + 2
    found = _entries(roost)
    assert [e.action for e in found][-1] == "account.erase"
    for entry in found:
        assert entry.target_account_id != int(spammer.id)
        assert "spammer" not in str(entry.personal) and "spam" not in str(entry.details)
    suspension = found[1]
    assert suspension.erased and suspension.personal == {}
    # The moderator is not the erased person: who acted stays on record.
    assert suspension.actor_account_id == int(mod.id)
    # Entries that do not name the erased account keep their personal record.
    grant_entry = found[0]
    assert not grant_entry.erased, grant_entry
    verdict = _verify(roost)
    assert verdict.intact and verdict.count == 4


def test_given_a_log_when_its_head_is_read_then_it_is_the_newest_entry_or_the_genesis(
    roost: Roost,
) -> None:
    """The head is what a backup's manifest copies, so that entries cut from
    the end can be found later: an empty log's is the genesis."""

    async def read_head() -> tuple[int, str]:
        async with roost.db.read() as conn:
            return await head(conn)

    assert roost.run(read_head) == (0, GENESIS)

    _staff_history(roost)

    newest = _entries(roost)[-1]
    assert roost.run(read_head) == (newest.seq, newest.hash) == (3, newest.hash)
    assert _verify(roost, newest.hash).intact


def test_given_more_entries_than_a_page_when_read_then_the_newest_fifty_come_first(
    roost: Roost,
) -> None:
    async def fifty_one_actions() -> None:
        async with roost.db.write() as tx:
            for n in range(51):
                await record(
                    tx,
                    action="test.action",
                    permission="manage_settings",
                    by=CONSOLE,
                    subject_type="setting",
                    subject_id=f"s{n}",
                )

    roost.run(fifty_one_actions)

    async def pages() -> tuple[list[Entry], list[Entry]]:
        async with roost.db.read() as conn:
            first = await entries(conn)
            return first, await entries(conn, before=first[-1].seq)

    first, rest = roost.run(pages)
    assert [e.seq for e in first] == list(range(51, 1, -1))
    assert [e.seq for e in rest] == [1]
    assert _verify(roost).count == 51


def test_given_a_moderator_who_acted_on_two_accounts_when_one_is_erased_then_only_its_records_go(
    roost: Roost,
) -> None:
    mod, spammer = _staff_history(roost)
    troll = roost.account("troll")
    url = f"/api/v1/admin/accounts/{troll.id}/action"
    assert mod.post(url, data={"type": "silence", "text": "rude"}).status_code == 200
    services: Services = roost.client.app.state.services  # type: ignore[attr-defined]

    receipt = roost.run(lambda: erase_account(services, int(spammer.id)))

    # The suspension and its lifting name the spammer (each counted by the
    # registry's policy and by erase_personal); the troll's entry does not.
    assert receipt.tables["audit_personal"] == 2 + 2
    silencing = next(e for e in _entries(roost) if e.target_account_id == int(troll.id))
    assert not silencing.erased
    assert silencing.actor_account_id == int(mod.id)
    assert silencing.personal == {"username": "troll", "reason": "rude"}
    assert _verify(roost).intact


def test_given_an_erased_moderator_then_the_entries_of_what_they_did_no_longer_name_them(
    roost: Roost,
) -> None:
    mod, spammer = _staff_history(roost)
    services: Services = roost.client.app.state.services  # type: ignore[attr-defined]

    receipt = roost.run(lambda: erase_account(services, int(mod.id)))

    assert receipt.clean, receipt.as_dict()
    found = _entries(roost)
    suspension = next(e for e in found if e.action == "account.suspend")
    assert suspension.erased and suspension.personal == {}
    assert suspension.actor_account_id is None
    # Whom they acted on is not the erased person: that stays on record.
    assert suspension.target_account_id == int(spammer.id)
    for entry in found:
        assert int(mod.id) not in (entry.actor_account_id, entry.target_account_id)
    assert _verify(roost).intact


def test_given_an_account_no_entry_names_when_erased_then_the_receipt_counts_no_audit_record(
    roost: Roost,
) -> None:
    _staff_history(roost)
    bystander = roost.account("bystander")
    services: Services = roost.client.app.state.services  # type: ignore[attr-defined]
    before = _entries(roost)

    receipt = roost.run(lambda: erase_account(services, int(bystander.id)))

    assert receipt.clean, receipt.as_dict()
    assert receipt.tables["audit_personal"] == 0
    after = _entries(roost)
    assert after[: len(before)] == before  # not one of them blanked
    assert after[-1].action == "account.erase"


def test_given_two_staff_actions_at_once_when_both_append_then_the_log_stays_one_chain(
    roost: Roost,
) -> None:
    """Scaled, staff act through several processes: two appends that overlap
    must not both take the same place after the head (one would then fail, or
    the chain would fork). The second waits for the first to commit."""
    import asyncio

    async def append(tx: Any, name: str) -> int:
        return await record(
            tx,
            action="test.action",
            permission="manage_settings",
            by=CONSOLE,
            subject_type="setting",
            subject_id=name,
        )

    async def overlapping() -> tuple[int, int, bool]:
        async def second() -> int:
            async with roost.db.write() as tx:
                return await append(tx, "second")

        # Given a first append, made but not yet committed
        async with roost.db.write() as tx:
            first = await append(tx, "first")
            # When a second transaction appends meanwhile
            waiting = asyncio.create_task(second())
            await asyncio.sleep(0.5)
            waited = not waiting.done()
        return first, await waiting, waited

    first, second, waited = roost.run(overlapping)

    # Then the second waited for the first, took the next place, and the
    # log verifies as one chain
    assert waited
    assert (first, second) == (1, 2)
    assert [e.subject_id for e in _entries(roost)] == ["first", "second"]
    assert _verify(roost).intact

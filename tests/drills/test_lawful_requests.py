"""Drill (threats 15, 16): a disclosure needs two approvals, and holds only what was approved.

A police request, real or forged, reaches one staff member. Whoever enters it
cannot approve it; two others holding ``manage_users`` must, each once; only
then is a package built, holding the approved kinds of the named account's data
within the approved range and nothing else, with its hash in the audit log.
Every way round that is tried here: the requester approving, the same approver
twice, an approver without the permission, the console, packaging early,
packaging twice, and rows written straight into the database.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from roost.db.tables import lawful_approvals, lawful_requests, statuses
from roost.domain.audit.chain import CONSOLE, Staff, entries, verify
from roost.domain.lawful import actions
from roost.domain.roles.permissions import Permission
from roost.errors import Forbidden, RuleBroken
from roost.export.lawful import disclose, lawful_directory
from roost.ids import new_id
from tests.api.staff_support import everything_but, staff_with
from tests.conftest import Roost, User

MANAGE = int(Permission.MANAGE_USERS)
START = datetime(2026, 10, 1, tzinfo=UTC)
END = datetime(2026, 11, 1, tzinfo=UTC)


def _staff(user: User) -> Staff:
    return Staff(int(user.id), "console")


def _backdate(roost: Roost, status_id: str, when: datetime) -> None:
    async def change() -> None:
        async with roost.db.write() as tx:
            await tx.execute(
                update(statuses).where(statuses.c.id == int(status_id)).values(created_at=when)
            )

    roost.run(change)


def _create(roost: Roost, by: User, target: User, kinds: tuple[str, ...]) -> int:
    async def enter() -> int:
        async with roost.db.write() as tx:
            return await actions.create(
                tx,
                _staff(by),
                account_id=int(target.id),
                authority="Example City Police, cybercrime unit",
                legal_basis="Production order 2026/123",
                verification="Called the unit's published switchboard; officer confirmed",
                verified_by_account_id=int(by.id),
                starts_at=START,
                ends_at=END,
                kinds=kinds,
            )

    return roost.run(enter)


def _approve(roost: Roost, by: User | Staff, request_id: int) -> str:
    actor = by if isinstance(by, Staff) else _staff(by)

    async def give() -> str:
        async with roost.db.write() as tx:
            return await actions.approve(tx, actor, request_id)

    return roost.run(give)


def _package(roost: Roost, by: User, request_id: int) -> tuple[Path, str]:
    async def build() -> tuple[Path, str]:
        return await disclose(roost.db, roost.settings, _staff(by), request_id)

    return roost.run(build)


@pytest.fixture
def crew(roost: Roost) -> dict[str, User]:
    return {
        "requester": staff_with(roost, "requester", MANAGE),
        "first": staff_with(roost, "first", MANAGE),
        "second": staff_with(roost, "second", MANAGE),
        "lacking": staff_with(roost, "lacking", everything_but(Permission.MANAGE_USERS)),
        "target": roost.account("target"),
    }


def test_given_a_request_when_approvals_are_short_then_no_path_discloses(
    roost: Roost, crew: dict[str, User]
) -> None:
    request_id = _create(roost, crew["requester"], crew["target"], ("posts",))

    # The requester approving their own request, the console, and an approver
    # whose role lacks manage_users are all refused.
    with pytest.raises(Forbidden, match="entered a lawful request cannot approve"):
        _approve(roost, crew["requester"], request_id)
    with pytest.raises(Forbidden, match="named staff member"):
        _approve(roost, CONSOLE, request_id)
    with pytest.raises(Forbidden, match="manage_users"):
        _approve(roost, crew["lacking"], request_id)
    # No approval: no package, and no file left behind.
    with pytest.raises(RuleBroken, match="pending"):
        _package(roost, crew["first"], request_id)
    assert _approve(roost, crew["first"], request_id) == "pending"
    # The same approver twice counts once: refused.
    with pytest.raises(RuleBroken, match="already approved"):
        _approve(roost, crew["first"], request_id)
    with pytest.raises(RuleBroken, match="pending"):
        _package(roost, crew["second"], request_id)

    # Straight into the database: the same approver again, or the requester,
    # is refused by its constraints; and a state forced to approved with one
    # approval still does not package.
    async def forge(approver: str) -> None:
        async with roost.db.write() as tx:
            await tx.execute(
                lawful_approvals.insert().values(
                    id=new_id(),
                    request_id=request_id,
                    approver_account_id=int(crew[approver].id),
                    requester_account_id=int(crew["requester"].id),
                    created_at=datetime.now(UTC),
                )
            )

    for approver in ("first", "requester"):
        with pytest.raises(IntegrityError):
            roost.run(lambda approver=approver: forge(approver))  # type: ignore[misc]

    async def force_state() -> None:
        async with roost.db.write() as tx:
            await tx.execute(
                update(lawful_requests)
                .where(lawful_requests.c.id == request_id)
                .values(state="approved")
            )

    roost.run(force_state)
    with pytest.raises(RuleBroken, match="1 approval"):
        _package(roost, crew["second"], request_id)
    assert not list(lawful_directory(roost.settings).glob("*.zip"))

    async def chain_ok() -> bool:
        async with roost.db.read() as conn:
            return (await verify(conn)).intact

    assert roost.run(chain_ok)


def test_given_two_approvals_when_packaged_then_exactly_the_approved_kinds_and_range(
    roost: Roost, crew: dict[str, User]
) -> None:
    target = crew["target"]
    before = target.post_status("September, outside the range")
    inside = target.post_status("October, inside the range")
    dm = target.post_status("@first a direct word in October", visibility="direct")
    dm_late = target.post_status("@first a direct word in November", visibility="direct")
    after = target.post_status("November, outside the range")
    _backdate(roost, before["id"], START - timedelta(days=3))
    _backdate(roost, inside["id"], START + timedelta(days=3))
    _backdate(roost, dm["id"], START + timedelta(days=4))
    _backdate(roost, dm_late["id"], END + timedelta(seconds=1))
    _backdate(roost, after["id"], END + timedelta(days=3))

    request_id = _create(roost, crew["requester"], target, ("posts", "direct_messages"))
    assert _approve(roost, crew["first"], request_id) == "pending"
    assert _approve(roost, crew["second"], request_id) == "approved"
    path, sha256 = _package(roost, crew["first"], request_id)

    assert hashlib.sha256(path.read_bytes()).hexdigest() == sha256
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        outbox = json.loads(archive.read("outbox.json"))
        direct = json.loads(archive.read("direct_messages.json"))
        described = json.loads(archive.read("request.json"))
    # Only the approved kinds: no profile, no media, nothing else of the account.
    assert names == {"outbox.json", "direct_messages.json", "request.json"}
    assert [i["object"]["source"]["content"] for i in outbox["orderedItems"]] == [
        "October, inside the range"
    ]
    assert [i["object"]["source"]["content"] for i in direct["orderedItems"]] == [
        "@first a direct word in October"
    ]
    assert described["kinds"] == ["posts", "direct_messages"]
    assert described["approvals"] == 2

    # Recorded: disclosed with the hash, in the audit log; once only.
    async def state() -> tuple[str | None, str | None]:
        async with roost.db.read() as conn:
            row = (
                await conn.execute(
                    select(lawful_requests.c.state, lawful_requests.c.package_sha256).where(
                        lawful_requests.c.id == request_id
                    )
                )
            ).one()
            return row.state, row.package_sha256

    assert roost.run(state) == ("disclosed", sha256)
    with pytest.raises(RuleBroken, match="disclosed"):
        _package(roost, crew["second"], request_id)

    async def logged() -> list[tuple[str, dict[str, object]]]:
        async with roost.db.read() as conn:
            found = await entries(conn, limit=20)
            assert (await verify(conn)).intact
        return [(e.action, e.details) for e in found if e.action.startswith("lawful.")]

    log = roost.run(logged)
    assert [action for action, _ in log] == [
        "lawful.disclose",
        "lawful.approve",
        "lawful.approve",
        "lawful.create",
    ]
    assert log[0][1]["sha256"] == sha256


def test_given_a_request_when_refused_then_the_reason_is_kept_and_nothing_discloses(
    roost: Roost, crew: dict[str, User]
) -> None:
    request_id = _create(roost, crew["requester"], crew["target"], ("profile",))
    _approve(roost, crew["first"], request_id)

    async def refuse() -> None:
        async with roost.db.write() as tx:
            await actions.refuse(
                tx, _staff(crew["second"]), request_id, "No court order; forged letterhead"
            )

    roost.run(refuse)
    with pytest.raises(RuleBroken, match="refused"):
        _approve(roost, crew["second"], request_id)
    with pytest.raises(RuleBroken, match="refused"):
        _package(roost, crew["first"], request_id)

    async def shown() -> tuple[str, str | None, str]:
        async with roost.db.read() as conn:
            found = await actions.show(conn, _staff(crew["first"]), request_id)
            last = (await entries(conn, limit=1))[0]
        return found.state, found.refusal_reason, last.personal.get("reason", "")

    assert roost.run(shown) == (
        "refused",
        "No court order; forged letterhead",
        "No court order; forged letterhead",
    )


def test_given_a_request_when_the_named_account_is_erased_then_the_record_stays_anonymised(
    roost: Roost, crew: dict[str, User]
) -> None:
    from roost.erasure.erase import erase_account

    request_id = _create(roost, crew["requester"], crew["target"], ("posts",))
    _approve(roost, crew["first"], request_id)
    services = roost.client.app.state.services  # type: ignore[attr-defined]

    async def erase() -> list[dict[str, list[str]]]:
        # The named account, an approver, and the requester who verified it:
        # each receipt's scan of every table finds none of them left.
        receipts = [
            await erase_account(services, int(crew[name].id))
            for name in ("target", "first", "requester")
        ]
        return [r.hits for r in receipts if not r.clean]

    assert roost.run(erase) == []

    async def kept() -> tuple[object, ...]:
        async with roost.db.read() as conn:
            found = await actions.show(conn, CONSOLE, request_id)
        return (
            found.account_id,
            found.verification,
            found.authority,
            found.state,
            [a.approver_account_id for a in found.approvals],
            found.requested_by_account_id,
            found.verified_by_account_id,
        )

    assert roost.run(kept) == (
        None,
        "",
        "Example City Police, cybercrime unit",
        "pending",
        [None],
        None,
        None,
    )
    # The named account is gone: nothing can be disclosed about it any more.
    _approve(roost, crew["second"], request_id)
    with pytest.raises(RuleBroken, match="erased"):
        _package(roost, crew["second"], request_id)


def test_given_the_staff_pages_when_approvals_are_short_then_no_form_discloses(
    roost: Roost, crew: dict[str, User]
) -> None:
    from tests.web.support_app import post_form, signed_in_browser, token_of

    target = crew["target"]
    post = target.post_status("October, inside the range")
    _backdate(roost, post["id"], START + timedelta(days=1))
    browsers = {name: signed_in_browser(roost, crew[name]) for name in crew if name != "target"}
    tokens = {name: token_of(b, "/admin") for name, b in browsers.items()}
    fields = {
        "account": "target",
        "authority": "Example City Police",
        "legal_basis": "Production order 2026/123",
        "verification": "Called the published switchboard back",
        "verified_by": "requester",
        "from": "2026-10-01",
        "until": "2026-10-31",
    }
    wrong = post_form(browsers["requester"], "/admin/lawful", tokens["requester"], **fields)
    assert wrong.status_code == 422 and "data kind" in wrong.text  # none chosen
    entered = browsers["requester"].post(
        "/admin/lawful",
        data={"csrf_token": tokens["requester"], **fields, "kinds": ["posts"]},
        follow_redirects=False,
    )
    assert entered.status_code == 303, entered.text
    page = entered.headers["location"].split("?")[0]
    request_id = int(page.rsplit("/", 1)[-1])

    def form(who: str, action: str, **fields: str) -> object:
        return post_form(browsers[who], f"{page}/{action}", tokens[who], **fields)

    # A form without its CSRF token changes nothing.
    assert browsers["first"].post(f"{page}/approve", data={}).status_code == 403
    # The requester, and a role without manage_users, are refused.
    own = form("requester", "approve")
    assert own.status_code == 403 and "cannot approve" in own.text  # type: ignore[attr-defined]
    assert form("lacking", "approve").status_code == 403  # type: ignore[attr-defined]
    assert browsers["lacking"].get(page).status_code == 403
    # No approvals, then one (twice from the same person): no package.
    assert form("first", "package").status_code == 422  # type: ignore[attr-defined]
    assert form("first", "approve").status_code == 303  # type: ignore[attr-defined]
    twice = form("first", "approve")
    assert twice.status_code == 422 and "already approved" in twice.text  # type: ignore[attr-defined]
    assert form("second", "package").status_code == 422  # type: ignore[attr-defined]
    assert not list(lawful_directory(roost.settings).glob("*.zip"))
    assert browsers["first"].get(f"{page}/package").status_code == 404

    # The second approval, from someone else: the package is built, recorded
    # and downloaded as recorded.
    assert form("second", "approve").status_code == 303  # type: ignore[attr-defined]
    assert form("second", "package").status_code == 303  # type: ignore[attr-defined]
    shown = browsers["requester"].get(page)
    assert shown.status_code == 200 and "disclosed" in shown.text
    downloaded = browsers["requester"].get(f"{page}/package")
    assert downloaded.status_code == 200
    sha256 = hashlib.sha256(downloaded.content).hexdigest()
    assert sha256 in shown.text
    listed = browsers["first"].get("/admin/lawful")
    assert listed.status_code == 200 and f"Request {request_id}" in listed.text

    async def actions_logged() -> list[str]:
        async with roost.db.read() as conn:
            found = await entries(conn, limit=20)
        return [e.action for e in found if e.action.startswith("lawful.")]

    assert roost.run(actions_logged) == [
        "lawful.download",
        "lawful.disclose",
        "lawful.approve",
        "lawful.approve",
        "lawful.create",
    ]


def test_given_profile_and_media_approved_when_packaged_then_no_post_and_no_file_outside(
    roost: Roost, crew: dict[str, User]
) -> None:
    from tests.media import samples

    target = crew["target"]
    posted = {}
    # Two different pictures (files are stored by their content).
    for label, when, width in (("inside", START + timedelta(days=2), 64), ("outside", END, 80)):
        picture = samples.png(width=width)
        files = {"file": (f"{label}.png", picture, "image/png")}
        upload = target.post("/api/v2/media", files=files)
        assert upload.status_code == 200, upload.text
        post = target.post_status(f"a picture {label}", media_ids=[upload.json()["id"]])
        _backdate(roost, post["id"], when)
        posted[label] = post["media_attachments"][0]["url"].rsplit("/", 1)[-1]

    request_id = _create(roost, crew["requester"], target, ("profile", "media"))
    _approve(roost, crew["first"], request_id)
    _approve(roost, crew["second"], request_id)
    path, _ = _package(roost, crew["second"], request_id)
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        actor = json.loads(archive.read("actor.json"))
    media = {n for n in names if n.startswith("media_attachments/files/")}
    assert names - media == {"actor.json", "request.json"}  # no outbox, no direct messages
    assert actor["preferredUsername"] == "target"
    # The range ends before ``END``: only the picture posted inside it.
    assert len(media) == 1
    (inside,) = media
    assert posted["inside"].split(".")[0] in inside
    assert posted["outside"].split(".")[0] not in " ".join(names)

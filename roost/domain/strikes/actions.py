"""Staff actions on accounts that leave a strike, and appeals against them.

``do_account_action`` is Mastodon's ``POST /api/v1/admin/accounts/:id/action``:
it takes the action (roost/domain/accounts/limits.py, or a suspension through
roost/domain/accounts/moderation.py) and, for any action but ``none`` or when
staff wrote a text, records a strike (``account_warnings``), tells the account
with a ``moderation_warning`` notification, and by mail when asked. The strike
keeps its text sealed under the account's key; staff stay unnamed to the account.

The account appeals a strike once, within 20 days (``do_appeal``). Staff with
``manage_appeals`` accept or reject the appeal (``do_decide_appeal``);
accepting undoes the action and marks the strike overruled. Each step is an
entry of the audit log.
"""

from __future__ import annotations

from sqlalchemy import select, update

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import account_warnings, appeals
from roost.domain.accounts import limits, moderation
from roost.domain.audit.chain import Staff, record
from roost.domain.notifications.actions import do_notify
from roost.domain.roles.permissions import Permission, key
from roost.domain.strikes import presets
from roost.domain.strikes.jobs import WarningMail
from roost.domain.strikes.model import ACTIONS, MAX_APPEAL, MAX_TEXT, Warning
from roost.domain.strikes.queries import warning
from roost.domain.types import Viewer
from roost.errors import Forbidden, NotFound, RuleBroken
from roost.ids import new_id
from roost.jobs.outbox import enqueue
from roost.keys.ring import seal


def check_action(kind: str | None) -> str:
    if kind not in ACTIONS:
        what = "is missing" if not kind else f"{kind!r} is not supported"
        raise RuleBroken(f"type {what}; supported: {', '.join(ACTIONS)}")
    return kind


async def do_account_action(
    tx: Tx,
    by: Viewer | None,
    account_id: int,
    kind: str | None,
    *,
    text: str | None = None,
    report_id: int | None = None,
    send_email: bool = False,
    actor: Staff | None = None,
    warning_preset_id: int | None = None,
) -> int | None:
    """Take action ``kind`` on the account; the id of the strike it recorded
    (None for ``none`` without a text). Already under the limit: nothing more
    changes, but the strike is still recorded (staff meant to tell them).
    ``warning_preset_id``: a preset whose text goes before ``text``
    (NotFound when there is none such)."""
    kind = check_action(kind)
    found = None
    if warning_preset_id is not None:
        found = await presets.preset(tx.conn, warning_preset_id)
    text = (presets.warning_text(found, text) or "").strip()
    if len(text) > MAX_TEXT:
        raise RuleBroken(f"text is {MAX_TEXT} characters at most")
    on = await limits.target(tx, account_id)
    if kind == "none":
        if by is not None and not by.may(limits.MANAGE_USERS):
            raise Forbidden("This action is not allowed")
    elif kind != "suspend":  # a suspension checks its own (moderation.py)
        limits.check_may_act(by, on)
    who = limits.actor_of(by, actor)
    if kind == "suspend":
        await moderation.do_suspend_account(tx, account_id, reason=text or None, by=by, actor=who)
    elif kind != "none":
        await limits.do_limit(tx, on, kind, actor=who, reason=text or None)
    if kind == "none" and not text:
        return None
    warning_id = new_id()
    await tx.execute(
        account_warnings.insert().values(
            id=warning_id,
            account_id=account_id,
            by_account_id=who.account_id,
            action=kind,
            text=seal(account_id, text) if text else "",
            report_id=report_id,
            created_at=utcnow(),
        )
    )
    if kind == "none":
        # The other actions are audited where they are taken.
        await record(
            tx,
            action="account.warn",
            permission=key(limits.MANAGE_USERS),
            by=who,
            subject_type="account",
            target_account_id=account_id,
            personal={"username": on.username, "reason": text},
        )
    await do_notify(
        tx,
        type="moderation_warning",
        account_id=account_id,
        from_account_id=account_id,
        account_warning_id=warning_id,
        event_key=f"moderation_warning:{warning_id}",
    )
    if send_email and on.local:
        await enqueue(tx, WarningMail(warning_id), max_attempts=10)
    return warning_id


async def do_appeal(tx: Tx, viewer: Viewer, warning_id: int, text: str) -> int:
    """Appeal one's own strike; the appeal's id. Once per strike."""
    found = await warning(tx.conn, viewer, warning_id)
    if found.account_id != viewer.account_id:
        raise NotFound()
    text = text.strip()
    if not text:
        raise RuleBroken("text can't be blank")
    if len(text) > MAX_APPEAL:
        raise RuleBroken(f"text is {MAX_APPEAL} characters at most")
    if found.appeal is not None:
        raise RuleBroken("This strike was already appealed")
    if not found.appealable(utcnow()):
        raise RuleBroken("This strike can no longer be appealed")
    appeal_id = new_id()
    await tx.execute(
        appeals.insert().values(
            id=appeal_id,
            account_id=found.account_id,
            account_warning_id=found.id,
            text=seal(found.account_id, text),
            created_at=utcnow(),
        )
    )
    return appeal_id


async def _undo(tx: Tx, found: Warning, who: Staff) -> None:
    if found.action == "suspend":
        await moderation.do_unsuspend_account(tx, found.account_id, actor=who)
    elif found.action in limits.LIFTS:
        on = await limits.target(tx, found.account_id)
        await limits.do_lift(tx, on, found.action, actor=who)


async def do_decide_appeal(
    tx: Tx,
    by: Viewer | None,
    appeal_id: int,
    *,
    accept: bool,
    actor: Staff | None = None,
    via: str = "api",
) -> Warning:
    """Accept (undo the action, overrule the strike) or reject an appeal not
    yet decided. Staff need ``manage_appeals`` (None: the operator)."""
    if by is not None and not by.may(Permission.MANAGE_APPEALS):
        raise Forbidden("This action is not allowed")
    row = (
        await tx.execute(
            select(
                appeals.c.account_warning_id, appeals.c.approved_at, appeals.c.rejected_at
            ).where(appeals.c.id == appeal_id)
        )
    ).first()
    if row is None:
        raise NotFound()
    if row.approved_at is not None or row.rejected_at is not None:
        raise RuleBroken("This appeal was already decided")
    found = await warning(tx.conn, None, int(row.account_warning_id))
    who = limits.actor_of(by, actor, via)
    now = utcnow()
    decided = {"approved_at": now} if accept else {"rejected_at": now}
    await tx.execute(
        update(appeals)
        .where(appeals.c.id == appeal_id)
        .values(decided_by_account_id=who.account_id, **decided)
    )
    if accept:
        await _undo(tx, found, who)
        await tx.execute(
            update(account_warnings)
            .where(account_warnings.c.id == found.id)
            .values(overruled_at=now)
        )
    await record(
        tx,
        action="appeal.approve" if accept else "appeal.reject",
        permission=key(Permission.MANAGE_APPEALS),
        by=who,
        subject_type="appeal",
        subject_id=appeal_id,
        target_account_id=found.account_id,
        details={"strike_action": found.action},
    )
    return await warning(tx.conn, None, found.id)

"""The permissions a role grants, with the bit values of Mastodon's Role entity.

A role's ``permissions`` is the sum of its flags. ``administrator`` grants
every permission. An account holds at most one role; one without a role has
none of these (Mastodon's everyone-role grants ``invite_users``, which Roost's
invites do not ask for).

Who counts as staff for the privacy policy (sees suspended accounts and their
posts) is anyone whose role grants anything beyond ``invite_users``.
"""

from __future__ import annotations

from enum import IntFlag


class Permission(IntFlag):
    ADMINISTRATOR = 0x1
    DEVOPS = 0x2
    VIEW_AUDIT_LOG = 0x4
    VIEW_DASHBOARD = 0x8
    MANAGE_REPORTS = 0x10
    MANAGE_FEDERATION = 0x20
    MANAGE_SETTINGS = 0x40
    MANAGE_BLOCKS = 0x80
    MANAGE_TAXONOMIES = 0x100
    MANAGE_APPEALS = 0x200
    MANAGE_USERS = 0x400
    MANAGE_INVITES = 0x800
    MANAGE_RULES = 0x1000
    MANAGE_ANNOUNCEMENTS = 0x2000
    MANAGE_CUSTOM_EMOJIS = 0x4000
    MANAGE_WEBHOOKS = 0x8000
    INVITE_USERS = 0x10000
    MANAGE_ROLES = 0x20000
    MANAGE_USER_ACCESS = 0x40000
    DELETE_USER_DATA = 0x80000
    # Roost's own: open media refused as known images (roost/domain/known_images/).
    # No built-in role but the owner's has it; it is granted on purpose.
    VIEW_QUARANTINE = 0x100000


ALL = Permission(sum(Permission))
STAFF = ALL & ~Permission.INVITE_USERS

# The built-in roles' ids, as Mastodon numbers them (migration 0012 makes them).
MODERATOR_ROLE_ID, ADMIN_ROLE_ID, OWNER_ROLE_ID = 1, 2, 3
BUILT_IN_ROLE_IDS = (MODERATOR_ROLE_ID, ADMIN_ROLE_ID, OWNER_ROLE_ID)


def names() -> list[str]:
    """Every permission's name as written on the command line (``manage_reports``)."""
    return [flag.name.lower() for flag in Permission if flag.name]


def parse(text: str) -> Permission:
    """``manage_reports,view_audit_log`` (commas or spaces) as flags; ValueError
    naming an unknown one."""
    result = Permission(0)
    for word in text.replace(",", " ").split():
        try:
            result |= Permission[word.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown permission {word!r}; known: {', '.join(names())}") from None
    return result


def grants(mask: int, needed: Permission) -> bool:
    """Does a role with ``mask`` grant ``needed``? ``administrator`` grants all."""
    return bool(mask & Permission.ADMINISTRATOR) or (mask & needed) == needed


def is_staff(mask: int) -> bool:
    return bool(mask & STAFF)


def describe(mask: int) -> list[str]:
    return [flag.name.lower() for flag in Permission if flag.name and mask & flag]


def key(permission: Permission) -> str:
    """The permission's name as the audit log and the command line spell it."""
    return (permission.name or str(int(permission))).lower()


# The built-in roles as migration 0012 made them: (id, name, permissions,
# highlighted, position). Mastodon's seeds; the migration keeps its own copy.
MODERATOR = (
    Permission.VIEW_AUDIT_LOG
    | Permission.VIEW_DASHBOARD
    | Permission.MANAGE_REPORTS
    | Permission.MANAGE_TAXONOMIES
    | Permission.MANAGE_USERS
)
ADMIN = ALL & ~(
    Permission.ADMINISTRATOR
    | Permission.DEVOPS
    | Permission.INVITE_USERS
    | Permission.VIEW_QUARANTINE
)
BUILT_IN = (
    (MODERATOR_ROLE_ID, "Moderator", int(MODERATOR), False, 10),
    (ADMIN_ROLE_ID, "Admin", int(ADMIN), True, 100),
    (OWNER_ROLE_ID, "Owner", int(Permission.ADMINISTRATOR), True, 1000),
)

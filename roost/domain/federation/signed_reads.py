"""Signed reads of this server's ActivityPub documents by a server it does
not federate with.

A GET of an actor, post, activity or collection signed with a key of a
server staff suspended here (or, in the allow-list mode, did not allow) is
refused outright (403, as Mastodon and GoToSocial answer it) instead of
being read as anonymous: that server asked as itself, and this server has
said it will have nothing to do with it. The key's server is read from the
signature's key id before anything else, so the key is never fetched from
it (nothing is asked of a suspended server). An unsigned read is not
concerned: it is read as anyone's.
"""

from __future__ import annotations

from collections.abc import Mapping

from roost.config import Settings
from roost.db.engine import Database
from roost.domain.federation.remote import federates_with
from roost.net import message_signatures, signatures
from roost.net.signatures import SignatureRefused


def signing_key_id(headers: Mapping[str, str], header: str) -> str | None:
    """The key id a request's signature names (RFC 9421's ``keyid``, else
    draft-cavage's ``keyId``); None when it cannot be read (the verifier
    then refuses the signature for what it is)."""
    try:
        if message_signatures.present(headers):
            found = message_signatures.parse(headers)
            return found[0].key_id if len(found) == 1 else None
        return signatures.parse_signature(header).key_id
    except (SignatureRefused, ValueError):
        return None


async def signer_not_federated(
    db: Database, settings: Settings, headers: Mapping[str, str], header: str
) -> bool:
    """Whether the request is signed with a key of a server this one does
    not federate with (suspended; not allowed in the allow-list mode)."""
    key_id = signing_key_id(headers, header)
    if key_id is None or "://" not in key_id:
        return False
    return not await federates_with(db, settings, key_id)

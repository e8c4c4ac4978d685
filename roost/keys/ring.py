"""Sealing an account's content under its own key, and opening it again.

A sealed text is an envelope, ``rs1:<key id>:<nonce>:<ciphertext>`` (base64
parts; AES-256-GCM, the key id bound in as associated data). The key id is the
author's account id; its key is in the key store (roost/keys/store.py), which
lives outside the data backups. Erasure destroys the key, and with it every
copy of the content, old backups included.

Writers call ``seal(account_id, text)``; readers never call anything: the
columns are of type ``Sealed`` (roost/db/types.py), whose result processing
calls ``unseal``. A text whose key is gone opens as ``""``: a timeline with an
erased author's post restored from an old backup shows an empty post, it does
not fail.

Keys are cached in this process for ``TTL_S`` seconds (also a missing one, so
an old backup's erased rows cost no lookups), so a read costs a decryption and
no query. ``evict`` drops one at once (the erasing process does); other
processes drop theirs when the TTL runs out. That is the whole bound on how
long another process keeps a destroyed key in memory; the rows it would open
are already deleted from the live database, so nothing is served meanwhile.
"""

from __future__ import annotations

import atexit
import base64
import binascii
import hashlib
import hmac
import logging
import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from roost.keys.store import KeyStore, PgKeyStore, SqliteKeyStore

if TYPE_CHECKING:
    from roost.config import Settings

log = logging.getLogger("roost.keys")

PREFIX = "rs1:"
TTL_S = 60.0
# Keys that belong to no account. Account ids are milliseconds shifted left
# 16 bits, never this small. Each id serves one purpose only: a key is never
# both an AES key and another key's seed (tests/keys/test_reserved_ids.py).
# The key of the blind index of e-mail addresses.
INDEX_KEY_ID = 0
# The seed of the Web Push (VAPID) signing key (roost/keys/vapid.py).
VAPID_KEY_ID = 1
# The key of the quarantine of media refused as known images.
QUARANTINE_KEY_ID = 2
# The key the instance actor's federation key pair is sealed under
# (roost/domain/federation/keys.py): the instance actor is no account.
INSTANCE_ACTOR_KEY_ID = 3
RESERVED_KEY_IDS = (INDEX_KEY_ID, VAPID_KEY_ID, QUARANTINE_KEY_ID, INSTANCE_ACTOR_KEY_ID)
ERASED = ""

_lock = threading.RLock()
_store: KeyStore | None = None
_cache: dict[int, tuple[float, AESGCM | None]] = {}
_index_key: bytes | None = None
_closes_at_exit = False


def location_for(settings: Settings) -> tuple[str, str]:
    """(kind, where) of the key store these settings name."""
    if settings.is_sqlite:
        return "sqlite", str(settings.key_store_path.resolve())
    return "postgresql", settings.key_store_url or settings.database_url


def install(settings: Settings) -> KeyStore:
    """Open the key store these settings name and make it the one this process
    seals and opens with (a no-op when it is the one in use); returns it.

    Called by ``roost.process.prepare_process`` at every entry point, never as a
    side effect of something else: one installation per process.
    """
    global _store, _index_key, _closes_at_exit
    kind, where = location_for(settings)
    with _lock:
        current = getattr(_store, "_roost_location", None)
        if _store is not None and current == (kind, where):
            return _store
        if _store is not None:
            _store.close()
        store: KeyStore = SqliteKeyStore(Path(where)) if kind == "sqlite" else PgKeyStore(where)
        store._roost_location = (kind, where)  # type: ignore[attr-defined]
        if not _closes_at_exit:
            atexit.register(close)
            _closes_at_exit = True
        _store = store
        _cache.clear()
        _index_key = None
        return store


def close() -> None:
    """Close the installed key store (its connection and thread), if any.

    Registered to run at process exit: a PostgreSQL store's connection left to
    the garbage collector at interpreter shutdown prints a traceback on stderr
    after the command already succeeded.
    """
    global _store, _index_key, _closes_at_exit
    with _lock:
        if _store is not None:
            _store.close()
        _store = None
        _cache.clear()
        _index_key = None


def store() -> KeyStore:
    """The installed key store."""
    if _store is None:
        # A programming error, not an operator's: an entry point skipped
        # prepare_process (tests/cli/test_fresh_process.py exists to catch it).
        raise RuntimeError(
            "the key store is not installed: the entry point must call "
            "roost.process.prepare_process(settings) first"
        )
    return _store


def forget_all() -> None:
    """Drop every cached key (after a restore merged keys into the store)."""
    global _index_key
    with _lock:
        _cache.clear()
        _index_key = None


def evict(key_id: int) -> None:
    _cache.pop(key_id, None)


def _cipher(key_id: int, *, create: bool) -> AESGCM | None:
    now = time.monotonic()
    cached = _cache.get(key_id)
    if cached is not None and cached[0] > now and (cached[1] is not None or not create):
        return cached[1]
    with _lock:
        raw = store().get_or_create(key_id) if create else store().get(key_id)
        cipher = None if raw is None else AESGCM(raw)
        _cache[key_id] = (now + TTL_S, cipher)
    return cipher


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def seal(account_id: int, text: str) -> str:
    """``text`` sealed under the account's key; an empty text stays empty."""
    if not text:
        return text
    cipher = _cipher(account_id, create=True)
    assert cipher is not None
    nonce = os.urandom(12)
    aad = f"{PREFIX}{account_id}".encode()
    sealed = cipher.encrypt(nonce, text.encode(), aad)
    return f"{PREFIX}{account_id}:{_b64(nonce)}:{_b64(sealed)}"


def seal_optional(account_id: int, text: str | None) -> str | None:
    return None if text is None else seal(account_id, text)


def is_sealed(value: object) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def key_id_of(value: str) -> int | None:
    if not value.startswith(PREFIX):
        return None
    try:
        return int(value[len(PREFIX) :].split(":", 1)[0])
    except ValueError:
        return None


def unseal(value: str) -> str:
    """The plain text of an envelope; ``ERASED`` when its key is gone. Anything
    not an envelope (rows written before sealing) is returned as it is."""
    if not value.startswith(PREFIX):
        return value
    try:
        key_part, nonce_part, sealed_part = value[len(PREFIX) :].split(":")
        key_id = int(key_part)
        nonce = base64.b64decode(nonce_part, validate=True)
        sealed = base64.b64decode(sealed_part, validate=True)
    except (ValueError, binascii.Error):
        log.warning("a sealed value is malformed; shown as erased")
        return ERASED
    cipher = _cipher(key_id, create=False)
    if cipher is None:
        return ERASED
    try:
        return cipher.decrypt(nonce, sealed, f"{PREFIX}{key_id}".encode()).decode()
    except InvalidTag:
        log.warning("a value sealed under key %s does not open; shown as erased", key_id)
        return ERASED


def key(key_id: int, *, create: bool = False) -> bytes | None:
    """The raw key (media files derive their own ciphers from it)."""
    if create:
        return store().get_or_create(key_id)
    return store().get(key_id)


def cipher(key_id: int) -> AESGCM | None:
    """The cached cipher of a key; None when it is gone."""
    return _cipher(key_id, create=False)


def cipher_for_sealing(key_id: int) -> AESGCM:
    found = _cipher(key_id, create=True)
    assert found is not None
    return found


def email_index(email: str) -> str:
    """The blind index of an address: HMAC-SHA256 under the instance's index
    key, of the trimmed, lower-cased address. Unique and searchable by exact
    address, while the address itself is sealed under its account's key."""
    global _index_key
    if _index_key is None:
        with _lock:
            _index_key = store().get_or_create(INDEX_KEY_ID)
    digest = hmac.new(_index_key, email.strip().lower().encode(), hashlib.sha256)
    return digest.hexdigest()

"""Password hashing with argon2id, off the event loop (a hash takes ~50 ms)."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def use_fast_hashing_for_tests() -> None:
    """Cheap argon2 parameters: test suites create thousands of accounts.

    Never called by the server; only tests/conftest.py and the benchmarks' seeding
    (bench/_seed.py) use it.
    """
    global _hasher, DUMMY_HASH
    _hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    DUMMY_HASH = _hasher.hash("not a real password")


MIN_LENGTH = 8
MAX_LENGTH = 1000


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password_hash: str, password: str) -> bool:
    def _verify() -> bool:
        try:
            return _hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(_verify)


# A hash to verify against when the account does not exist, so a failed sign-in
# takes as long for an unknown name as for a wrong password. Verifying costs
# what the parameters inside the hash say, so one made ahead with the hasher's
# parameters serves as well as a fresh one, without hashing at import (a third
# of a second of every start). Made afresh only if the parameters ever differ.
_STORED_DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$EuItOUYRgqhfsESUFs11xw$"
    "puzDzEAmsBtVcejf6MKYGJLM0l0biNVLg98FarwUyuM"
)
DUMMY_HASH = (
    _hasher.hash("not a real password")
    if _hasher.check_needs_rehash(_STORED_DUMMY_HASH)
    else _STORED_DUMMY_HASH
)

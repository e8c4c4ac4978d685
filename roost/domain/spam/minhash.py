"""MinHash signatures of posts and their LSH bands: pure functions, no state.

A post becomes a set of features (``features``): the word pairs of its text
(links and mentions taken out, digits folded, so a wave that varies a number
or the link's path still matches), one feature per link domain and per
mentioned account, and, for an account younger than the "new" age, that fact
with the e-mail domain and the network it signed up from. Spam waves share
these; ordinary posts by established accounts share only their words. A link
domain and each sign-up feature count as ``FEATURE_WEIGHT`` word pairs: with
weight 4 and ROOST_SPAM_SIMILARITY 0.5 the drill's varied wave is found
(tests/drills/test_spam_wave.py); with weight 1 half of it was missed at the
same rate of ordinary posts flagged.

``signature`` is a MinHash of that set: ``NUM_PERM`` minimums of universal
hashes ``(a*x + b) mod (2**61 - 1)`` of each feature's 64-bit BLAKE2b digest,
kept to 32 bits. The fraction of equal positions in two signatures estimates
the sets' Jaccard similarity (``similarity``). The coefficients come from a
fixed seed: every process computes the same signature for the same post,
which is what lets many stateless workers share bands in the database.

``band_keys`` cuts the signature into ``BANDS`` bands of ``ROWS`` values
and names each by a 63-bit key: two posts that share any key are candidates.
With 32 bands of 2 rows, two posts at similarity 0.5 share a band with
probability 1 - (1 - 0.5**2)**32, above 0.9999; at 0.1, about 0.27 (the
candidates are then checked on the full signature). Changing NUM_PERM,
BANDS, ROWS or the seed makes stored signatures incomparable with new ones:
the window (ROOST_SPAM_WINDOW_HOURS) must pass before they mean anything.

In pure Python (no numpy): about 1 ms per post (weighted features included), small next
to the database work a post's clustering does (bench/spam_clusters.py).
"""

from __future__ import annotations

import hashlib
import ipaddress
import operator
import random
import re
import unicodedata
from array import array
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise
from urllib.parse import urlsplit

NUM_PERM = 64
BANDS = 32
ROWS = NUM_PERM // BANDS
_PRIME = (1 << 61) - 1
_MASK32 = 0xFFFFFFFF
_SEED = 0x5EED_0058
# How many word pairs a link domain or a sign-up feature counts as.
FEATURE_WEIGHT = 4

_rng = random.Random(_SEED)
_COEFFICIENTS = tuple(
    (_rng.randrange(1, _PRIME), _rng.randrange(0, _PRIME)) for _ in range(NUM_PERM)
)

_LINK = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
_MENTION = re.compile(r"(?<![\w/])@([a-z0-9_]+(?:@[a-z0-9.\-]+)?)", re.IGNORECASE)
_WORD = re.compile(r"\w+")
_DIGITS = re.compile(r"\d+")


@dataclass(frozen=True)
class Author:
    """What a post's author brings to its features."""

    new: bool  # younger than ROOST_SPAM_NEW_ACCOUNT_DAYS
    email_domain: str | None = None
    network: str | None = None


def link_domains(text: str) -> list[str]:
    domains = []
    for link in _LINK.findall(text):
        host = (urlsplit(link).hostname or "").lower()
        if host.startswith("www."):
            host = host[4:]
        if host:
            domains.append(host)
    return domains


def features(text: str, author: Author) -> set[str]:
    """The post's feature set (see the module docstring)."""
    normal = unicodedata.normalize("NFKC", text).lower()
    found: set[str] = _weighted(f"link:{d}" for d in link_domains(normal))
    without_links = _LINK.sub(" ", normal)
    found |= {f"mention:{m}" for m in _MENTION.findall(without_links)}
    words = [_DIGITS.sub("0", w) for w in _WORD.findall(_MENTION.sub(" ", without_links))]
    if len(words) == 1:
        found.add(f"w:{words[0]}")
    found |= {f"w:{a} {b}" for a, b in pairwise(words)}
    if author.new:
        origin = ["account:new"]
        if author.email_domain:
            origin.append(f"mail:{author.email_domain.lower()}")
        if author.network:
            origin.append(f"net:{author.network}")
        found |= _weighted(origin)
    return found


def _weighted(names: Iterable[str]) -> set[str]:
    """Each of ``names`` as ``FEATURE_WEIGHT`` features: a set has no weights,
    so a feature that counts more is put in more than once, told apart."""
    return {f"{name}#{i}" for name in names for i in range(FEATURE_WEIGHT)}


def _digest(feature: str) -> int:
    return int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "little")


def signature(found: set[str]) -> bytes:
    """The MinHash of a feature set, as ``NUM_PERM`` unsigned 32-bit values."""
    values = [_digest(f) for f in found] or [0]
    mins = array(
        "I",
        (min((a * x + b) % _PRIME for x in values) & _MASK32 for a, b in _COEFFICIENTS),
    )
    return mins.tobytes()


def _values(sig: bytes) -> array[int]:
    values = array("I")
    values.frombytes(sig)
    return values


def similarity(one: bytes, other: bytes) -> float:
    """The estimated Jaccard similarity of the sets behind two signatures."""
    a, b = _values(one), _values(other)
    if len(a) != len(b):
        raise ValueError("signatures of different lengths")
    # map(eq) counts in C: a post is compared with every candidate of its bands.
    same: int = sum(map(operator.eq, a, b))
    return same / NUM_PERM


def band_keys(sig: bytes) -> list[int]:
    """One signed 63-bit key per band (a BIGINT in every database)."""
    values = _values(sig)
    keys = []
    for band in range(BANDS):
        chunk = values[band * ROWS : (band + 1) * ROWS]
        digest = hashlib.blake2b(bytes([band]) + chunk.tobytes(), digest_size=8).digest()
        keys.append(int.from_bytes(digest, "little") >> 1)
    return keys


def network_of(address: str | None) -> str | None:
    """The network an address belongs to: its /24 (IPv4) or /48 (IPv6); None
    for anything that is not an address (a test client, a Unix socket)."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))

"""The features and signatures clustering compares: what counts, what is
folded away, and that every process computes the same signature."""

from __future__ import annotations

import subprocess
import sys

from roost.domain.spam.minhash import (
    BANDS,
    FEATURE_WEIGHT,
    Author,
    band_keys,
    features,
    network_of,
    signature,
    similarity,
)

OLD = Author(new=False, email_domain="gmail.com", network="10.0.0.0/24")


def test_given_a_post_then_links_become_their_domain_and_numbers_fold() -> None:
    found = features("Only 13 spots at https://www.Bonus.example/r/abc now @alice", OLD)

    assert {f"link:bonus.example#{i}" for i in range(FEATURE_WEIGHT)} <= found
    assert "mention:alice" in found
    assert {"w:only 0", "w:0 spots", "w:spots at", "w:at now"} <= found
    assert not any("abc" in f or ("alice" in f and f.startswith("w:")) for f in found)


def test_given_an_established_account_then_its_sign_up_origin_is_left_out() -> None:
    new = Author(new=True, email_domain="Mailbox.example", network="203.0.113.0/24")

    assert not any(f.startswith(("account:", "mail:", "net:")) for f in features("hi there", OLD))
    found = features("hi there", new)
    assert "account:new#0" in found and "mail:mailbox.example#0" in found
    assert "net:203.0.113.0/24#0" in found


def test_given_two_posts_then_similarity_follows_their_shared_features() -> None:
    one = signature(features("the quick brown fox jumps over the lazy dog today", OLD))
    same = signature(features("The QUICK brown fox jumps over the lazy dog, today!", OLD))
    other = signature(features("a completely different sentence about baking bread", OLD))

    assert similarity(one, same) == 1.0
    assert similarity(one, other) < 0.2
    assert len(band_keys(one)) == BANDS and band_keys(one) == band_keys(same)
    assert all(0 <= key < 2**63 for key in band_keys(one))


def test_given_another_process_then_it_computes_the_same_signature() -> None:
    text = "Claim your free crypto bonus at https://bonus.example/1"
    here = signature(features(text, OLD)).hex()
    code = (
        "from roost.domain.spam.minhash import Author, features, signature;"
        f"print(signature(features({text!r}, Author(False, 'gmail.com', '10.0.0.0/24'))).hex())"
    )
    there = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert there == here


def test_given_addresses_then_their_network_is_kept_not_the_address() -> None:
    assert network_of("203.0.113.77") == "203.0.113.0/24"
    assert network_of("2001:db8:1:2::5") == "2001:db8:1::/48"
    assert network_of("testclient") is None and network_of(None) is None

"""Roost's verifier (roost/domain/federation/verification.py, its policy and
its cryptography together) against the signed requests Mastodon publishes
as its own test vectors.

Source: mastodon/mastodon, spec/requests/signature_verification_spec.rb
(the versions of Mastodon 4.4 and later): the actor key pair of
``https://remote.domain/users/bob`` written out in the spec, requests to
``www.example.com`` at 2023-12-20T10:00:00Z, signed with draft-cavage
("HTTP Signature (draft version)") and with RFC 9421 ("HTTP Message
Signature (final RFC version)"), and the ones Mastodon refuses. Mastodon's
test requests are ``https://www.example.com/...`` for RFC 9421's
``@target-uri``, so this server's domain is ``www.example.com`` here.

The key is cached as if fetched before; fetching it again (which a
signature that fails with a cached key causes) is answered "unreachable"."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from roost.db.tables import remote_actor_keys
from roost.domain.federation import verification
from roost.domain.federation.verification import SignedBy, verify_request
from roost.ids import new_id
from roost.net import signatures
from roost.net.signatures import SignatureRefused
from tests.conftest import Roost

pytestmark = pytest.mark.settings(domain="www.example.com")

# Mastodon's spec writes out the private key "so the tests can be easily
# adjusted and reviewed"; BOB_PUBLIC is its public half.
MASTODON_BOB_PRIVATE = """-----BEGIN RSA PRIVATE KEY-----
MIIEowIBAAKCAQEAqIAYvNFGbZ5g4iiK6feSdXD4bDStFM58A7tHycYXaYtzZQpI
eHXAmaXuZzXIwtrP4N0gIk8JNwZvXj2UPS+S07t0V9wNK94he01LV5EMz/GN4eNn
FmDL64HIEuKLvV8TvgjbUPRD6Y5X0UpKi2ZIFLSb96Q5w0Z/k7ntpVKV52y8kz5F
jr/O/0JuHryZe0yItzJh8kzFfeMf0EXzfSnaKvT7P9jhgC6uTre+jXyvVZjiHDrn
qvvucdI3I7DRfXo1OqARBrLjy+TdseUAjNYJ+OuPRI1URIWQI01DCHqcohVu9+Ar
+BiCjFp3ua+XMuJvrvbD61d1Fvig/9nbBRR+8QIDAQABAoIBAAgySHnFWI6gItR3
fkfiqIm80cHCN3Xk1C6iiVu+3oBOZbHpW9R7vl9e/WOA/9O+LPjiSsQOegtWnVvd
RRjrl7Hj20VDlZKv5Mssm6zOGAxksrcVbqwdj+fUJaNJCL0AyyseH0x/IE9T8rDC
I1GH+3tB3JkhkIN/qjipdX5ab8MswEPu8IC4ViTpdBgWYY/xBcAHPw4xuL0tcwzh
FBlf4DqoEVQo8GdK5GAJ2Ny0S4xbXHUURzx/R4y4CCts7niAiLGqd9jmLU1kUTMk
QcXfQYK6l+unLc7wDYAz7sFEHh04M48VjWwiIZJnlCqmQbLda7uhhu8zkF1DqZTu
ulWDGQECgYEA0TIAc8BQBVab979DHEEmMdgqBwxLY3OIAk0b+r50h7VBGWCDPRsC
STD73fQY3lNet/7/jgSGwwAlAJ5PpMXxXiZAE3bUwPmHzgF7pvIOOLhA8O07tHSO
L2mvQe6NPzjZ+6iAO2U9PkClxcvGvPx2OBvisfHqZLmxC9PIVxzruQECgYEAzjM6
BTUXa6T/qHvLFbN699BXsUOGmHBGaLRapFDBfVvgZrwqYQcZpBBhesLdGTGSqwE7
gWsITPIJ+Ldo+38oGYyVys+w/V67q6ud7hgSDTW3hSvm+GboCjk6gzxlt9hQ0t9X
8vfDOYhEXvVUJNv3mYO60ENqQhILO4bQ0zi+VfECgYBb/nUccfG+pzunU0Cb6Dp3
qOuydcGhVmj1OhuXxLFSDG84Tazo7juvHA9mp7VX76mzmDuhpHPuxN2AzB2SBEoE
cSW0aYld413JRfWukLuYTc6hJHIhBTCRwRQFFnae2s1hUdQySm8INT2xIc+fxBXo
zrp+Ljg5Wz90SAnN5TX0AQKBgDaatDOq0o/r+tPYLHiLtfWoE4Dau+rkWJDjqdk3
lXWn/e3WyHY3Vh/vQpEqxzgju45TXjmwaVtPATr+/usSykCxzP0PMPR3wMT+Rm1F
rIoY/odij+CaB7qlWwxj0x/zRbwB7x1lZSp4HnrzBpxYL+JUUwVRxPLIKndSBTza
GvVRAoGBAIVBcNcRQYF4fvZjDKAb4fdBsEuHmycqtRCsnkGOz6ebbEQznSaZ0tZE
+JuouZaGjyp8uPjNGD5D7mIGbyoZ3KyG4mTXNxDAGBso1hrNDKGBOrGaPhZx8LgO
4VXJ+ybXrATf4jr8ccZYsZdFpOphPzz+j55Mqg5vac5P1XjmsGTb
-----END RSA PRIVATE KEY-----
"""
BOB_PUBLIC = """-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAqIAYvNFGbZ5g4iiK6feS
dXD4bDStFM58A7tHycYXaYtzZQpIeHXAmaXuZzXIwtrP4N0gIk8JNwZvXj2UPS+S
07t0V9wNK94he01LV5EMz/GN4eNnFmDL64HIEuKLvV8TvgjbUPRD6Y5X0UpKi2ZI
FLSb96Q5w0Z/k7ntpVKV52y8kz5Fjr/O/0JuHryZe0yItzJh8kzFfeMf0EXzfSna
KvT7P9jhgC6uTre+jXyvVZjiHDrnqvvucdI3I7DRfXo1OqARBrLjy+TdseUAjNYJ
+OuPRI1URIWQI01DCHqcohVu9+Ar+BiCjFp3ua+XMuJvrvbD61d1Fvig/9nbBRR+
8QIDAQAB
-----END PUBLIC KEY-----
"""
BOB = "https://remote.domain/users/bob"
KEY_ID = f"{BOB}#main-key"
NOW = datetime(2023, 12, 20, 10, 0, tzinfo=UTC)
DATE = "Wed, 20 Dec 2023 10:00:00 GMT"
HOST = "www.example.com"

# draft-cavage
CAVAGE_GET = (
    f'keyId="{KEY_ID}",algorithm="rsa-sha256",headers="date host (request-target)",'
    'signature="Z8ilar3J7bOwqZkMp7sL8sRs4B1FT+UorbmvWoE+A5UeoOJ3KBcUmbsh+k3wQwbP5gMNUrra9rEWab'
    "pasZGphLsbDxfbsWL3Cf0PllAc7c1c7AFEwnewtExI83/qqgEkfWc2z7UDutXc2NfgAx89Ox8DXU/fA2GG0jILjB6"
    "UpFyNugkY9rg6oI31UnvfVi3R7sr3/x8Ea3I9thPvqI2byF6cojknSpDAwYzeKdngX3TAQEGzFHz3SDWwyp3jeMW"
    'fwvVVbM38FxhvAnSumw7YwWW4L7M7h4M68isLimoT3yfCn2ucBVL5Dz8koBpYf/40w7QidClAwCafZQFC29yDOg=="'
)
CAVAGE_GET_QUERY = (
    f'keyId="{KEY_ID}",algorithm="rsa-sha256",headers="date host (request-target)",'
    'signature="SDMa4r/DQYMXYxVgYO2yEqGWWUXugKjVuz0I8dniQAk+aunzBaF2aPu+4grBfawAshlx1Xytl8lhb0'
    "H2MllEz16/tKY7rUrb70MK0w8ohXgpb0qs3YvQgdj4X24L1x2MnkFfKHR/J+7TBlnivq0HZqXm8EIkPWLv+eQxu8f"
    "bowLwHIVvRd/3t6FzvcfsE0UZKkoMEX02542MhwSif6cu7Ec/clsY9qgKahb9JVGOGS1op9Lvg/9y1mc8KCgD83U5"
    'IxVygYeYXaVQ6gixA9NgZiTCwEWzHM5ELm7w5hpdLFYxYOHg/3G3fiqJzpzNQAcCD4S4JxfE7hMI0IzVlNLT6A=="'
)
CAVAGE_UNPARSABLE_DATE = (
    f'keyId="{KEY_ID}",algorithm="rsa-sha256",headers="date host (request-target)",'
    'signature="d4B7nfx8RJcfdJDu1J//5WzPzK/hgtPkdzZx49lu5QhnE7qdV3lgyVimmhCFrO16bwvzIp9iRMyRLk'
    "NFxLiEeVaa1gqeKbldGSnU0B0OMjx7rFBa65vLuzWQOATDitVGiBEYqoK4v0DMuFCz2DtFaA/DIUZ3sty8bZ/Ea3U"
    "1nByLOO6MacARA3zhMSI0GNxGqsSmZmG0hPLavB3jIXoE3IDoQabMnC39jrlcO/a8h1iaxBm2WD8TejrImJullgq"
    'lJIFpKhIHI3ipQkvTGPlm9dx0y+beM06qBvWaWQcmT09eRIUefVsOAzIhUtS/7FVb/URhZvircIJDa7vtiFcmZQ=="'
)
CAVAGE_TWO_DAYS_OLD = (
    f'keyId="{KEY_ID}",algorithm="rsa-sha256",headers="date host (request-target)",'
    'signature="G1NuJv4zgoZ3B/ZIjzDWZHK4RC+5pYee74q8/LJEMCWXhcnAomcb9YHaqk1QYfQvcBUIXw3UZ3Q9xO'
    "8F9y0i8G5mzJHfQ+OgHqCoJk8EmGwsUXJMh5s1S5YFCRt8TT12TmJZz0VMqLq85ubueSYBM7QtUE/FzFIVLvz4Rys"
    "gXxaXQKzdnM6+gbUEEKdCURpXdQt2NXQhp4MAmZH3+0lQoR6VxdsK0hx0Ji2PNp1nuqFTlYqNWZazVdLBN+9rETLR"
    'mvGXknvg9jOxTTppBVWnkAIl26HtLS3wwFVvz4pJzi9OQDOvLziehVyLNbU61hky+oJ215e2HuKSe2hxHNl1MA=="'
)
HELLO_DIGEST = "SHA-256=ZOyIygCyaOW6GjVnihtTFtIS9PNmskdyMlNKiuyjfzw="
CAVAGE_POST = (
    f'keyId="{KEY_ID}",algorithm="rsa-sha256",headers="host date digest (request-target)",'
    'signature="gmhMjgMROGElJU3fpehV2acD5kMHeELi8EFP2UPHOdQ54H0r55AxIpji+J3lPe+N2qSb/4H1KXIh6f'
    "0lRu8TGSsu12OQmg5hiO8VA9flcA/mh9Lpk+qwlQZIPRqKP9xUEfqD+Z7ti5wPzDKrWAUK/7FIqWgcT/mlqB1R1MG"
    "kpMFc/q4CIs2OSNiWgA4K+Kp21oQxzC2kUuYob04gAZ7cyE/FTia5t08uv6lVYFdRsn4XNPn1MsHgFBwBMRG79ng3"
    'SyhoG4PrqBEi5q2IdLq3zfre/M6He3wlCpyO2VJNdGVoTIzeZ0Zz8jUscPV3XtWUchpGclLGSaKaq/JyNZeiYQ=="'
)
CAVAGE_POST_DIGEST_UNSIGNED = (
    f'keyId="{KEY_ID}",algorithm="rsa-sha256",headers="host date (request-target)",'
    'signature="CPD704CG8aCm8X8qIP8kkkiGp1qwFLk/wMVQHOGP0Txxan8c2DZtg/KK7eN8RG8tHx8br/yS2hJs51'
    "x4kXImYukGzNJd7ihE3T8lp+9RI1tCcdobTzr/VcVJHDFySdQkg266GCMijRQRZfNvqlJLiisr817PI+gNVBI5qV+"
    "vnVd1XhWCEZ+YSmMe8UqYARXAYNqMykTheojqGpTeTFGPUpTQA2Fmt2BipwIjcFDm2Hpihl2kB0MUS0x3zPmHDuad"
    'vzoBbN6m3usPDLgYrpALlh+wDs1dYMntcwdwawRKY1oE1XNtgOSum12wntDq3uYL4gya2iPdcw3c929b4koUzw=="'
)

# RFC 9421
INPUT_GET = f'sig1=("@method" "@target-uri");created=1703066400;keyid="{KEY_ID}"'
INPUT_TWO_DAYS_OLD = f'sig1=("@method" "@target-uri");created=1702893600;keyid="{KEY_ID}"'
INPUT_POST = f'sig1=("@method" "@target-uri" "content-digest");created=1703066400;keyid="{KEY_ID}"'
HELLO_CONTENT_DIGEST = "sha-256=:ZOyIygCyaOW6GjVnihtTFtIS9PNmskdyMlNKiuyjfzw=:"
RFC_GET = (
    "sig1=:WfM6q/qBqhUyqPUDt9metjadJGtLLpmMTBzk/t+R3byKe4/TGAXC6vBB/M6NsD5qv8GCmQGtisCMQxJQO0IGO"
    "DGzi+Jv+eqDJ50agMVXNV6nUOzY44c4/XTPoI98qyx1oEMa4Hefy3vSYKq96iDVAc+RDLCMTeGP3wn9wizjD1SNmU0"
    "RZI1bTB+eCkywMP9mM5zXzUOYF+Qkuf+WdEpPR1XUGPlnqfdvPalcKVfaI/VThBjI91D/lmUGoa69x4EBEHM+aJmW6"
    "086e7/dVh+FndKkdGfXslZXFZKi2flTGQZgEWLn948SqAaJQROkJg8B14Sb1NONS1qZBhK3Mum8Pg==:"
)
RFC_GET_QUERY = (
    "sig1=:JbC0oqoruKkT5p3bTASZZbHQP+EwUmT6+vBjEBw/KSkLPn+tKjEj0HHIMLA2Rw3bshZyzmsVD8+2UkPcwZYnE"
    "3gzuX0r0/gC8v4dSBfwGe7EBwpekB2xU8yHW4jawxiof2LmErvEocqcnI2uiA4IlJ09uz2Os/ARmf60lj+0Qf1qqzF"
    "eM7KoXJ331BUGMJ4cQ7iS4aO9RG4P8EJ+upe7Ik1LB/q9CZmk/6MFaB2lIemV0pcg2MwctpzMw9GWN1wL10hGxx+BP"
    "T2WCXdlPQmetVSoJ89WVV8S/4lQaCA1IucYUVDvBEFgMM//VJBuw7kg8wSTeAg9oKzbR2otLqv8Lg==:"
)
RFC_TWO_DAYS_OLD = (
    "sig1=:LtvwxwAAyiP7fGzsgKDRUHaZNNclAq6ScmH7RY+KERgaJcrjHFuqaYraQ3d9JVNsDJzZhdtJs+7UDPfIUjYNw"
    "Wj/5KRQscB2sMQ9+EYR2tBDen+K5TILv/SXoWUdvVU/3vbGMiVIACgynaXokySNrE8AGFWdrzT5NbxE+/pJ0tkB3uW"
    "O7LfFpm0ipzo0NN07CGC2AUVl6WxsiTGWtFRqVrrHFmYmRcVYn7NxkKytx8eDg95cyIsB4xAHz8i++NqZHiXaooh79"
    "OdhOy10kMWHFDbuy/AijjI3aGtGriAbXdxb8O3nwoSCvfEJ5f7qQ+iMJl/fLvFOUZElZgRo3mk2lA==:"
)
RFC_POST = (
    "sig1=:c4jGY/PnOV4CwyvNnAmY6NLX0sf6EtbKu7kYseNARRZaq128PrP0GNQ4cd3XsX9cbMfJMw1ntI4zuEC81ncW8"
    "g+90OHP02bX0LkT57RweUtN4CSA01hRqSVe/MW32tjGixCiItvWqjNHoIZnZApu1bd+M3zMR+VCEue4/8a0D2eRrvf"
    "QxJUUBXZR1ZTRFlf1LNFDW3U7cuTbAKYr2zWVr7on+h2vA+vzEND9WE8z1SHd6SIFFgP0QRqrCXYx+vsTs3aLusTsa"
    "mRWissoycJGexb64mI9iqiD8SD+uN1xk6iRU3nkUmhUquugjlOFyjxbbLo5ZnYjsECMt/BW+Catxw==:"
)
RFC_POST_DIGEST_UNSIGNED = (
    "sig1=:Rhc5CzxdUYCzwo3V7y5wjEIN4o2XD90Bhf7lTDg2TIlp33ygl6ufwZpQ156fLJ0aUCkJ4+9KQsHBIkxF4PZJn"
    "8d/ZIfz3dpHJAVyMErAToSw+36V61mbnnnJxIPZPvmTT3zYCL7HPv+3GItOA4SqBhjJZRRJwOIW6NmmyrmSpc8xF9k"
    "lnkeyGbYYRusaG7w6BDzM7ECCttxk120v1rHkGyqVON9fQADqs2LNqPa9WM9kWKiC5LhnZSYgoojhPmhniiA4Npgpr"
    "ncEBo4dOIC8CJihafWVSf+CZp3eogb/hn3Yd0//Pz0ta/lVtLGdb7t9f0rQFiqZfwIcCCz51nDMKw==:"
)
RFC_POST_TAMPERED_PATH = (
    "sig1=:aJmJgCOuAJD1su2QeeD7Y9wfda8dqReyuau1EBWAz1DYwKWx5kVosONGgJb+XZFugh6CQ15XDFz0vRJRYdt6G"
    "yquloOFYLzPYWp3mYRlMhvehR64ALeGIwJbb460/tOeX2PwaFNVBrqLBAHf8PZDAPCxE8Q9cPWhewwQQirBZTm0xhO"
    "y8nRkSEfMish87JEQLkEzH+pZQDYIpv+oE+Tz6gow6bllCmjUd8vgLABpc7sZJTz5qklfOMqFczW6HvVxvQK/9G7V5"
    "09u2z5I2PC/q+XdEs+jC0uzuer5baTJgL2q37gvnKzmz7pB+kbtBz5tmGNEMVLtPYQIEYjVI4Y34Q==:"
)
RFC_MALFORMED_DIGEST = (
    "sig1=:aXua24cIlBi8akNXg/Vc5pU8fNGXo0f4U2qQk42iWoIaCcH3G+z2edPMQTNM/aZmD0bULqvb/yi6ZXgRls1er"
    "eq3OqnvA4JBLKx15O/jLayS/FhR4d/2vaeXuBOYXM7EGXItKkFxEXn3J+FCQPb5wY31GlbljrESjsiZ6gtrSmwryBl"
    "uQCwMJ59LACzocxbWo42Kv3cpSig2aCu9CYXKC4sCH3eSKjwPtjdlpmX1VkYX5ge+JaZMn7A218ZgZOc9xpPawESOu"
    "IF9axcKW5PDEhOwmswFd2G65c8H9kJY6zEnqbArP9lRQMmjuAb011NILClaaRZOOupz2HZUdm+91Q==:"
)

# (method, target, headers, body): Mastodon verifies these as bob.
VERIFIED: dict[str, tuple[str, str, dict[str, str], bytes | None]] = {
    "draft GET": ("GET", "/activitypub/success", {"Date": DATE, "Signature": CAVAGE_GET}, None),
    "draft GET with a query": (
        "GET",
        "/activitypub/success?foo=42",
        {"Date": DATE, "Signature": CAVAGE_GET_QUERY},
        None,
    ),
    "draft POST": (
        "POST",
        "/activitypub/success",
        {"Date": DATE, "Digest": HELLO_DIGEST, "Signature": CAVAGE_POST},
        b"Hello world",
    ),
    "RFC 9421 GET": (
        "GET",
        "/activitypub/success",
        {"Signature-Input": INPUT_GET, "Signature": RFC_GET},
        None,
    ),
    "RFC 9421 GET with a query": (
        "GET",
        "/activitypub/success?foo=42",
        {"Signature-Input": INPUT_GET, "Signature": RFC_GET_QUERY},
        None,
    ),
    "RFC 9421 POST": (
        "POST",
        "/activitypub/success",
        {
            "Content-Digest": HELLO_CONTENT_DIGEST,
            "Signature-Input": INPUT_POST,
            "Signature": RFC_POST,
        },
        b"Hello world",
    ),
}

# Mastodon refuses these; so does Roost. (Mastodon accepts a draft GET whose
# query is not signed, a compatibility quirk; Roost does not.)
REFUSED: dict[str, tuple[str, str, dict[str, str], bytes | None]] = {
    "draft GET, query not signed": (
        "GET",
        "/activitypub/success?foo=42",
        {"Date": DATE, "Signature": CAVAGE_GET},
        None,
    ),
    "draft GET, another query": (
        "GET",
        "/activitypub/success?foo=43",
        {"Date": DATE, "Signature": CAVAGE_GET_QUERY},
        None,
    ),
    "draft GET, another path": (
        "GET",
        "/activitypub/alternative-path",
        {"Date": DATE, "Signature": CAVAGE_GET},
        None,
    ),
    "draft, another method": (
        "POST",
        "/activitypub/success",
        {"Date": DATE, "Signature": CAVAGE_GET},
        None,
    ),
    "draft GET, unparsable date": (
        "GET",
        "/activitypub/success",
        {"Date": "wrong date", "Signature": CAVAGE_UNPARSABLE_DATE},
        None,
    ),
    "draft GET, two days old": (
        "GET",
        "/activitypub/success",
        {"Date": "Wed, 18 Dec 2023 10:00:00 GMT", "Signature": CAVAGE_TWO_DAYS_OLD},
        None,
    ),
    "draft POST, digest not signed": (
        "POST",
        "/activitypub/success",
        {"Date": DATE, "Digest": HELLO_DIGEST, "Signature": CAVAGE_POST_DIGEST_UNSIGNED},
        b"Hello world",
    ),
    "draft POST, tampered body": (
        "POST",
        "/activitypub/success",
        {"Date": DATE, "Digest": HELLO_DIGEST, "Signature": CAVAGE_POST},
        b"Hello world!",
    ),
    "draft POST, another path": (
        "POST",
        "/activitypub/alternative-path",
        {"Date": DATE, "Digest": HELLO_DIGEST, "Signature": CAVAGE_POST},
        b"Hello world",
    ),
    "RFC 9421 GET, another query": (
        "GET",
        "/activitypub/success?foo=43",
        {"Signature-Input": INPUT_GET, "Signature": RFC_GET_QUERY},
        None,
    ),
    "RFC 9421 GET, another path": (
        "GET",
        "/activitypub/alternative-path",
        {"Signature-Input": INPUT_GET, "Signature": RFC_GET},
        None,
    ),
    "RFC 9421, another method": (
        "POST",
        "/activitypub/success",
        {"Signature-Input": INPUT_GET, "Signature": RFC_GET},
        None,
    ),
    "RFC 9421 GET, two days old": (
        "GET",
        "/activitypub/success",
        {"Signature-Input": INPUT_TWO_DAYS_OLD, "Signature": RFC_TWO_DAYS_OLD},
        None,
    ),
    "RFC 9421 POST, content digest not signed": (
        "POST",
        "/activitypub/success",
        {
            "Content-Digest": HELLO_CONTENT_DIGEST,
            "Signature-Input": INPUT_GET,
            "Signature": RFC_POST_DIGEST_UNSIGNED,
        },
        b"Hello world",
    ),
    "RFC 9421 POST, tampered body": (
        "POST",
        "/activitypub/success",
        {
            "Content-Digest": HELLO_CONTENT_DIGEST,
            "Signature-Input": INPUT_POST,
            "Signature": RFC_POST,
        },
        b"Hello world!",
    ),
    "RFC 9421 POST, another path": (
        "POST",
        "/activitypub/alternative-path",
        {
            "Content-Digest": HELLO_CONTENT_DIGEST,
            "Signature-Input": INPUT_POST,
            "Signature": RFC_POST_TAMPERED_PATH,
        },
        b"Hello world",
    ),
    "RFC 9421 POST, malformed content digest": (
        "POST",
        "/activitypub/success",
        {
            "Content-Digest": "SHA-256=:ZOyIygCyaOW6GjVnihtTFtIS9PNmskdyMlNKiuyjfzw=:",
            "Signature-Input": INPUT_POST,
            "Signature": RFC_MALFORMED_DIGEST,
        },
        b"Hello world",
    ),
}


@pytest.fixture
def bob_cached(roost: Roost, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """bob's key cached as if fetched before; fetching it again is answered
    unreachable (and recorded)."""

    async def store() -> None:
        async with roost.db.write() as tx:
            await tx.execute(
                remote_actor_keys.insert().values(
                    id=new_id(), key_id=KEY_ID, owner=BOB, public_key_pem=BOB_PUBLIC, fetched_at=NOW
                )
            )

    roost.run(store)
    refetched: list[str] = []

    async def unreachable(db: Any, settings: Any, key_id: str) -> Any:
        refetched.append(key_id)
        raise SignatureRefused("the key's server is unreachable in this test")

    monkeypatch.setattr(verification, "_fetch_key", unreachable)
    return refetched


def _verify(
    roost: Roost, method: str, target: str, headers: dict[str, str], body: bytes | None
) -> SignedBy:
    async def run() -> SignedBy:
        return await verify_request(
            roost.db,
            roost.settings,
            method=method,
            target=target,
            headers={"Host": HOST, **headers},
            body=body,
            now=NOW,
        )

    return roost.run(run)


def test_given_mastodons_published_signed_requests_when_verified_then_they_are_bobs(
    roost: Roost, bob_cached: list[str]
) -> None:
    assert roost.settings.base_url == "https://www.example.com"
    private = signatures.load_private_key(MASTODON_BOB_PRIVATE)
    assert signatures.public_pem(private) == BOB_PUBLIC
    for case, (method, target, headers, body) in VERIFIED.items():
        assert _verify(roost, method, target, headers, body) == SignedBy(KEY_ID, BOB), case
    assert bob_cached == []  # all with the cached key


def test_given_the_requests_mastodon_refuses_when_verified_then_roost_refuses_them_too(
    roost: Roost, bob_cached: list[str]
) -> None:
    for case, (method, target, headers, body) in REFUSED.items():
        with pytest.raises(SignatureRefused):
            _verify(roost, method, target, headers, body)
            pytest.fail(f"{case} verified")


def test_given_mastodons_key_when_roost_signs_its_get_then_the_signature_is_mastodons() -> None:
    # draft-cavage signatures (RSA PKCS#1 v1.5) are deterministic: the same
    # key over the same text gives Mastodon's very bytes.
    private = signatures.load_private_key(MASTODON_BOB_PRIVATE)
    parsed = signatures.parse_signature(CAVAGE_GET)
    signed = signatures.sign(
        private,
        KEY_ID,
        "GET",
        "/activitypub/success",
        {"Date": DATE, "Host": HOST},
        parsed.headers,
    )
    assert signatures.parse_signature(signed).signature == parsed.signature

"""Importing, replacing and removing known-image lists."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from roost.db.tables import known_image_hashes
from roost.domain.known_images import lists
from roost.errors import NotFound, RuleBroken
from tests.conftest import Roost
from tests.known_images import pictures
from tests.known_images.support import import_list, quarantine_rows

A = "a" * 64
B = "b" * 64
C = "c" * 64


def _hashes(roost: Roost) -> list[tuple[str, str | None]]:
    async def body() -> list[tuple[str, str | None]]:
        async with roost.db.read() as conn:
            rows = await conn.execute(
                select(known_image_hashes.c.hash, known_image_hashes.c.label).order_by(
                    known_image_hashes.c.hash
                )
            )
            return [(r.hash, r.label) for r in rows]

    return roost.run(body)


def test_given_a_file_with_comments_labels_and_duplicates_when_parsed_then_entries() -> None:
    text = f"# from the hotline\n\n{A.upper()} first, case 12\n{B},second\n{A} again\n{C}\t\n"
    assert lists.parse_entries(text) == [
        lists.Entry(A, "first, case 12"),
        lists.Entry(B, "second"),
        lists.Entry(C, None),
    ]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (f"{A}\nnot-a-hash\n", "line 2"),
        (f"{A[:-1]}\n", "line 1"),
        (f"{A} {'x' * 201}\n", "label is over 200"),
    ],
)
def test_given_a_bad_line_when_parsed_then_refused_naming_it(text: str, says: str) -> None:
    with pytest.raises(RuleBroken, match=says):
        lists.parse_entries(text)


def test_given_a_list_when_imported_again_then_replaced_whole(roost: Roost) -> None:
    first = import_list(roost, "hotline", f"{A} one\n{B} two\n")
    assert (first.name, first.kind, first.entries) == ("hotline", "pdq", 2)
    second = import_list(roost, "hotline", f"{C} three\n")
    assert second.id == first.id and second.entries == 1
    assert _hashes(roost) == [(C, "three")]


def test_given_a_list_when_replaced_then_uploads_meet_the_new_one_at_once(roost: Roost) -> None:
    old, new = pictures.png(21), pictures.png(22)
    import_list(roost, "hotline", pictures.pdq_hex(old))
    alice = roost.account("alice")
    assert (
        alice.post("/api/v2/media", files={"file": ("a.png", old, "image/png")}).status_code == 422
    )
    import_list(roost, "hotline", pictures.pdq_hex(new))
    assert (
        alice.post("/api/v2/media", files={"file": ("a.png", old, "image/png")}).status_code == 200
    )
    assert (
        alice.post("/api/v2/media", files={"file": ("b.png", new, "image/png")}).status_code == 422
    )
    assert len(quarantine_rows(roost)) == 2


def test_given_a_pdq_list_when_imported_as_sha256_then_refused_and_unchanged(
    roost: Roost,
) -> None:
    import_list(roost, "hotline", A)
    with pytest.raises(RuleBroken, match="holds pdq hashes"):
        import_list(roost, "hotline", B, kind="sha256")
    with pytest.raises(RuleBroken, match="kind of list"):
        import_list(roost, "other", B, kind="md5")
    with pytest.raises(RuleBroken, match="no hashes"):
        import_list(roost, "hotline", "# nothing\n")
    with pytest.raises(RuleBroken, match="list name"):
        import_list(roost, "Bad Name", B)
    assert _hashes(roost) == [(A, None)]


def test_given_a_list_when_removed_then_gone_and_its_pictures_pass(roost: Roost) -> None:
    listed = pictures.png(21)
    import_list(roost, "hotline", pictures.pdq_hex(listed))

    async def remove(name: str) -> None:
        await lists.remove_list(roost.db, name)

    roost.run(lambda: remove("hotline"))
    assert _hashes(roost) == []
    with pytest.raises(NotFound, match="no list named 'hotline'"):
        roost.run(lambda: remove("hotline"))
    alice = roost.account("alice")
    upload = alice.post("/api/v2/media", files={"file": ("a.png", listed, "image/png")})
    assert upload.status_code == 200, upload.text

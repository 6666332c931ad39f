"""The custom checks on values the contract's examples do not cover."""

from __future__ import annotations

import pandas as pd
import pytest

from nj_audit.checks.upload import gb32100_ok, id_card_parts, no_whitespace


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("MZ2022", True),
        ("MZ 2022", False),
        ("MZ\t2022", False),
        ("MZ\u30002022", False),
        ("MZ\u00a02022", False),
        ("门诊2022", True),
    ],
)
def test_record_id_whitespace_includes_unicode_spaces(value: str, ok: bool) -> None:
    assert no_whitespace(pd.Series([value], dtype="str")).tolist() == [ok]


def test_published_codes() -> None:
    # GB 32100's own example, and a code whose check character is 0 after the mod-31 wrap
    assert gb32100_ok(
        pd.Series(["91350100M000100Y43", "91350100M000100Y44", None], dtype="str")
    ).tolist() == [True, False, False]
    shape, checksum, birth, odd = id_card_parts(
        pd.Series(["11010519491231002X", "11010519491231002x", "110105194902300021"], dtype="str")
    )
    assert shape.tolist() == [True, False, True]
    assert checksum.tolist()[0] is True
    assert str(birth[0])[:10] == "1949-12-31" and pd.isna(birth[2])  # 1949-02-30 is not a date
    assert odd.tolist()[0] is False  # the 17th digit, 2: a woman


def test_id_card_parts_of_no_id_numbers() -> None:
    parts = id_card_parts(
        pd.Series(["123", None, "一二三四五六"], dtype="str")
    )  # 18 bytes, not digits
    assert parts.shape.tolist() == [False, False, False] and parts.checksum.tolist() == [
        False,
        False,
        False,
    ]
    assert id_card_parts(pd.Series([], dtype="str")).shape.tolist() == []

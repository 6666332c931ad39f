"""One reading of a size for `--max-bytes` and `--memory-limit` (nj_audit/sizes.py): the same
numbers and units, a bare number only where bytes are meant, a one-line error naming the option."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from nj_audit.cli import app
from nj_audit.sizes import parse_size

from builders import CLI_ENV

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("8GiB", 8 << 30), ("500MB", 500_000_000), ("1.5GB", 1_500_000_000), ("64 kib", 65536),
        (" 2 TiB ", 2 << 40), ("1048576", 1048576), ("10b", 10),
    ],
)  # fmt: skip
def test_a_size_is_a_number_and_a_unit(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize(
    "text", ["", "lots", "0", "0MB", "-1GiB", "2 GiBs", "1e3MB", "١٢MB", "5 PB"]
)
def test_what_is_not_a_size(text: str) -> None:
    assert parse_size(text) is None


def test_a_bare_number_is_refused_where_a_unit_is_required() -> None:
    assert parse_size("512", unit_required=True) is None
    assert parse_size("512MiB", unit_required=True) == 512 << 20


@pytest.mark.parametrize(
    ("option", "value", "english", "chinese"),
    [
        ("--memory-limit", "512", "bad --memory-limit '512'", "--memory-limit '512' 无效"),
        ("--max-bytes", "lots", "bad --max-bytes 'lots'", "--max-bytes 'lots' 无效"),
    ],
)
def test_a_bad_size_is_one_line_in_the_run_s_language(
    option: str, value: str, english: str, chinese: str
) -> None:
    args = ["audit", str(SAMPLES / "batch"), option, value]
    for lang, expected in (("en", english), ("zh", chinese)):
        result = CliRunner(env={**CLI_ENV, "NJ_AUDIT_LANG": lang}).invoke(app, args)
        assert result.exit_code == 2
        assert expected in result.stderr and len(result.stderr.strip().splitlines()) == 1

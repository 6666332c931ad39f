"""`--sort METRIC`, `--sort -METRIC` and `--ascending` (docs/contract.md § 7.1): each metric's own
direction (the largest first, the worst status first, names from A), turned around on request,
ties by name; the same order in every format that has one, and the JSON's `rank` beside its list
sorted by code."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from nj_audit.cli import app
from nj_audit.render.text import ordered, sort_with
from nj_audit.render.xlsx import NOTE_ROWS
from nj_audit.results import InstitutionResult

from builders import CLI_ENV

RUNNER = CliRunner(env=CLI_ENV)
SAMPLES = Path(__file__).resolve().parent.parent / "samples"
BATCH = [str(SAMPLES / "batch"), "--registry", str(SAMPLES / "registry.csv")]


def row(name: str, rows: int, rate: float | None, status: str = "ok") -> InstitutionResult:
    return InstitutionResult(
        org_code=f"code-{name}",
        name=name,
        district=None,
        rows_uploaded=rows,
        records=rows,
        valid_records=rows,
        valid_ratio=1.0,
        upload_days=1,
        period_days=1,
        upload_day_ratio=1.0,
        forms_covered=11,
        forms_required=11,
        outpatient_rate=rate,
        discharge_rate=None,
        status=status,
        flags=(),
        forms={},
    )


ROWS = [
    row("丙", 30, 0.5, "fail"),
    row("甲", 10, None, "warn"),
    row("乙", 20, 0.9),
    row("丁", 20, 0.7, "warn"),
]


def names(rows: list[InstitutionResult]) -> list[str]:
    return [r.name or "" for r in rows]


def test_each_metric_has_its_own_direction_and_ties_go_by_name() -> None:
    assert names(ordered(ROWS, "rows_uploaded")) == ["丙", "丁", "乙", "甲"]  # 丁 < 乙 by name
    assert names(ordered(ROWS, "outpatient_rate")) == ["乙", "丁", "丙", "甲"]  # `/` last
    assert names(ordered(ROWS, "status")) == ["丙", "丁", "甲", "乙"]  # the worst first
    assert names(ordered(ROWS, "name")) == sorted(["丙", "甲", "乙", "丁"])


def test_a_minus_turns_the_order_around_the_weakest_first() -> None:
    assert names(ordered(ROWS, "-rows_uploaded")) == ["甲", "丁", "乙", "丙"]  # ties still by name
    assert names(ordered(ROWS, "-outpatient_rate")) == ["甲", "丙", "丁", "乙"]  # `/` first
    assert names(ordered(ROWS, "-status")) == ["乙", "丁", "甲", "丙"]
    assert names(ordered(ROWS, "-name")) == sorted(["丙", "甲", "乙", "丁"], reverse=True)


def test_ascending_is_the_minus_for_numbers_and_nothing_for_names() -> None:
    assert sort_with("outpatient_rate", ascending=True) == "-outpatient_rate"
    assert sort_with("-outpatient_rate", ascending=True) == "-outpatient_rate"
    assert sort_with("outpatient_rate", ascending=False) == "outpatient_rate"
    assert sort_with("name", ascending=True) == "name"


def _audit(*args: str) -> str:
    result = RUNNER.invoke(app, ["audit", *BATCH, *args])
    assert result.exit_code == 1, result.output  # the sample batch fails its gate
    return result.stdout


def _csv_names(text: str) -> list[str]:
    return [r["institution"] for r in csv.DictReader(io.StringIO(text.lstrip("\ufeff")))]


def test_every_ordered_format_follows_the_sort_and_json_ranks_it(tmp_path: Path) -> None:
    down = _csv_names(_audit("--format", "csv", "--sort", "outpatient_rate"))
    up = _csv_names(_audit("--format", "csv", "--sort", "-outpatient_rate"))
    assert _csv_names(_audit("--format", "csv", "--sort", "outpatient_rate", "--ascending")) == up
    assert up != down and up[-1] == down[0]  # the best is last once turned around

    markdown = _audit("--format", "markdown", "--sort", "-outpatient_rate")
    positions = [markdown.index(f"| {name} |") for name in up]
    assert positions == sorted(positions)

    xlsx = tmp_path / "report.xlsx"
    _audit("--sort", "-outpatient_rate", "-o", f"xlsx:{xlsx}")
    sheet = load_workbook(xlsx).worksheets[0]
    header = [cell.value for cell in sheet[NOTE_ROWS + 1]]  # under the verdict and the policy
    column = header.index("institution")
    cells = [r[column] for r in sheet.iter_rows(min_row=NOTE_ROWS + 2, values_only=True)]
    assert cells == up

    document = json.loads(_audit("--format", "json", "--sort", "-outpatient_rate"))
    institutions = document["institutions"]
    codes = [i["org_code"] for i in institutions]
    assert codes == sorted(codes)  # the list stays sorted by code (contract § 7.2)
    by_rank = sorted(institutions, key=lambda i: i["rank"])
    assert [i["name"] or i["org_code"] for i in by_rank] == up
    assert sorted(i["rank"] for i in institutions) == list(range(1, len(up) + 1))


def test_the_district_view_is_ordered_and_ranked_too() -> None:
    doc = json.loads(_audit("--by", "district", "--format", "json", "--sort", "-outpatient_rate"))
    by_rank = sorted(doc["districts"], key=lambda d: d["rank"])
    rates = [d["outpatient_rate"] for d in by_rank if d["outpatient_rate"] is not None]
    assert rates == sorted(rates)
    table = _audit("--by", "district", "--format", "csv", "--sort", "-outpatient_rate")
    first_column = [line.split(",")[0] for line in table.splitlines()[1:]]
    assert first_column == [d["name"] for d in by_rank]


@pytest.mark.parametrize("sort", ["-nothing", "--", "outpatient"])
def test_an_unknown_metric_is_a_one_line_error(sort: str) -> None:
    result = RUNNER.invoke(app, ["audit", *BATCH, "--sort", sort])
    assert result.exit_code == 2
    assert "--sort" in result.stderr and "Traceback" not in result.stderr

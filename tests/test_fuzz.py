"""Property tests: whatever the bytes, `validate` and `audit` end with exit 0, 1 or 2 and no
traceback; on valid-shaped files with arbitrary cells every row is judged, the figures are sane and
chunked results equal whole-file results. Bounded to run in CI in well under a minute."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from nj_audit.cli import app
from nj_audit.codes import gb32100_check_char

from builders import SPEC_COLUMNS, visit

runner = CliRunner()
COLUMNS = list(SPEC_COLUMNS["outpatient_visit"])
HEADER = (",".join(COLUMNS) + "\n").encode()
ORGS = [f"1232010046600000{n}" + gb32100_check_char(f"1232010046600000{n}") for n in range(3)]
GOOD = visit(0, org_code=ORGS[0], record_id="R1", patient_id="P1")
SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


def check_run(result, allowed: tuple[int, ...] = (0, 1, 2)) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code in allowed, (result.exit_code, result.stderr, repr(result.exception))
    assert isinstance(result.exception, SystemExit) or result.exception is None, repr(
        result.exception
    )
    assert "Traceback" not in result.stderr
    if result.exit_code == 2:
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
        assert "internal error" not in lines[0], lines[0]


def run_both(path: Path) -> None:
    for command in ("validate", "audit"):
        check_run(runner.invoke(app, [command, str(path), "--format", "json", "--quiet"]))


# -- arbitrary bytes --------------------------------------------------------------------------

junk = st.binary(max_size=600)
csvish = st.lists(
    st.sampled_from(
        [
            b",",
            b'"',
            b"\n",
            b"\r\n",
            b"\r",
            b"\x00",
            b" ",
            b"\xef\xbb\xbf",
            b"\xd5\xc5",
            b"\xff",
            b"x",
            b"1",
        ]
    ),
    max_size=80,
).map(b"".join)


@SETTINGS
@given(
    body=st.one_of(junk, csvish),
    with_header=st.booleans(),
    suffix=st.sampled_from([".csv", ".csv.gz", ".parquet"]),
)
def test_arbitrary_bytes(body: bytes, with_header: bool, suffix: str) -> None:
    import gzip

    data = (HEADER + body) if with_header else body
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"outpatient_visit{suffix}"
        path.write_bytes(
            gzip.compress(data, mtime=0) if suffix == ".csv.gz" and with_header else data
        )
        run_both(path)


# -- valid-shaped files with arbitrary cells --------------------------------------------------

cell_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    # fewer than 12 commas in a value: a multi-line value never looks like a swallowed row
    max_size=12,
)


@st.composite
def cells(draw, column: str) -> str:  # type: ignore[no-untyped-def]
    kind = draw(st.sampled_from(["good", "good", "good", "text", "empty", "near"]))
    if kind == "good":
        return GOOD[column] if column not in ("org_code", "record_id") else ""
    if kind == "empty":
        return draw(st.sampled_from(["", " ", "\t"]))
    if kind == "near":
        return draw(
            st.sampled_from(
                [
                    "2022-03-01 09:00:00+08:00",
                    "2022-03-02T08:00:00Z",
                    "2022-03-01",
                    "2022-02-30 00:00:00",
                    "1e3",
                    "-0",
                    ".5",
                    "=1+1",
                    GOOD["id_card"][:17] + "0",
                    "J06.x00x002",
                    "'",
                    '"',
                ]
            )
        )
    return draw(cell_text)


@st.composite
def visit_rows(draw) -> list[list[str]]:  # type: ignore[no-untyped-def]
    rows = []
    for n in range(draw(st.integers(min_value=1, max_value=12))):
        row = [draw(cells(column)) for column in COLUMNS]
        org = draw(st.sampled_from([*ORGS, "", "bad-org"]))
        row[0] = row[0] if row[0] else org
        row[1] = (
            row[1] if row[1] else draw(st.sampled_from([f"R{n}", f"R{n % 3}", ""]))
        )  # some corrections
        row[3] = draw(
            st.sampled_from(
                [row[3], "2022-03-01 09:00:00", "2022-03-05 09:00:00", "2022-03-01 07:00:00"]
            )
        )
        rows.append(row)
    return rows


def write_csv(path: Path, rows: list[list[str]], encoding: str, newline: str) -> None:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=newline)
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    path.write_bytes(out.getvalue().encode(encoding, errors="replace"))


def audit_document(path: Path, *extra: str) -> dict:
    result = runner.invoke(
        app, ["audit", str(path), "--format", "json", "--fail-on", "never", "--quiet", *extra]
    )
    check_run(result, (0,))
    return json.loads(result.stdout)


@SETTINGS
@given(
    rows=visit_rows(),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]),
    newline=st.sampled_from(["\n", "\r\n"]),
)
def test_valid_shaped_files(rows: list[list[str]], encoding: str, newline: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "outpatient_visit.csv"
        write_csv(path, rows, encoding, newline)
        not_blank = sum(1 for row in rows if any(cell.strip() for cell in row))

        validated = runner.invoke(app, ["validate", str(path), "--format", "json", "--quiet"])
        check_run(validated, (0, 1))
        report = json.loads(validated.stdout)
        assert report["rows"] == not_blank  # every row judged, none swallowed, none made up
        assert 0 <= report["invalid_rows"] <= report["rows"]

        whole = audit_document(path)
        rows_seen = 0
        for institution in whole["institutions"]:
            assert (
                0
                <= institution["valid_records"]
                <= institution["records"]
                <= institution["rows_uploaded"]
            )
            rows_seen += institution["rows_uploaded"]
            for key in ("valid_ratio", "upload_day_ratio", "outpatient_rate", "discharge_rate"):
                value = institution[key]
                assert value is None or 0.0 <= value <= 1.0, (key, value)
            for form in institution["forms"].values():
                assert (
                    0
                    <= form["realtime_records"]
                    <= form["valid_records"]
                    <= form["records"]
                    <= form["rows"]
                )
                assert form["rate"] is None or 0.0 <= form["rate"] <= 1.0
        assert rows_seen == not_blank

        for size in ("1", "3"):
            assert audit_document(path, "--chunk-size", size) == whole


# -- one damaged line among good ones ---------------------------------------------------------


@SETTINGS
@given(
    count=st.integers(min_value=2, max_value=15),
    data=st.data(),
    damage=st.sampled_from(['"', ",", "", '""', "\x00", '",', ',"']),
)
def test_one_damaged_line_hides_nothing(count: int, data: st.DataObject, damage: str) -> None:
    lines = [",".join({**GOOD, "record_id": f"R{n}"}[c] for c in COLUMNS) for n in range(count)]
    victim = data.draw(st.integers(min_value=0, max_value=count - 1))
    position = data.draw(st.integers(min_value=0, max_value=len(lines[victim]) - 1))
    if damage:
        lines[victim] = lines[victim][:position] + damage + lines[victim][position:]
    else:  # a character lost
        lines[victim] = lines[victim][:position] + lines[victim][position + 1 :]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "outpatient_visit.csv"
        path.write_text(",".join(COLUMNS) + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
        failures = Path(folder) / "failures.csv"
        result = runner.invoke(
            app, ["validate", str(path), "--format", "json", "--failures", str(failures)]
        )
        check_run(result, (0, 1))
        report = json.loads(result.stdout)
        assert report["rows"] == count
        assert report["invalid_rows"] <= 1
        with failures.open(encoding="utf-8", newline="") as handle:
            assert {int(row["line"]) for row in csv.DictReader(handle)} <= {victim + 2}

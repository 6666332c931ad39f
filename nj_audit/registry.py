"""The institution registry: org_code -> name and district (`--registry FILE`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import InputError, UnreadableFile
from .messages import said
from .reading import Expected, read_chunks

REQUIRED = ("org_code", "name", "district")
# The headers a registry may use for each column: English, or the centre's Chinese ones.
ALIASES = {
    "org_code": ("org_code", "机构代码"),
    "name": ("name", "机构名称", "名称"),
    "district": ("district", "所属区", "区"),
}


@dataclass(frozen=True)
class Entry:
    org_code: str
    name: str | None  # None: the cell was blank
    district: str | None


@dataclass(frozen=True)
class Registry:
    entries: dict[str, Entry]

    def get(self, org_code: str) -> Entry | None:
        return self.entries.get(org_code)

    def district_of(self, org_code: str) -> str | None:
        entry = self.entries.get(org_code)
        return entry.district if entry else None


def _columns(header: list[str], path: Path) -> dict[str, int]:
    """Where each column is in `header` (by any of its names); a column named twice, or not at
    all, is refused."""
    found: dict[str, int] = {}
    for column, names in ALIASES.items():
        places = [n for n, cell in enumerate(header) if cell.strip().lstrip("\ufeff") in names]
        if len(places) > 1:
            shown = " and ".join(header[n].strip() for n in places)
            raise InputError(said("error.registry_twice", column=column, shown=shown), path, 1)
        if places:
            found[column] = places[0]
    missing = [c for c in REQUIRED if c not in found]
    if missing:
        raise InputError(said("error.registry_lacks", columns=", ".join(missing)), path, 1)
    return found


def _xlsx_rows(path: Path) -> list[tuple[int, list[str]]]:
    """The first sheet of an xlsx registry: (line, cells as text) per row, the header first."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise InputError(said("error.registry_xlsx", kind=type(exc).__name__), path) from None
    try:
        rows = []
        for line, row in enumerate(book.worksheets[0].iter_rows(values_only=True), start=1):
            rows.append((line, ["" if v is None else str(v).strip() for v in row]))
        return rows
    finally:
        book.close()


def _entries(rows: list[tuple[int, list[str]]], path: Path) -> Registry:
    if not rows:  # a CSV header alone comes as no row at all
        raise InputError(said("error.registry_no_institution"), path, 1)
    places = _columns(rows[0][1], path)
    entries: dict[str, Entry] = {}
    lines: dict[str, int] = {}
    for line, cells in rows[1:]:
        code, name, district = (
            cells[places[c]] if places[c] < len(cells) else "" for c in REQUIRED
        )
        if not code:
            continue
        if code in lines:
            raise InputError(
                said("error.registry_repeats", line=line, first=lines[code]),
                path,
                line,
            )
        lines[code] = line
        entries[code] = Entry(code, name or None, district or None)  # a blank cell: none
    if not entries:  # a header alone, or rows without an org_code: surely not the registry meant
        raise InputError(said("error.registry_no_institution"), path, 1)
    return Registry(entries)


def load_registry(path: Path, encoding: str | None = None) -> Registry:
    """A CSV (UTF-8 or GB18030) or an xlsx workbook (its first sheet) with org_code, name and
    district, by their English or Chinese names (机构代码, 机构名称 or 名称, 所属区 or 区), and
    optional other columns; one row per institution: an org_code listed twice is refused,
    naming both lines."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _entries(_xlsx_rows(path), path)
    names = frozenset(name for aliases in ALIASES.values() for name in aliases)
    expected = Expected(names, "the registry", names)
    rows: list[tuple[int, list[str]]] = []
    try:
        for chunk in read_chunks(path, encoding, expected=expected):
            if not rows:
                rows.append((1, [str(c) for c in chunk.frame.columns]))
            if chunk.damage:
                position = min(chunk.damage)
                raise InputError(chunk.damage[position][1], path, int(chunk.lines[position]))
            frame = chunk.frame.astype(object).where(chunk.frame.notna(), "")
            for line, values in zip(chunk.lines.tolist(), frame.itertuples(index=False)):
                rows.append((int(line), [str(v) for v in values]))
    except UnreadableFile as exc:  # the registry is not a finding: the run cannot go on
        error = InputError(exc.message, exc.path, exc.line)
        error.reason = exc.reason  # told as the file's unreadable reason
        raise error from None
    return _entries(rows, path)

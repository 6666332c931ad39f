"""Finding the input files: folders searched recursively, each file's form from its name (or
`--form`), in path order (the order that breaks ties between uploads of a record)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..forms import form_from_filename, stem_of


@dataclass(frozen=True)
class InputFile:
    path: Path
    form: str


@dataclass(frozen=True)
class Discovery:
    files: list[InputFile]
    skipped: list[Path]


def discover(paths: list[Path], form: str | None = None) -> Discovery:
    """Input files (sorted by path) and the files skipped because their name names no form."""
    found: list[Path] = []
    for path in paths:
        if not path.exists():
            raise InputError("no such file or folder", path)
        if path.is_dir():
            try:
                found.extend(
                    p for p in path.rglob("*") if stem_of(p.name) is not None and p.is_file()
                )
            except OSError as exc:
                raise InputError(f"cannot list folder: {exc.strerror or exc}", path) from None
        else:
            found.append(path)
    files, skipped = by_form(found, form)
    if not files:
        where = paths[0] if len(paths) == 1 else None
        what = "no input file" if not found else f"none of the {len(found)} files found"
        raise InputError(
            f"{what} matches a form (*.csv, *.csv.gz or *.parquet named like"
            " outpatient_visit.csv, or pass --form)",
            where,
        )
    return Discovery(files, skipped)


def by_form(paths: list[Path], form: str | None) -> tuple[list[InputFile], list[Path]]:
    """The paths sorted, each with its form (`form`, else the one its name names), and apart the
    paths whose name names no form."""
    files, skipped = [], []
    for path in sorted(set(paths)):
        form_id = form or form_from_filename(path)
        if form_id is None:
            skipped.append(path)
        else:
            files.append(InputFile(path, form_id))
    return files, skipped


def stored_size(path: Path) -> int:
    """The file's size on disk (0 when it cannot be told): the total for progress."""
    try:
        return path.stat().st_size
    except OSError:
        return 0

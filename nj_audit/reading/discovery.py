"""Finding the input files: folders searched recursively, each file's form from its name (or
`--form`), in path order (the order that breaks ties between uploads of a record).

Nothing is silently skipped: a subfolder that cannot be listed and a folder named like a form are
unreadable inputs (`Unreadable`); a FIFO, a device or a broken link named like a form is found
like a file and refused by the reader, which never opens it. The tool's own outputs (`--output`,
`--failures`) lying in an input folder are recognised by identity (device and inode) and by their
first line, and left out; an output that is the same file as an upload is refused."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from ..codes import is_org_code
from ..columns import is_report_header
from ..errors import InputError, ReportFile, UnreadableFile, UsageError
from ..forms import form_from_filename, stem_of
from ..messages import said


@dataclass(frozen=True)
class InputFile:
    path: Path
    form: str


@dataclass(frozen=True)
class Unreadable:
    """An input that could not be read: its path, a reason code (catalogue.UNREADABLE) and what
    is wrong, in words that never quote its content."""

    path: Path
    reason: str
    message: str
    line: int | None = None

    @property
    def described(self) -> str:
        """The message, with its line when it has one."""
        return f"line {self.line}: {self.message}" if self.line else self.message


@dataclass(frozen=True)
class ReadFindings:
    """What reading a batch found besides rows: the inputs that could not be read, the reports
    of nj-audit left out, and how many files were read to their end."""

    unreadable: tuple[Unreadable, ...] = ()
    reports: tuple[Path, ...] = ()
    files_read: int = 0


class Findings:
    """ReadFindings as a batch is read: `reading(path)` around each file's reading turns the
    file's UnreadableFile into a finding (and the rest of the batch goes on) unless `strict`."""

    def __init__(self, found: Discovery | None = None, strict: bool = False):
        self.unreadable = list(found.unreadable) if found else []
        self.reports: list[Path] = []  # this run's own outputs are left out without a word
        self.files_read = 0
        if strict and self.unreadable:
            first = self.unreadable[0]
            raise InputError(f"--strict: {first.message}", first.path, first.line)

    @contextmanager
    def reading(self, path: Path, strict: bool = False) -> Iterator[None]:
        try:
            yield
        except ReportFile:
            self.reports.append(path)
        except UnreadableFile as exc:
            if strict:
                raise InputError(f"--strict: {exc.message}", exc.path, exc.line) from None
            self.unreadable.append(Unreadable(path, exc.reason, exc.message, exc.line))
        else:
            self.files_read += 1

    def frozen(self) -> ReadFindings:
        unreadable = tuple(sorted(self.unreadable, key=lambda u: str(u.path)))
        return ReadFindings(unreadable, tuple(sorted(self.reports)), self.files_read)


class NothingReadable(InputError):
    """Every input was unreadable: the run could not go on. `findings` lists them all."""

    def __init__(self, message: str, path: Path | None, line: int | None, findings: ReadFindings):
        super().__init__(message, path, line)
        self.findings = findings


def refuse_nothing_read(findings: ReadFindings, rows: int) -> None:
    """Exit 2 when there were inputs and nothing could be read from any: no file read to its end
    and no row read before a failure (a report of nj-audit left out is not an input)."""
    if findings.files_read or rows or not findings.unreadable:
        return
    first = findings.unreadable[0]
    if len(findings.unreadable) == 1:
        error = NothingReadable(first.message, first.path, first.line, findings)
        error.reason = first.reason  # told as that file's finding
        raise error
    count = len(findings.unreadable)
    raise NothingReadable(
        said("error.none_readable", count=count, first=first.path, detail=first.described),
        None,
        None,
        findings,
    )


@dataclass(frozen=True)
class Discovery:
    files: list[InputFile]
    skipped: list[Path]
    unreadable: list[Unreadable] = field(default_factory=list)
    own_outputs: list[Path] = field(default_factory=list)  # this run's outputs, left out


def discover(
    paths: Sequence[Path],
    form: str | None = None,
    outputs: Sequence[Path] = (),
    allow_empty: bool = False,
) -> Discovery:
    """Input files (sorted by path), the files skipped because their name names no form, the
    inputs that cannot be read, and the outputs of this run found among the inputs. Folders
    without a file of any form are an error (InputError), unless `allow_empty` (`--allow-empty`:
    a day without uploads passes); a file named that names no form always is."""
    explicit: list[Path] = []
    found: list[Path] = []
    unreadable: list[Unreadable] = []
    seen: set[tuple[int, int]] = set()
    for path in paths:
        if not os.path.lexists(path):
            raise InputError(said("error.no_such_path"), path)
        if path.is_dir():
            _folder(path, form, unreadable)
            _walk(path, form, found, unreadable, seen)
        else:
            explicit.append(path)
    own = _own_outputs(found, explicit, outputs)
    files, skipped = by_form(_each_once([p for p in [*explicit, *found] if p not in own]), form)
    unreadable.sort(key=lambda u: u.path)
    if not files and not unreadable and not (allow_empty and not explicit):
        where = paths[0] if len(paths) == 1 else None
        total = len(explicit) + len(found)
        message = (
            said("error.no_file_matches", total=total) if total else said("error.no_form_match")
        )
        raise InputError(message, where)
    return Discovery(files, skipped, unreadable, sorted(own))


def _each_once(paths: list[Path]) -> list[Path]:
    """Each file once, however it was named (`a.csv` and `/abs/a.csv`, a file and a folder that
    holds it, a link to it): its rows would count twice. The first spelling is kept."""
    seen: set[object] = set()
    kept = []
    for path in paths:
        try:
            info = os.stat(path)
            identity: object = (info.st_dev, info.st_ino)
        except OSError:  # a broken link: the reader says what is wrong with it
            identity = path
        if identity not in seen:
            seen.add(identity)
            kept.append(path)
    return kept


def _walk(
    folder: Path,
    form: str | None,
    found: list[Path],
    unreadable: list[Unreadable],
    seen: set[tuple[int, int]],
) -> None:
    """Every input-named entry under `folder` into `found`, symbolic links to folders followed
    (each folder once), folders that cannot be listed into `unreadable`."""
    try:
        info = os.stat(folder)
    except OSError:
        return
    if (info.st_dev, info.st_ino) in seen:
        return
    seen.add((info.st_dev, info.st_ino))
    try:
        with os.scandir(folder) as listing:
            entries = list(listing)
    except PermissionError:
        unreadable.append(
            Unreadable(folder, "permission_denied", "cannot list the folder: permission denied")
        )
        return
    except OSError as exc:
        message = f"cannot list the folder: {exc.strerror or type(exc).__name__}"
        unreadable.append(Unreadable(folder, "read_error", message))
        return
    for entry in entries:
        path = Path(entry.path)
        try:
            is_folder = entry.is_dir()
        except OSError:
            is_folder = False
        if is_folder:
            _folder(path, form, unreadable)
            _walk(path, form, found, unreadable, seen)
        elif stem_of(entry.name) is not None:
            found.append(path)  # a FIFO, a device or a broken link too: the reader refuses it


def _folder(path: Path, form: str | None, unreadable: list[Unreadable]) -> None:
    """A folder named like a form is an unreadable input (someone expected a file there); the
    files in it are searched all the same."""
    if stem_of(path.name) is not None and (form or form_from_filename(path.name)):
        message = "not a file: a folder named like a form (the files in it are searched)"
        unreadable.append(Unreadable(path, "not_a_file", message))


def _own_outputs(found: list[Path], explicit: list[Path], outputs: Sequence[Path]) -> set[Path]:
    """The files found in folders that are this run's outputs (by identity), when their first line
    says they are a report; an output that is an upload (or an input named on the command line)
    is refused."""
    targets = {_identity(o): o for o in outputs if _identity(o) is not None}
    if not targets:
        return set()
    own: set[Path] = set()
    for path in explicit:
        if _identity(path) in targets:
            raise UsageError(said("error.overwrite_input"), targets[_identity(path)])
    for path in found:
        identity = _identity(path)
        if identity not in targets:
            continue
        if not _looks_like_report(path):
            raise UsageError(said("error.overwrite_upload", path=path), targets[identity])
        own.add(path)
    return own


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    return info.st_dev, info.st_ino


def _looks_like_report(path: Path) -> bool:
    if path.name.lower().endswith((".gz", ".parquet")):
        return False
    try:
        with open(path, "rb") as handle:
            head = handle.read(65536)
    except OSError:
        return False
    return is_report_header(head.split(b"\n", 1)[0].decode("utf-8", errors="replace"))


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


_TOKENS = re.compile(r"[^_\-.\s]+")


def institution_of_path(path: str | PurePath) -> str | None:
    """The institution a file belongs to by where it lies: a valid unified social credit code in
    its name (`lab_report_12320102466002233C.csv`), else the nearest folder on its path whose name
    is one (`uploads/12320102466002233C/lab_report.csv.gz`); None when neither tells."""
    pure = PurePath(path)
    name = stem_of(pure.name) or pure.name
    for token in _TOKENS.findall(name):
        if is_org_code(token):
            return token
    for folder in reversed(pure.parent.parts):
        if is_org_code(folder):
            return folder
    return None


def stored_size(path: Path) -> int:
    """The file's size on disk (0 when it cannot be told): the total for progress."""
    try:
        return path.stat().st_size
    except OSError:
        return 0

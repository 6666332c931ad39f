"""Writing outputs without ever losing one, and never over an input.

Every file the tool writes (a report, `--failures`) goes to a temporary file in the same folder
(`.NAME.XXXXXXXX.tmp`, a name no form matches, so a folder scan never reads it), is flushed to
disk, then renamed over the target with `os.replace`. On any error or interrupt the temporary file
is removed and the previous file is left exactly as it was; two runs writing the same file each
write their own temporary file, so their bytes never interleave. A device or a pipe
(`/dev/stdout`, `/dev/full`, a FIFO) cannot be replaced: it is written directly.

An output that is an input is refused by identity (device and inode, what `os.path.samefile`
compares), not by its path: a hard link or a symbolic link to an upload, the registry, the
policy, the schema or the `pyproject.toml` the policy came from is refused before anything is
opened for writing.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterable
from contextlib import suppress
from pathlib import Path
from types import TracebackType
from typing import TextIO

from .errors import OutputError, UsageError


def identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of the file `path` names, links followed; None when there is none."""
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    return info.st_dev, info.st_ino


def is_stream(path: Path) -> bool:
    """A character device, a block device or a FIFO: written in place, never replaced."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return False
    return stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISFIFO(mode)


def refuse_inputs(outputs: Iterable[Path], inputs: Iterable[tuple[str, Path]]) -> None:
    """Refuse (exit 2) an output that is the same file as one of the `inputs` (what, path), or
    that cannot be a file at all (an existing folder)."""
    known = [(what, path, identity(path)) for what, path in inputs]
    for output in outputs:
        if output.is_dir():
            raise UsageError("cannot write the output here: it is a folder", output)
        if is_stream(output):
            continue
        target = identity(output)
        if target is None:
            continue
        for what, path, same in known:
            if same == target:
                where = (
                    ""
                    if Path(os.path.abspath(path)) == Path(os.path.abspath(output))
                    else (f" (the same file as {path})")
                )
                raise UsageError(f"refusing to overwrite {what}{where}", output)


def _mode_for(path: Path) -> int:
    """The permissions of the file being replaced, else what a new file gets under the umask."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _failure(exc: OSError, path: Path, direct: bool) -> OutputError:
    reason = exc.strerror or type(exc).__name__
    kept = "" if direct else " (any previous file is unchanged)"
    return OutputError(f"cannot write: {reason}{kept}", path)


class AtomicText:
    """A UTF-8 text file written atomically. Nothing is created before the first write (or
    `commit`), so a run refused early leaves no trace. As a context manager it commits on a clean
    exit and discards on an exception (KeyboardInterrupt included)."""

    def __init__(self, path: Path):
        self.path = path
        self._handle: TextIO | None = None
        self._temporary: str | None = None
        self._direct = is_stream(path)

    def _open(self) -> TextIO:
        if self._handle is not None:
            return self._handle
        try:
            if self._direct:
                self._handle = open(self.path, "w", encoding="utf-8", newline="")  # noqa: SIM115
            else:
                folder = os.path.dirname(os.path.abspath(self.path))
                fd, self._temporary = tempfile.mkstemp(
                    dir=folder, prefix=f".{self.path.name}.", suffix=".tmp"
                )
                os.fchmod(fd, _mode_for(self.path))
                self._handle = open(fd, "w", encoding="utf-8", newline="")  # noqa: SIM115
        except OSError as exc:
            self.discard()
            raise _failure(exc, self.path, self._direct) from None
        return self._handle

    def write(self, text: str) -> int:
        handle = self._open()
        try:
            return handle.write(text)
        except OSError as exc:
            if isinstance(exc, BrokenPipeError):
                raise
            self.discard()
            raise _failure(exc, self.path, self._direct) from None

    def commit(self) -> None:
        """Flush to disk and put the file in place (a device or pipe: flush it)."""
        handle = self._open()
        try:
            handle.flush()
            if not self._direct:
                os.fsync(handle.fileno())
            handle.close()
            if self._temporary is not None:
                os.replace(self._temporary, self.path)
                self._temporary = None
        except OSError as exc:
            if isinstance(exc, BrokenPipeError):
                raise
            self.discard()
            raise _failure(exc, self.path, self._direct) from None
        finally:
            self._handle = None

    def discard(self) -> None:
        """Forget what was written: the temporary file is removed, the target left as it was."""
        handle, self._handle = self._handle, None
        if handle is not None:
            with suppress(OSError):
                handle.close()
        temporary, self._temporary = self._temporary, None
        if temporary is not None:
            with suppress(OSError):
                os.unlink(temporary)

    def __enter__(self) -> AtomicText:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if kind is None:
            self.commit()
        else:
            self.discard()


def write_text(path: Path, text: str) -> None:
    """`text` in `path`, atomically (see the module's docstring)."""
    with AtomicText(path) as sink:
        sink.write(text)


def write_bytes(path: Path, data: bytes) -> None:
    """`data` in `path`, atomically; its folder is made when missing."""
    temporary: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.fchmod(fd, _mode_for(path))
        with open(fd, "wb") as sink:
            sink.write(data)
            sink.flush()
            os.fsync(sink.fileno())
        os.replace(temporary, path)
        temporary = None
    except OSError as exc:
        raise _failure(exc, path, False) from None
    finally:
        if temporary is not None:
            with suppress(OSError):
                os.unlink(temporary)

"""What a file is, from its first megabyte: another format's signature, binary data, UTF-16 or
UTF-32 text (with or without a BOM), CR-only line ends; and its encoding (UTF-8, UTF-8 with BOM or
GB18030, detected; or `--encoding`, checked to be a text encoding the reader can use)."""

from __future__ import annotations

import codecs
import warnings
from pathlib import Path

import numpy as np

from ..errors import UnreadableFile, UsageError
from .encoding import is_utf8

BINARY_SHARE = 0.05  # more control bytes than this in the first 64 KiB: not text

_MAGIC = (
    (b"\xff\xfe\x00\x00", "UTF-32 text (little-endian), not supported", "undecodable"),
    (b"\x00\x00\xfe\xff", "UTF-32 text (big-endian), not supported", "undecodable"),
    (b"\xff\xfe", "UTF-16 text (little-endian), not supported", "undecodable"),
    (b"\xfe\xff", "UTF-16 text (big-endian), not supported", "undecodable"),
    (b"\x1f\x8b", "gzip-compressed data in a file not named .gz (name it .csv.gz)", "binary"),
    (b"PAR1", "a Parquet file not named .parquet", "binary"),
    (b"PK\x03\x04", "a zip archive or an Excel workbook, not CSV (export it as CSV)", "binary"),
    (
        b"\xd0\xcf\x11\xe0",
        "an old Excel (.xls) or Office file, not CSV (export it as CSV)",
        "binary",
    ),
)
_SAVE_AS = " (save it as UTF-8 or GB18030)"


def detect_encoding(sample: bytes, path: Path) -> str:
    """UTF-8 (with or without BOM) or GB18030; anything else is refused with a guess."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if is_utf8(sample):  # arrow's check, twice as fast; the codec below copes with a cut character
        return "utf-8"
    for encoding in ("utf-8", "gb18030"):
        try:
            codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
            return encoding
        except UnicodeDecodeError:
            continue
    mixed = _mixed_line(sample)
    if mixed is not None:
        line, kind, before = mixed
        raise UnreadableFile(
            f"mixed encodings: this line is {kind}, lines before it are {before} (pass --encoding)",
            path,
            line,
            reason="mixed_encoding",
        )
    from charset_normalizer import from_bytes

    best = from_bytes(sample[:65536]).best()
    guess = f" (it looks like {best.encoding})" if best is not None else ""
    raise UnreadableFile(
        f"not UTF-8 or GB18030 text{guess}: pass --encoding", path, reason="undecodable"
    )


def _mixed_line(sample: bytes) -> tuple[int, str, str] | None:
    """(line, its encoding, the encoding before it) of the first line of `sample` that is in the
    other of UTF-8 and GB18030 than the non-ASCII lines before it; None unless every non-ASCII
    line is one or the other and both occur."""
    first: str | None = None
    for number, line in enumerate(sample.split(b"\n")[:-1], start=1):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            kind = "UTF-8"
        except UnicodeDecodeError:
            try:
                line.decode("gb18030")
            except UnicodeDecodeError:
                return None
            kind = "GB18030"
        if first is None:
            first = kind
        elif kind != first:
            return number, kind, first
    return None


# Every printable ASCII character and the line ends: an encoding the reader can use decodes
# them to themselves (so that newline, comma and quote are their ASCII bytes, and nothing like
# `\\n`, `+AGE-` or base64 is reinterpreted).
_PROBE = bytes(range(0x20, 0x7F)) + b"\t\r\n\\x41\\u0041+AGE-"


def check_encoding(encoding: str) -> str:
    """`--encoding`: a known text encoding that is ASCII-compatible; else a bad argument."""
    try:
        info = codecs.lookup(encoding)
    except (LookupError, ValueError):
        raise UsageError(f"unknown --encoding {encoding!r} (try utf-8 or gb18030)") from None
    if not getattr(info, "_is_text_encoding", True):
        raise UsageError(
            f"--encoding {encoding!r} is not a text encoding (a {info.name} codec): try utf-8 or"
            " gb18030"
        )
    try:
        with warnings.catch_warnings():  # an escape codec warns about the probe's backslashes
            warnings.simplefilter("ignore")
            decoded = codecs.getincrementaldecoder(info.name)().decode(_PROBE, final=True)
        same = decoded == _PROBE.decode()
    except Exception:  # any codec may raise anything on bytes it was not made for
        same = False
    if not same:
        raise UsageError(
            f"--encoding {encoding!r} is not supported: newline, comma and quote are not its"
            " ASCII bytes (save the file as UTF-8 or GB18030)"
        )
    return info.name


# the bytes that are control characters in text (not a tab, LF or CR): their share says binary
def sniff(sample: bytes, path: Path) -> None:
    """Refuse what is plainly not CSV text, with what it looks like."""
    for magic, what, reason in _MAGIC:
        if sample.startswith(magic):
            suffix = _SAVE_AS if reason == "undecodable" else ""
            raise UnreadableFile(f"not a CSV file: {what}{suffix}", path, reason=reason)
    wide = _wide_text(sample[:4096])
    if wide:
        raise UnreadableFile(
            f"{wide} text without a BOM, not supported{_SAVE_AS}", path, reason="undecodable"
        )
    head = sample[:65536]
    control = _control_bytes(head)
    first_line = sample.split(b"\n", 1)[0]
    if (head and control / len(head) > BINARY_SHARE) or b"\x00" in first_line:
        raise UnreadableFile("binary data, not a CSV file", path, reason="binary")
    bare = sample.find(b"\r")
    while bare >= 0 and sample[bare + 1 : bare + 2] == b"\n":
        bare = sample.find(b"\r", bare + 2)
    newline = sample.find(b"\n")
    if bare >= 0 and (newline < 0 or bare < newline):
        raise UnreadableFile(
            "CR-only line ends (an old Mac export): save it with LF or CRLF line ends",
            path,
            1,
            reason="cr_line_ends",
        )


def _control_bytes(head: bytes) -> int:
    """How many bytes of `head` are control characters other than tab, LF and CR, and DEL
    (counted by numpy: half the time of a bytes.translate)."""
    values = np.frombuffer(head, dtype=np.uint8)
    below_space = np.count_nonzero(values < 32)
    allowed = sum(np.count_nonzero(values == byte) for byte in (9, 10, 13))
    return int(below_space - allowed + np.count_nonzero(values == 127))


def _wide_text(head: bytes) -> str | None:
    """'UTF-32' or 'UTF-16' (and its byte order) when `head` is mostly ASCII written that way."""
    if len(head) < 16:
        return None
    whole = head[: len(head) // 4 * 4]  # the share of zero bytes at each place of 4, and of 2
    by4 = [whole[i::4].count(0) / (len(whole) // 4) for i in range(4)]
    if min(by4[1:]) > 0.9 and by4[0] < 0.5:
        return "UTF-32 (little-endian)"
    if min(by4[:3]) > 0.9 and by4[3] < 0.5:
        return "UTF-32 (big-endian)"
    by2 = [whole[i::2].count(0) / (len(whole) // 2) for i in range(2)]
    if by2[1] > 0.9 and by2[0] < 0.5:
        return "UTF-16 (little-endian)"
    if by2[0] > 0.9 and by2[1] < 0.5:
        return "UTF-16 (big-endian)"
    return None

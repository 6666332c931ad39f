"""The institution registry: org_code -> name and district (`--registry FILE`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import InputError, UnreadableFile
from .reading import Expected, read_chunks

REQUIRED = ("org_code", "name", "district")


@dataclass(frozen=True)
class Entry:
    org_code: str
    name: str
    district: str


@dataclass(frozen=True)
class Registry:
    entries: dict[str, Entry]

    def get(self, org_code: str) -> Entry | None:
        return self.entries.get(org_code)

    def district_of(self, org_code: str) -> str | None:
        entry = self.entries.get(org_code)
        return entry.district if entry else None


def load_registry(path: Path, encoding: str | None = None) -> Registry:
    """A CSV with org_code, name, district (and optional other columns), UTF-8 or GB18030, one
    row per institution: an org_code listed twice is refused, naming both lines."""
    entries: dict[str, Entry] = {}
    lines: dict[str, int] = {}
    expected = Expected(frozenset(REQUIRED), "the registry", frozenset(REQUIRED))
    try:
        for chunk in read_chunks(path, encoding, expected=expected):
            missing = [c for c in REQUIRED if c not in chunk.frame.columns]
            if missing:
                raise InputError(f"registry lacks column(s): {', '.join(missing)}", path, 1)
            if chunk.damage:
                position = min(chunk.damage)
                raise InputError(chunk.damage[position][1], path, int(chunk.lines[position]))
            frame = chunk.frame.astype(object).where(chunk.frame.notna(), "")
            rows = zip(frame["org_code"], frame["name"], frame["district"], chunk.lines.tolist())
            for code, name, district, line in rows:
                if not code:
                    continue
                if code in lines:
                    raise InputError(
                        f"line {line} repeats the org_code of line {lines[code]}: one row per"
                        " institution",
                        path,
                        line,
                    )
                lines[code] = line
                entries[str(code)] = Entry(str(code), str(name), str(district))
    except UnreadableFile as exc:  # the registry is not a finding: the run cannot go on
        raise InputError(exc.message, exc.path, exc.line) from None
    return Registry(entries)

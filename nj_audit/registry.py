"""The institution registry: org_code -> name and district (`--registry FILE`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import InputError
from .reading import read_chunks

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
    """A CSV with org_code, name, district (and optional other columns), UTF-8 or GB18030."""
    entries: dict[str, Entry] = {}
    for chunk in read_chunks(path, encoding):
        missing = [c for c in REQUIRED if c not in chunk.frame.columns]
        if missing:
            raise InputError(f"registry lacks column(s): {', '.join(missing)}", path, 1)
        if chunk.damage:
            position = min(chunk.damage)
            raise InputError(chunk.damage[position][1], path, int(chunk.lines[position]))
        frame = chunk.frame.astype(object).where(chunk.frame.notna(), "")
        for code, name, district in zip(frame["org_code"], frame["name"], frame["district"]):
            if code:
                entries[str(code)] = Entry(str(code), str(name), str(district))
    return Registry(entries)

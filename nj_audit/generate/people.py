"""Patients: a pool per institution, with resident ID numbers that agree with birth date and sex."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..codes import GB11643_WEIGHTS
from .text import as_text, from_bytes, join, pick, put_digits
from .vocabulary import GIVEN, ID_REGIONS, SURNAMES

# -- resident ID numbers (GB 11643) ----------------------------------------------------------------


def _id_check_chars(digits: np.ndarray) -> np.ndarray:
    """GB 11643 check characters (as bytes) for a (n, 17) matrix of digit values: the vectorised
    form of `codes.gb11643_check_char`, for whole pools of patients at once."""
    value = (12 - (digits * np.array(GB11643_WEIGHTS)).sum(axis=1) % 11) % 11
    return np.frombuffer(b"0123456789X", dtype=np.uint8)[value]


def id_numbers(region: np.ndarray, birth_days: np.ndarray, sequence: np.ndarray) -> pa.Array:
    """Valid resident ID numbers: region code (int), birth date (days since 1970), 3-digit
    sequence."""
    n = len(region)
    buf = np.empty((n, 18), dtype=np.uint8)
    dates = np.asarray(birth_days, dtype=np.int64).astype("datetime64[D]")
    months = dates.astype("datetime64[M]")
    put_digits(buf, 0, 6, np.asarray(region, dtype=np.int64))
    put_digits(buf, 6, 4, months.astype(np.int64) // 12 + 1970)
    put_digits(buf, 10, 2, months.astype(np.int64) % 12 + 1)
    put_digits(buf, 12, 2, (dates - months).astype(np.int64) + 1)
    put_digits(buf, 14, 3, np.asarray(sequence, dtype=np.int64))
    buf[:, 17] = _id_check_chars(buf[:, :17].astype(np.int64) - 48)
    return from_bytes(buf)


# -- patients --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Patients:
    """A pool of patients of one institution; rows draw from it so a patient's fields agree."""

    patient_id: pa.Array
    id_card: pa.Array  # every patient has a valid number; `has_id` says whether rows carry it
    name: pa.Array
    sex_code: pa.Array
    birth: np.ndarray  # days since 1970-01-01
    has_id: np.ndarray
    has_name: np.ndarray

    def __len__(self) -> int:
        return len(self.birth)


def make_patients(rng: np.random.Generator, n: int, born_before: date) -> Patients:
    """`n` patients born before `born_before` (so a birth date never follows an event)."""
    n = max(n, 1)
    latest = int(np.datetime64(born_before, "D").astype(np.int64)) - 1
    years = np.select(
        [rng.random(n) < 0.18, rng.random(n) < 0.7],
        [rng.uniform(0, 15, n), rng.uniform(15, 65, n)],
        rng.uniform(65, 98, n),
    )
    birth = latest - (years * 365.25).astype(np.int64)
    sex_value = rng.choice(4, n, p=(0.01, 0.48, 0.50, 0.01))
    sex = np.array(["0", "1", "2", "9"])[sex_value]
    seq = rng.integers(0, 500, n) * 2 + np.where(
        sex == "1", 1, np.where(sex == "2", 0, rng.integers(0, 2, n))
    )
    region = np.array(ID_REGIONS, dtype=np.int64)[rng.choice(len(ID_REGIONS), n)]
    given = pick(rng, GIVEN, n)
    two = pc.if_else(pa.array(rng.random(n) < 0.7), join(given, pick(rng, GIVEN, n)), given)
    return Patients(
        patient_id=join("P", as_text(rng.choice(10**9, n, replace=False) + 10**9)),
        id_card=id_numbers(region, birth, seq),
        name=join(pick(rng, SURNAMES, n), two),
        sex_code=pa.array(sex, pa.string()),
        birth=birth,
        has_id=rng.random(n) < 0.88,
        has_name=rng.random(n) < 0.95,
    )

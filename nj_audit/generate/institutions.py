"""The batch's institutions: what each one uploads, modelled on a row of the 2022 published table
(names, org codes, forms, real-time shares, missed upload days, rows)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import numpy as np

from ..codes import GB32100_CHARS, gb32100_check_char
from ..forms import FORM_IDS, REALTIME_FORM_IDS
from ..period import Period
from .calibration import DISTRICTS, PUBLISHED_2022
from .vocabulary import ARCHIVE_FORM_IDS


@dataclass(frozen=True)
class InstitutionPlan:
    """What the generator intended for one institution (the audit should find about this)."""

    org_code: str
    name: str
    district: str
    folder: str  # district pinyin: the institution's files are under <folder>/<org_code>/
    registered: bool
    encoding: str  # "utf-8" or "gb18030"
    crlf: bool
    rows: int
    forms: tuple[str, ...]  # forms uploaded
    realtime_shares: tuple[
        tuple[str, float], ...
    ]  # intended real-time share per real-time form uploaded
    missed_days: tuple[date, ...]  # days of the period without any upload

    def realtime_share(self, form: str) -> float | None:
        return dict(self.realtime_shares).get(form)


def org_code(rng: np.random.Generator, region: str, kind: str = "12") -> str:
    """A unified social credit code: registration kind, region, a 9-character body, check
    character."""
    body = (
        "".join(GB32100_CHARS[i] for i in rng.integers(0, 10, 8))
        + GB32100_CHARS[int(rng.integers(0, 31))]
    )
    first17 = kind + region + body
    return first17 + gb32100_check_char(first17)


def _names(count: int) -> list[tuple[str, str]]:
    """Hospital names of the published table first, then community health centres district by
    district."""
    names = [(row[0], row[1]) for row in PUBLISHED_2022]
    streets = [
        (d, s) for k in range(6) for d, (_, _, ss) in DISTRICTS.items() for s in ss[k : k + 1]
    ]
    names += [(f"{d}{s}社区卫生服务中心", d) for d, s in streets]
    while len(names) < count:
        d, s = streets[len(names) % len(streets)]
        names.append((f"{d}{s}第{len(names) // len(streets) + 1}社区卫生服务站", d))
    return names[:count]


def _profiles(rng: np.random.Generator, count: int) -> list[int]:
    """Rows of the published table to model institutions on: one of each kind first (full coverage,
    no real-time data, partial coverage, many missed days), then the rest at random."""
    table = PUBLISHED_2022
    kinds = [
        [i for i, r in enumerate(table) if r[4] == 11 and r[3] >= 330],
        [i for i, r in enumerate(table) if r[4] == 0 and r[3] >= 330],
        [i for i, r in enumerate(table) if 0 < r[4] < 11],
        [i for i, r in enumerate(table) if r[3] < 330],
    ]
    chosen = [int(rng.choice(k)) for k in kinds]
    chosen += [int(i) for i in rng.permutation([i for i in range(len(table)) if i not in chosen])]
    while len(chosen) < count:
        chosen.append(int(rng.integers(0, len(table))))
    picked = chosen[:count]
    return [picked[i] for i in rng.permutation(count)]


def _forms_and_shares(
    rng: np.random.Generator,
    profile: int,
    community: bool,
    realtime_share: float | None,
    missing_form_share: float | None,
) -> tuple[tuple[str, ...], dict[str, float]]:
    _, _, _, _, covered, outpatient, discharge = PUBLISHED_2022[profile]
    core = ("outpatient_visit", "inpatient_discharge")
    others = [f for f in rng.permutation(REALTIME_FORM_IDS) if f not in core]
    late: list[str] = []
    if missing_form_share is not None:
        keep = len(REALTIME_FORM_IDS) - round(len(REALTIME_FORM_IDS) * missing_form_share)
        realtime = list(core)[: max(keep, 0)] + others[: max(keep - 2, 0)]
    elif covered == 11:
        realtime = list(REALTIME_FORM_IDS)
    elif covered == 0:
        realtime = []
        late = [f for f, rate in zip(core, (outpatient, discharge)) if rate is not None]
    else:
        realtime = [f for f, rate in zip(core, (outpatient, discharge)) if rate is not None]
        extra = covered - len(realtime)
        realtime += others[:extra]
        if rng.random() < 0.5:
            late = others[extra : extra + 1]
    known = [r for r in (outpatient, discharge) if r is not None]
    base = float(np.mean(known)) if known else float(rng.uniform(0.5, 0.95))
    shares: dict[str, float] = {}
    for form in realtime:
        rate = {"outpatient_visit": outpatient, "inpatient_discharge": discharge}.get(form)
        drawn = (rate if rate is not None else base + rng.normal(0, 0.1)) + rng.normal(0, 0.02)
        shares[form] = (
            float(np.clip(drawn, 0.01, 0.995)) if realtime_share is None else realtime_share
        )
    for form in late:
        shares[form] = 0.0 if realtime_share is None else realtime_share
    archive = community or not shares or rng.random() < 0.35
    forms = tuple(f for f in FORM_IDS if f in shares or (archive and f in ARCHIVE_FORM_IDS))
    return forms, shares


def _missed_days(rng: np.random.Generator, period: Period, share: float) -> tuple[date, ...]:
    days = period.days
    missed = min(round(days * share), days - 1)
    if missed <= 0:
        return ()
    if missed > days // 2:  # joined the platform late or a long outage: one block
        start = int(rng.integers(0, days - missed + 1))
        offsets = np.arange(start, start + missed)
    else:
        offsets = np.sort(rng.choice(days, missed, replace=False))
    first = np.datetime64(period.start, "D")
    return tuple((first + int(k)).item() for k in offsets)


def allocate(weights: np.ndarray, total: int) -> np.ndarray:
    """Whole counts proportional to `weights` summing to `total` (largest remainder), at least 1
    each while there are enough."""
    share = weights / weights.sum() * total
    counts = np.floor(share).astype(np.int64)
    counts[np.argsort(counts - share)[: total - counts.sum()]] += 1
    for cell in np.flatnonzero(counts == 0):
        donor = int(np.argmax(counts))
        if counts[donor] > 1:
            counts[donor] -= 1
            counts[cell] += 1
    return counts


def plan_institutions(
    rng: np.random.Generator,
    institutions: int,
    rows: int,
    period: Period,
    realtime_share: float | None,
    missed_day_share: float | None,
    missing_form_share: float | None,
    unregistered: int,
) -> list[InstitutionPlan]:
    """One plan per institution; `rows` split across them like the table's (compressed) volumes."""
    plans = []
    profiles = _profiles(rng, institutions)
    gb = int(rng.integers(0, institutions))
    crlf = {gb, int(rng.integers(0, institutions))}
    left_out = (
        set(rng.permutation(range(1, institutions))[:unregistered].tolist())
        if institutions > 1
        else set()
    )
    for i, ((name, district), profile) in enumerate(zip(_names(institutions), profiles)):
        community = i >= len(PUBLISHED_2022)
        folder, region, _ = DISTRICTS[district]
        forms, shares = _forms_and_shares(
            rng, profile, community, realtime_share, missing_form_share
        )
        days_share = (
            1 - PUBLISHED_2022[profile][3] / 365 if missed_day_share is None else missed_day_share
        )
        private = "泰康" in name or "明基" in name
        plans.append(
            InstitutionPlan(
                org_code=org_code(rng, region, "91" if private else "12"),
                name=name,
                district=district,
                folder=folder,
                registered=i not in left_out,
                encoding="gb18030" if i == gb else "utf-8",
                crlf=i in crlf,
                rows=0,
                forms=forms,
                realtime_shares=tuple((f, shares[f]) for f in forms if f in shares),
                missed_days=_missed_days(rng, period, days_share),
            )
        )
    # every form appears somewhere in the batch, unless the caller asked for missing forms
    for form in FORM_IDS:
        if missing_form_share is None and not any(form in p.forms for p in plans):
            k = max(range(len(plans)), key=lambda j: len(plans[j].forms))
            shares = dict(plans[k].realtime_shares)
            if form in REALTIME_FORM_IDS:
                shares[form] = 0.8 if realtime_share is None else realtime_share
            forms = tuple(f for f in FORM_IDS if f in plans[k].forms or f == form)
            plans[k] = replace(
                plans[k],
                forms=forms,
                realtime_shares=tuple((f, shares[f]) for f in forms if f in shares),
            )
    weights = np.array(
        [
            np.sqrt(PUBLISHED_2022[p][2]) * (0.05 if i >= len(PUBLISHED_2022) else 1.0)
            for i, p in enumerate(profiles)
        ]
    )
    counts = allocate(weights, rows)
    return [replace(p, rows=int(c)) for p, c in zip(plans, counts)]

"""The form catalogue of docs/contract.md § 3: ids, Chinese labels, which forms are real-time."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath


@dataclass(frozen=True)
class Form:
    id: str
    label: str  # Chinese name used in the centre's reports
    realtime: bool


FORMS: tuple[Form, ...] = (
    Form("outpatient_registration", "门急诊挂号", True),
    Form("outpatient_visit", "门急诊就诊", True),
    Form("outpatient_prescription", "门急诊处方", True),
    Form("outpatient_settlement", "门急诊结算", True),
    Form("lab_report", "检验报告", True),
    Form("exam_report", "检查报告", True),
    Form("inpatient_admission", "入院登记", True),
    Form("inpatient_order", "住院医嘱", True),
    Form("inpatient_discharge", "出院记录", True),
    Form("inpatient_settlement", "住院结算", True),
    Form("surgery_record", "手术记录", True),
    Form("health_record", "居民健康档案", False),
    Form("hypertension_followup", "高血压随访", False),
    Form("diabetes_followup", "糖尿病随访", False),
)
FORM_IDS: tuple[str, ...] = tuple(f.id for f in FORMS)
_LONGEST_FIRST = sorted(
    FORM_IDS, key=len, reverse=True
)  # a name matches the longest form id it starts with
REALTIME_FORM_IDS: tuple[str, ...] = tuple(f.id for f in FORMS if f.realtime)
FORM_BY_ID = {f.id: f for f in FORMS}
OUTPATIENT_FORM = "outpatient_visit"
DISCHARGE_FORM = "inpatient_discharge"

INPUT_SUFFIXES = (".csv.gz", ".csv", ".parquet")


def stem_of(name: str) -> str | None:
    """The file name without its input suffix, or None when it is not an input file."""
    lowered = name.lower()
    for suffix in INPUT_SUFFIXES:
        if lowered.endswith(suffix):
            return name[: -len(suffix)]
    return None


_BY_LABEL = sorted(((f.label, f.id) for f in FORMS), key=lambda pair: len(pair[0]), reverse=True)


def form_named(name: str) -> str | None:
    """The form `--form` names: its id in any case, or its Chinese name (`检验报告`)."""
    text = name.strip()
    if text.lower() in FORM_IDS:
        return text.lower()
    return next((form_id for label, form_id in _BY_LABEL if label == text), None)


def form_from_filename(path: str | PurePath) -> str | None:
    """The form a file holds, from its name: the form id in any case (`LAB_REPORT.CSV`) or the
    form's Chinese name (`检验报告.csv`), then the end of the stem, `_`, `-` or `.`."""
    name = PurePath(path).name
    stem = stem_of(name) or name
    lowered = stem.lower()
    for form_id in _LONGEST_FIRST:
        if lowered == form_id or (lowered.startswith(form_id) and lowered[len(form_id)] in "_-."):
            return form_id
    for label, form_id in _BY_LABEL:
        if stem == label or (stem.startswith(label) and stem[len(label)] in "_-."):
            return form_id
    return None

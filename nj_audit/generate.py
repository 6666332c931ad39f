"""Realistic sample batches of uploads: every form, every rule, calibrated on the 2022 Nanjing table.

`generate_batch` writes what ~190 institutions would upload to a municipal platform in a period,
scaled down: one folder per institution (`<district pinyin>/<org_code>/<form_id>.csv`), a registry,
real-time and late uploads, missed upload days, missing forms, corrections (re-uploads of a record)
and invalid rows with exactly one defect each. `form_table` makes the rows of one form (the
benchmarks use it). Everything is vectorised with numpy/pyarrow and deterministic for a seed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from .checks import gb32100_check_char
from .forms import FORM_IDS, REALTIME_FORM_IDS
from .values import Period, parse_period

DAY = 86_400
HOUR = 3_600
MISSING = np.iinfo(np.int64).min  # a time left empty (optional columns)
DEFAULT_PERIOD = parse_period("2022-03")

# -- calibration: the 2022 published table (name, district, rows, upload days, forms covered,
#    outpatient rate, discharge rate; None is `/`) ------------------------------------------------

PUBLISHED_2022: tuple[tuple[str, str, int, int, int, float | None, float | None], ...] = (
    ("江苏省中医院", "秦淮区", 234547156, 355, 11, 0.954, 0.854),
    ("南京鼓楼医院", "鼓楼区", 208868858, 361, 11, 0.782, 0.945),
    ("江苏省人民医院", "鼓楼区", 142260841, 361, 11, 0.202, 0.755),
    ("南京市儿童医院", "鼓楼区", 130593171, 365, 11, 0.480, 0.963),
    ("东部战区总医院", "玄武区", 102552886, 351, 11, 0.958, 0.575),
    ("江苏省肿瘤医院", "玄武区", 91473053, 365, 6, 0.767, 0.934),
    ("南京市中医院", "秦淮区", 90470047, 365, 11, 0.973, 0.814),
    ("东南大学附属中大医院", "鼓楼区", 85699730, 365, 11, 0.922, 0.940),
    ("南京市第一医院", "秦淮区", 80634082, 365, 6, 0.717, 0.797),
    ("南京市第二医院", "鼓楼区", 78628491, 356, 11, 0.900, 0.932),
    ("南京市妇幼保健院", "秦淮区", 68972864, 365, 11, 0.776, 0.656),
    ("南京同仁医院", "江宁区", 56065691, 360, 11, 0.978, 0.985),
    ("南京医科大学第二附属医院", "鼓楼区", 54392042, 342, 6, 0.990, 0.960),
    ("南京明基医院", "建邺区", 38026777, 362, 11, 0.583, 0.547),
    ("江苏省中西医结合医院", "玄武区", 37409968, 338, 11, 0.442, 0.762),
    ("南京医科大学第四附属医院", "浦口区", 33657276, 317, 11, 0.141, 0.072),
    ("南京市中西医结合医院", "玄武区", 31758195, 365, 11, 0.630, 0.969),
    ("中国医学科学院皮肤病研究所", "玄武区", 24659237, 365, 0, 0.004, None),
    ("南京江北医院", "六合区", 23698174, 365, 5, 0.752, 0.544),
    ("南京市口腔医院", "鼓楼区", 22995979, 357, 11, 0.359, 0.843),
    ("南京脑科医院", "鼓楼区", 21233398, 355, 11, 0.213, 0.237),
    ("江苏省第二中医院", "建邺区", 19759867, 365, 10, 0.816, 0.716),
    ("江苏省省级机关医院", "鼓楼区", 19365122, 361, 11, 0.614, 0.118),
    ("泰康仙林鼓楼医院", "栖霞区", 18605182, 365, 0, None, None),
    ("东部战区总医院秦淮医疗区", "秦淮区", 14792996, 360, 11, 0.787, 0.655),
    ("南京市中心医院", "鼓楼区", 10731425, 353, 6, 0.642, 0.492),
    ("江苏省口腔医院", "鼓楼区", 10719067, 365, 0, None, None),
    ("南京市胸科医院", "鼓楼区", 8264649, 364, 6, 0.228, 0.178),
    ("南京医科大学附属眼科医院", "鼓楼区", 5801201, 356, 10, 0.907, 0.579),
    ("东部战区空军医院", "鼓楼区", 2414913, 40, 0, None, None),
    ("南京市职业病防治院", "玄武区", 309051, 358, 6, 0.906, 0.960),
    ("江苏民政康复医院", "雨花台区", 236393, 115, 0, None, None),
)

# district -> (folder, administrative code, streets with a community health centre)
DISTRICTS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "玄武区": ("xuanwu", "320102", ("锁金村", "梅园新村", "玄武门", "孝陵卫", "红山", "新街口")),
    "秦淮区": ("qinhuai", "320104", ("夫子庙", "月牙湖", "朝天宫", "双塘", "红花", "光华路")),
    "建邺区": ("jianye", "320105", ("南苑", "兴隆", "沙洲", "莫愁湖", "双闸", "江心洲")),
    "鼓楼区": ("gulou", "320106", ("宁海路", "华侨路", "湖南路", "挹江门", "江东", "热河南路")),
    "浦口区": ("pukou", "320111", ("江浦", "顶山", "泰山", "桥林", "永宁", "汤泉")),
    "栖霞区": ("qixia", "320113", ("尧化", "马群", "仙林", "燕子矶", "迈皋桥", "八卦洲")),
    "雨花台区": ("yuhuatai", "320114", ("雨花", "赛虹桥", "西善桥", "板桥", "铁心桥", "梅山")),
    "江宁区": ("jiangning", "320115", ("东山", "秣陵", "淳化", "汤山", "江宁", "谷里")),
    "六合区": ("luhe", "320116", ("雄州", "龙池", "葛塘", "横梁", "竹镇", "马鞍")),
    "溧水区": ("lishui", "320117", ("永阳", "东屏", "柘塘", "石湫", "洪蓝", "白马")),
    "高淳区": ("gaochun", "320118", ("淳溪", "古柏", "阳江", "砖墙", "东坝", "桠溪")),
}

# share of a hospital's rows per form (outpatient visits, prescriptions and lab reports dominate)
FORM_WEIGHTS: dict[str, float] = {
    "outpatient_registration": 0.10,
    "outpatient_visit": 0.14,
    "outpatient_prescription": 0.20,
    "outpatient_settlement": 0.10,
    "lab_report": 0.22,
    "exam_report": 0.05,
    "inpatient_admission": 0.012,
    "inpatient_order": 0.08,
    "inpatient_discharge": 0.012,
    "inpatient_settlement": 0.012,
    "surgery_record": 0.006,
    "health_record": 0.03,
    "hypertension_followup": 0.02,
    "diabetes_followup": 0.015,
}
ARCHIVE_FORM_IDS = tuple(f for f in FORM_IDS if f not in REALTIME_FORM_IDS)
PATIENT_FORMS = ("outpatient_registration", "outpatient_visit", "inpatient_admission", "inpatient_discharge")
RECORD_PREFIX = {
    "outpatient_registration": "GH",
    "outpatient_visit": "MZ",
    "outpatient_prescription": "CF",
    "outpatient_settlement": "MJ",
    "lab_report": "JY",
    "exam_report": "JC",
    "inpatient_admission": "RY",
    "inpatient_order": "YZ",
    "inpatient_discharge": "CY",
    "inpatient_settlement": "ZJ",
    "surgery_record": "SS",
    "health_record": "DA",
    "hypertension_followup": "GXY",
    "diabetes_followup": "TNB",
}
_ENVELOPE = ("org_code", "record_id", "event_time", "upload_time")
_PATIENT = ("patient_id", "id_card", "name", "sex_code", "birth_date")
COLUMNS: dict[str, tuple[str, ...]] = {  # every column of every schema, in schema order
    "outpatient_registration": _ENVELOPE + _PATIENT + ("dept_code", "visit_type", "channel"),
    "outpatient_visit": _ENVELOPE + _PATIENT + ("visit_type", "dept_code", "diagnosis_code", "doctor_id"),
    "outpatient_prescription": _ENVELOPE + ("patient_id", "visit_no", "drug_code", "quantity", "amount"),
    "outpatient_settlement": _ENVELOPE + ("patient_id", "visit_no", "total_fee", "self_pay", "payment_method"),
    "lab_report": _ENVELOPE + ("patient_id", "visit_no", "item_code", "result", "sample_time"),
    "exam_report": _ENVELOPE + ("patient_id", "visit_no", "exam_type", "exam_time", "conclusion"),
    "inpatient_admission": _ENVELOPE + _PATIENT + ("dept_code", "admission_route", "admission_diagnosis"),
    "inpatient_order": _ENVELOPE + ("patient_id", "admission_no", "order_type", "order_item", "stop_time"),
    "inpatient_discharge": _ENVELOPE
    + _PATIENT
    + ("admission_no", "admission_time", "dept_code", "primary_diagnosis", "discharge_method", "total_fee"),
    "inpatient_settlement": _ENVELOPE + ("patient_id", "admission_no", "total_fee", "self_pay", "payment_method"),
    "surgery_record": _ENVELOPE + ("patient_id", "admission_no", "procedure_code", "start_time", "surgeon_id", "anesthesia_code"),
    "health_record": _ENVELOPE + ("id_card", "name", "sex_code", "birth_date", "residence_code"),
    "hypertension_followup": _ENVELOPE + ("id_card", "sbp", "dbp"),
    "diabetes_followup": _ENVELOPE + ("id_card", "fasting_glucose"),
}
DATE_COLUMNS = frozenset({"birth_date"})

# code sets and realistic vocabularies


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


DEPTS = _words("03 03.01 03.02 03.03 03.04 03.05 04 04.01 04.02 04.03 05.01 05.02 07 07.01 10 11 12 16 32 50")
OUTPATIENT_DIAGNOSES = _words(
    "J06.900 I10.x00x002 E11.900 K29.700 J20.900 M54.500 R50.900 K52.900 N39.000 L30.900 H52.100 K02.900 Z00.000 I25.103 J02.900"
)
INPATIENT_DIAGNOSES = _words(
    "I63.900 J44.100 K80.100 C34.900 S72.000 I21.900 J18.900 O80.000 K35.800 I50.900 E11.900 N18.500 C16.900 I10.x00x002"
)
PROCEDURES = _words("36.0601 47.0901 51.2301 81.5101 74.1x01 68.4901 13.4100x001 45.4201 85.4101 37.2201 79.3501 00.6600x004")
PAYMENT = _words("01 01 01 02 02 03 04 05 06 07 07 08 99")
DRUGS = _words("Y0010231 Y0020455 Y0031078 Y0040012 Y0051193 Y0062207 Y0070316 Y0081420 ZY001203 ZY004417 Y0093305 Y0100876")
LAB_ITEMS = _words("WBC RBC HGB PLT GLU ALT AST CREA UA TC TG K NA CRP HBsAg")
LAB_RESULTS = _words("6.8 4.52 135 212 5.6 23 19 78.4 356 4.87 1.62 4.1 141.2 <0.50 阴性 阳性(+) 3.2")
EXAM_TYPES = _words("CT MR DR CR US ES NM XA MG OT")
CONCLUSIONS = (
    "双肺纹理增多",
    "肝胆胰脾未见明显异常",
    "腰椎退行性变",
    "右肺上叶小结节, 建议随访",
    "甲状腺右叶结节，TI-RADS 3类",
    "心脏彩超未见明显异常",
    "慢性浅表性胃炎",
    '乳腺增生, BI-RADS "2"类',
    "脑内散在腔隙性缺血灶",
    "印象：\n双肺未见明显异常",
)
CONCLUSION_P = (0.14, 0.14, 0.12, 0.08, 0.1, 0.12, 0.1, 0.06, 0.12, 0.02)
ORDER_ITEMS = (
    "一级护理",
    "二级护理",
    "低盐低脂饮食",
    "0.9%氯化钠注射液 250ml ivgtt qd",
    "阿莫西林胶囊 0.5g po tid",
    "头孢曲松钠 2g ivgtt qd, 皮试(-)",
    "血常规",
    "心电监护",
    "吸氧 2L/min",
    "胰岛素 8u ih tid",
)
SURNAMES = tuple("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢")
GIVEN = tuple("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建文辉力国荣健鹏宇浩凯婷雪琳晨欣怡梓涵子轩")
ID_REGIONS = _words(
    "320102 320104 320105 320106 320111 320113 320114 320115 320116 320117 320118 320281 320382 320411 "
    "321002 321181 340104 341122 370102 410105"
)


def _vocab(values: Sequence[str]) -> pa.Array:
    return pa.array(list(values), pa.string())


def _pick(rng: np.random.Generator, values: Sequence[str], n: int, p: Sequence[float] | None = None) -> pa.Array:
    return pc.take(_vocab(values), pa.array(rng.choice(len(values), n, p=p)))


def _join(*parts: pa.Array | str) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _as_text(values: np.ndarray, width: int = 0) -> pa.Array:
    text = pc.cast(pa.array(values), pa.string())
    return pc.utf8_lpad(text, width=width, padding="0") if width else text


def _cents(cents: np.ndarray) -> pa.Array:
    """Integer cents -> plain decimal text `123.45`."""
    cents = np.asarray(cents, dtype=np.int64)
    return _join(_as_text(cents // 100), ".", _as_text(cents % 100, 2))


def _stochastic_round(x: float, rng: np.random.Generator) -> int:
    base = int(np.floor(x))
    return base + int(rng.random() < x - base)


# -- fixed-width text straight from byte matrices (times, ID numbers) -------------------------------


def _from_bytes(buf: np.ndarray) -> pa.Array:
    n, width = buf.shape
    offsets = np.arange(0, n * width + 1, width, dtype=np.int32)
    data = np.ascontiguousarray(buf, dtype=np.uint8)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))


def _put(buf: np.ndarray, start: int, width: int, values: np.ndarray) -> None:
    for k in range(width):
        buf[:, start + width - 1 - k] = 48 + (values // 10**k) % 10


def format_times(seconds: np.ndarray, sep: str = " ", date_only: bool = False) -> pa.Array:
    """Local times as seconds since 1970-01-01 -> `YYYY-MM-DD HH:MM:SS` (or `YYYY-MM-DD`); MISSING -> null."""
    seconds = np.asarray(seconds, dtype=np.int64)
    missing = seconds == MISSING
    secs = np.where(missing, 0, seconds)
    days = (secs // DAY).astype("datetime64[D]")
    months = days.astype("datetime64[M]")
    year = months.astype(np.int64) // 12 + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (days - months).astype(np.int64) + 1
    buf = np.empty((len(secs), 10 if date_only else 19), dtype=np.uint8)
    _put(buf, 0, 4, year)
    buf[:, 4] = buf[:, 7] = ord("-")
    _put(buf, 5, 2, month)
    _put(buf, 8, 2, day)
    if not date_only:
        tod = secs % DAY
        buf[:, 10] = ord(sep)
        _put(buf, 11, 2, tod // HOUR)
        buf[:, 13] = buf[:, 16] = ord(":")
        _put(buf, 14, 2, tod // 60 % 60)
        _put(buf, 17, 2, tod % 60)
    text = _from_bytes(buf)
    return pc.if_else(pa.array(missing), pa.scalar(None, pa.string()), text) if missing.any() else text


_ID_WEIGHTS = np.array([pow(2, 17 - i, 11) for i in range(17)], dtype=np.int64)
_ID_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)[::-1].copy()  # value v -> char of (12 - v) % 11


def _id_check_chars(digits: np.ndarray) -> np.ndarray:
    """GB 11643 check characters (as bytes) for a (n, 17) matrix of digit values."""
    value = (12 - (digits * _ID_WEIGHTS).sum(axis=1) % 11) % 11
    return np.frombuffer(b"0123456789X", dtype=np.uint8)[value]


def id_numbers(region: np.ndarray, birth_days: np.ndarray, sequence: np.ndarray) -> pa.Array:
    """Valid resident ID numbers: region code (int), birth date (days since 1970), 3-digit sequence."""
    n = len(region)
    buf = np.empty((n, 18), dtype=np.uint8)
    dates = np.asarray(birth_days, dtype=np.int64).astype("datetime64[D]")
    months = dates.astype("datetime64[M]")
    _put(buf, 0, 6, np.asarray(region, dtype=np.int64))
    _put(buf, 6, 4, months.astype(np.int64) // 12 + 1970)
    _put(buf, 10, 2, months.astype(np.int64) % 12 + 1)
    _put(buf, 12, 2, (dates - months).astype(np.int64) + 1)
    _put(buf, 14, 3, np.asarray(sequence, dtype=np.int64))
    buf[:, 17] = _id_check_chars(buf[:, :17].astype(np.int64) - 48)
    return _from_bytes(buf)


def id_check_char(first17: str) -> str:
    """GB 11643 check character of one ID number (same as checks.gb11643_check_char)."""
    digits = np.frombuffer(first17.encode("ascii"), dtype=np.uint8).astype(np.int64)[None, :] - 48
    return chr(int(_id_check_chars(digits)[0]))


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
    seq = rng.integers(0, 500, n) * 2 + np.where(sex == "1", 1, np.where(sex == "2", 0, rng.integers(0, 2, n)))
    region = np.array(ID_REGIONS, dtype=np.int64)[rng.choice(len(ID_REGIONS), n)]
    given = _pick(rng, GIVEN, n)
    two = pc.if_else(pa.array(rng.random(n) < 0.7), _join(given, _pick(rng, GIVEN, n)), given)
    return Patients(
        patient_id=_join("P", _as_text(rng.choice(10**9, n, replace=False) + 10**9)),
        id_card=id_numbers(region, birth, seq),
        name=_join(_pick(rng, SURNAMES, n), two),
        sex_code=pa.array(sex, pa.string()),
        birth=birth,
        has_id=rng.random(n) < 0.88,
        has_name=rng.random(n) < 0.95,
    )


# -- one form's rows ---------------------------------------------------------------------------------


@dataclass
class Rows:
    """The rows of one form being built: text columns, times (seconds, MISSING), and what to override."""

    form: str
    text: dict[str, pa.Array]
    times: dict[str, np.ndarray]
    patient: np.ndarray  # index into the patient pool
    pool: Patients
    overrides: dict[str, list[tuple[np.ndarray, list[str | None]]]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.patient)

    def take(self, idx: np.ndarray) -> Rows:
        positions = pa.array(idx)
        return Rows(
            self.form,
            {c: pc.take(v, positions) for c, v in self.text.items()},
            {c: v[idx] for c, v in self.times.items()},
            self.patient[idx],
            self.pool,
        )

    def values(self, column: str, idx: np.ndarray) -> list[str | None]:
        return pc.take(self.text[column], pa.array(idx)).to_pylist()

    def override(self, column: str, idx: np.ndarray, values: Sequence[str | None]) -> None:
        self.overrides.setdefault(column, []).append((np.asarray(idx), list(values)))


def _upload_and_event(rng: np.random.Generator, n: int, realtime: np.ndarray, days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Upload and event times (seconds): uploads on the given days; real-time rows within 24 h of
    their event (same-day pushes or the nightly batch), late rows 1-10 days after it."""
    day = rng.choice(days, n) * DAY
    upload = day + rng.integers(30 * 60, 23 * HOUR + 30 * 60, n)
    event = upload - rng.integers(DAY + 600, 10 * DAY, n)  # late
    nightly = rng.random(n) < 0.3
    same_tod = rng.integers(7 * HOUR + 30 * 60, 21 * HOUR + 30 * 60, n)
    lag = np.minimum(rng.exponential(1800, n).astype(np.int64) + 30, 23 * HOUR + 58 * 60 - same_tod)
    night_upload = day + rng.integers(30 * 60, 4 * HOUR, n)
    night_event = day - DAY + rng.integers(8 * HOUR, 22 * HOUR, n)
    rt_upload = np.where(nightly, night_upload, day + same_tod + lag)
    rt_event = np.where(nightly, night_event, day + same_tod)
    return np.where(realtime, rt_event, event), np.where(realtime, rt_upload, upload)


def _build(
    form: str, rng: np.random.Generator, who: np.ndarray, event: np.ndarray, upload: np.ndarray, pool: Patients, region: str
) -> Rows:
    """Valid values of every column of `form` for rows of the given patients and times."""
    n = len(who)
    text: dict[str, pa.Array] = {}
    times: dict[str, np.ndarray] = {"event_time": event, "upload_time": upload}
    take = pa.array(who)
    if form in ("health_record", "hypertension_followup", "diabetes_followup"):
        text["id_card"] = pc.take(pool.id_card, take)
    if form in PATIENT_FORMS or form == "health_record":
        if form in PATIENT_FORMS:
            text["id_card"] = pc.if_else(pa.array(pool.has_id[who]), pc.take(pool.id_card, take), None)
            text["name"] = pc.if_else(pa.array(pool.has_name[who]), pc.take(pool.name, take), None)
        else:
            text["name"] = pc.take(pool.name, take)
        text["sex_code"] = pc.take(pool.sex_code, take)
        times["birth_date"] = pool.birth[who] * DAY
    if "patient_id" in COLUMNS[form]:
        text["patient_id"] = pc.take(pool.patient_id, take)
    visit_no = _join("V", _as_text(rng.integers(10**10, 10**11, n)))
    admission_no = _join("ZY", _as_text(rng.integers(10**7, 10**8, n)))
    if form == "outpatient_registration":
        text |= {
            "dept_code": _pick(rng, DEPTS, n),
            "visit_type": _pick(rng, "12", n, (0.88, 0.12)),
            "channel": _pick(rng, "123459", n, (0.45, 0.2, 0.08, 0.12, 0.13, 0.02)),
        }
    elif form == "outpatient_visit":
        text |= {
            "visit_type": _pick(rng, "12", n, (0.88, 0.12)),
            "dept_code": _pick(rng, DEPTS, n),
            "diagnosis_code": _pick(rng, OUTPATIENT_DIAGNOSES, n),
            "doctor_id": _join("D", _as_text(rng.integers(1, 3000, n), 5)),
        }
    elif form == "outpatient_prescription":
        quantity = np.where(rng.random(n) < 0.1, rng.integers(1, 4, n) * 50, rng.integers(1, 10, n) * 100)
        text |= {
            "visit_no": visit_no,
            "drug_code": _pick(rng, DRUGS, n),
            "quantity": _cents(quantity),
            "amount": _cents((rng.lognormal(3.5, 1.1, n) * 100).astype(np.int64)),
        }
    elif form in ("outpatient_settlement", "inpatient_settlement"):
        median = 5.0 if form == "outpatient_settlement" else 9.3
        total = (rng.lognormal(median, 0.9, n) * 100).astype(np.int64)
        self_pay = (total * np.where(rng.random(n) < 0.15, 1.0, rng.uniform(0.05, 0.6, n))).astype(np.int64)
        if form == "outpatient_settlement":
            text["visit_no"] = visit_no
        else:
            text["admission_no"] = admission_no
        text |= {"total_fee": _cents(total), "self_pay": _cents(self_pay), "payment_method": _pick(rng, PAYMENT, n)}
    elif form == "lab_report":
        times["sample_time"] = event - rng.integers(20 * 60, 3 * DAY, n)
        text |= {"visit_no": visit_no, "item_code": _pick(rng, LAB_ITEMS, n), "result": _pick(rng, LAB_RESULTS, n)}
    elif form == "exam_report":
        times["exam_time"] = event - rng.integers(10 * 60, 2 * DAY, n)
        text |= {
            "visit_no": visit_no,
            "exam_type": _pick(rng, EXAM_TYPES, n),
            "conclusion": _pick(rng, CONCLUSIONS, n, CONCLUSION_P),
        }
    elif form == "inpatient_admission":
        text |= {
            "dept_code": _pick(rng, DEPTS, n),
            "admission_route": _pick(rng, "1239", n, (0.35, 0.55, 0.08, 0.02)),
            "admission_diagnosis": _pick(rng, INPATIENT_DIAGNOSES, n),
        }
    elif form == "inpatient_order":
        times["stop_time"] = np.where(rng.random(n) < 0.4, event + rng.integers(HOUR, 10 * DAY, n), MISSING)
        text |= {
            "admission_no": admission_no,
            "order_type": _pick(rng, "12", n, (0.55, 0.45)),
            "order_item": _pick(rng, ORDER_ITEMS, n),
        }
    elif form == "inpatient_discharge":
        stay = np.clip(rng.lognormal(np.log(7 * DAY), 0.8, n), 2 * HOUR, 365 * DAY).astype(np.int64)
        stay = np.where(rng.random(n) < 0.002, rng.integers(400, 3000, n) * DAY, stay)  # long psychiatric stays
        times["admission_time"] = event - stay
        text |= {
            "admission_no": admission_no,
            "dept_code": _pick(rng, DEPTS, n),
            "primary_diagnosis": _pick(rng, INPATIENT_DIAGNOSES, n),
            "discharge_method": _pick(rng, "123459", n, (0.86, 0.04, 0.03, 0.04, 0.01, 0.02)),
            "total_fee": _cents((rng.lognormal(9.3, 0.9, n) * 100).astype(np.int64)),
        }
    elif form == "surgery_record":
        times["start_time"] = event - rng.integers(20 * 60, 8 * HOUR, n)
        text |= {
            "admission_no": admission_no,
            "procedure_code": _pick(rng, PROCEDURES, n),
            "surgeon_id": _join("D", _as_text(rng.integers(1, 3000, n), 5)),
            "anesthesia_code": pc.if_else(pa.array(rng.random(n) < 0.85), _pick(rng, "1234", n), None),
        }
    elif form == "health_record":
        text["residence_code"] = pa.array([region] * n, pa.string())
    elif form == "hypertension_followup":
        sbp = rng.integers(95, 200, n)
        text |= {"sbp": _as_text(sbp), "dbp": _as_text(np.minimum(rng.integers(60, 121, n), sbp - 15))}
    elif form == "diabetes_followup":
        text["fasting_glucose"] = _cents(rng.integers(38, 160, n) * 10)
    return Rows(form, text, times, who, pool)


def _archive_times(form: str, rng: np.random.Generator, days: np.ndarray, birth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Archive forms: 建档日期 years back (never before birth), follow-ups days to weeks back."""
    n = len(birth)
    upload = rng.choice(days, n) * DAY + rng.integers(HOUR, 23 * HOUR, n)
    upload_day = upload // DAY
    if form == "health_record":
        lowest = np.maximum(birth, np.datetime64("2005-01-01", "D").astype(np.int64))
        event_day = lowest + (rng.random(n) * (upload_day - lowest)).astype(np.int64)
        return event_day * DAY, upload
    event_day = upload_day - rng.integers(0, 60, n)
    return np.where(event_day == upload_day, upload - rng.integers(10 * 60, HOUR, n), event_day * DAY), upload


# -- defects: each invalid row gets exactly one ------------------------------------------------------

_BAD_CODES = {
    "sex_code": "3",
    "visit_type": "3",
    "channel": "6",
    "payment_method": "8",
    "admission_route": "4",
    "discharge_method": "6",
    "order_type": "3",
    "exam_type": "XR",
}
_PATTERNS = ("diagnosis_code", "admission_diagnosis", "primary_diagnosis", "procedure_code", "residence_code")
_NUMBERS = ("quantity", "amount", "total_fee", "self_pay", "sbp", "dbp", "fasting_glucose")
_DERIVED_TIMES = ("sample_time", "exam_time", "admission_time", "start_time", "stop_time")
_OPTIONAL = frozenset({"id_card", "name", "stop_time", "anesthesia_code"})
_ID_CHARS = "0123456789X"


def _required(form: str) -> list[str]:
    optional = _OPTIONAL if form in REALTIME_FORM_IDS else frozenset()
    return [c for c in COLUMNS[form] if c not in optional and c != "org_code"]


def _with_id(r: Rows, idx: np.ndarray) -> list[str]:
    """The rows' full ID numbers, made present where the row left the optional number out."""
    full = pc.take(r.pool.id_card, pa.array(r.patient[idx])).to_pylist()
    r.override("id_card", idx, full)
    return full


def _d_record_id(r: Rows, idx: np.ndarray, rng: np.random.Generator) -> None:
    r.override("record_id", idx, [v[:2] + " " + v[2:] for v in r.values("record_id", idx)])


def _d_missing(r: Rows, idx: np.ndarray, rng: np.random.Generator) -> None:
    columns = _required(r.form)
    chosen = rng.choice(len(columns), len(idx))
    for k, column in enumerate(columns):
        rows = idx[chosen == k]
        if column in r.times:
            r.times[column][rows] = MISSING
        else:
            r.override(column, rows, [None] * len(rows))


def _d_time_format(r: Rows, idx: np.ndarray, rng: np.random.Generator) -> None:
    columns = [c for c in r.times if c != "stop_time"]
    chosen = rng.choice(len(columns), len(idx))
    for k, column in enumerate(columns):
        rows = idx[chosen == k]
        text = format_times(r.times[column][rows], date_only=column in DATE_COLUMNS).to_pylist()
        r.override(column, rows, [v.replace("-", "/") for v in text])


def _d_id_check(r: Rows, idx: np.ndarray, rng: np.random.Generator) -> None:
    shifts = rng.integers(1, 11, len(idx))
    full = _with_id(r, idx)
    r.override("id_card", idx, [v[:17] + _ID_CHARS[(_ID_CHARS.index(v[17]) + s) % 11] for v, s in zip(full, shifts)])


def _d_id_date(r: Rows, idx: np.ndarray, rng: np.random.Generator) -> None:
    bodies = [v[:10] + "13" + v[12:17] for v in _with_id(r, idx)]
    r.override("id_card", idx, [b + id_check_char(b) for b in bodies])


def _d_id_short(r: Rows, idx: np.ndarray, rng: np.random.Generator) -> None:
    r.override("id_card", idx, [v[:17] for v in _with_id(r, idx)])


def _d_sex_mismatch(r: Rows, idx: np.ndarray, rng: np.random.Generator) -> None:
    r.override("sex_code", idx, ["2" if int(v[16]) % 2 else "1" for v in _with_id(r, idx)])


def _d_birth_mismatch(r: Rows, idx: np.ndarray, rng: np.random.Generator) -> None:
    _with_id(r, idx)
    r.times["birth_date"][idx] -= DAY * rng.integers(1, 40, len(idx))


def _d_birth_after_event(r: Rows, idx: np.ndarray, rng: np.random.Generator) -> None:
    r.times["birth_date"][idx] = (r.times["event_time"][idx] // DAY + rng.integers(1, 400, len(idx))) * DAY
    r.override("id_card", idx, [None] * len(idx))


def _d_code(r: Rows, idx: np.ndarray, rng: np.random.Generator) -> None:
    columns = [c for c in COLUMNS[r.form] if c in _BAD_CODES]
    chosen = rng.choice(len(columns), len(idx))
    for k, column in enumerate(columns):
        rows = idx[chosen == k]
        r.override(column, rows, [_BAD_CODES[column]] * len(rows))


def _d_pattern(r: Rows, idx: np.ndarray, rng: np.random.Generator) -> None:
    column = next(c for c in COLUMNS[r.form] if c in _PATTERNS)
    values = r.values(column, idx)
    if column == "procedure_code":
        bad = [v + ".1" for v in values]
    elif column == "residence_code":
        bad = [v[:5] for v in values]
    else:
        bad = [v[0].lower() + v[1:] for v in values]
    r.override(column, idx, bad)


def _d_too_long(r: Rows, idx: np.ndarray, rng: np.random.Generator) -> None:
    name = rng.random(len(idx)) < (0.5 if "name" in COLUMNS[r.form] else 0.0)
    names = pc.take(r.pool.name, pa.array(r.patient[idx[name]])).to_pylist()
    r.override("name", idx[name], [(v + "（家属代签）") * 5 for v in names])
    depts = r.values("dept_code", idx[~name])
    r.override("dept_code", idx[~name], [v + "-" + "普通内科专家门诊" * 3 for v in depts])


def _d_number_range(r: Rows, idx: np.ndarray, rng: np.random.Generator) -> None:
    form = r.form
    if form == "outpatient_prescription":
        zero = rng.random(len(idx)) < 0.5
        r.override("quantity", idx[zero], ["0"] * int(zero.sum()))
        r.override("amount", idx[~zero], ["1250000.00"] * int((~zero).sum()))
    elif form in ("outpatient_settlement", "inpatient_settlement"):
        totals = r.values("total_fee", idx)
        r.override("self_pay", idx, [f"{float(t) + 10:.2f}" for t in totals])
    elif form == "inpatient_discharge":
        r.override("total_fee", idx, [f"-{float(t) + 1:.2f}" for t in r.values("total_fee", idx)])
    elif form == "diabetes_followup":
        r.override("fasting_glucose", idx, rng.choice(["0.60", "42.00", "0"], len(idx)).tolist())
    elif form == "hypertension_followup":
        swap = rng.random(len(idx)) < 0.6
        sbp, dbp = r.values("sbp", idx[swap]), r.values("dbp", idx[swap])
        r.override("sbp", idx[swap], dbp)
        r.override("dbp", idx[swap], sbp)
        r.override("sbp", idx[~swap], ["400"] * int((~swap).sum()))


def _d_number_format(r: Rows, idx: np.ndarray, rng: np.random.Generator) -> None:
    column = next(c for c in COLUMNS[r.form] if c in _NUMBERS)
    r.override(column, idx, [v + "元" for v in r.values(column, idx)])


def _d_event_after_upload(r: Rows, idx: np.ndarray, rng: np.random.Generator) -> None:
    shift = r.times["upload_time"][idx] - r.times["event_time"][idx] + rng.integers(HOUR, 6 * HOUR, len(idx))
    for column in ("event_time", *_DERIVED_TIMES):
        if column in r.times:
            values = r.times[column]
            values[idx] = np.where(values[idx] == MISSING, MISSING, values[idx] + shift)


def _d_event_before_2000(r: Rows, idx: np.ndarray, rng: np.random.Generator) -> None:
    r.times["event_time"][idx] = int(np.datetime64("1900-01-01", "D").astype(np.int64)) * DAY


def _d_order(r: Rows, idx: np.ndarray, rng: np.random.Generator) -> None:
    """The form's own cross-field time rule broken."""
    t, n = r.times, len(idx)
    event = t["event_time"][idx]
    if r.form == "lab_report":
        t["sample_time"][idx] = event + rng.integers(60, 2 * HOUR, n)
    elif r.form == "exam_report":
        t["exam_time"][idx] = event + rng.integers(60, 2 * HOUR, n)
    elif r.form == "inpatient_order":
        t["stop_time"][idx] = event - rng.integers(60, DAY, n)
    elif r.form == "inpatient_discharge":
        long_stay = rng.random(n) < 0.3
        t["admission_time"][idx] = np.where(
            long_stay, event - rng.integers(3651, 5000, n) * DAY, event + rng.integers(HOUR, 2 * DAY, n)
        )
    elif r.form == "surgery_record":
        too_long = rng.random(n) < 0.5
        t["start_time"][idx] = np.where(
            too_long, event - rng.integers(49 * HOUR, 96 * HOUR, n), event + rng.integers(60, HOUR, n)
        )


_Defect = Callable[[Rows, np.ndarray, np.random.Generator], None]


def _defects(form: str) -> list[_Defect]:
    columns = COLUMNS[form]
    kinds: list[_Defect] = [_d_record_id, _d_missing, _d_time_format, _d_event_after_upload]
    if "id_card" in columns:
        kinds += [_d_id_check, _d_id_date, _d_id_short]
    if "sex_code" in columns:
        kinds += [_d_sex_mismatch, _d_birth_mismatch]
    if form in PATIENT_FORMS:
        kinds.append(_d_birth_after_event)
    if any(c in _BAD_CODES for c in columns):
        kinds.append(_d_code)
    if any(c in _PATTERNS for c in columns):
        kinds.append(_d_pattern)
    if "dept_code" in columns:
        kinds.append(_d_too_long)
    if any(c in _NUMBERS for c in columns):
        kinds += [_d_number_range, _d_number_format]
    if any(c in _DERIVED_TIMES for c in columns):
        kinds.append(_d_order)
    if form in (
        "outpatient_prescription",
        "outpatient_settlement",
        "inpatient_settlement",
        "hypertension_followup",
        "diabetes_followup",
    ):
        kinds.append(_d_event_before_2000)
    return kinds


def defect_names(form: str) -> list[str]:
    """The kinds of defect the generator puts into rows of `form`."""
    return [kind.__name__.removeprefix("_d_") for kind in _defects(form)]


def _spoil(r: Rows, idx: np.ndarray, rng: np.random.Generator, skip: frozenset[str] = frozenset()) -> None:
    kinds = [kind for kind in _defects(r.form) if kind.__name__.removeprefix("_d_") not in skip]
    chosen = rng.choice(len(kinds), len(idx))
    for k, kind in enumerate(kinds):
        rows = np.sort(idx[chosen == k])
        if len(rows):
            kind(r, rows, rng)


# -- from rows to tables and CSV bytes -------------------------------------------------------------------


@dataclass(frozen=True)
class Style:
    """How one institution's system writes times."""

    sep: str = " "  # between date and clock: " " or "T"
    offset_share: float = 0.0  # share of event/upload times written with +08:00 (or in UTC with Z)


def _finish(r: Rows, rng: np.random.Generator, style: Style) -> pa.Table:
    n = len(r)
    columns: dict[str, pa.Array] = {}
    for name in COLUMNS[r.form]:
        if name not in r.times:
            columns[name] = r.text[name]
            continue
        secs = r.times[name]
        if name in DATE_COLUMNS:
            columns[name] = format_times(secs, date_only=True)
            continue
        text = format_times(secs, style.sep)
        if name == "event_time" and r.form in ARCHIVE_FORM_IDS:
            midnight = (secs % DAY == 0) & (secs != MISSING)
            text = pc.if_else(pa.array(midnight), format_times(secs, date_only=True), text)
        elif name in ("event_time", "upload_time") and style.offset_share > 0:
            marked = (rng.random(n) < style.offset_share) & (secs != MISSING)
            zulu = marked & (rng.random(n) < 0.3)
            text = pc.if_else(pa.array(marked & ~zulu), _join(text, "+08:00"), text)
            utc = format_times(np.where(secs == MISSING, MISSING, secs - 8 * HOUR), style.sep)
            text = pc.if_else(pa.array(zulu), _join(utc, "Z"), text)
        columns[name] = text
    for name, items in r.overrides.items():
        idx = np.concatenate([i for i, _ in items])
        if not len(idx):
            continue
        values = [v for _, vs in items for v in vs]
        positions, first_from_end = np.unique(idx[::-1], return_index=True)  # the last override wins
        chosen = len(idx) - 1 - first_from_end
        mask = np.zeros(n, dtype=bool)
        mask[positions] = True
        replacement = pa.array([values[k] for k in chosen], pa.string())
        columns[name] = pc.replace_with_mask(columns[name], pa.array(mask), replacement)
    return pa.table(columns)


_STRUCTURAL = '[,"\r\n]'
_TOKEN = re.compile(rb"\x1a(\d+)\x1a")


def csv_bytes(table: pa.Table, header: bool = True, crlf: bool = False, encoding: str = "utf-8") -> bytes:
    """The table as CSV (quotes only where needed, empty cells for nulls) in the given encoding."""
    quoted: list[bytes] = []
    columns = []
    for chunked in table.columns:
        column = chunked.combine_chunks()
        needs = pc.fill_null(pc.match_substring_regex(column, _STRUCTURAL), False)
        if pc.any(needs).as_py():
            values = pc.filter(column, needs).to_pylist()
            tokens = [f"\x1a{len(quoted) + k}\x1a" for k in range(len(values))]
            quoted.extend(('"' + v.replace('"', '""') + '"').encode() for v in values)
            column = pc.replace_with_mask(column, needs, pa.array(tokens, pa.string()))
        columns.append(column)
    sink = pa.BufferOutputStream()
    options = pa_csv.WriteOptions(include_header=False, quoting_style="none")
    pa_csv.write_csv(pa.table(columns, names=table.column_names), sink, options)
    data = sink.getvalue().to_pybytes()
    if header:  # pyarrow quotes header names; the names never need it
        data = (",".join(table.column_names) + "\n").encode() + data
    if quoted:
        data = _TOKEN.sub(lambda m: quoted[int(m.group(1))], data)
    if crlf:
        data = data.replace(b"\n", b"\r\n")
    return data if encoding == "utf-8" else data.decode("utf-8").encode(encoding)


@dataclass(frozen=True)
class FormRows:
    """One form's rows for one upload batch."""

    table: pa.Table  # in upload order; includes the corrections unless they were asked for apart
    corrections: pa.Table | None
    invalid_rows: int
    correction_rows: int


def _later_uploads(rng: np.random.Generator, upload: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Re-upload times: minutes to days later, on an upload day, never after the last one."""
    n = len(upload)
    wanted = upload + rng.integers(600, 3 * DAY, n)
    pos = np.searchsorted(days, wanted // DAY)
    exists = pos < len(days)
    next_day = days[np.minimum(pos, len(days) - 1)]
    on_day = exists & (next_day == wanted // DAY)
    moved = next_day * DAY + rng.integers(HOUR, 20 * HOUR, n)
    same_day = upload + rng.integers(1, 60, n)
    return np.where(on_day, wanted, np.where(exists, moved, same_day))


def form_table(
    form: str,
    rows: int,
    rng: np.random.Generator,
    org_codes: Sequence[str],
    days: np.ndarray,
    pool: Patients,
    *,
    realtime_share: float = 1.0,
    correction_share: float = 0.02,
    invalid_share: float = 0.0,
    region: str = "320102",
    style: Style = Style(),
    first_seq: int = 0,
    separate_corrections: bool = False,
    skip_defects: frozenset[str] = frozenset(),
) -> FormRows:
    """`rows` rows of `form` uploaded on `days` (sorted day numbers since 1970-01-01).

    `realtime_share` of the first uploads reach the platform within 24 h of the event, the rest 1-10
    days late (real-time forms; archive forms are uploaded days to years after the event).
    `correction_share` of the records are uploaded again later (those rows count in `rows`); about
    40% of them re-upload a record whose first upload was invalid. `invalid_share` of all rows get
    exactly one defect, of the kinds `defect_names(form)` less `skip_defects` (e.g. skip
    "time_format" to keep every time readable). Rows pick an org code from `org_codes` and a
    patient from `pool`; record ids are numbered from `first_seq` (unique across calls).
    """
    n_corr = min(_stochastic_round(rows * correction_share / (1 + correction_share), rng), rows // 2)
    n_base = rows - n_corr
    bad = rng.choice(rows, min(_stochastic_round(invalid_share * rows, rng), rows), replace=False)
    who = rng.choice(len(pool), n_base)
    if form in ARCHIVE_FORM_IDS:
        event, upload = _archive_times(form, rng, days, pool.birth[who])
    else:
        realtime = np.zeros(n_base, dtype=bool)
        realtime[rng.choice(n_base, min(_stochastic_round(realtime_share * n_base, rng), n_base), replace=False)] = True
        event, upload = _upload_and_event(rng, n_base, realtime, days)
    base = _build(form, rng, who, event, upload, pool, region)
    if len(org_codes) == 1:
        base.text["org_code"] = pa.array([org_codes[0]] * n_base, pa.string())
    else:
        base.text["org_code"] = _pick(rng, org_codes, n_base)
    stamp = pc.replace_substring(format_times(event, date_only=True), "-", "")
    base.text["record_id"] = _join(RECORD_PREFIX[form], stamp, _as_text(np.arange(n_base) + first_seq, 8))

    base_bad = bad[bad < n_base]
    fix = rng.choice(base_bad, min(len(base_bad), _stochastic_round(n_corr * 0.4, rng)), replace=False)
    rest = rng.choice(np.setdiff1d(np.arange(n_base), fix), n_corr - len(fix), replace=False)
    sources = np.concatenate([fix, rest]).astype(np.int64)
    everything = base.take(np.concatenate([np.arange(n_base), sources]))
    everything.times["upload_time"][n_base:] = _later_uploads(rng, upload[sources], days)
    uploaded = everything.times["upload_time"].copy()
    _spoil(everything, bad, rng, skip_defects)
    table = _finish(everything, rng, style)
    if separate_corrections and n_corr:
        first = table.slice(0, n_base).take(pa.array(np.argsort(uploaded[:n_base], kind="stable")))
        later = table.slice(n_base).take(pa.array(np.argsort(uploaded[n_base:], kind="stable")))
        return FormRows(first, later, len(bad), n_corr)
    return FormRows(table.take(pa.array(np.argsort(uploaded, kind="stable"))), None, len(bad), n_corr)


# -- institutions and the batch ---------------------------------------------------------------------


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
    realtime_shares: tuple[tuple[str, float], ...]  # intended real-time share per real-time form uploaded
    missed_days: tuple[date, ...]  # days of the period without any upload

    def realtime_share(self, form: str) -> float | None:
        return dict(self.realtime_shares).get(form)


@dataclass(frozen=True)
class GeneratedBatch:
    outdir: Path
    registry: Path
    files: tuple[Path, ...]
    rows: int
    invalid_rows: int
    correction_rows: int
    institutions: tuple[InstitutionPlan, ...]


def org_code(rng: np.random.Generator, region: str, kind: str = "12") -> str:
    """A unified social credit code: registration kind, region, a 9-character body, check character."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = "".join(alphabet[i] for i in rng.integers(0, 10, 8)) + alphabet[int(rng.integers(0, 31))]
    first17 = kind + region + body
    return first17 + gb32100_check_char(first17)


def _names(count: int) -> list[tuple[str, str]]:
    """Hospital names of the published table first, then community health centres district by district."""
    names = [(row[0], row[1]) for row in PUBLISHED_2022]
    streets = [(d, s) for k in range(6) for d, (_, _, ss) in DISTRICTS.items() for s in ss[k : k + 1]]
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
        shares[form] = float(np.clip(drawn, 0.01, 0.995)) if realtime_share is None else realtime_share
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


def _allocate(weights: np.ndarray, total: int) -> np.ndarray:
    """Whole counts proportional to `weights` summing to `total` (largest remainder), at least 1 each
    while there are enough."""
    share = weights / weights.sum() * total
    counts = np.floor(share).astype(np.int64)
    counts[np.argsort(counts - share)[: total - counts.sum()]] += 1
    for cell in np.flatnonzero(counts == 0):
        donor = int(np.argmax(counts))
        if counts[donor] > 1:
            counts[donor] -= 1
            counts[cell] += 1
    return counts


def _plan(
    rng: np.random.Generator,
    institutions: int,
    rows: int,
    period: Period,
    realtime_share: float | None,
    missed_day_share: float | None,
    missing_form_share: float | None,
    unregistered: int,
) -> list[InstitutionPlan]:
    plans = []
    profiles = _profiles(rng, institutions)
    gb = int(rng.integers(0, institutions))
    crlf = {gb, int(rng.integers(0, institutions))}
    left_out = set(rng.permutation(range(1, institutions))[:unregistered].tolist()) if institutions > 1 else set()
    for i, ((name, district), profile) in enumerate(zip(_names(institutions), profiles)):
        community = i >= len(PUBLISHED_2022)
        folder, region, _ = DISTRICTS[district]
        forms, shares = _forms_and_shares(rng, profile, community, realtime_share, missing_form_share)
        days_share = 1 - PUBLISHED_2022[profile][3] / 365 if missed_day_share is None else missed_day_share
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
            plans[k] = replace(plans[k], forms=forms, realtime_shares=tuple((f, shares[f]) for f in forms if f in shares))
    weights = np.array(
        [np.sqrt(PUBLISHED_2022[p][2]) * (0.05 if i >= len(PUBLISHED_2022) else 1.0) for i, p in enumerate(profiles)]
    )
    counts = _allocate(weights, rows)
    return [replace(p, rows=int(c)) for p, c in zip(plans, counts)]


def generate_batch(
    outdir: Path,
    institutions: int = 12,
    rows: int = 20_000,
    period: Period = DEFAULT_PERIOD,
    seed: int = 0,
    realtime_share: float | None = None,
    correction_share: float = 0.02,
    invalid_share: float = 0.01,
    missed_day_share: float | None = None,
    missing_form_share: float | None = None,
    *,
    registry: Path | None = None,
    unregistered: int = 1,
) -> GeneratedBatch:
    """Write a realistic batch of uploads to `outdir` and return what was written.

    Layout: `outdir/<district pinyin>/<org_code>/<form_id>.csv` (sometimes also
    `<form_id>_corrections.csv`), and the registry (org_code,name,district) at `registry`
    (default `outdir/registry.csv`). Existing files of the same names are overwritten.

    The knobs:
    - `institutions`: how many; named after the hospitals of the 2022 Nanjing table, then community
      health centres. Each one is modelled on a row of that table (forms covered, real-time rates,
      upload days), one of each kind first: full coverage, no real-time data, partial coverage,
      many missed days.
    - `rows`: rows written in total (corrections included), split across institutions like the
      table's upload volumes (compressed) and across forms like a hospital's.
    - `period`: uploads fall on the days of this period (default March 2022); events may precede it.
    - `seed`: the same seed writes the same bytes.
    - `realtime_share`: when given, every institution uploads this share of its real-time forms'
      records within 24 h of the event and the rest 1-10 days late; else drawn per institution
      and form from the table (20%-99%, some forms never in real time).
    - `correction_share`: share of records uploaded a second time later (same org_code and
      record_id); about 40% of them fix a record whose first upload was invalid.
    - `invalid_share`: share of rows with exactly one defect (bad check character, code, pattern,
      missing value, unreadable time or number, broken cross-field rule...).
    - `missed_day_share`: when given, every institution uploads nothing on this share of the
      period's days; else drawn from the table (most miss a few days, some most of them).
    - `missing_form_share`: when given, every institution leaves out this share of the 11
      real-time forms; else drawn from the table (11/11, 10/11, 6/11, 5/11 or 0/11).
    - `unregistered`: institutions left out of the registry (so the audit flags them).
    One institution writes GB18030 with CRLF line ends (a Chinese Excel export), another CRLF.
    """
    outdir = Path(outdir)
    registry = Path(registry) if registry is not None else outdir / "registry.csv"
    plans = _plan(
        np.random.default_rng([seed, 0]),
        institutions,
        rows,
        period,
        realtime_share,
        missed_day_share,
        missing_form_share,
        unregistered,
    )
    all_days = np.arange(np.datetime64(period.start, "D"), np.datetime64(period.end, "D") + 1).astype(np.int64)
    files: list[Path] = []
    invalid = corrections = 0
    for i, plan in enumerate(plans):
        rng = np.random.default_rng([seed, 1, i])
        missed = np.array([np.datetime64(d, "D") for d in plan.missed_days], dtype="datetime64[D]").astype(np.int64)
        days = np.setdiff1d(all_days, missed)
        born_before = (np.datetime64(period.start, "D") - 15).item()
        pool = make_patients(rng, max(plan.rows // 3, 50), born_before)
        style = Style("T" if rng.random() < 0.1 else " ", 0.02 if rng.random() < 0.3 else 0.0)
        region = DISTRICTS[plan.district][1]
        weights = np.array([FORM_WEIGHTS[f] for f in plan.forms])
        folder = outdir / plan.folder / plan.org_code
        folder.mkdir(parents=True, exist_ok=True)
        for form, count in zip(plan.forms, _allocate(weights, plan.rows) if plan.forms else []):
            if count == 0:
                continue
            made = form_table(
                form,
                int(count),
                rng,
                [plan.org_code],
                days,
                pool,
                realtime_share=plan.realtime_share(form) or 0.0,
                correction_share=correction_share,
                invalid_share=invalid_share,
                region=region,
                style=style,
                separate_corrections=rng.random() < 0.3,
            )
            invalid += made.invalid_rows
            corrections += made.correction_rows
            for suffix, table in (("", made.table), ("_corrections", made.corrections)):
                if table is None:
                    continue
                path = folder / f"{form}{suffix}.csv"
                path.write_bytes(csv_bytes(table, crlf=plan.crlf, encoding=plan.encoding))
                files.append(path)
    registry.parent.mkdir(parents=True, exist_ok=True)
    lines = ["org_code,name,district"] + [f"{p.org_code},{p.name},{p.district}" for p in plans if p.registered]
    registry.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return GeneratedBatch(outdir, registry, tuple(files), sum(p.rows for p in plans), invalid, corrections, tuple(plans))

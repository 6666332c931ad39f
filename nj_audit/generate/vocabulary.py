"""The forms' columns and the values that fill them: code sets and realistic word lists."""

from __future__ import annotations

from ..forms import FORM_IDS, REALTIME_FORM_IDS
from ..schemas import DATE, load_schema

# -- the forms -------------------------------------------------------------------------------------

ARCHIVE_FORM_IDS = tuple(f for f in FORM_IDS if f not in REALTIME_FORM_IDS)
PATIENT_FORMS = (
    "outpatient_registration",
    "outpatient_visit",
    "inpatient_admission",
    "inpatient_discharge",
)
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
# every column of every form, in schema order, read from the schema files (not written twice)
_SCHEMA_COLUMNS = {form: load_schema(form).columns for form in FORM_IDS}
COLUMNS: dict[str, tuple[str, ...]] = {
    form: tuple(c.name for c in columns) for form, columns in _SCHEMA_COLUMNS.items()
}
REQUIRED: dict[str, frozenset[str]] = {
    form: frozenset(c.name for c in cs if c.required) for form, cs in _SCHEMA_COLUMNS.items()
}
DATE_COLUMNS = frozenset(
    c.name for columns in _SCHEMA_COLUMNS.values() for c in columns if c.kind == DATE
)

# -- code sets and realistic vocabularies ---------------------------------------------------------


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


DEPTS = _words(
    "03 03.01 03.02 03.03 03.04 03.05 04 04.01 04.02 04.03 05.01 05.02 07 07.01 10 11 12 16 32 50"
)
OUTPATIENT_DIAGNOSES = _words(
    "J06.900 I10.x00x002 E11.900 K29.700 J20.900 M54.500 R50.900 K52.900 N39.000 L30.900 H52.100 "
    "K02.900 Z00.000 I25.103 J02.900"
)
INPATIENT_DIAGNOSES = _words(
    "I63.900 J44.100 K80.100 C34.900 S72.000 I21.900 J18.900 O80.000 K35.800 I50.900 E11.900 "
    "N18.500 C16.900 I10.x00x002"
)
PROCEDURES = _words(
    "36.0601 47.0901 51.2301 81.5101 74.1x01 68.4901 13.4100x001 45.4201 85.4101 37.2201 79.3501 "
    "00.6600x004"
)
PAYMENT = _words("01 01 01 02 02 03 04 05 06 07 07 08 99")
DRUGS = _words(
    "Y0010231 Y0020455 Y0031078 Y0040012 Y0051193 Y0062207 Y0070316 Y0081420 ZY001203 ZY004417 "
    "Y0093305 Y0100876"
)
LAB_ITEMS = _words("WBC RBC HGB PLT GLU ALT AST CREA UA TC TG K NA CRP HBsAg")
LAB_RESULTS = _words(
    "6.8 4.52 135 212 5.6 23 19 78.4 356 4.87 1.62 4.1 141.2 <0.50 阴性 阳性(+) 3.2"
)
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
SURNAMES = tuple(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
)
GIVEN = tuple(
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建文辉力国荣健鹏宇浩凯婷雪琳晨欣怡梓涵子轩"
)
ID_REGIONS = _words(
    "320102 320104 320105 320106 320111 320113 320114 320115 320116 320117 320118 320281 320382 "
    "320411 321002 321181 340104 341122 370102 410105"
)

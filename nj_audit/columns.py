"""The columns of the CSV files the tool writes, and how a file is recognised as one of the
tool's own reports (so that a report saved among the uploads is never read back as an upload)."""

from __future__ import annotations

# The published table's columns (docs/contract.md § 1 and § 8), in its order, then the audit's own.
TABLE_COLUMNS = (
    ("institution", "接入单位"),
    ("rows_uploaded", "数据上传量"),
    ("upload_days", "数据上传天数"),
    ("forms", "实时数据表单上传情况"),
    ("outpatient_visits", "门急诊人次"),
    ("outpatient_rate", "门急诊实时数据符合率"),
    ("discharges", "出院人次"),
    ("discharge_rate", "出院实时数据符合率"),
    ("org_code", "机构代码"),
    ("district", "所属区"),
    ("valid_ratio", "数据有效率"),
    ("period_days", "统计天数"),
    ("status", "状态"),
    ("flags", "预警"),
)
# `--by district`: the published district table's columns (the hospital table's, the district
# first, then the residents with archives of § 4.10), how its members fared, then the audit's own
DISTRICT_COLUMNS = (
    ("district", "接入单位"),
    *TABLE_COLUMNS[1:8],
    ("records_basic", "基本信息"),
    ("records_hypertension", "高血压"),
    ("records_diabetes", "糖尿病"),
    ("members", "成员机构数"),
    ("members_failing", "不合格成员数"),
    ("worst_member_status", "成员最差状态"),
    *TABLE_COLUMNS[10:],
)
RESIDENT_COLUMNS = {
    "records_basic": "health_record",
    "records_hypertension": "hypertension_followup",
    "records_diabetes": "diabetes_followup",
}
# validate's --failures file
FAILURE_COLUMNS = ("file", "line", "form", "column", "check", "value")

_REPORT_HEADERS = (
    ",".join(en for en, _ in TABLE_COLUMNS),
    ",".join(zh for _, zh in TABLE_COLUMNS),
    ",".join(en for en, _ in DISTRICT_COLUMNS),
    ",".join(zh for _, zh in DISTRICT_COLUMNS),
    ",".join(FAILURE_COLUMNS),
)
# The first line of the other formats: JSON, JUnit XML, Markdown, the table
_REPORT_STARTS = ("{", "<?xml", "## nj-audit", "Real-time upload audit", "实时上传稽核")


def is_report_header(first_line: str) -> bool:
    """Whether a file whose first line is `first_line` is a report nj-audit wrote."""
    line = first_line.strip().lstrip("\ufeff")
    return line in _REPORT_HEADERS or line.startswith(_REPORT_STARTS)

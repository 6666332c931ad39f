"""Every text a person reads, in English and Chinese: one table per language, the same keys in
both (a test holds it). Codes (flags, checks, reasons, statuses) stay English in JSON; what a
person reads is `text(key, lang, **values)`, `status_word`, `flag_name` and `flag_text`.

The language: `--lang`, else `NJ_AUDIT_LANG`, else `lang` in `[tool.nj-audit]`, else the locale
(`LC_ALL`, `LC_MESSAGES`, `LANG`: `zh_CN.UTF-8` and every `zh*` is Chinese), else English."""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

from . import messages

if TYPE_CHECKING:
    from .results import Flag

LANGS = ("en", "zh")

EN: dict[str, str] = {
    # status words and the gate
    "status.ok": "ok",
    "status.warn": "warn",
    "status.fail": "fail",
    "gate.passed": "PASSED",
    "gate.failed": "FAILED",
    "policy.defaults": "policy: defaults",
    "policy.file": "policy: {source}",
    # the audit table
    "audit.title": "Real-time upload audit, {period}",
    "period": "{start} to {end} ({days} days)",
    "period.none": "period not stated",
    "col.rank": "#",
    "col.institution": "institution",
    "col.district": "district",
    "col.rows": "rows",
    "col.days": "days",
    "col.upload_days": "upload days",
    "col.forms": "forms",
    "col.outpatient": "outpatient",
    "col.discharge": "discharge",
    "col.validity": "validity",
    "col.status": "status",
    "col.flags": "flags",
    "col.file": "file",
    "col.reason": "reason",
    "col.message": "message",
    "note.skipped": "skipped",
    "note.no_form": "(no form matches its name)",
    "note.own_report": "(a report written by nj-audit)",
    "note.unreadable": "unreadable",
    "verdict": "gate {gate} ({why}): {count} institutions, {ok} ok, {warn} warn, {fail} fail",
    "verdict.districts": (
        "gate {gate} ({why}): {count} districts, {ok} ok, {warn} warn, {fail} fail"
    ),
    "col.members": "members",
    "col.members_failing": "failing members",
    "verdict.empty": "no data rows were read",
    "verdict.unreadable": ", {files} unreadable",
    "files.one": "{count} file",
    "files.many": "{count} files",
    # Markdown and JUnit
    "md.heading.passed": "## nj-audit: passed",
    "md.heading.failed": "## nj-audit: failed",
    "md.period": "Period {period}; real-time window {window} s.",
    "md.no_period": "Period not stated; real-time window {window} s.",
    "md.unreadable": "### Unreadable files",
    "junit.no_data": "no data rows",
    # validate
    "validate.all_valid": "{rows} rows, all valid",
    "validate.no_rows": "no row read",
    "validate.title": "{form}: {invalid} of {rows} rows invalid",
    "col.check": "check",
    "col.column": "column",
    "col.share": "share",
    "col.examples": "examples",
    "col.first_lines": "first lines",
    "col.form": "form",
    "validate.valid": "valid",
    "validate.invalid": "invalid",
    "validate.empty": "{verdict}: no data rows were read{allowed}{unreadable}",
    "validate.pass": "{verdict}: all {rows} rows pass every rule{unreadable}",
    "validate.fail": "invalid: {invalid} of {rows} rows ({share}) fail at least one rule"
    "{unreadable}",
    "validate.unreadable": "; {files} could not be read",
    "validate.md.heading": "## nj-audit validate: {verdict}",
    "validate.md.all_valid": "All rows valid: {forms}.",
    "validate.md.form_rows": "{form} ({rows} rows)",
    # schemas
    "schemas.title": "Forms (docs/contract.md § 3)",
    "schemas.tables": "Published tables (docs/contract.md § 8): --schema NAME",
    "col.schema": "schema",
    "col.label": "名称",
    "col.kind": "kind",
    "col.columns": "columns",
    "col.rules": "rules",
    "kind.realtime": "real-time",
    "kind.archive": "archive",
    "col.name": "column",
    "col.chinese": "中文",
    "col.description": "description",
    "col.type": "type",
    "col.required": "required",
    "required.yes": "yes",
    "required.no": "optional",
    "schemas.cross": "Cross-field rules:",
    "schemas.headers": "Header names: each column's name or its 中文 label (mixed in one file);"
    " event_time also as 业务发生时间.",
    "schemas.files": "File names: {form}*.csv[.gz]|.parquet in any case ({upper}.CSV), or the"
    " Chinese name ({label}.csv, {label}_20230301.csv).",
    # diagnostics and progress
    "diag.error": "error:",
    "diag.warning": "warning:",
    "progress.rows": "rows",
    # flag names (their codes in English)
    "flag.coverage": "coverage",
    "flag.outpatient_rate": "outpatient_rate",
    "flag.discharge_rate": "discharge_rate",
    "flag.upload_days": "upload_days",
    "flag.validity": "validity",
    "flag.no_data": "no_data",
    "flag.unregistered": "unregistered",
    "flag.no_uploads": "no_uploads",
    "flag.members": "members",
    "flag.unreadable_file": "unreadable_file",
    "flag.invalid_row": "invalid_row",
    "flag.regression": "regression:{metric}",
    # flag messages (catalogue.py writes the English ones; these are their translations)
    "msg.below": "{subject} is below the {level} threshold {threshold}",
    "subject.coverage": "forms covered {value}",
    "subject.outpatient_rate": "outpatient rate {value}",
    "subject.discharge_rate": "discharge rate {value}",
    "subject.upload_days": "upload day ratio {value}",
    "subject.validity": "valid ratio {value}",
    "msg.no_data": "no {kinds} real-time data (rate is /)",
    "kind.outpatient": "outpatient",
    "kind.discharge": "discharge",
    "kinds.or": " or ",
    "msg.unregistered": "org_code is not in the registry",
    "msg.invalid_row": "line {line} fails the summary schema: {checks}",
    "msg.no_uploads": "registered, but no row in the period",
    "msg.members": "{count} of {members} member institutions fail",
    "msg.no_uploads_district": "{count} registered institution(s) without a row in the period",
    "msg.unreadable_file": "{count} file(s) could not be read",
    # xlsx sheets
    "sheet.table": "audit",
    "sheet.forms": "forms",
    "sheet.checks": "checks",
    "col.records": "records",
    "col.valid_records": "valid records",
    "col.realtime_records": "real-time records",
    "col.rate": "real-time rate",
    "col.failures": "failures",
}

ZH: dict[str, str] = {
    "status.ok": "正常",
    "status.warn": "预警",
    "status.fail": "不合格",
    "gate.passed": "通过",
    "gate.failed": "未通过",
    "policy.defaults": "策略：默认",
    "policy.file": "策略：{source}",
    "audit.title": "实时上传稽核，{period}",
    "period": "{start} 至 {end}（{days} 天）",
    "period.none": "未指定统计期",
    "col.rank": "#",
    "col.institution": "接入单位",
    "col.district": "所属区",
    "col.rows": "上传量",
    "col.days": "天数",
    "col.upload_days": "上传天数",
    "col.forms": "表单",
    "col.outpatient": "门急诊",
    "col.discharge": "出院",
    "col.validity": "有效率",
    "col.status": "状态",
    "col.flags": "预警项",
    "col.file": "文件",
    "col.reason": "原因",
    "col.message": "说明",
    "note.skipped": "已跳过",
    "note.no_form": "（文件名不对应任何表单）",
    "note.own_report": "（nj-audit 生成的报告）",
    "note.unreadable": "无法读取",
    "verdict": "门禁{gate}（{why}）：{count} 家机构，正常 {ok}，预警 {warn}，不合格 {fail}",
    "verdict.districts": "门禁{gate}（{why}）：{count} 个区，正常 {ok}，预警 {warn}，不合格 {fail}",
    "col.members": "成员",
    "col.members_failing": "不合格成员",
    "verdict.empty": "未读到任何数据行",
    "verdict.unreadable": "，{files}无法读取",
    "files.one": "{count} 个文件",
    "files.many": "{count} 个文件",
    "md.heading.passed": "## nj-audit：通过",
    "md.heading.failed": "## nj-audit：未通过",
    "md.period": "统计期 {period}；实时窗口 {window} 秒。",
    "md.no_period": "未指定统计期；实时窗口 {window} 秒。",
    "md.unreadable": "### 无法读取的文件",
    "junit.no_data": "无数据行",
    "validate.all_valid": "{rows} 行，全部有效",
    "validate.no_rows": "未读到任何行",
    "validate.title": "{form}：{rows} 行中 {invalid} 行无效",
    "col.check": "规则",
    "col.column": "字段",
    "col.share": "占比",
    "col.examples": "示例",
    "col.first_lines": "前几行",
    "col.form": "表单",
    "validate.valid": "有效",
    "validate.invalid": "无效",
    "validate.empty": "{verdict}：未读到任何数据行{allowed}{unreadable}",
    "validate.pass": "{verdict}：全部 {rows} 行通过所有规则{unreadable}",
    "validate.fail": "无效：{rows} 行中 {invalid} 行（{share}）至少违反一条规则{unreadable}",
    "validate.unreadable": "；{files}无法读取",
    "validate.md.heading": "## nj-audit 校验：{verdict}",
    "validate.md.all_valid": "全部有效：{forms}。",
    "validate.md.form_rows": "{form}（{rows} 行）",
    "schemas.title": "表单（docs/contract.md § 3）",
    "schemas.tables": "统计表（docs/contract.md § 8）：--schema 名称",
    "col.schema": "模式",
    "col.label": "名称",
    "col.kind": "类型",
    "col.columns": "字段数",
    "col.rules": "规则数",
    "kind.realtime": "实时",
    "kind.archive": "归档",
    "col.name": "字段",
    "col.chinese": "中文",
    "col.description": "英文说明",
    "col.type": "数据类型",
    "col.required": "必填",
    "required.yes": "是",
    "required.no": "否",
    "schemas.cross": "跨字段规则：",
    "schemas.headers": "表头：每个字段可用英文名或中文名（同一文件可混用）；event_time 也可写作"
    " 业务发生时间。",
    "schemas.files": "文件名：{form}*.csv[.gz]|.parquet，大小写不限（{upper}.CSV），或中文表单名"
    "（{label}.csv、{label}_20230301.csv）。",
    "diag.error": "错误：",
    "diag.warning": "警告：",
    "progress.rows": "行",
    "flag.coverage": "表单覆盖不足",
    "flag.outpatient_rate": "门急诊符合率低",
    "flag.discharge_rate": "出院符合率低",
    "flag.upload_days": "上传天数不足",
    "flag.validity": "有效率低",
    "flag.no_data": "无实时数据",
    "flag.unregistered": "未登记",
    "flag.no_uploads": "无上传",
    "flag.members": "成员不合格",
    "flag.unreadable_file": "文件无法读取",
    "flag.invalid_row": "行不合规",
    "flag.regression": "指标回退（{metric}）",
    "msg.below": "{subject}低于{level}阈值 {threshold}",
    "subject.coverage": "表单覆盖 {value} ",
    "subject.outpatient_rate": "门急诊符合率 {value} ",
    "subject.discharge_rate": "出院符合率 {value} ",
    "subject.upload_days": "上传天数比 {value} ",
    "subject.validity": "有效率 {value} ",
    "msg.no_data": "无{kinds}实时数据（符合率为 /）",
    "kind.outpatient": "门急诊",
    "kind.discharge": "出院",
    "kinds.or": "或",
    "msg.unregistered": "机构代码不在登记表中",
    "msg.invalid_row": "第 {line} 行不符合汇总表规则：{checks}",
    "msg.no_uploads": "已登记，但统计期内无数据",
    "msg.members": "{members} 家成员机构中 {count} 家不合格",
    "msg.no_uploads_district": "{count} 家已登记机构统计期内无数据",
    "msg.unreadable_file": "{count} 个文件无法读取",
    "sheet.table": "稽核",
    "sheet.forms": "各表单",
    "sheet.checks": "规则失败",
    "col.records": "记录数",
    "col.valid_records": "有效记录数",
    "col.realtime_records": "实时记录数",
    "col.rate": "实时符合率",
    "col.failures": "失败数",
}
TABLES = {"en": EN | messages.EN, "zh": ZH | messages.ZH}  # one catalogue, in two modules


def text(key: str, lang: str = "en", **values: object) -> str:
    """The text of `key` in `lang`, formatted with `values`."""
    template = TABLES.get(lang, EN)[key]
    return template.format(**values) if values else template


def check_name(check: str, lang: str = "en") -> str:
    """A check's name (what it means, in a few words); a check no catalogue knows (a custom
    schema's pandera check) is named by its code."""
    return TABLES.get(lang, EN).get(f"check.{check}", check)


def reason_name(reason: str, lang: str = "en") -> str:
    """Why a file could not be read (contract § 2.3), in a few words; an unknown code as it is."""
    return TABLES.get(lang, EN).get(f"reason.{reason}", reason)


def status_word(status: str, lang: str = "en") -> str:
    """ok/warn/fail as a person reads it: 正常/预警/不合格 in Chinese."""
    return text(f"status.{status}", lang)


def flag_name(flag: str, lang: str = "en") -> str:
    """A flag's name: its code in English, its label in Chinese (`regression:METRIC` too)."""
    if lang == "en":
        return flag
    if flag.startswith("regression:"):
        return text("flag.regression", lang, metric=flag.partition(":")[2])
    return text(f"flag.{flag}", lang) if f"flag.{flag}" in ZH else flag


def finding_label(finding: str, lang: str = "en") -> str:
    """A history finding's name: a flag's (`regression:METRIC` too), or for
    `check:FORM.COLUMN.CHECK` the check's name."""
    if finding.startswith("check:"):
        return check_name(finding.rpartition(".")[2], lang)
    return flag_name(finding, lang)


# The English messages catalogue.py writes, recognised to be told in Chinese.
_SUBJECTS = {
    "forms covered": "coverage",
    "outpatient rate": "outpatient_rate",
    "discharge rate": "discharge_rate",
    "upload day ratio": "upload_days",
    "valid ratio": "validity",
}
_BELOW = re.compile(
    r"(?P<subject>forms covered|outpatient rate|discharge rate|upload day ratio|valid ratio)"
    r" (?P<value>\S+) is below the (?P<level>warn|fail) threshold (?P<threshold>\S+)"
)
_PATTERNS = (
    (re.compile(r"no (?P<kinds>[a-z ]+) real-time data \(rate is /\)"), "msg.no_data"),
    (re.compile(r"org_code is not in the registry"), "msg.unregistered"),
    (re.compile(r"line (?P<line>\d+) fails the summary schema: (?P<checks>.*)"), "msg.invalid_row"),
    (re.compile(r"registered, but no row in the period"), "msg.no_uploads"),
    (
        re.compile(r"(?P<count>\d+) registered institutions? without a row in the period"),
        "msg.no_uploads_district",
    ),
    (re.compile(r"(?P<count>\d+) files? could not be read"), "msg.unreadable_file"),
    (re.compile(r"(?P<count>\d+) of (?P<members>\d+) member institutions fail"), "msg.members"),
)


def message_text(message: str, lang: str = "en") -> str:
    """A flag's message in `lang` (English as catalogue.py wrote it; a message of no known
    template, as a regression's, stays as it is)."""
    if lang == "en":
        return message
    if match := _BELOW.fullmatch(message):
        flag = _SUBJECTS[match["subject"]]
        subject = text(f"subject.{flag}", lang, value=match["value"])
        level = status_word(match["level"], lang)
        return text("msg.below", lang, subject=subject, level=level, threshold=match["threshold"])
    for pattern, key in _PATTERNS:
        if match := pattern.fullmatch(message):
            values = match.groupdict()
            if "kinds" in values:
                kinds = values["kinds"].split(" or ")
                values["kinds"] = text("kinds.or", lang).join(
                    text(f"kind.{k}", lang) if f"kind.{k}" in EN else k for k in kinds
                )
            return text(key, lang, **values)
    return message


def flag_text(flag: Flag, lang: str = "en") -> str:
    """A flag's message in `lang`."""
    return message_text(flag.message, lang)


def files_text(count: int, lang: str = "en") -> str:
    return text("files.one" if count == 1 else "files.many", lang, count=count)


def policy_text(source: str, lang: str = "en") -> str:
    """`policy: defaults` / `策略：默认`, or the file that set the thresholds."""
    from .policy import DEFAULTS

    if source == DEFAULTS:
        return text("policy.defaults", lang)
    return text("policy.file", lang, source=source)


def default_lang(configured: str | None = None) -> str:
    """The language when no --lang is given: NJ_AUDIT_LANG, the policy's `lang`, the locale."""
    chosen = os.environ.get("NJ_AUDIT_LANG", "").strip().lower()
    if chosen in LANGS:
        return chosen
    if configured in LANGS:
        return configured
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable)
        if value:  # the first one set decides, as for gettext
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"

"""The catalogue's second table (texts.py merges it into its own): the checks' names, the error
messages a user sees from the command line, and the state commands' texts, in English and
Chinese, with the same keys and the same `{fields}` in both (a test holds it).

An error is raised with `said(key, **values)` (texts.py): an English string that remembers its
key and values, so that the command line can tell it again in the run's language, with the key's
code in brackets (`[no_such_file]`) for searching."""

from __future__ import annotations

from .catalogue import CHECKS

# -- the checks' names (JSON `label` of a check count); English: the catalogue's titles ----------
_CHECKS_ZH = {
    "missing_column": "文件缺少必填字段",
    "required": "必填值缺失",
    "time_format": "时间格式不是 YYYY-MM-DD[ HH:MM:SS][+08:00]",
    "number_format": "不是普通十进制数",
    "field_count": "该行字段数与表头不一致",
    "unterminated_quote": "引号未闭合",
    "unparseable_row": "该行无法按 CSV 解析",
    "value_too_long": "值超过 1 MiB",
    "line_too_long": "行超过 16 MiB（不再继续读取）",
    "nul_byte": "值含 NUL 字节",
    "byte_order_mark": "行首有字节顺序标记（文件被拼接？）",
    "isin": "取值不在代码集中",
    "str_length": "文本长度不符合要求",
    "str_matches": "文本不符合规定格式",
    "in_range": "数值超出允许范围",
    "greater_than": "数值未超过下限",
    "greater_than_or_equal_to": "数值低于下限",
    "gb32100": "统一社会信用代码（GB 32100-2015）校验不通过",
    "id_card_format": "身份证号格式（17 位数字加数字或 X）",
    "id_card_checksum": "身份证号校验码（GB 11643-1999）",
    "id_card_birth_date": "身份证号第 7-14 位不是有效日期",
    "no_whitespace": "值中含空白字符",
    "not_before_date": "时间早于最早允许日期",
    "not_after": "时间或数值晚于（大于）另一字段",
    "not_before": "时间或数值早于（小于）另一字段",
    "greater_than_column": "数值不大于另一字段",
    "at_most_before": "时间早于另一字段过多",
    "id_card_birth_date_matches": "身份证号中的出生日期与出生日期字段一致",
    "id_card_sex_matches": "身份证号性别位与性别代码一致",
    "rate_format": "比率写作 95.40%、0.954 或 /",
    "rate_in_range": "比率在 0 至 100% 之间",
    "fraction_format": "表单数写作 k/n 或 /",
    "fraction_not_above": "k/n 中 k 不大于 n",
    "whole_number": "整数",
    "within_period_days": "上传天数不超过统计期天数",
    "no_duplicates": "每个单位只占一行",
    "not_blank": "每行都有值",
    "row_sum": "小计等于本行各项之和",
    "column_total": "合计行等于该列之和",
}
CHECK_EN = {f"check.{code}": c.title for code, c in CHECKS.items()}
CHECK_ZH = {f"check.{code}": name for code, name in _CHECKS_ZH.items()}

EN: dict[str, str] = CHECK_EN | {}
ZH: dict[str, str] = CHECK_ZH | {}

"""The catalogue's second table (texts.py merges it into its own): the checks' names, the error
messages a user sees from the command line, and the state commands' texts, in English and
Chinese, with the same keys and the same `{fields}` in both (a test holds it).

An error is raised with `said(key, **values)` (texts.py): an English string that remembers its
key and values, so that the command line can tell it again in the run's language, with the key's
code in brackets (`[no_such_file]`) for searching."""

from __future__ import annotations

from .catalogue import CHECKS, UNREADABLE

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
    "one_row_per_institution": "每个单位只占一行（有机构代码时按机构代码）",
    "not_blank": "每行都有值",
    "row_sum": "小计等于本行各项之和",
    "column_total": "合计行等于该列之和",
}
CHECK_EN = {f"check.{code}": c.title for code, c in CHECKS.items()}
CHECK_ZH = {f"check.{code}": name for code, name in _CHECKS_ZH.items()}

# -- why a file could not be read (catalogue.UNREADABLE), in Chinese -----------------------------
REASON_ZH = {
    "reason.permission_denied": "无权打开或列出",
    "reason.not_a_file": "名称像表单，但不是普通文件",
    "reason.no_header": "文件或首行为空",
    "reason.header_too_long": "表头行超过 1 MiB",
    "reason.no_known_column": "表头不含该表单的任何字段",
    "reason.duplicate_column": "两个表头单元格指同一字段",
    "reason.undecodable": "编码无法解码（或为 UTF-16、UTF-32）",
    "reason.mixed_encoding": "同一文件混用 UTF-8 与 GB18030",
    "reason.cr_line_ends": "行尾只有 CR（应为 LF 或 CRLF）",
    "reason.binary": "不是文本：二进制数据或其他格式",
    "reason.truncated": "压缩或 Parquet 文件提前结束",
    "reason.corrupt": "压缩或 Parquet 文件无法解码",
    "reason.too_large": "解压后大于 --max-bytes",
    "reason.read_error": "系统无法读取该文件（I/O 错误）",
}
REASON_EN = {key: UNREADABLE[key.partition(".")[2]].title for key in REASON_ZH}

# -- error messages: English exactly as the command line has always printed them ----------------
ERRORS_EN = {
    # an error of no catalogue key: its kind, before the English text (Chinese only)
    "kind.error": "error",
    "kind.input": "input",
    "kind.output": "output",
    "kind.usage": "usage",
    "kind.policy": "policy",
    "kind.schema": "schema",
    "kind.history": "history",
    "kind.document": "document",
    "unreadable": "{message} (unreadable: {reason})",
    "unreadable.error": "{message}",
    # the command line
    "error.interrupted": "interrupted (no output was changed)",
    "error.out_of_memory": "out of memory: lower --chunk-size",
    "error.system_error": "system error: {reason}",
    "error.internal_error": "internal error ({kind}); rerun with --debug and report it",
    "error.cannot_write_report": "cannot write the report: {reason}",
    "error.stdout_closed": "cannot write the report: stdout is closed",
    "error.bad_max_bytes": "bad --max-bytes {value!r}: a size like 8GiB, 500MB or 1048576",
    "error.bad_memory_limit": "bad --memory-limit {value!r}: a size with its unit, like 512MiB, "
    "2GiB or 1.5GB",
    "error.unknown_form": "unknown form {form!r}; forms are: {forms}",
    "error.unknown_sort": "unknown --sort {sort!r}; choose from {choices}",
    "error.same_output": "two --output options name the same file",
    "error.needs_output": "--format {format} needs --output FILE (it is not for a terminal)",
    "error.report_skipped": "a report written by nj-audit, not an upload: skipped",
    # inputs
    "error.no_such_path": "no such file or folder",
    "error.no_such_file": "no such file",
    "error.not_a_file": "not a file",
    "error.no_form_match": "no input file matches a form (*.csv, *.csv.gz or *.parquet named like"
    " outpatient_visit.csv, or pass --form)",
    "error.no_file_matches": "none of the {total} files found matches a form (*.csv, *.csv.gz or"
    " *.parquet named like outpatient_visit.csv, or pass --form)",
    "error.none_readable": "none of the {count} inputs could be read (the first, {first}:"
    " {detail})",
    "error.overwrite_input": "refusing to overwrite an input file",
    "error.overwrite_upload": "refusing to overwrite an input file (the upload {path})",
    # --period and --window
    "error.window_unit": "bad window {value!r} (a unit is required): use a whole number and a"
    " unit, like 24h, 90m, 1d or 3600s",
    "error.window_format": "bad window {value!r}: use a whole number and a unit, like 24h, 90m,"
    " 1d or 3600s",
    "error.window_fraction": "bad window {value!r}: not a whole number of seconds",
    "error.window_zero": "bad window {value!r}: a window must be longer than 0",
    "error.window_max": "bad window {value!r}: at most {days} days",
    "error.period_order": "bad period {value!r}: the end is before the start",
    "error.period_format": "bad period {value!r}: use a year (2022), a month (2022-03) or"
    " 2022-01-01:2022-06-30",
    "error.period_years": "bad period {value!r}: years from {first} to {last}",
    # the registry
    "error.registry_twice": "the registry's header names {column} twice ({shown})",
    "error.registry_lacks": "registry lacks column(s): {columns}",
    "error.registry_xlsx": "not a readable xlsx workbook ({kind})",
    "error.registry_no_institution": "the registry lists no institution (no row with an org_code)",
    "error.registry_repeats": "line {line} repeats the org_code of line {first}: one row per"
    " institution",
    # schemas
    "error.schema_not_file": "cannot read schema: not a file",
    "error.schema_unreadable": "cannot read schema: {reason}",
    "error.schema_invalid": "not a valid pandera YAML schema: {detail}",
    "error.schema_no_columns": "the schema has no columns: nothing to validate against",
    "error.unknown_schema": "unknown schema {name!r}: not a file, nor a bundled table schema"
    " ({names}); a form's schema is chosen with --form",
    # policies
    "error.policy_not_file": "cannot read policy: not a file",
    "error.policy_unreadable": "cannot read policy: {reason}",
    "error.policy_toml": "not valid TOML: {detail}",
    "error.policy_unknown_key": "unknown policy key {key}",
    "error.policy_lang": "lang must be en or zh, not {value}",
    "error.policy_fail_on": "fail_on must be one of {choices}, not {value}",
}
ERRORS_ZH = {
    "kind.error": "错误",
    "kind.input": "输入有误",
    "kind.output": "无法写出",
    "kind.usage": "参数有误",
    "kind.policy": "策略有误",
    "kind.schema": "模式文件有误",
    "kind.history": "历史文件有误",
    "kind.document": "文档有误",
    "unreadable": "文件无法读取（{reason}）：{message}",
    "unreadable.error": "文件无法读取：{message}",
    "error.interrupted": "已中断（未改动任何输出）",
    "error.out_of_memory": "内存不足：请调小 --chunk-size",
    "error.system_error": "系统错误：{reason}",
    "error.internal_error": "内部错误（{kind}）；请加 --debug 重新运行并报告",
    "error.cannot_write_report": "无法写出报告：{reason}",
    "error.stdout_closed": "无法写出报告：标准输出已关闭",
    "error.bad_max_bytes": "--max-bytes {value!r} 无效：应为 8GiB、500MB 或 1048576 这样的大小",
    "error.bad_memory_limit": "--memory-limit {value!r} 无效：应为带单位的大小，"
    "如 512MiB、2GiB 或 1.5GB",
    "error.unknown_form": "未知表单 {form!r}；可用表单：{forms}",
    "error.unknown_sort": "未知的 --sort {sort!r}；可选：{choices}",
    "error.same_output": "两个 --output 指向同一文件",
    "error.needs_output": "--format {format} 需要 --output 文件（不能输出到终端）",
    "error.report_skipped": "这是 nj-audit 生成的报告，不是上传数据：已跳过",
    "error.no_such_path": "文件或文件夹不存在",
    "error.no_such_file": "文件不存在",
    "error.not_a_file": "不是普通文件",
    "error.no_form_match": "没有输入文件对应某个表单（*.csv、*.csv.gz 或 *.parquet，文件名如"
    " outpatient_visit.csv，或使用 --form）",
    "error.no_file_matches": "找到的 {total} 个文件都不对应任何表单（*.csv、*.csv.gz 或 *.parquet，"
    "文件名如 outpatient_visit.csv，或使用 --form）",
    "error.none_readable": "{count} 个输入都无法读取（第一个 {first}：{detail}）",
    "error.overwrite_input": "拒绝覆盖输入文件",
    "error.overwrite_upload": "拒绝覆盖输入文件（上传数据 {path}）",
    "error.window_unit": "时间窗口 {value!r} 无效（需要单位）：应为整数加单位，如 24h、90m、1d"
    " 或 3600s",
    "error.window_format": "时间窗口 {value!r} 无效：应为整数加单位，如 24h、90m、1d 或 3600s",
    "error.window_fraction": "时间窗口 {value!r} 无效：不是整秒数",
    "error.window_zero": "时间窗口 {value!r} 无效：必须大于 0",
    "error.window_max": "时间窗口 {value!r} 无效：最多 {days} 天",
    "error.period_order": "统计期 {value!r} 无效：结束早于开始",
    "error.period_format": "统计期 {value!r} 无效：应为年份（2022）、月份（2022-03）或"
    " 2022-01-01:2022-06-30",
    "error.period_years": "统计期 {value!r} 无效：年份须在 {first} 至 {last} 之间",
    "error.registry_twice": "登记表表头两次出现 {column}（{shown}）",
    "error.registry_lacks": "登记表缺少字段：{columns}",
    "error.registry_xlsx": "不是可读取的 xlsx 工作簿（{kind}）",
    "error.registry_no_institution": "登记表中没有任何机构（没有一行填有机构代码）",
    "error.registry_repeats": "第 {line} 行与第 {first} 行的机构代码重复：每个机构只能占一行",
    "error.schema_not_file": "无法读取模式文件：不是普通文件",
    "error.schema_unreadable": "无法读取模式文件：{reason}",
    "error.schema_invalid": "不是有效的 pandera YAML 模式：{detail}",
    "error.schema_no_columns": "模式文件没有字段：无从校验",
    "error.unknown_schema": "未知模式 {name!r}：既不是文件，也不是内置统计表模式（{names}）；"
    "表单的模式请用 --form 指定",
    "error.policy_not_file": "无法读取策略文件：不是普通文件",
    "error.policy_unreadable": "无法读取策略文件：{reason}",
    "error.policy_toml": "不是有效的 TOML：{detail}",
    "error.policy_unknown_key": "未知的策略项 {key}",
    "error.policy_lang": "lang 只能是 en 或 zh，不能是 {value}",
    "error.policy_fail_on": "fail_on 须为 {choices} 之一，不能是 {value}",
}

# -- the state commands (state add, compact, info) ------------------------------------------------
STATE_EN = {
    "state.waiting": "{store}: waiting for another nj-audit state command to finish",
    "state.added": "{store}: added {files} files ({rows} rows, {states} record states in {parts}"
    " partition files)",
    "state.known": "{count} files already in the store with the same content:",
    "state.skipped": "{count} files skipped (their name names no form)",
    "state.unchanged": "nothing new: the store is unchanged",
    "state.nothing_to_compact": "{store}: nothing to compact (one partition file a day)",
    "state.compacted": "{store}: {days} days compacted, {before} partition files into {after},"
    " {states_before} record states into {states_after}",
    "info.dates": "upload dates",
    "info.institutions": "institutions",
    "info.files": "files",
    "info.rows": "rows",
    "info.states": "record states",
    "info.records": "records",
    "info.parts": "partition files",
    "info.size": "size on disk",
    "info.adds": "adds",
    "info.window": "window",
    "info.buckets": "buckets",
    "info.period": "{first} to {last}",
    "info.none": "none",
    "info.never": "never",
    "info.dates_value": "{period} ({days} with rows)",
    "info.files_value": "{added} added, {skipped} skipped",
    "info.rows_value": "{rows} ({undated} without upload_time)",
    "info.records_hint": "(state info --records)",
    "info.size_value": "{mib} MiB",
    "info.adds_value": "{adds} (last {last})",
    "info.window_value": "{seconds}s; per form: {windows}",
}
STATE_ZH = {
    "state.waiting": "{store}：正在等待另一个 nj-audit state 命令结束",
    "state.added": "{store}：已加入 {files} 个文件（{rows} 行，{states} 个记录状态，"
    "{parts} 个分区文件）",
    "state.known": "{count} 个文件已在库中且内容相同：",
    "state.skipped": "{count} 个文件已跳过（文件名不对应任何表单）",
    "state.unchanged": "没有新内容：状态库未改变",
    "state.nothing_to_compact": "{store}：无需压缩（每天一个分区文件）",
    "state.compacted": "{store}：压缩了 {days} 天，{before} 个分区文件合为 {after} 个，"
    "{states_before} 个记录状态合为 {states_after} 个",
    "info.dates": "上传日期",
    "info.institutions": "机构数",
    "info.files": "文件",
    "info.rows": "行数",
    "info.states": "记录状态",
    "info.records": "记录数",
    "info.parts": "分区文件",
    "info.size": "磁盘占用",
    "info.adds": "加入次数",
    "info.window": "实时窗口",
    "info.buckets": "分桶数",
    "info.period": "{first} 至 {last}",
    "info.none": "无",
    "info.never": "从未",
    "info.dates_value": "{period}（{days} 天有数据）",
    "info.files_value": "已加入 {added} 个，跳过 {skipped} 个",
    "info.rows_value": "{rows}（{undated} 行无 upload_time）",
    "info.records_hint": "（state info --records 可统计）",
    "info.size_value": "{mib} MiB",
    "info.adds_value": "{adds}（最近 {last}）",
    "info.window_value": "{seconds} 秒；各表单：{windows}",
}

EN: dict[str, str] = CHECK_EN | REASON_EN | ERRORS_EN | STATE_EN
ZH: dict[str, str] = CHECK_ZH | REASON_ZH | ERRORS_ZH | STATE_ZH


class Said(str):
    """An English message that remembers its catalogue key and values, to be told again in
    another language (`told`)."""

    key: str
    values: dict[str, object]


def said(key: str, /, **values: object) -> Said:
    """The English message of `key` (as errors are raised), able to be told in Chinese."""
    message = Said(EN[key].format(**values))
    message.key, message.values = key, values
    return message


def told(message: str, lang: str, kind: str = "error") -> str:
    """`message` in `lang`: a `said` one from the catalogue, with its code in brackets for
    searching; any other after its kind (`策略有误：...`); English as it is."""
    if lang == "en":
        return message
    if isinstance(message, Said):
        return f"{ZH[message.key].format(**message.values)} [{message.key.partition('.')[2]}]"
    return f"{ZH.get(f'kind.{kind}', ZH['kind.error'])}：{message} [{kind}]"


def unreadable_told(message: str, reason: str, lang: str) -> str:
    """An unreadable file's line: `... (unreadable: no_header)`, or in Chinese
    `文件无法读取（文件或首行为空）：... [no_header]` (the detail stays as the reader wrote it)."""
    if lang == "en":
        return ERRORS_EN["unreadable"].format(message=message, reason=reason)
    if f"reason.{reason}" not in ZH:
        return f"{ZH['unreadable.error'].format(message=message)} [{reason}]"
    shown = ZH["unreadable"].format(reason=ZH[f"reason.{reason}"], message=message)
    return f"{shown} [{reason}]"

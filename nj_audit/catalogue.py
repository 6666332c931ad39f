"""Every code the tool reports, with what it means: the checks a row can fail, and the flags an
institution can get, each with its message template. Codes are stable (JSON consumers, CI
annotations and the history key on them); the texts may change.

A check's own message comes from its schema file (`error:`) or, for the checks below that no
schema states, from `CHECK_MESSAGES`. A flag's message is `flag_message(code, **values)`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Code:
    code: str
    title: str  # what it means, in a few words


def _codes(*pairs: tuple[str, str]) -> dict[str, Code]:
    return {code: Code(code, title) for code, title in pairs}


# -- checks: what a row fails ---------------------------------------------------------------------
CHECKS = _codes(
    # the reader and the typing of values
    ("missing_column", "a required column is missing from the file"),
    ("required", "a required value is missing"),
    ("time_format", "not a time as YYYY-MM-DD[ HH:MM:SS][+08:00]"),
    ("number_format", "not a plain decimal number"),
    # damaged rows (reported under the column "(row)")
    ("field_count", "the row has another number of fields than the header"),
    ("unterminated_quote", "a quoted value is not closed"),
    ("unparseable_row", "the row cannot be parsed as CSV"),
    ("value_too_long", "a value is longer than 1 MiB"),
    ("line_too_long", "a line is longer than 16 MiB (read no further)"),
    ("nul_byte", "a value holds a NUL byte"),
    ("byte_order_mark", "a row starts with a byte order mark (files joined together?)"),
    # pandera's own checks, as the schema files use them
    ("isin", "a value of the code set"),
    ("str_length", "a text of the allowed length"),
    ("str_matches", "a text of the required pattern"),
    ("in_range", "a number in the allowed range"),
    ("greater_than", "a number above the limit"),
    ("greater_than_or_equal_to", "a number at or above the limit"),
    # the contract's own checks (checks/upload.py)
    ("gb32100", "a unified social credit code (GB 32100-2015) with its check character"),
    ("id_card_format", "a resident ID number's shape: 17 digits and a digit or X"),
    ("id_card_checksum", "a resident ID number's check character (GB 11643-1999)"),
    ("id_card_birth_date", "characters 7-14 of a resident ID number are a real date"),
    ("no_whitespace", "no whitespace inside the value"),
    ("not_before_date", "a time on or after the earliest allowed date"),
    ("not_after", "a time or number not after another column's"),
    ("not_before", "a time or number not before another column's"),
    ("greater_than_column", "a number greater than another column's"),
    ("at_most_before", "a time at most so long before another column's"),
    ("id_card_birth_date_matches", "the ID number's birth date equals birth_date"),
    ("id_card_sex_matches", "the ID number's sex digit agrees with sex_code"),
    # the published tables' checks (checks/tables.py)
    ("rate_format", "a rate as 95.40%, 0.954 or /"),
    ("rate_in_range", "a rate between 0 and 100%"),
    ("fraction_format", "forms as k/n or /"),
    ("fraction_not_above", "k <= n in k/n"),
    ("whole_number", "a whole number"),
    ("within_period_days", "upload days within the period"),
    ("no_duplicates", "one row per institution"),
    ("one_row_per_institution", "one row per institution (by org_code where the table has one)"),
    ("not_blank", "a value in every row"),
    ("row_sum", "a subtotal equals the sum of its row's parts"),
    ("column_total", "the total row equals the column's sum"),
)

# Messages of the checks that no schema file states (the schema's `error:` text is used for the
# others).
CHECK_MESSAGES = {
    "missing_column": "the column is missing",
    "required": "a value is required",
    "time_format": "a time as YYYY-MM-DD[ HH:MM:SS][+08:00]",
    "number_format": "a plain decimal number",
    "damaged_row": "the row could not be read as the header says",
}

# -- flags: what an institution gets --------------------------------------------------------------
FLAGS = _codes(
    ("coverage", "fewer real-time forms covered than required"),
    ("outpatient_rate", "outpatient real-time rate below the threshold"),
    ("discharge_rate", "discharge real-time rate below the threshold"),
    ("upload_days", "uploads on too few days of the period"),
    ("validity", "too few valid records"),
    ("no_data", "no outpatient or discharge real-time data (the rate is /)"),
    ("unregistered", "the org_code is not in the registry"),
    ("no_uploads", "a registered institution has no row in the period"),
    ("unreadable_file", "a file of the institution could not be read"),
    ("invalid_row", "the published table's row fails its schema"),
    ("members", "a member institution of the district fails (--by district)"),
    # one code per metric, regression:METRIC (outpatient_rate, rate:lab_report, ...): § 5.5
    ("regression:*", "a metric fell too far against the history's baseline"),
)
REGRESSION_PREFIX = "regression:"


def flag_code(flag: str) -> str:
    """The catalogue's code of a flag: itself, or `regression:*` for `regression:METRIC`."""
    return REGRESSION_PREFIX + "*" if flag.startswith(REGRESSION_PREFIX) else flag


# -- reasons: why a file could not be read (contract section 2.3) ---------------------------------
UNREADABLE = _codes(
    ("permission_denied", "the file or folder cannot be opened or listed"),
    ("not_a_file", "named like a form, but a folder, FIFO, device or broken link"),
    ("no_header", "the file is empty, or its first line is"),
    ("header_too_long", "the header line is longer than 1 MiB"),
    ("no_known_column", "the header names no column of the file's form"),
    ("duplicate_column", "two header cells name the same column"),
    ("undecodable", "bytes the encoding cannot decode (or UTF-16, UTF-32)"),
    ("mixed_encoding", "UTF-8 and GB18030 text in one file"),
    ("cr_line_ends", "lines end with CR only (LF or CRLF expected)"),
    ("binary", "not text: binary data or another format's signature"),
    ("truncated", "a compressed or Parquet file ends early"),
    ("corrupt", "a compressed or Parquet file cannot be decoded"),
    ("too_large", "the decompressed data is larger than --max-bytes"),
    ("read_error", "the system could not read the file (I/O error)"),
)

# A threshold flag's message: "{what} is below the {level} threshold {threshold:g}".
THRESHOLD_SUBJECTS = {
    "coverage": "forms covered {value}",
    "outpatient_rate": "outpatient rate {value}",
    "discharge_rate": "discharge rate {value}",
    "upload_days": "upload day ratio {value}",
    "validity": "valid ratio {value}",
}
_FLAG_TEMPLATES = {
    "below": "{subject} is below the {level} threshold {threshold:g}",
    "no_data": "no {kinds} real-time data (rate is /)",
    "unregistered": "org_code is not in the registry",
    "invalid_row": "line {line} fails the summary schema: {checks}",
    "no_uploads": "registered, but no row in the period",
    "no_uploads_district": "{count} registered {institutions} without a row in the period",
    "unreadable_file": "{count} {files} could not be read",
    "members": "{count} of {members} member institutions fail",
}


def threshold_message(flag: str, value: str, level: str, threshold: float) -> str:
    """`outpatient rate 55.51% is below the fail threshold 0.6`."""
    subject = THRESHOLD_SUBJECTS[flag].format(value=value)
    return _FLAG_TEMPLATES["below"].format(subject=subject, level=level, threshold=threshold)


def flag_message(flag: str, **values: object) -> str:
    """The message of a flag that is not a threshold's (`no_data`, `unregistered`, ...)."""
    return _FLAG_TEMPLATES[flag].format(**values)

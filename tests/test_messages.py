"""Error messages in the run's language (issue 15): each one-line error a user sees from the
command line comes from the catalogue (messages.py), in Chinese under a Chinese locale or
`--lang zh`, with its code in brackets for searching; English otherwise, as it always was."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nj_audit.cli import app
from nj_audit.errors import PolicyError, UnreadableFile
from nj_audit.messages import EN, ZH, said, told

from builders import display_width

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "nj_audit"
SAMPLES = ROOT / "samples"
HAN = re.compile(r"[\u4e00-\u9fff]")


def run(env: dict[str, str], *args: object):  # type: ignore[no-untyped-def]
    base = {"LC_ALL": "", "LC_MESSAGES": "", "NJ_AUDIT_LANG": "", "COLUMNS": "200"}
    return CliRunner().invoke(app, [str(a) for a in args], env=base | env)


ZH_LOCALE = {"LANG": "zh_CN.UTF-8"}
EN_LOCALE = {"LANG": "C.UTF-8"}


def error_line(result) -> str:  # type: ignore[no-untyped-def]
    assert result.exit_code == 2, result.stdout + result.stderr
    (line,) = result.stderr.splitlines()
    return str(line)


def test_every_said_key_is_in_the_catalogue() -> None:
    keys = set()
    for path in PACKAGE.rglob("*.py"):
        keys |= set(re.findall(r"""said\(\s*["']([\w.]+)["']""", path.read_text(encoding="utf-8")))
    assert len(keys) > 30
    assert keys <= set(EN), sorted(keys - set(EN))


@pytest.fixture
def empty_upload(tmp_path: Path) -> Path:
    path = tmp_path / "outpatient_visit.csv"
    path.write_bytes(b"")
    return path


@pytest.mark.parametrize(
    ("args", "english", "chinese"),
    [
        (("audit", "no/such/dir"), "no/such/dir: no such file or folder",
         "no/such/dir: 文件或文件夹不存在 [no_such_path]"),
        (("audit", SAMPLES / "batch", "--period", "2022-13"),
         "bad period '2022-13': use a year (2022)", "统计期 '2022-13' 无效：应为年份"),
        (("audit", SAMPLES / "batch", "--window", "90"),
         "bad window '90' (a unit is required)", "时间窗口 '90' 无效（需要单位）"),
        (("validate", SAMPLES / "hotline_2022.csv", "--schema", "hotlines"),
         "unknown schema 'hotlines'", "未知模式 'hotlines'"),
        (("validate", SAMPLES / "batch", "--form", "visits"),
         "unknown form 'visits'; forms are:", "未知表单 'visits'；可用表单："),
        (("audit", SAMPLES / "batch", "--max-bytes", "lots"), "bad --max-bytes 'lots'",
         "--max-bytes 'lots' 无效"),
        (("audit", SAMPLES / "batch", "--sort", "nothing"), "unknown --sort 'nothing'",
         "未知的 --sort 'nothing'"),
        (("audit", SAMPLES / "batch", "--format", "xlsx"), "--format xlsx needs --output FILE",
         "--format xlsx 需要 --output 文件"),
    ],
)  # fmt: skip
def test_errors_follow_the_locale(args: tuple[object, ...], english: str, chinese: str) -> None:
    en = error_line(run(EN_LOCALE, *args))
    zh = error_line(run(ZH_LOCALE, *args))
    assert en.startswith("error: ") and english in en and not HAN.search(en), en
    assert zh.startswith("错误：") and chinese.split(" [")[0] in zh, zh
    assert "[" not in chinese or zh.endswith(chinese[chinese.index(" [") :]), zh
    assert re.search(r" \[[a-z_]+\]$", zh), zh  # the code, for searching
    assert "--lang" not in args  # the locale alone decides here


def test_lang_option_wins_over_the_locale() -> None:
    args = ("audit", SAMPLES / "batch", "--period", "2022-13")
    assert error_line(run(ZH_LOCALE, *args, "--lang", "en")).startswith("error: bad period")
    assert error_line(run(EN_LOCALE, *args, "--lang", "zh")).startswith("错误：统计期")


def test_an_unreadable_upload_is_told_by_its_reason(empty_upload: Path) -> None:
    zh = error_line(run(ZH_LOCALE, "validate", empty_upload))
    told_zh = "文件无法读取（文件或首行为空）：empty file (no header row) [no_header]"
    assert zh == f"错误：{empty_upload}: {told_zh}"
    en = error_line(run(EN_LOCALE, "validate", empty_upload))
    assert en == f"error: {empty_upload}: empty file (no header row)"


def test_a_bad_registry_and_a_bad_policy(tmp_path: Path) -> None:
    registry = tmp_path / "registry.csv"
    registry.write_text("org_code,name,district\nA,x,d\nA,y,d\n", encoding="utf-8")
    args = ("audit", SAMPLES / "batch", "--registry", registry, "-q")
    zh = error_line(run(ZH_LOCALE, *args))
    assert "registry.csv:3: 第 3 行与第 2 行的机构代码重复" in zh and zh.endswith(
        "[registry_repeats]"
    )
    en = error_line(run(EN_LOCALE, *args))
    assert "registry.csv:3: line 3 repeats the org_code of line 2" in en
    policy = tmp_path / "policy.toml"
    policy.write_text('lang = "fr"\n', encoding="utf-8")
    zh = error_line(run(ZH_LOCALE, "audit", SAMPLES / "batch", "--policy", policy))
    assert "lang 只能是 en 或 zh，不能是 'fr'" in zh and zh.endswith("[policy_lang]")


@pytest.mark.parametrize(
    "body", ["", "\n", ",,\n", "\n,x,d\n"], ids=["header", "blank", "commas", "no-code"]
)
def test_a_registry_listing_no_institution_cannot_run(tmp_path: Path, body: str) -> None:
    """A header alone and a header over rows without an org_code are told alike (exit 2)."""
    registry = tmp_path / "registry.csv"
    registry.write_text("org_code,name,district\n" + body, encoding="utf-8")
    done = run(EN_LOCALE, "audit", SAMPLES / "batch", "--registry", registry, "-q")
    assert done.exit_code == 2
    assert "registry.csv:1: the registry lists no institution" in error_line(done)


def test_an_untranslated_message_is_told_after_its_kind() -> None:
    error = PolicyError("[coverage] takes only warn and fail", "p.toml")
    assert error.told("zh") == "p.toml: 策略有误：[coverage] takes only warn and fail [policy]"
    assert error.told("en") == str(error) == "p.toml: [coverage] takes only warn and fail"
    unreadable = UnreadableFile("odd bytes at 7", "a.csv", 3, reason="undecodable")
    assert unreadable.told("zh").startswith("a.csv:3: 文件无法读取（编码无法解码")


def test_said_is_english_and_told_in_chinese() -> None:
    message = said("error.window_max", value="999d", days=366)
    assert message == "bad window '999d': at most 366 days"
    assert told(message, "zh") == "时间窗口 '999d' 无效：最多 366 天 [window_max]"
    assert told(message, "en") == message
    assert all(
        HAN.search(ZH[k]) or k.startswith("kind.") is False for k in ZH if k.startswith("error.")
    )


def test_state_commands_speak_the_run_language(tmp_path: Path) -> None:
    store = tmp_path / "store"
    uploads = SAMPLES / "batch" / "gulou"
    zh = run(ZH_LOCALE, "state", "add", store, uploads, "-q")
    assert zh.exit_code == 0, zh.stdout + zh.stderr
    assert re.fullmatch(
        r"\S+：已加入 \d+ 个文件（[\d,]+ 行，[\d,]+ 个记录状态，\d+ 个分区文件）\n", zh.stdout
    )
    again = run(EN_LOCALE, "state", "add", store, uploads, "-q", "--lang", "zh")
    assert (
        "个文件已在库中且内容相同：" in again.stdout and "没有新内容：状态库未改变" in again.stderr
    )
    en = run(ZH_LOCALE, "state", "add", store, uploads, "-q", "--lang", "en")
    assert "files already in the store with the same content:" in en.stdout
    info_zh = run(ZH_LOCALE, "state", "info", store).stdout.splitlines()
    info_en = run({"LANG": "C.UTF-8", "NJ_AUDIT_LANG": "en"}, "state", "info", store)
    lines_en = info_en.stdout.splitlines()
    assert len(info_zh) == len(lines_en) == 12
    assert info_zh[1].startswith("上传日期：") and lines_en[1].startswith("upload dates:     ")
    assert not any(HAN.search(line) for line in lines_en)

    # the values line up: every label takes the same terminal columns in Chinese too
    assert {display_width(line[: line.index(line.split()[1])]) for line in info_zh[1:]} == {18}
    compact = run(ZH_LOCALE, "state", "compact", store, "--lang", "zh")
    assert compact.exit_code == 0 and "：无需压缩" in compact.stdout


def test_a_state_error_is_told_in_chinese(tmp_path: Path) -> None:
    line = error_line(run(ZH_LOCALE, "state", "add", tmp_path / "s", tmp_path / "none"))
    assert line.startswith("错误：") and "文件或文件夹不存在 [no_such_path]" in line


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["audit", "x", "--fail-on", "bogus"], ["--fail-on", "'bogus' is not one of"]),
        (["audit", "x", "--format", "yaml"], ["--format", "'yaml' is not one of"]),
        (["audit", "--no-such-option", "x"], ["No such option: --no-such-option"]),
        (["rank", "t.csv", "--period-days", "0"], ["--period-days"]),
        (["validate"], ["Missing argument"]),
        (["history", "compare", "--bogus"], ["nj-audit history compare", "--bogus"]),
    ],
)
def test_a_usage_error_is_one_line_like_every_error(args: list[str], words: list[str]) -> None:
    """Contract § 7.1: one line on stderr, exit 2, nothing on stdout; typer's usage block and
    boxed panel would be six lines."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "nj_audit", *args], capture_output=True, text=True, timeout=60
    )
    assert (done.returncode, done.stdout) == (2, "")
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: nj-audit "), done.stderr
    assert all(word in lines[0] for word in words) and "--help)" in lines[0]


def test_no_command_shows_the_help_as_before() -> None:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "nj_audit"], capture_output=True, text=True)
    assert done.returncode == 2 and "Usage: " in done.stdout and "audit" in done.stdout
    assert done.stderr == ""

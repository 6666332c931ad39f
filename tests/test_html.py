"""The HTML report (`--format html`): one offline file, escaped, without PII; its structure
against a golden skeleton; and in a real browser (Chromium through Playwright): no request
leaves the page, no console error, every institution listed, sorting, filtering and the
drill-down work. A screenshot is kept under tests/artifacts/."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from nj_audit.cli import app

from builders import CLI_ENV, VISIT_ID_CARD, VISIT_ORG, check_golden, timed_visit, write_rows

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
RUNNER = CliRunner(env=CLI_ENV)


def audit_html(tmp_path: Path, *args: str, name: str = "report.html") -> str:
    out = tmp_path / name
    result = RUNNER.invoke(app, ["audit", *args, "--format", "html", "--output", str(out)])
    assert result.exit_code in (0, 1), result.output
    return out.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def sample_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("html")
    batch, registry = str(SAMPLES / "batch"), str(SAMPLES / "registry.csv")
    audit_html(folder, batch, "--registry", registry, "--lang", "zh")
    return folder / "report.html"


class Skeleton(HTMLParser):
    """Elements with an id, headings and table headers, the script and meta tags: the page's
    structure without its numbers."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self._text: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.tags.append((tag, found))
        if tag in ("section", "dialog", "table", "select", "input") and "id" in found:
            self.lines.append(f"{tag}#{found['id']}")
        if tag in ("h1", "h2", "th"):
            self._text = ""
        if tag == "script":
            self.lines.append(f"script type={found.get('type') or 'js'}")

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag in ("h1", "h2", "th") and self._text is not None:
            if tag != "th" or self.lines[-1:] != [f"  th {self._text.strip()}"]:
                self.lines.append(f"  {tag} {self._text.strip()}")
            self._text = None


def skeleton(html: str) -> Skeleton:
    parser = Skeleton()
    parser.feed(html)
    return parser


def test_the_page_is_self_contained_and_locked(sample_report: Path) -> None:
    html = sample_report.read_text(encoding="utf-8")
    for remote in ("http:", "https:", "url(", "@import", "@font-face", "src="):
        assert remote not in html
    tags = skeleton(html).tags
    csp = [a["content"] for t, a in tags if t == "meta" and a.get("http-equiv") ==
           "Content-Security-Policy"]  # fmt: skip
    assert csp and "default-src 'none'" in (csp[0] or "")
    assert not [t for t, a in tags if t in ("link", "img", "iframe", "object", "embed")]
    assert all("src" not in a for t, a in tags if t == "script")
    assert len(html.encode()) < 400_000


def test_structure_against_the_golden_skeleton(sample_report: Path) -> None:
    lines = skeleton(sample_report.read_text(encoding="utf-8")).lines
    check_golden("html_skeleton_zh.txt", "\n".join(lines) + "\n")


def test_the_json_block_holds_every_institution(sample_report: Path) -> None:
    html = sample_report.read_text(encoding="utf-8")
    block = html.split('<script type="application/json" id="data">')[1].split("</script>")[0]
    data = json.loads(block)
    registry = (SAMPLES / "registry.csv").read_text(encoding="utf-8").splitlines()[1:]
    names = {line.split(",")[1] for line in registry}
    assert names <= {i["n"] for i in data["institutions"]}
    assert all(f[6] is None or len(f[6]) == 7 for i in data["institutions"] for f in i["f"])


HOSTILE = ["<script>alert(1)</script>", '"><img src=x onerror=alert(2)>', "</script><b>x"]


def test_registry_names_are_escaped(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "outpatient_visit.csv", [
        timed_visit("r1", "2022-03-01 08:00:00", "2022-03-01 08:30:00"),
    ])  # fmt: skip
    registry = tmp_path / "registry.csv"
    lines = [f'{VISIT_ORG},"{HOSTILE[1].replace(chr(34), chr(34) * 2)}",{HOSTILE[0]}']
    lines += [f"12320100466000009{n},{name},区" for n, name in zip("ABC", [HOSTILE[2]])]
    registry.write_text("org_code,name,district\n" + "\n".join(lines) + "\n", encoding="utf-8")
    html = audit_html(tmp_path, str(path), "--registry", str(registry))
    for text in HOSTILE:
        assert text not in html
    tags = skeleton(html).tags
    assert not [t for t, _ in tags if t in ("img", "b")]
    assert [t for t, _ in tags].count("script") == 2  # the JSON block and the page's script
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # shown, as text
    block = html.split('id="data">')[1].split("</script>")[0]
    assert HOSTILE[1] in {i["n"] for i in json.loads(block)["institutions"]}


def test_no_id_number_or_name_in_the_page(tmp_path: Path) -> None:
    """A batch with known ID numbers and names (in id_card, name, an org_code shaped like an ID
    number, and a failing value): none of them in the HTML, unless --show-pii."""
    person_org = VISIT_ID_CARD  # an institution code that is a person's ID number
    path = write_rows(tmp_path / "outpatient_visit.csv", [
        timed_visit("r1", "2022-03-01 08:00:00", "2022-03-01 08:30:00", name="王小明"),
        timed_visit("r2", "2022-03-01 08:00:00", "2022-03-01 08:30:00", org=person_org),
        timed_visit("r3", "2022-03-01 08:00", "2022-03-01 08:30", id_card="320102199001011234"),
    ])  # fmt: skip
    html = audit_html(tmp_path, str(path))
    for secret in (VISIT_ID_CARD, "王小明", "张三", "320102199001011234"):
        assert secret not in html
    assert VISIT_ORG in html  # institutions' own codes stay visible
    shown = audit_html(tmp_path, str(path), "--show-pii", name="shown.html")
    assert VISIT_ID_CARD in shown


def test_html_needs_an_output_file() -> None:
    result = RUNNER.invoke(app, ["audit", str(SAMPLES / "batch"), "--format", "html"])
    assert result.exit_code == 2
    assert "--format html needs --output" in result.output


# -- in a real browser ----------------------------------------------------------------------------


def _browser() -> Any:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install '.[test]')")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install -y chromium fonts-noto-cjk)")
    return sync_playwright


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_playwright = _browser()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def page(browser: Any, sample_report: Path) -> Iterator[Any]:
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    page.blocked = []  # type: ignore[attr-defined]
    page.errors = []  # type: ignore[attr-defined]

    def route(r: Any) -> None:
        if r.request.url.startswith(("file:", "data:", "about:")):
            r.continue_()
        else:
            page.blocked.append(r.request.url)  # type: ignore[attr-defined]
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(sample_report.as_uri())
    page.wait_for_load_state("load")
    yield page
    page.close()


def _visible_names(page: Any) -> list[str]:
    return page.eval_on_selector_all(
        "#table tbody tr:not(.hidden)", "rows => rows.map(r => r.dataset.label)"
    )


def test_browser_offline_no_errors_everyone_listed(page: Any, sample_report: Path) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report_zh.png"), full_page=True)
    assert page.blocked == [] and page.errors == []
    registry = (SAMPLES / "registry.csv").read_text(encoding="utf-8").splitlines()[1:]
    names = [line.split(",")[1] for line in registry]
    listed = _visible_names(page)
    assert set(names) <= set(listed)
    assert page.locator("#heatmap tr.inst").count() == len(listed)
    assert page.locator("#calendar svg.calendar").count() == len(listed)
    assert page.locator("#delays svg.histogram").count() >= 11
    assert page.locator("#checks tbody tr").count() > 0


def test_browser_sorting(page: Any) -> None:
    header = page.locator('#table th[data-key="out"]')
    header.click()
    rates = page.eval_on_selector_all("#table tbody tr", "rows => rows.map(r => +r.dataset.out)")
    assert rates == sorted(rates, reverse=True)
    header.click()
    rates = page.eval_on_selector_all("#table tbody tr", "rows => rows.map(r => +r.dataset.out)")
    assert rates == sorted(rates)
    first = page.eval_on_selector("#table tbody tr", "r => r.dataset.i")
    assert page.eval_on_selector("#heatmap tbody tr", "r => r.dataset.i") == first


def test_browser_filtering(page: Any) -> None:
    page.fill("#search", "鼓楼")
    visible = _visible_names(page)
    assert visible and all("鼓楼" in n for n in visible)
    assert page.locator("#heatmap tr.inst:not(.hidden)").count() == len(visible)
    page.fill("#search", "")
    page.select_option("#status", "fail")
    statuses = page.eval_on_selector_all(
        "#table tbody tr:not(.hidden)", "rows => rows.map(r => r.dataset.status)"
    )
    assert statuses and set(statuses) == {"fail"}
    page.select_option("#status", "")
    page.select_option("#district", "鼓楼区")
    districts = page.eval_on_selector_all(
        "#table tbody tr:not(.hidden)", "rows => rows.map(r => r.dataset.district)"
    )
    assert districts and set(districts) == {"鼓楼区"}
    page.select_option("#district", "")
    assert page.locator("#table tbody tr.hidden").count() == 0


def test_browser_drill_down(page: Any) -> None:
    link = page.locator("#table tbody tr a.open").first
    name = link.inner_text()
    link.click()
    dialog = page.locator("#drill")
    assert dialog.is_visible()
    assert page.locator("#drill-title").inner_text() == name
    assert page.locator("#drill table").count() >= 2  # forms, delays
    page.screenshot(path=str(ARTIFACTS / "drill_zh.png"))
    page.click("#drill-close")
    assert not dialog.is_visible()
    assert page.errors == [] and page.blocked == []


def test_history_sparklines_and_changes(tmp_path: Path) -> None:
    """Two runs into a history: the second's page has a sparkline per institution through both
    runs' rates and lists the finding that is new since the first."""
    history = tmp_path / "h.sqlite"
    on_time = timed_visit("r1", "2022-03-01 08:00:00", "2022-03-01 08:30:00")
    late = timed_visit("r2", "2022-03-01 08:00:00", "2022-03-05 08:30:00")
    for n, rows in enumerate(([on_time], [on_time, late])):
        path = write_rows(tmp_path / f"run{n}" / "outpatient_visit.csv", rows)
        html = audit_html(tmp_path, str(path), "--history", str(history), name=f"run{n}.html")
    assert html.count('class="sparkline"') == 1
    points = html.split('class="spark" points="')[1].split('"')[0].split()
    assert len(points) == 2  # 100% then 50%
    assert float(points[0].split(",")[1]) < float(points[1].split(",")[1])  # it fell
    changes = html.split('<section id="changes">')[1].split("</section>")[0]
    assert "outpatient_rate (fail)" in changes.split('class="new"')[1].split("</div>")[0]


def test_history_show_renders_a_stored_run_as_html(tmp_path: Path) -> None:
    history = tmp_path / "h.sqlite"
    path = write_rows(tmp_path / "outpatient_visit.csv", [
        timed_visit("r1", "2022-03-01 08:00:00", "2022-03-01 08:30:00"),
    ])  # fmt: skip
    audit_html(tmp_path, str(path), "--history", str(history))
    out = tmp_path / "shown.html"
    result = RUNNER.invoke(
        app, ["history", "show", "latest", "--history", str(history), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert VISIT_ORG in html and 'id="calendar"' in html and "2022-03-01: 1" in html


def test_browser_without_javascript_shows_the_static_content(
    browser: Any, sample_report: Path
) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(sample_report.as_uri())
    assert page.locator("noscript").count() == 1
    rows = page.locator("#table tbody tr").count()
    assert rows >= 12 and page.locator("#heatmap tbody tr").count() == rows
    assert page.locator("#delays svg.histogram").first.is_visible()
    assert page.locator("#checks tbody tr").first.is_visible()
    context.close()

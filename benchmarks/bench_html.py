"""The HTML report at scale: size and load time in headless Chromium of a report of N
institutions x 14 forms x 31 days (a synthetic AuditResult with every field filled: rates,
delays, 31 upload days, a dozen failing checks and flags each), and the time to render it.

    python benchmarks/bench_html.py 200 1000 --out /work/bench-data/html

Load: from navigation to the `load` event and the first paint of the table (alternating runs,
best of 3 each); no request may leave the page."""

from __future__ import annotations

import argparse
import random
import time
from datetime import date, timedelta
from pathlib import Path

from nj_audit.forms import FORM_IDS
from nj_audit.period import Period
from nj_audit.policy import Policy
from nj_audit.render.html import render_html
from nj_audit.results import AuditResult, CheckCount, Flag, FormResult, InstitutionResult

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
DISTRICTS = ["玄武区", "秦淮区", "建邺区", "鼓楼区", "浦口区", "栖霞区", "雨花台区", "江宁区"]
CHECKS = [("id_card", "id_card_checksum"), ("event_time", "not_after"), ("dept_code", "isin"),
          ("record_id", "required")]  # fmt: skip


def synthetic(n: int, seed: int = 7) -> AuditResult:
    rng = random.Random(seed)
    start = date(2022, 3, 1)
    institutions = []
    for i in range(n):
        forms = {}
        for form in FORM_IDS:
            rows = rng.randint(1_000, 400_000)
            rate = rng.random() ** 0.3
            delays = tuple(rng.randint(0, rows // 7) for _ in range(7))
            forms[form] = FormResult(rows, rows, rows - 3, int(rows * rate), rate, delays)
        days = tuple((start + timedelta(days=d), rng.randint(1, 90_000)) for d in range(31)
                     if rng.random() > 0.1)  # fmt: skip
        checks = tuple(CheckCount(f, c, k, rng.randint(1, 500)) for f in FORM_IDS[:3]
                       for c, k in CHECKS)  # fmt: skip
        status = rng.choice(["ok", "warn", "fail"])
        flags = (Flag("outpatient_rate", status, "outpatient rate 55.00% is below 0.6"),) * (
            status != "ok"
        )
        institutions.append(InstitutionResult(
            org_code=f"12320100{i:08d}X{i % 10}", name=f"南京市第{i + 1}人民医院",
            district=DISTRICTS[i % len(DISTRICTS)], rows_uploaded=sum(f.rows for f in
            forms.values()), records=sum(f.records for f in forms.values()),
            valid_records=sum(f.valid_records for f in forms.values()), valid_ratio=0.999,
            upload_days=len(days), period_days=31, upload_day_ratio=len(days) / 31,
            forms_covered=11, forms_required=11, outpatient_rate=forms["outpatient_visit"].rate,
            discharge_rate=forms["inpatient_discharge"].rate, status=status, flags=flags,
            forms=forms, day_rows=days, checks=checks,
        ))  # fmt: skip
    checks = tuple(CheckCount(f, c, k, 1000) for f in FORM_IDS for c, k in CHECKS)
    period = Period(start, start + timedelta(days=30))
    return AuditResult(period, 86_400, False, "fail", tuple(institutions), checks, policy=Policy())


def load_seconds(browser, path: Path) -> tuple[float, int, int]:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    blocked: list[str] = []
    errors: list[str] = []
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:")
               else (blocked.append(r.request.url), r.abort()))  # fmt: skip
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    began = time.perf_counter()
    page.goto(path.as_uri(), wait_until="load")
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => r(1)))")
    seconds = time.perf_counter() - began
    rows = page.locator("#table tbody tr").count()
    page.close()
    assert not blocked and not errors, (blocked, errors)
    return seconds, rows, len(blocked)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sizes", nargs="*", type=int, default=[200, 1000])
    parser.add_argument("--out", type=Path, default=Path("/tmp"))
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    options = parser.parse_args()
    from playwright.sync_api import sync_playwright

    paths = {}
    for n in options.sizes:
        result = synthetic(n)
        began = time.perf_counter()
        html = render_html(result, "zh")
        rendered = time.perf_counter() - began
        path = options.out / f"report_{n}.html"
        path.write_text(html, encoding="utf-8")
        paths[n] = path
        print(f"{n} institutions: {len(html.encode()) / 1e6:.2f} MB, rendered in {rendered:.2f} s")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=options.chromium, args=ARGS)
        best: dict[int, float] = {}
        for _ in range(3):  # alternating runs
            for n, path in paths.items():
                seconds, rows, _ = load_seconds(browser, path)
                assert rows == n
                best[n] = min(best.get(n, 1e9), seconds)
        browser.close()
    for n, seconds in best.items():
        print(f"{n} institutions: opens in {seconds:.2f} s (best of 3), 0 requests, 0 errors")


if __name__ == "__main__":
    main()

"""The reports as a reader sees them: rendered by a real browser (headless Chromium, driven by Playwright).

Each report is opened from disk with every network request intercepted. The
test checks that every image loads and has a size, that nothing at all is
fetched from the network, that every section is on screen, and that printing
to A4 gives a sane number of pages. The browser is Debian's ``chromium``
(``apt-get install chromium``; ``.ci/run`` installs it). On a machine without
it these tests are skipped, and say so; CI refuses to run without it.
"""

from __future__ import annotations

import re
import shutil

import pytest

from coopsim.engine import compare, load_scenario, run
from coopsim.reports.write import write_comparison_report, write_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)")


@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


def _open(browser, path):
    """The page at ``path``, with every request recorded and any that would leave the machine refused."""
    page = browser.new_page(viewport={"width": 1000, "height": 1400})
    fetched: list[str] = []

    def handle(route):
        url = route.request.url
        if url.startswith(("data:", "file://")):
            route.continue_()
        else:
            fetched.append(url)
            route.abort()

    page.route("**/*", handle)
    page.goto(path.as_uri(), wait_until="load")
    return page, fetched


def _images(page) -> list[dict]:
    return page.evaluate(
        "() => Array.from(document.images).map(i => ({src: i.src.slice(0, 30), ok: i.complete && i.naturalWidth > 0,"
        " width: i.getBoundingClientRect().width}))"
    )


def _printed_pages(page) -> int:
    pdf = page.pdf(format="A4", print_background=True)
    return len(re.findall(rb"/Type\s*/Page\b", pdf))


def test_the_after_action_report_renders_offline_with_every_image_and_prints_to_a_sane_length(browser, tmp_path):
    run(load_scenario("pakistan-earthquake-2005"), out=tmp_path / "run")
    report = write_report(tmp_path / "run")
    page, fetched = _open(browser, report / "report.html")
    images = _images(page)
    assert len(images) == 6 and all(i["ok"] and i["width"] > 300 for i in images), images
    assert fetched == []
    headings = page.eval_on_selector_all("section > h2", "hs => hs.map(h => h.textContent)")
    assert headings[0] == "1. Exercise overview" and headings[-1] == "8. Appendices" and len(headings) == 8
    assert page.locator("div.banner.head").inner_text() == "EXERCISE EXERCISE EXERCISE"
    # the contents links land on their sections
    page.click("nav.toc a[href='#improvement-plan']")
    assert page.evaluate("() => location.hash") == "#improvement-plan"
    pages = _printed_pages(page)
    assert 10 <= pages <= 40, pages  # a page or more per section, the wide tables landscape; not one page per table row
    page.screenshot(path=str(tmp_path / "aar.png"), full_page=True)
    page.close()


def test_the_markdown_reports_charts_are_files_beside_it_that_exist(tmp_path):
    run(load_scenario("somalia-wfp-escort-2008"), out=tmp_path / "run")
    report = write_report(tmp_path / "run")
    md = (report / "report.md").read_text()
    linked = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
    assert linked and all((report / link).is_file() for link in linked)


def test_the_comparison_report_renders_offline_with_every_chart(browser, tmp_path):
    s = load_scenario("somalia-wfp-escort-2008")
    result = compare(s, ["no_info_sharing"], 3, workers=1)
    out = write_comparison_report(s, result, tmp_path / "report")
    page, fetched = _open(browser, out / "comparison.html")
    images = _images(page)
    assert len(images) == 5 and all(i["ok"] and i["width"] > 300 for i in images), images
    assert fetched == []
    assert "reached in 0 of 3" in page.inner_text("body")
    assert 2 <= _printed_pages(page) <= 20
    page.close()


def test_a_report_naming_a_web_address_fetches_nothing_when_opened(browser, tmp_path, vary):
    # a scenario's source links are links a reader may follow, never resources the page loads
    def linked(d):
        d["scenario"]["sources"] = [{"title": "NATO", "url": "https://www.nato.int/"}]
        d["scenario"]["description"] = '<img src="https://example.org/x.png"> <script>fetch("https://example.org")</script>'

    run(vary(linked), out=tmp_path / "run")
    report = write_report(tmp_path / "run")
    page, fetched = _open(browser, report / "report.html")
    assert fetched == []
    assert page.locator("a[href='https://www.nato.int/']").count() == 1
    assert '<img src="https://example.org/x.png">' in page.inner_text("table.overview")  # shown as text, not loaded
    page.close()

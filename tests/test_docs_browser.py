"""The docs site (`make docs`) opened in headless Chromium: every page loads with the sidebar and the search box,
shows no raw notebook directives or front matter, all its figures render, its links to other pages resolve,
and the search finds a chapter. Screenshots of three pages are taken and checked to be real renders."""
import os, re, shutil, tempfile
from pathlib import Path
from urllib.parse import unquote, urlparse
import pytest
from conftest import ROOT

DOCS = ROOT / "_docs"
# What a page must not show: Quarto cell options, YAML front matter, the calls nbdev turns into API docs
RAW = [re.compile(r"^#\|", re.M), re.compile(r"^---\s*$\s*^(description|title|output-file):", re.M),
       re.compile(r"\bshow_doc\("), re.compile(r"^output-file:", re.M)]


def _driver():
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        if os.environ.get("CI"): pytest.fail("chromium and chromedriver must be installed in CI (make browser installs them)")
        pytest.skip("chromium/chromedriver not installed (make browser)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    o = webdriver.ChromeOptions()
    o.binary_location = chromium
    for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic",
              "--window-size=1400,1000", f"--user-data-dir={tempfile.mkdtemp(prefix='specter-chromium-')}"]:
        o.add_argument(a)
    d = webdriver.Chrome(service=Service(driver), options=o)
    d.set_page_load_timeout(30)
    return d


@pytest.fixture(scope="module")
def browser():
    if not (DOCS / "index.html").is_file():
        if os.environ.get("CI"): pytest.fail("the docs site was not built (make docs runs before pytest)")
        pytest.skip("docs not built (make docs)")
    d = _driver()
    yield d
    d.quit()


def _pages():
    "The pages of the book: the chapters in the sidebar of the home page, in order."
    html = (DOCS / "index.html").read_text(encoding="utf-8") if (DOCS / "index.html").is_file() else ""
    nav = html.split('bd-docs-nav', 1)[-1].split('</nav>', 1)[0]
    return ["index.html"] + list(dict.fromkeys(re.findall(r'href="([\w-]+\.html)"', nav)))


PAGE = """return {
  ready: document.readyState,
  sidebar: Array.from(document.querySelectorAll('nav.bd-docs-nav a.reference')).map(a => a.getAttribute('href')),
  search: !!document.querySelector('.search-button-field, form.bd-search input[type=search]'),
  text: document.querySelector('main').innerText,
  images: Array.from(document.images).map(i => [i.getAttribute('src'), i.complete && i.naturalWidth > 0]),
  links: Array.from(document.querySelectorAll('main a[href]')).map(a => a.href)
}"""


def test_site_has_every_chapter():
    if not (DOCS / "index.html").is_file(): pytest.skip("docs not built (make docs)")
    pages = _pages()
    nbs = sorted(p for p in (ROOT / "nbs").glob("*.ipynb"))
    assert len(pages) >= len(nbs), f"sidebar lists {len(pages)} pages for {len(nbs)} notebooks: {pages}"
    assert "loop_report.html" in pages, "the loop report is not a page of the site"


def test_every_page(browser):
    pages, problems = _pages(), []
    for page in pages:
        browser.get((DOCS / page).as_uri())
        r = browser.execute_script(PAGE)
        where = page
        if r["ready"] != "complete": problems.append(f"{where}: did not finish loading")
        if len(r["sidebar"]) < len(pages) - 1: problems.append(f"{where}: sidebar has {len(r['sidebar'])} links")
        if not r["search"]: problems.append(f"{where}: no search box")
        if len(r["text"]) < 200: problems.append(f"{where}: nearly empty ({len(r['text'])} characters)")
        problems += [f"{where}: shows raw {p.pattern!r}" for p in RAW if p.search(r["text"])]
        problems += [f"{where}: image did not render: {src}" for src, ok in r["images"] if not ok]
        for href in r["links"]:
            u = urlparse(href)
            if u.scheme == "file" and not Path(unquote(u.path)).exists(): problems.append(f"{where}: broken link {href}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("page,min_images", [("index.html", 0), ("loop.html", 0), ("loop_report.html", 3)])
def test_screenshot(browser, page, min_images, tmp_path):
    browser.get((DOCS / page).as_uri())
    r = browser.execute_script(PAGE)
    assert len(r["images"]) >= min_images, r["images"]
    shot = tmp_path / page.replace(".html", ".png")
    assert browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 30_000, f"{page}: the screenshot is nearly blank ({shot.stat().st_size} bytes)"


def test_search_finds_a_chapter(browser):
    from selenium.webdriver.support.ui import WebDriverWait
    browser.get((DOCS / "search.html").as_uri() + "?q=manifest")
    hits = WebDriverWait(browser, 20).until(
        lambda d: d.execute_script("return Array.from(document.querySelectorAll('#search-results li a')).map(a => a.href)"))
    assert any(h.split("#")[0].endswith("hub.html") for h in hits), hits

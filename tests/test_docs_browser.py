"""The docs home page and the loop report, opened in headless Chromium: the pages and their figures render."""
import os, shutil
from pathlib import Path
import pytest
from conftest import ROOT

DOCS = ROOT / "_docs"


def _driver():
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        if os.environ.get("CI"): pytest.fail("chromium and chromedriver must be installed in CI (make test installs them)")
        pytest.skip("chromium/chromedriver not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    o = webdriver.ChromeOptions()
    o.binary_location = chromium
    for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]:
        o.add_argument(a)
    return webdriver.Chrome(service=Service(driver), options=o)


@pytest.fixture(scope="module")
def browser():
    if not (DOCS / "index.html").is_file():
        pytest.skip("docs not built (make docs)")
    d = _driver()
    yield d
    d.quit()


IMAGES_OK = "return Array.from(document.images).map(i => [i.src.split('/').pop().slice(0, 40), i.complete && i.naturalWidth > 0])"


@pytest.mark.parametrize("page,min_images", [("index.html", 0), ("loop_report.html", 3)])
def test_page_and_figures_render(browser, page, min_images, tmp_path):
    p = DOCS / page
    assert p.is_file(), f"{page} missing from the docs site"
    browser.get(p.as_uri())
    assert browser.execute_script("return document.readyState") == "complete"
    text = browser.find_element("tag name", "body").text
    assert len(text) > 200, f"{page} is nearly empty"
    imgs = browser.execute_script(IMAGES_OK)
    assert len(imgs) >= min_images, imgs
    broken = [s for s, ok in imgs if not ok]
    assert not broken, f"{page}: figures that did not render: {broken}"
    browser.save_screenshot(str(tmp_path / "page.png"))
    assert (tmp_path / "page.png").stat().st_size > 10_000

"""End to end: ``geovario serve`` in a child process, driven by headless Chromium."""

from pathlib import Path

import pytest
from tests.helpers.serve_testdata import photo_bytes

CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (CHROMEDRIVER.exists() and CHROMIUM.exists()),
                       reason="needs Debian's chromium and chromium-driver "
                              "(apt-get install -y chromium chromium-driver)"),
]


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--no-first-run",
                     "--window-size=1280,900",
                     f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    yield driver
    driver.quit()


def locate(browser, server, path: Path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(server.url)
    browser.find_element(By.ID, "image").send_keys(str(path))
    browser.find_element(By.ID, "locate").click()
    status = browser.find_element(By.ID, "status")
    WebDriverWait(browser, 60).until(
        lambda _: status.text.startswith(("Top", "Error")) and
        browser.find_element(By.ID, "locate").is_enabled())
    return status.text


def test_upload_shows_markers_on_the_map(serve_process, browser, tmp_path):
    from selenium.webdriver.common.by import By

    photo = tmp_path / "holiday.jpg"
    photo.write_bytes(photo_bytes(seed=7, size=(640, 480)))
    status = locate(browser, serve_process, photo)
    assert status.startswith("Top 4 guesses for holiday.jpg in ")
    world = browser.find_element(By.ID, "world")
    assert browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth",
                                  world) == 1350  # the map image loaded from the app
    box = world.rect
    markers = browser.find_elements(By.CSS_SELECTOR, "#markers .marker")
    rows = browser.find_elements(By.CSS_SELECTOR, "#predictions tbody tr")
    assert len(markers) == len(rows) == 4
    assert [m.text for m in markers] == ["1", "2", "3", "4"]
    for marker, row in zip(markers, rows, strict=True):
        x = marker.rect["x"] + marker.rect["width"] / 2
        y = marker.rect["y"] + marker.rect["height"] / 2
        assert box["x"] <= x <= box["x"] + box["width"]
        assert box["y"] <= y <= box["y"] + box["height"]
        # Equirectangular: the marker sits where its row's coordinates say, within a pixel.
        latitude, longitude = (float(cell.text) for cell in row.find_elements(By.TAG_NAME,
                                                                               "td")[1:3])
        assert x == pytest.approx(box["x"] + (longitude + 180) / 360 * box["width"], abs=1)
        assert y == pytest.approx(box["y"] + (90 - latitude) / 180 * box["height"], abs=1)
    browser.save_screenshot(str(tmp_path / "serve-page.png"))
    assert (tmp_path / "serve-page.png").stat().st_size > 10_000


def test_a_bad_file_shows_the_servers_reason(serve_process, browser, tmp_path):
    from selenium.webdriver.common.by import By

    notes = tmp_path / "notes.txt"
    notes.write_text("not a photo\n")
    status = locate(browser, serve_process, notes)
    assert status.startswith("Error: notes.txt: not a decodable image")
    assert browser.find_elements(By.CSS_SELECTOR, "#markers .marker") == []
    assert not browser.find_element(By.ID, "predictions").is_displayed()
    browser.save_screenshot(str(tmp_path / "serve-error.png"))

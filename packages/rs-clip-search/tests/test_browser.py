"""End to end in a real browser: Debian's headless Chromium driven by Selenium through /usr/bin/chromedriver
(no browser is downloaded). The index is built from rs-synth scenes with the test suite's colour model
(conftest.ColourEncoder): a random-init CLIP would not rank scenes by meaning, the colour model ranks the
scene of the ground a query names first."""

from __future__ import annotations

import os
import socket
import threading
import time

import numpy as np
import pytest
import rasterio
import uvicorn
from conftest import write_scene
from rasterio.transform import from_origin

from rs_clip_search import SearchIndex, build_index
from rs_clip_search.app import create_app

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


def _archive(root):
    """Six scenes: three PNG/JPEG, three GeoTIFFs side by side in UTM 33N (so the footprint map shows)."""
    from rs_synth import compose_scene

    write_scene(root / "photos" / "forest.png", "forest", seed=1)
    write_scene(root / "photos" / "grass.jpg", "grass", seed=2)
    write_scene(root / "photos" / "concrete.png", "concrete", seed=3)
    for i, ground in enumerate(("water", "desert", "urban")):
        img = compose_scene(
            np.random.default_rng(10 + i), (224, 224), ground, ["ship"] if ground == "water" else []
        ).image
        (root / "geo").mkdir(parents=True, exist_ok=True)
        with rasterio.open(
            root / "geo" / f"{ground}.tif",
            "w",
            driver="GTiff",
            width=224,
            height=224,
            count=3,
            dtype="uint8",
            crs="EPSG:32633",
            transform=from_origin(500000 + i * 2240, 4650000, 10, 10),
        ) as dst:
            dst.write(np.moveaxis(img, -1, 0))


@pytest.fixture
def server(tmp_path, encoder):
    _archive(tmp_path / "archive")
    build_index(tmp_path / "archive", encoder, tmp_path / "idx", tile=112)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(
        uvicorn.Config(
            create_app(SearchIndex(tmp_path / "idx"), encoder),
            host="127.0.0.1",
            port=port,
            log_level="warning",
        )
    )
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started, "the server did not start"
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must not look for a browser online
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1200,820",
    ):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    yield driver
    driver.quit()


def test_a_query_typed_in_the_page_finds_the_expected_scene_first(server, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 20)
    browser.get(server + "/")
    wait.until(lambda d: "tiles" in d.find_element(By.ID, "info").text)
    box = browser.find_element(By.ID, "q")
    box.send_keys("water")
    browser.find_element(By.ID, "go").click()
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#results .card")) > 0)
    names = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#results .card .name")]
    assert names[:4] == ["water.tif"] * 4  # the water scene's four tiles, first
    scores = [float(e.text) for e in browser.find_elements(By.CSS_SELECTOR, "#results .card .score")]
    assert scores == sorted(scores, reverse=True)
    # thumbnails loaded, the footprint map drawn (the water scene is georeferenced)
    wait.until(
        lambda d: d.execute_script(
            "return [...document.images].filter(i => i.closest('.card')).every(i => i.complete && i.naturalWidth > 0)"
        )
    )
    assert len(browser.find_elements(By.CSS_SELECTOR, "#map rect")) == 12  # the geo tiles among the results
    browser.save_screenshot(str(tmp_path / "search.png"))
    first = browser.find_element(By.CSS_SELECTOR, "#results .card")
    first.click()
    detail = wait.until(ec.visibility_of_element_located((By.ID, "detail-meta")))
    assert "EPSG:32633" in detail.text and "water.tif" in detail.text
    browser.find_element(By.ID, "like").click()
    wait.until(lambda d: not d.find_element(By.ID, "detail").is_displayed())
    wait.until(lambda d: "result(s)" in d.find_element(By.ID, "status").text)
    assert browser.find_elements(By.CSS_SELECTOR, "#results .card .name")[0].text == "water.tif"
    # a query the server refuses shows its message, not a broken page
    browser.find_element(By.ID, "bbox").send_keys("1,2")
    browser.find_element(By.ID, "go").click()
    wait.until(lambda d: "four finite numbers" in d.find_element(By.ID, "status").text)
    png = (tmp_path / "search.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
    if os.environ.get("RS_CLIP_SEARCH_SCREENSHOT"):  # how docs/images/search.png is made
        (tmp_path / "search.png").replace(os.environ["RS_CLIP_SEARCH_SCREENSHOT"])

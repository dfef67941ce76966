"""A real browser against a real server: `heprag chat --headless` on localhost, driven by Debian's headless
Chromium through selenium; asks a question about real PDFs and saves a screenshot of the cited answer."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts" / "browser"
QUESTION = "What significance did ATLAS observe for the Higgs boson decay to two muons?"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
CHROME_FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
    "--window-size=1400,1900",
]  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"`heprag chat` exited with {proc.returncode} before becoming healthy")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"{url} was not healthy after {timeout:.0f} s")


@pytest.fixture()
def chat_server(small_index: Path, tmp_path: Path) -> Iterator[str]:
    """`heprag --index <small index> chat --headless --port N` as a user starts it; stopped afterwards."""
    pytest.importorskip("streamlit", reason="the chat needs the app extra: pip install 'heprag[app]'")
    port = _free_port()
    log = (tmp_path / "server.log").open("wb")
    cmd = [sys.executable, "-m", "heprag.app.cli", "--index", str(small_index), "chat", "--headless"]
    proc = subprocess.Popen(
        [*cmd, "--port", str(port), "--address", "127.0.0.1"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=dict(os.environ),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture()
def browser(tmp_path: Path) -> Iterator[object]:
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("headless Chromium not found: apt-get install chromium chromium-driver (.ci/run does)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="pip install selenium (in the dev extra)")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [*CHROME_FLAGS, f"--user-data-dir={tmp_path / 'chrome-profile'}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def test_real_browser_gets_a_cited_answer_with_page_numbers(chat_server: str, browser) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(chat_server)
    wait = WebDriverWait(browser, 240)
    box = wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "[data-testid='stChatInputTextArea']")))
    box.send_keys(QUESTION)
    box.send_keys(Keys.ENTER)
    wait.until(ec.presence_of_element_located((By.XPATH, "//*[normalize-space()='Sources']")))
    messages = browser.find_elements(By.CSS_SELECTOR, "[data-testid='stChatMessage']")
    assert len(messages) >= 2 and QUESTION in messages[0].text
    reply = messages[1].text
    assert "[1]" in reply and "2.0σ" in reply, reply[:600]

    def source_summaries(driver: Any) -> list[str]:
        found = driver.find_elements(By.CSS_SELECTOR, "[data-testid='stExpander'] summary")
        return [s.text.splitlines()[-1] for s in found if s.text]  # the line after the arrow icon

    # the sources panel renders just after the "Sources" heading: wait for its first entry
    wait.until(lambda driver: any(s.startswith("[1] ") for s in source_summaries(driver)))
    expanders = browser.find_elements(By.CSS_SELECTOR, "[data-testid='stExpander'] summary")
    summaries = source_summaries(browser)
    cited = [s for s in summaries if s.startswith("[1] ")]
    assert cited and "ATLAS 2007.07830v2" in cited[0] and "p. " in cited[0], summaries
    # the run is over when the sidebar offers the export; then open [1] to show its highlighted passage
    wait.until(ec.presence_of_element_located((By.XPATH, "//button[normalize-space()='Export as markdown']")))
    next(e for e in expanders if e.text.splitlines()[-1].startswith("[1] ")).click()
    wait.until(ec.presence_of_element_located((By.PARTIAL_LINK_TEXT, "arXiv abstract")))
    browser.execute_script("arguments[0].scrollIntoView({block: 'start'});", messages[0])
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "chat.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000

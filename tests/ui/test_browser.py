"""The plant as its users see it, in a real browser: headless Chromium (Debian's chromium + chromium-driver,
driven by Selenium; nothing downloaded) loads the Dagster UI that `waterworks ui` serves on loopback over the
session plant's DAGSTER_HOME — the stage groups, the asset checks with their policy decisions, the schedules
and sensors — and the compliance report the plant run wrote. Screenshots go to test-artifacts/browser/."""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "browser"
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
GROUPS = ("source", "purification", "sanitation", "datasets", "training", "distribution", "governance")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    assert not missing, f"{', '.join(missing)} missing: apt-get install chromium chromium-driver (make test does, through .ci/system-packages)"
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1600,1000"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def dagster_ui(plant):
    """`waterworks ui` (dagster dev: webserver + daemon) on the plant's home, in its own process group."""
    settings, _, _ = plant
    port = _free_port()
    env = {**os.environ, "WATERWORKS_HOME": str(settings.home), "WATERWORKS_TRAINING_PRESET": "tiny",
           "WATERWORKS_DAGSTER_UI_PORT": str(port)}
    log = open(settings.home / "dagster-ui.log", "w")  # noqa: SIM115 (closed below)
    process = subprocess.Popen([sys.executable, "-m", "waterworks.pipelines.cli", "ui"], env=env, cwd=ROOT, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    url, started = f"http://127.0.0.1:{port}", time.time()
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{url}/server_info", timeout=2)
                break
            except OSError:
                assert process.poll() is None, (settings.home / "dagster-ui.log").read_text()[-2000:]
                assert time.monotonic() < deadline, "the Dagster UI did not answer within 120 s"
                time.sleep(1)
        yield url, started
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


def _open(driver, url: str, expect: tuple[str, ...], shot: str, timeout: float = 60, until=None) -> str:
    """Load ``url``, dismiss Dagster's newsletter dialog, wait until every text in ``expect`` is on the page
    (and ``until(driver)`` holds), save a screenshot; returns the page text."""
    from selenium.webdriver.common.by import By

    driver.get(url)
    deadline, text = time.monotonic() + timeout, ""
    while time.monotonic() < deadline:
        for button in driver.find_elements(By.XPATH, "//button[normalize-space()='Skip']"):
            with contextlib.suppress(Exception):  # the dialog may re-render under the click; the next pass retries
                button.click()
        text = driver.execute_script("return document.body.innerText")  # never a stale element: the page re-renders
        if all(e in text for e in expect) and (until is None or until(driver)):
            break
        time.sleep(1)
    time.sleep(1)  # let the graph settle before the picture
    driver.save_screenshot(str(SHOTS / f"{shot}.png"))
    missing = [e for e in expect if e not in text]
    assert not missing, f"{url}: {missing} not shown"
    assert until is None or until(driver), f"{url}: {until.__doc__}"
    return text


def _automation_state(url: str) -> dict[str, tuple[str, list]]:
    """Every schedule and sensor of the code location: name → (status, its latest ticks' timestamps)."""
    query = ("{ workspaceOrError { ... on Workspace { locationEntries { locationOrLoadError { ... on "
             "RepositoryLocation { repositories { sensors { name sensorState { status ticks(limit: 1) { timestamp } } }"
             " schedules { name scheduleState { status } } } } } } } } }")
    request = urllib.request.Request(f"{url}/graphql", data=json.dumps({"query": query}).encode(),
                                     headers={"Content-Type": "application/json"})
    data = json.loads(urllib.request.urlopen(request, timeout=30).read())["data"]["workspaceOrError"]
    state = {}
    for entry in data["locationEntries"]:
        for repository in entry["locationOrLoadError"]["repositories"]:
            for sensor in repository["sensors"]:
                state[sensor["name"]] = (sensor["sensorState"]["status"],
                                         [t["timestamp"] for t in sensor["sensorState"]["ticks"]])
            for schedule in repository["schedules"]:
                state[schedule["name"]] = (schedule["scheduleState"]["status"], [])
    return state


def test_the_dagster_ui_shows_the_plant_its_checks_and_its_automation(browser, dagster_ui):

    url, started = dagster_ui
    text = _open(browser, f"{url}/asset-groups", GROUPS, "01-asset-groups")
    assert all(group in text for group in GROUPS)
    text = _open(browser, f"{url}/assets/champion_intent_classifier?view=checks",
                 ("deployment_policy", "promotion_gates", "This is a blocking asset check"), "02-champion-checks")
    assert "classification" in text
    _open(browser, f"{url}/assets/classification_dataset?view=checks",
          ("no_residual_pii", "training_policy_intent_classifier"), "03-dataset-checks")
    automations = _automation_state(url)
    assert {"daily_refresh_plant", "landing_sensor", "report_after_plant_run",
            "report_after_failed_plant_run"} <= set(automations)

    def all_switched_on(driver) -> bool:
        """every schedule and sensor shows its switch on"""
        checked = driver.execute_script("return document.querySelectorAll('input[type=checkbox]:checked').length")
        return checked >= len(automations)

    _open(browser, f"{url}/automation", tuple(sorted(automations)), "04-automation", until=all_switched_on)
    _open(browser, f"{url}/assets/compliance_report",
          ("compliance_report", "governance"), "05-compliance-report-asset")
    # Running, not just listed: the daemon that `waterworks ui` starts evaluates the sensors.
    deadline = time.monotonic() + 120
    while True:
        automations = _automation_state(url)
        ticked = {name for name, (_, ticks) in automations.items() if any(t >= started for t in ticks)}
        if "landing_sensor" in ticked or time.monotonic() > deadline:
            break
        time.sleep(3)
    assert {status for status, _ in automations.values()} == {"RUNNING"}, automations
    assert "landing_sensor" in ticked, "the daemon did not evaluate the landing sensor within 120 s"


def test_the_compliance_report_renders_its_charts(browser, plant):
    from selenium.webdriver.common.by import By

    settings, _, _ = plant
    html = Path(json.loads((settings.reports_dir / "latest.json").read_text(encoding="utf-8"))["html"])
    browser.set_window_size(1400, 1000)
    text = _open(browser, html.as_uri(), ("Waterworks compliance report", "Personal-information impact assessment",
                                          "PIPL", "GDPR"), "06-compliance-report")
    assert "Every article addressed" in text
    figures = browser.find_elements(By.CSS_SELECTOR, "figure[data-chart] svg")
    assert len(figures) == 7
    for svg in figures:  # drawn, not empty boxes
        assert svg.size["width"] > 200 and svg.size["height"] > 100
    height = browser.execute_script("return document.body.scrollHeight")
    browser.set_window_size(1400, min(int(height), 12000))
    browser.save_screenshot(str(SHOTS / "07-compliance-report-full.png"))


def test_the_report_prints_to_pdf(plant, tmp_path):
    settings, _, _ = plant
    env = {**os.environ, "WATERWORKS_HOME": str(settings.home), "WATERWORKS_TRAINING_PRESET": "tiny"}
    done = subprocess.run([sys.executable, "-m", "waterworks.pipelines.cli", "report", "--out", str(tmp_path), "--pdf"],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    pdf = (tmp_path / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-") and len(pdf) > 50_000 and pdf.count(b"/Type /Page") >= 3

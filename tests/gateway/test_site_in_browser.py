"""The public's pages in a real browser: Debian's Chromium, driven by Selenium through Debian's chromedriver.

Nothing here downloads a browser or a driver (``make browser-tools`` installs
Debian's, and axe-core from the npm registry, pinned in
``tests/browser/package-lock.json``). Each step waits for what it needs on
the page, never for a fixed time. On every page visited, axe-core runs in
the page and the test fails on any serious or critical violation; the counts
per page, and a screenshot of each, are written to ``SITE_REPORT_DIR``
(default ``/tmp/orgwork-site``), which is not part of the repository.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as seen
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait

from services.scenarios.appointment import run_selection
from shared.config import REPO_ROOT
from shared.db.clock import advance_clock
from shared.db.database import Database
from shared.runtime.messaging.client import rpc_client
from tests.gateway.conftest import token
from tests.support.identities import EVERY_ROLE
from tests.support.platform import wait_until
from tests.support.probes import case_by_code

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
AXE = REPO_ROOT / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
REPORT = Path(os.environ.get("SITE_REPORT_DIR", "/tmp/orgwork-site"))
#: The flags that keep Chromium off the network it cannot reach here, on a phone-sized window.
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=412,915",
)
RUN_AXE = """
const done = arguments[arguments.length - 1];
axe.run(document, {resultTypes: ["violations"]})
  .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.length}))))
  .catch(e => done({error: String(e)}));
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER, AXE) if not p.exists()]
    if missing:
        pytest.fail(f"missing {', '.join(missing)}: run `make browser-tools` (Debian's chromium, axe-core)")
    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    with tempfile.TemporaryDirectory(prefix="orgwork-chromium-") as profile:
        options.add_argument(f"--user-data-dir={profile}")
        driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
        driver.set_script_timeout(30)
        try:
            yield driver
        finally:
            driver.quit()


@pytest.fixture(scope="module")
def audit() -> Iterator[dict[str, Any]]:
    """axe-core's violations per page, written out for the record when the module is done."""
    found: dict[str, Any] = {}
    yield found
    REPORT.mkdir(parents=True, exist_ok=True)
    (REPORT / "axe.json").write_text(json.dumps(found, indent=2, ensure_ascii=False), encoding="utf-8")


def wait(driver: WebDriver) -> WebDriverWait:
    return WebDriverWait(driver, 20)


def checked(driver: WebDriver, audit: dict[str, Any], name: str) -> None:
    """Run axe-core on the page as it is, keep a screenshot, and fail on a serious or critical violation."""
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    violations = driver.execute_async_script(RUN_AXE)
    assert isinstance(violations, list), violations
    audit[name] = {
        "url": driver.current_url,
        "violations": violations,
        "serious_or_critical": sum(1 for v in violations if v["impact"] in ("serious", "critical")),
    }
    REPORT.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(REPORT / f"{name}.png"))
    bad = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert not bad, f"{name}: {bad}"


def test_the_public_gives_feedback_follows_the_case_and_closes_it_with_a_rating(
    browser: WebDriver, live_gateway: str, audit: dict[str, Any]
) -> None:
    browser.get(f"{live_gateway}/")
    wait(browser).until(seen.presence_of_element_located((By.CSS_SELECTOR, "main h1")))
    checked(browser, audit, "board")

    browser.find_element(By.CSS_SELECTOR, 'nav a[href="/feedback"]').click()
    text = wait(browser).until(seen.presence_of_element_located((By.ID, "text")))
    Select(browser.find_element(By.ID, "category")).select_by_value("consultation")
    Select(browser.find_element(By.ID, "channel")).select_by_value("consultation")
    text.send_keys("How are township cadres appraised each year?")
    wait(browser).until(lambda d: "3956" in d.find_element(By.ID, "text-count").text)  # the counter, as typed
    checked(browser, audit, "feedback-form")
    browser.find_element(By.CSS_SELECTOR, 'form button[type="submit"]').click()

    code_field = wait(browser).until(seen.presence_of_element_located((By.ID, "receipt-code")))
    code = code_field.text.strip()
    assert len(code) >= 16
    assert browser.find_element(By.CSS_SELECTOR, "[data-copy]").is_displayed(), "copy works with JavaScript on"
    checked(browser, audit, "receipt")

    with rpc_client(timeout=20, identity=EVERY_ROLE) as rpc:  # the department answers
        case = wait_until(lambda: case_by_code(rpc, code), what="the case in its read model")
        assert case is not None
        rpc.feedback.reply(submission_id=case["submission_id"], text="By the yearly review, published in March.")
        wait_until(lambda: (case_by_code(rpc, code) or {}).get("replies"), what="the reply in the case's read model")

    browser.find_element(By.CSS_SELECTOR, 'nav a[href="/case"]').click()
    wait(browser).until(seen.presence_of_element_located((By.ID, "receipt_code"))).send_keys(code)
    checked(browser, audit, "case-lookup")
    browser.find_element(By.CSS_SELECTOR, 'form button[type="submit"]').click()
    reply = wait(browser).until(seen.presence_of_element_located((By.CSS_SELECTOR, ".reply .text")))
    assert reply.text == "By the yearly review, published in March."
    checked(browser, audit, "case")

    browser.find_element(By.CSS_SELECTOR, 'label[for="rating-4"]').click()
    browser.find_element(By.ID, "comment").send_keys("Clear and on time.")
    browser.find_element(By.CSS_SELECTOR, 'input[name="action"][value="close"]').find_element(
        By.XPATH, "ancestor::form"
    ).submit()
    wait(browser).until(seen.text_to_be_present_in_element((By.ID, "case-status"), "已关闭"))
    assert "4 / 5" in browser.find_element(By.CSS_SELECTOR, "dl.case").text
    checked(browser, audit, "case-closed")


def test_a_wrong_code_in_the_browser_gets_the_neutral_answer_and_english_on_request(
    browser: WebDriver, live_gateway: str, audit: dict[str, Any]
) -> None:
    browser.get(f"{live_gateway}/case")
    browser.find_element(By.CSS_SELECTOR, 'header a[lang="en"]').click()
    field = wait(browser).until(seen.presence_of_element_located((By.ID, "receipt_code")))
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    field.send_keys("NOT-A-REAL-CODE-0000")
    browser.find_element(By.CSS_SELECTOR, 'form button[type="submit"]').click()
    error = wait(browser).until(seen.presence_of_element_located((By.ID, "receipt_code-error")))
    assert error.text == "No case matches this code. Check it and try again."
    checked(browser, audit, "case-not-found")


def test_staff_sign_in_and_answer_from_the_queue_before_the_deadline(
    browser: WebDriver, live_gateway: str, audit: dict[str, Any]
) -> None:
    browser.get(f"{live_gateway}/feedback")
    text = wait(browser).until(seen.presence_of_element_located((By.ID, "text")))
    text.send_keys("When does the township hall open on Saturdays?")
    browser.find_element(By.CSS_SELECTOR, 'form button[type="submit"]').click()
    code = wait(browser).until(seen.presence_of_element_located((By.ID, "receipt-code"))).text.strip()
    with rpc_client(timeout=20, identity=EVERY_ROLE) as rpc:
        case = wait_until(lambda: case_by_code(rpc, code), what="the case in its read model")
        assert case is not None
    submission_id = case["submission_id"]

    browser.get(f"{live_gateway}/staff")
    field = wait(browser).until(seen.presence_of_element_located((By.ID, "token")))
    checked(browser, audit, "staff-sign-in")
    field.send_keys(token("department_staff", subject="staff:zhou-min"))
    browser.find_element(By.CSS_SELECTOR, 'form button[type="submit"]').click()
    item = wait(browser).until(seen.presence_of_element_located((By.ID, f"work-{submission_id}")))
    assert browser.find_element(By.ID, "staff-subject").text == "staff:zhou-min"
    left = item.find_element(By.CLASS_NAME, "time-left").text
    assert re.fullmatch(r"\d+ (hours|小时)", left), f"before the deadline, hours are left: {left!r}"
    checked(browser, audit, "staff-queue")
    item.find_element(By.TAG_NAME, "textarea").send_keys("Nine to noon, from next month.")
    item.find_element(By.CSS_SELECTOR, 'button[value="reply"]').click()
    wait(browser).until(seen.presence_of_element_located((By.CSS_SELECTOR, ".alert.success")))

    with rpc_client(timeout=20, identity=EVERY_ROLE) as rpc:
        answered = wait_until(lambda: (case_by_code(rpc, code) or {}).get("replies"), what="the reply on the case")
        assert answered is not None and answered[0]["text"] == "Nine to noon, from next month."
        assert not (case_by_code(rpc, code) or {}).get("breaches"), "answered before the deadline"


def test_an_objection_from_the_board_holds_the_appointment_on_the_results_page(
    browser: WebDriver, live_gateway: str, audit: dict[str, Any], database: Database
) -> None:
    browser.get(f"{live_gateway}/language/zh-CN?next=/")
    objected: list[str] = []

    def object_from_the_board(view: dict[str, Any]) -> None:
        process_id = view["process_id"]
        nominee = next(c["cadre_id"] for c in view["candidates"] if c["nominated_post"])
        with rpc_client(timeout=20, identity=EVERY_ROLE) as rpc:  # feedback has heard of the notice
            wait_until(
                lambda: [n for n in rpc.feedback.open_notices()["items"] if n["process_id"] == process_id],
                what="the notice in feedback",
            )

        def objection_link() -> list[Any] | None:
            browser.get(f"{live_gateway}/")
            return browser.find_elements(By.CSS_SELECTOR, f'li[data-process="{process_id}"] a.button') or None

        links = wait_until(objection_link, what="the notice on the board")
        assert links is not None
        checked(browser, audit, "board-with-notice")
        links = browser.find_elements(By.CSS_SELECTOR, f'li[data-process="{process_id}"] a.button')
        links[0].click()
        Select(wait(browser).until(seen.presence_of_element_located((By.ID, "cadre_id")))).select_by_value(nominee)
        Select(browser.find_element(By.ID, "category")).select_by_value("complaint_about_cadre")
        browser.find_element(By.ID, "text").send_keys("The nominee took gifts from a contractor.")
        checked(browser, audit, "objection-form")
        browser.find_element(By.CSS_SELECTOR, 'form button[type="submit"]').click()
        wait(browser).until(seen.presence_of_element_located((By.ID, "receipt-code")))
        with rpc_client(timeout=20, identity=EVERY_ROLE) as rpc:  # supervision opened a case; cadre noted it
            wait_until(
                lambda: any(
                    step["step"] == "supervision_case"
                    for step in rpc.cadre.candidate_journey(process_id=process_id, cadre_id=nominee)["steps"]
                ),
                what="the case noted on the selection",
            )
        objected.append(nominee)

    with rpc_client(timeout=20, identity=EVERY_ROLE) as rpc:
        view = run_selection(
            rpc.cadre,
            lambda delta: advance_clock(database, delta),
            "site-objection",
            during_notice=object_from_the_board,
        )
    assert view["phase"] == "postponed"
    (nominee,) = objected

    def postponed_on_results() -> list[Any] | None:
        browser.get(f"{live_gateway}/results")
        return (
            browser.find_elements(By.CSS_SELECTOR, f'li[data-process="{view["process_id"]}"] ul.postponed li') or None
        )

    held = wait_until(postponed_on_results, what="the postponed appointment on the results page")
    assert held is not None and [item.text.split(" · ")[0] for item in held] == ["Li Ming"]
    assert nominee == "site-objection-c1"
    result = browser.find_element(By.CSS_SELECTOR, f'li[data-process="{view["process_id"]}"]')
    assert not result.find_elements(By.CSS_SELECTOR, "ul.appointed"), "nobody is appointed while the case is open"
    checked(browser, audit, "results")


def test_a_result_is_verified_in_the_browser_and_a_tampered_one_is_not(
    browser: WebDriver, live_gateway: str, audit: dict[str, Any], database: Database
) -> None:
    with rpc_client(timeout=20, identity=EVERY_ROLE) as rpc:
        view = run_selection(rpc.cadre, lambda delta: advance_clock(database, delta), "site-verify")
    selector = f'li[data-process="{view["process_id"]}"] a.verify'

    def verify_link() -> list[Any] | None:
        browser.get(f"{live_gateway}/results")
        return browser.find_elements(By.CSS_SELECTOR, selector) or None

    links = wait_until(verify_link, what="the result's verify link")
    assert links is not None
    page = links[0].get_attribute("href")
    assert page is not None

    def covered() -> bool:  # a signed head covers the closing event within a few seconds
        browser.get(page)
        return bool(browser.find_elements(By.ID, "check"))

    wait_until(covered, timeout=60, interval=1.0, what="a signed head covering the result")
    checked(browser, audit, "verify")
    browser.find_element(By.ID, "check").click()
    wait(browser).until(seen.text_to_be_present_in_element((By.ID, "verdict"), "核验通过"))
    assert "ok" in (browser.find_element(By.ID, "verdict").get_attribute("class") or "")
    REPORT.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(REPORT / "verify-verified.png"))

    browser.execute_script(  # the record shown is changed: the proof must no longer hold
        "const d = document.getElementById('proof-bundle'); const b = JSON.parse(d.textContent);"
        "b.leaf_input = b.leaf_input.replace('site-verify', 'site-forged'); d.textContent = JSON.stringify(b);"
    )
    browser.find_element(By.ID, "check").click()
    wait(browser).until(seen.text_to_be_present_in_element((By.ID, "verdict"), "核验未通过"))
    assert "does not lead to the signed root" in browser.find_element(By.ID, "verdict").text


def test_the_statistics_are_drawn_as_charts_over_tables_that_carry_the_same_figures(
    browser: WebDriver, live_gateway: str, audit: dict[str, Any]
) -> None:
    browser.get(f"{live_gateway}/statistics")
    table = wait(browser).until(seen.presence_of_element_located((By.ID, "months")))
    wait(browser).until(
        lambda d: d.find_element(By.CSS_SELECTOR, "canvas[data-table=months]").get_attribute("data-drawn")
    )
    received = [int(cell.text) for cell in table.find_elements(By.CSS_SELECTOR, 'td[data-key="received"]')]
    assert received and sum(received) > 0, "the submissions of the tests before are counted"
    drawn = browser.execute_script(
        "return Chart.getChart(document.querySelector('canvas[data-table=months]')).data.datasets[0].data"
    )
    assert drawn == received, "the chart draws the table's own figures"
    checked(browser, audit, "statistics")

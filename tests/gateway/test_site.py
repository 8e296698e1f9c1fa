"""The site's pages over HTTP, without a browser: what each answers, refuses and never lets through.

The browser tests (``tests/site``) walk the same pages in Chromium; these
check the server's side where a browser would hide it: the headers, the CSRF
refusal, the neutral answer to a wrong code, the language switch that only
goes back to this site, and a catalog with every message translated.
"""

from __future__ import annotations

import ast
import datetime as dt
import hashlib
import html
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
from werkzeug.test import Client, TestResponse

from services.gateway.site import i18n, pages, staff
from services.scenarios.appointment import run_selection
from shared.db.clock import advance_clock
from shared.db.database import Database
from shared.runtime.messaging.client import rpc_client
from tests.gateway.conftest import token
from tests.support.identities import EVERY_ROLE
from tests.support.platform import wait_until
from tests.support.probes import case_by_code, platform_now

FORM_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
COMMAND_FIELD = re.compile(r'name="command_id" value="([^"]+)"')
CODE = re.compile(r'<output id="receipt-code"[^>]*>([^<]+)</output>')


def token_of(page: TestResponse) -> str:
    found = FORM_FIELD.search(page.text)
    assert found, "the page has a form with a CSRF token"
    return found.group(1)


def submitted(client: Client, **fields: str) -> TestResponse:
    form = client.get("/feedback")
    data = {"channel": "mailbox", "category": "general", "csrf_token": token_of(form), **fields}
    found = COMMAND_FIELD.search(form.text)
    assert found
    data.setdefault("command_id", found.group(1))
    return client.post("/feedback", data=data)


def test_every_page_is_html_under_a_strict_policy_in_chinese_first(client: Client) -> None:
    for path in ("/", "/feedback", "/case"):
        page = client.get(path)
        assert page.status_code == 200 and page.mimetype == "text/html", path
        policy = page.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy and "default-src 'none'" in policy
        assert '<html lang="zh-CN">' in page.text
        assert "X-Correlation-Id" in page.headers
        cookie = page.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert client.get("/static/site.css").status_code == 200
    assert client.get("/static/../pages.py").status_code == 404
    assert client.get("/docs").mimetype == "text/html", "the API's documentation is where it was"


def test_feedback_gives_a_receipt_code_once_and_the_case_is_found_by_it(client: Client) -> None:
    page = submitted(client, text="The lights on the village road are out.", name="Chen Jing", contact="138 0000 0000")
    assert page.status_code == 200, page.text
    found = CODE.search(page.text)
    assert found, "the receipt shows the code"
    code = html.unescape(found.group(1))
    assert "已加密封存" in page.text, "the page says the identity is kept sealed"
    assert "Chen Jing" not in page.text
    token = token_of(client.get("/case"))

    def looked_up() -> TestResponse | None:  # the case's read model follows its record a moment later
        answer = client.post("/case", data={"csrf_token": token, "receipt_code": code})
        return answer if answer.status_code == 200 else None

    case = wait_until(looked_up, what="the case by its code")
    assert case is not None
    assert 'id="case-status">办理中<' in case.text
    assert "The lights on the village road" not in case.text, "the case page shows replies, not the text again"


def test_a_bad_form_comes_back_with_what_was_typed_and_the_problem_beside_its_field(client: Client) -> None:
    page = submitted(client, text="", name="Chen Jing")
    assert page.status_code == 422
    assert 'id="text-error"' in page.text and 'aria-invalid="true"' in page.text
    assert 'value="Chen Jing"' in page.text, "what was typed is kept"
    unknown = submitted(client, text="hello", channel="carrier_pigeon")
    assert unknown.status_code == 422 and 'id="channel-error"' in unknown.text


def test_a_post_without_its_token_is_refused_and_nothing_is_sent(client: Client, database: Database) -> None:
    before = _submissions(database)
    client.get("/feedback")
    refused = client.post("/feedback", data={"channel": "mailbox", "category": "general", "text": "forged"})
    assert refused.status_code == 403
    assert "此表单已失效" in refused.text
    forged = client.post(
        "/feedback", data={"channel": "mailbox", "category": "general", "text": "forged", "csrf_token": "x" * 43}
    )
    assert forged.status_code == 403
    assert _submissions(database) == before


def test_a_wrong_code_gets_one_neutral_answer(client: Client) -> None:
    token = token_of(client.get("/case"))
    answers = [
        client.post("/case", data={"csrf_token": token, "receipt_code": code})
        for code in ("short", "A" * 32, "<script>alert(1)</script>" * 2)
    ]
    assert {a.status_code for a in answers} == {404}
    assert all("没有与此查询码对应的件" in a.text for a in answers)
    assert all("<script>alert" not in a.text for a in answers)


def test_the_language_switch_goes_back_to_this_site_only(client: Client) -> None:
    switched = client.get("/language/en?next=/case")
    assert switched.status_code == 303 and switched.headers["Location"] == "/case"
    assert '<html lang="en">' in client.get("/case").text
    assert "My case" in client.get("/case").text
    for away in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        assert client.get("/language/zh-CN", query_string={"next": away}).headers["Location"] == "/"
    assert '<html lang="zh-CN">' in client.get("/").text


def test_the_board_shows_an_open_notice_with_its_days_left_and_a_way_to_object(
    client: Client, database: Database
) -> None:
    seen: list[str] = []

    def read_the_board(view: dict[str, Any]) -> None:
        def board() -> str | None:  # the board's read model follows the record a moment later
            page = client.get("/")
            assert page.status_code == 200
            return page.text if f'data-process="{view["process_id"]}"' in page.text else None

        text = wait_until(board, what="the notice on the board")
        assert text is not None
        seen.append(text)
        form = client.get("/staff/sign-in")  # the staff see the selection in its phase, and what comes next
        client.post("/staff/sign-in", data={"csrf_token": token_of(form), "token": token("selection_officer")})
        queue = client.get("/staff").text
        found = re.search(r'id="selection-site-board-selection">(.*?)</li>', queue, re.S)
        assert found and "<code>close</code>" in found.group(1) and "selection.phase_order" in found.group(1)
        client.post("/staff/sign-out", data={"csrf_token": token_of(form)})

    with rpc_client(timeout=20, identity=EVERY_ROLE) as rpc:
        run_selection(rpc.cadre, _mover(database), "site-board", during_notice=read_the_board)
    (board,) = seen
    notice = re.search(
        r'<li class="notice" id="notice-([^"]+)" data-process="site-board-selection">(.*?)</li>', board, re.S
    )
    assert notice, "the notice is on the board"
    assert "Deputy head of Qingshan township" in notice.group(2)
    assert re.search(r'class="days-left">\d+<', notice.group(2))
    assert f'href="/feedback?notice={notice.group(1)}"' in notice.group(2)
    form = client.get(f"/feedback?notice={notice.group(1)}")
    assert f'name="notice_id" value="{notice.group(1)}"' in form.text
    assert re.search(r'<option value="notice_comment" selected>', form.text)

    def published() -> str | None:
        page = client.get("/results", query_string={"unit": "Qingshan township"})
        found = re.search(r'data-process="site-board-selection">(.*?)</li>\s*</ul>\s*</li>', page.text, re.S)
        return found.group(1) if found else None

    result = wait_until(published, what="the result on the results page")
    assert result is not None and 'class="appointed"' in result and "Li Ming" in result

    def archived() -> bool:
        page = client.get("/archive", query_string={"unit": "Qingshan township"})
        return 'data-process="site-board-selection"' in page.text

    wait_until(archived, what="the closed notice in the archive")
    elsewhere = client.get("/archive", query_string={"unit": "Another township"})
    assert 'data-process="site-board-selection"' not in elsewhere.text
    before = client.get("/archive", query_string={"closed_to": "2000-01-01"})
    assert 'data-process="site-board-selection"' not in before.text
    bad = client.get("/archive", query_string={"closed_from": "not-a-date"})
    assert bad.status_code == 422 and 'id="closed_from-error"' in bad.text


def test_the_results_page_shows_what_branches_published_to_the_public_and_not_what_they_kept_inside(
    client: Client,
) -> None:
    with rpc_client(timeout=20, identity=EVERY_ROLE) as rpc:
        rpc.grassroots.found_organisation(
            organisation_id="site-county", kind="county_committee", org_type="organ", name="Site county committee"
        )
        rpc.grassroots.found_organisation(
            organisation_id="site-branch",
            kind="branch",
            org_type="village",
            name="Site village branch",
            parent_id="site-county",
            founding_members=["site-m1", "site-m2", "site-m3"],
        )
        for scope, category, title in (("public", "village finances", "Accounts for June"), ("party", "dues", "Dues")):
            rpc.grassroots.schedule_publication(branch_id="site-branch", category=category, scope=scope, every_days=30)
            rpc.grassroots.publish_affairs(branch_id="site-branch", category=category, title=title, body="...")

    def published() -> str | None:
        page = client.get("/results")
        return page.text if "Accounts for June" in page.text else None

    page = wait_until(published, what="the publication on the results page")
    assert page is not None and 'id="elections"' in page and ">Dues<" not in page


def test_the_queue_needs_a_valid_token_and_offers_only_what_the_roles_grant(client: Client) -> None:
    assert client.get("/staff").headers["Location"] == "/staff/sign-in"
    form = client.get("/staff/sign-in")
    refused = client.post("/staff/sign-in", data={"csrf_token": token_of(form), "token": "not.a.jwt"})
    assert refused.status_code == 401 and 'id="token-error"' in refused.text
    assert client.get("/staff").status_code == 303, "a refused token opens no session"
    submitted(client, text="A question for the queue.")

    signed = client.post("/staff/sign-in", data={"csrf_token": token_of(form), "token": token("auditor")})
    assert signed.status_code == 303 and "Path=/staff" in signed.headers["Set-Cookie"]
    page = client.get("/staff")
    assert page.status_code == 200 and 'class="work-item' in page.text
    assert 'value="reply"' not in page.text, "an auditor reads the queue and is offered no answer"
    forged = client.post(
        "/staff", data={"csrf_token": token_of(page), "action": "reply", "submission_id": "x", "text": "t"}
    )
    assert forged.status_code == 403

    client.post("/staff/sign-in", data={"csrf_token": token_of(form), "token": token("department_staff")})
    assert 'value="reply"' in client.get("/staff").text
    client.post("/staff/sign-out", data={"csrf_token": token_of(form)})
    assert client.get("/staff").status_code == 303


def test_the_statistics_page_is_a_table_first_and_its_library_is_the_one_named(client: Client) -> None:
    page = client.get("/statistics")
    assert page.status_code == 200 and '<table id="months">' in page.text and '<table id="channels">' in page.text
    assert 'src="/static/vendor/chart.umd.min.js"' in page.text and "cdn" not in page.text.lower()
    vendored = pages.STATIC / "vendor" / "chart.umd.min.js"
    digest = hashlib.sha256(vendored.read_bytes()).hexdigest()
    assert digest in (pages.STATIC / "vendor" / "README.md").read_text(encoding="utf-8"), "the file is the one named"
    assert client.get("/static/vendor/chart.umd.min.js").status_code == 200


def test_every_message_of_the_site_has_its_chinese() -> None:
    environment = jinja2.Environment(extensions=["jinja2.ext.i18n"])
    ids: set[str] = set()
    for template in sorted((pages.HERE / "templates").glob("*.html")):
        for _, _, message in environment.extract_translations(template.read_text(encoding="utf-8")):  # type: ignore[attr-defined]
            if isinstance(message, str):
                ids.add(message)
    ids |= set(pages.CHANNELS) | set(pages.CATEGORIES) | {label for _, label in pages.RATINGS}
    ids |= {"pre_appointment", "assessment_preview", "development_target", "candidate_list", "program_selection"}
    ids |= {"open", "resolved", "closed", "rejected", "merged"}
    ids |= {"first_reply", "resolution", "substantiated", "not_substantiated"}
    ids |= set(staff.PHASES)
    ids |= set(_messages_in(pages))
    catalog = i18n.catalog(i18n.ZH)
    missing = sorted(ids - set(catalog))
    assert not missing, f"no Chinese for: {missing}"
    assert len(ids) > 60
    codes = {message for message in ids if re.fullmatch(r"[a-z_]+", message)}
    assert not sorted(codes - set(i18n.catalog(i18n.EN))), "every code has its English too"


def _messages_in(module: Any) -> list[str]:
    """The English sentences a page shows from Python (failures, confirmations): its sentences, not its docstrings."""
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    docstrings = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and re.fullmatch(r"[A-Z][^`]* [^`]*\.", node.value)
    ]


def _submissions(database: Database) -> int:
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM feedback.events WHERE type = 'SubmissionReceived'")
        row = cur.fetchone()
    return int(row[0]) if row else 0


def _mover(database: Database) -> Callable[[Any], float]:
    return lambda delta: advance_clock(database, delta)


def test_the_queue_carries_out_supervision_and_the_other_answers_and_refuses_an_unknown_action(
    client: Client, database: Database
) -> None:
    with rpc_client(timeout=20, identity=EVERY_ROLE) as rpc:
        case = rpc.supervision.open_case(cadre_id="site-queue-cadre", summary="own motion")
        deadline = (platform_now(database) + dt.timedelta(days=10)).isoformat()
        task = rpc.supervision.assign_task(
            kind="key", unit="Qingshan", goal="repair the site-queue road", deadline=deadline, responsible="Sun"
        )
    form = client.get("/staff/sign-in")
    client.post("/staff/sign-in", data={"csrf_token": token_of(form), "token": token("supervision_officer")})

    def on_queue() -> str | None:  # the cases' read model follows the record a moment later
        text = client.get("/staff").text
        return text if f'id="case-{case["case_id"]}"' in text and f'id="task-{task["task_id"]}"' in text else None

    page = wait_until(on_queue, what="the case and the task on the queue")
    assert page is not None and 'value="record_outcome"' in page

    def act(action: str, **fields: str) -> TestResponse:
        current = client.get("/staff")
        answer = client.post("/staff", data={"csrf_token": token_of(current), "action": action, **fields})
        assert answer.status_code == 200, answer.text
        assert 'class="alert success"' in answer.text
        return answer

    act("assign_case", case_id=case["case_id"], investigator="Zhao")
    early = client.post(
        "/staff",
        data={
            "csrf_token": token_of(client.get("/staff")),
            "action": "record_outcome",
            "case_id": case["case_id"],
            "substantiated": "false",
            "reasons": "too soon",
        },
    )
    assert early.status_code == 409 and "hold the joint meeting first" in early.text, "the rule, as the service says it"
    with rpc_client(timeout=20, identity=EVERY_ROLE) as rpc:
        participants = [{"name": "Zhao", "role": "organization"}, {"name": "Qian", "role": "discipline_inspection"}]
        rpc.supervision.hold_joint_meeting(case_id=case["case_id"], participants=participants, decision="look again")
    act("record_outcome", case_id=case["case_id"], substantiated="false", reasons="the records show nothing")
    act("report_progress", task_id=task["task_id"], percent="40", note="begun")
    act("complete_task", task_id=task["task_id"], summary="repaired")
    with rpc_client(timeout=20, identity=EVERY_ROLE) as rpc:
        (concluded,) = [c for c in rpc.supervision.cases(cadre_id="site-queue-cadre")["items"]]
        assert (concluded["status"], concluded["investigator"]) == ("not_substantiated", "Zhao")
        done = wait_until(
            lambda: [t for t in rpc.supervision.tasks(status="completed")["items"] if t["task_id"] == task["task_id"]],
            what="the completed task",
        )
        assert done is not None and done[0]["percent"] == 100

    unknown = client.post("/staff", data={"csrf_token": token_of(client.get("/staff")), "action": "drop_table"})
    assert unknown.status_code == 400
    client.post("/staff/sign-in", data={"csrf_token": token_of(form), "token": token("training_officer")})
    unrelated = client.get("/staff").text
    assert "Supervision cases" not in unrelated and "监督核查" not in unrelated and 'value="reply"' not in unrelated
    refused = client.post(
        "/staff",
        data={"csrf_token": token_of(client.get("/staff")), "action": "transfer", "submission_id": "x", "to": "y"},
    )
    assert refused.status_code == 403, "a training officer may not transfer feedback, whatever the form says"

    client.post("/staff/sign-in", data={"csrf_token": token_of(form), "token": token("department_staff")})
    receipt = submitted(client, text="The well in the site-queue village is dry.")
    code = html.unescape(CODE.search(receipt.text).group(1))  # type: ignore[union-attr]
    with rpc_client(timeout=20, identity=EVERY_ROLE) as rpc:
        mine = wait_until(lambda: case_by_code(rpc, code), what="the case")
        assert mine is not None
        act("transfer", submission_id=mine["submission_id"], to="county water bureau")
        moved = wait_until(lambda: (case_by_code(rpc, code) or {}).get("transferred_to"), what="the transfer")
        assert moved == "county water bureau"

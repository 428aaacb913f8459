"""The browser tabletop (coopsim serve): roles and tokens, need-to-know between seats, decisions, bad input, kill and resume."""

from __future__ import annotations

import html
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")
from starlette.testclient import TestClient  # noqa: E402

from coopsim.engine import Session, load_scenario  # noqa: E402
from coopsim.web.app import Roles, create_app  # noqa: E402
from coopsim.web.room import Room  # noqa: E402
from coopsim.web.server import report_writer  # noqa: E402

SOMALIA = "somalia-wfp-escort-2008"
PLAN = "Task group escort plan"  # NATO RESTRICTED maritime-security information: never on a UN seat's screen without an agreement


def _served(tmp_path, variant=None, seats=("wfp", "snmg2")):
    scenario = load_scenario(SOMALIA, variant=variant)
    room = Room(scenario, Session().configured(variant=variant, seats=seats), tmp_path / "s.yaml")
    roles = Roles(room.seats)
    client = TestClient(create_app(room, roles, report=report_writer(tmp_path / "out", 0)), follow_redirects=False)
    return room, {r.label: r for r in roles.all}, client


def _post(client, role, action, **fields):
    return client.post(f"/{role.token}/do/{action}", data={"csrf": role.csrf, **fields})


def _play_until(room, roles, client, hours):
    """Advance as the facilitator; each decision a seat owns is taken by that seat with its default option."""
    while room.table.clock < hours and not room.finished:
        if room.pending is not None:
            p = room.pending.point
            seat = roles[f"seat {p.owner}"]
            assert _post(client, seat, "decide", point=p.id, option=p.default, rationale="As planned", by="Player").status_code == 303
        else:
            assert _post(client, roles["facilitator"], "advance", to="").status_code == 303


def _everything(client, role, room):
    """Every response a page of this role can fetch: the page, its panel, the event stream, the report link, static files."""
    timer = threading.Timer(0.5, lambda: setattr(room, "closing", True))
    timer.start()
    stream = client.get(f"/{role.token}/events").text
    room.closing = False
    pages = [client.get(f"/{role.token}/" + path).text for path in ("", "panel", "aar", "?as=snmg2", "panel?as=snmg2")]
    return "\n".join([stream, *pages, client.get("/static/live.js").text])


def test_each_role_has_a_page_and_a_wrong_or_missing_token_reveals_nothing(tmp_path):
    room, roles, client = _served(tmp_path)
    assert set(roles) == {"facilitator", "observer", "seat wfp", "seat snmg2"}
    page = client.get(f"/{roles['seat wfp'].token}/")
    assert page.status_code == 200 and "Seat: <strong>World Food Programme</strong>" in page.text
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "<script>" not in page.text and "onclick" not in page.text  # no inline script at all
    for path in ("/nope/", "/nope/panel", "/nope/events", "/nope/aar", "/", f"/{roles['seat wfp'].token[:-1]}/"):
        r = client.get(path)
        assert (r.status_code, r.text) == (404, "Not found")
    r = client.post("/nope/do/advance", data={"csrf": roles["facilitator"].csrf})
    assert (r.status_code, r.text) == (404, "Not found")
    # a seat cannot make a facilitator's move, even with its own valid token and CSRF
    assert _post(client, roles["seat wfp"], "advance", to="").status_code == 404
    assert _post(client, roles["observer"], "release", inject="11").status_code == 404
    # a form that did not come from the page is refused and changes nothing
    r = client.post(f"/{roles['facilitator'].token}/do/advance", data={"csrf": roles["seat wfp"].csrf, "to": ""})
    assert r.status_code == 403 and room.table.clock == 0.0


def test_a_un_seat_never_receives_nato_restricted_information_the_agreements_withhold(tmp_path):
    room, roles, client = _served(tmp_path, variant="no_info_sharing")
    _play_until(room, roles, client, 30 * 24)
    withheld = [r for r in room.table.records if type(r).__name__ == "FactWithheld" and (r.fact, r.to) == ("escort_plan", "wfp")]
    assert withheld  # the plan was issued and withheld from WFP: there is something to leak
    assert PLAN in _everything(client, roles["facilitator"], room)  # the facilitator sees it: the test can fail
    assert PLAN in _everything(client, roles["seat snmg2"], room)  # and so does the task group that wrote it
    wfp = _everything(client, roles["seat wfp"], room)
    assert PLAN not in wfp and "rendezvous off Mombasa" not in wfp
    assert "Seat: <strong>World Food Programme</strong>" in wfp
    # looking through WFP's eyes, the facilitator sees what WFP sees
    through = client.get(f"/{roles['facilitator'].token}/panel?as=wfp").text
    assert PLAN not in through


def test_with_the_agreement_the_same_seat_sees_the_plan(tmp_path):
    room, roles, client = _served(tmp_path)
    _play_until(room, roles, client, 30 * 24)
    assert PLAN in client.get(f"/{roles['seat wfp'].token}/panel").text


def test_only_the_owner_decides_with_a_rationale_and_a_stale_decision_is_told_so(tmp_path):
    room, roles, client = _served(tmp_path)
    while room.pending is None:
        _post(client, roles["facilitator"], "advance", to="")
    point = room.pending.point
    assert point.id == "dp_escort_policy" and point.owner == "wfp"
    wfp, snmg2, fac = roles["seat wfp"], roles["seat snmg2"], roles["facilitator"]

    def notice(role):
        return html.unescape(re.search(r'class="notice" role="status">([^<]*)<', client.get(f"/{role.token}/").text).group(1))

    _post(client, snmg2, "decide", point=point.id, option="wait_for_nato", rationale="x", by="y")
    assert notice(snmg2) == "Not done: this decision belongs to World Food Programme."
    _post(client, wfp, "decide", point=point.id, option="wait_for_nato", rationale="  ", by="Ana")
    assert notice(wfp) == "Not done: a rationale is required."
    _post(client, wfp, "decide", point=point.id, option="sink_the_pirates", rationale="x", by="Ana")
    assert notice(wfp) == "Not done: 'sink_the_pirates' is not an open option of this decision."
    _post(client, wfp, "decide", point=point.id, option="wait_for_nato", rationale="x" * 2001, by="Ana")
    assert notice(wfp) == "Not done: a rationale is too long (2,001 characters; at most 2,000)."
    _post(client, fac, "advance", to="")
    assert notice(fac) == "Not done: World Food Programme has a decision to take first: " + point.name + "."
    assert "dp_escort_policy" not in Session.from_file(tmp_path / "s.yaml").decisions  # nothing bad changed anything
    _post(client, wfp, "decide", point=point.id, option="wait_for_nato", rationale="Escorts are coming", by="Ana")
    saved = Session.from_file(tmp_path / "s.yaml").decisions["dp_escort_policy"]
    assert (saved.option, saved.by, saved.rationale) == ("wait_for_nato", "Ana", "Escorts are coming")
    _post(client, wfp, "decide", point=point.id, option="sail_unescorted", rationale="Changed my mind", by="Ana")
    assert notice(wfp) == "Not done: that decision is not waiting any more: it was taken, or the clock has moved on."
    assert Session.from_file(tmp_path / "s.yaml").decisions["dp_escort_policy"].option == "wait_for_nato"


def test_responses_and_observations_reach_the_session_and_the_report(tmp_path):
    room, roles, client = _served(tmp_path)
    _post(client, roles["facilitator"], "advance", to="7d")
    while room.pending is not None:
        p = room.pending.point
        _post(client, roles[f"seat {p.owner}"], "decide", point=p.id, option=p.default, rationale="Hold", by="Ana")
    _post(client, roles["seat wfp"], "respond", inject="3", text="We hold the ships at Mombasa", by="Ana <b>Lopez</b>")
    _post(client, roles["seat snmg2"], "respond", inject="3", text="Not ours", by="Cdr X")  # inject 3 is addressed to WFP only
    assert "is not addressed to snmg2" in client.get(f"/{roles['seat snmg2'].token}/").text
    _post(client, roles["observer"], "observe", text="WFP held its ships", objective="obj_first_delivery", by="Evaluator")
    session = Session.from_file(tmp_path / "s.yaml")
    assert [(r.inject, r.seat, r.by, r.text) for r in session.responses] == [(3, "wfp", "Ana <b>Lopez</b>", "We hold the ships at Mombasa")]
    assert [(o.by, o.objective) for o in session.observations] == [("Evaluator", "obj_first_delivery")]
    # the facilitator ends the exercise: the run goes to the end and the report is linked from every page
    assert _post(client, roles["facilitator"], "end").status_code == 303
    report = client.get(f"/{roles['seat wfp'].token}/aar")
    assert report.status_code == 200 and "We hold the ships at Mombasa" in report.text and "Ana &lt;b&gt;Lopez&lt;/b&gt;" in report.text


def _urls(proc) -> dict[str, str]:
    found = {}
    while len(found) < 4:
        line = proc.stdout.readline()
        assert line, proc.stderr.read()
        label, _, url = line.strip().partition(": ")
        found[label] = url
    return found


def _form_post(url, token_url, action, **fields):
    import httpx

    page = httpx.get(token_url, timeout=120).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    return httpx.post(token_url + "do/" + action, data={"csrf": csrf, **fields}, timeout=300)  # the end writes the report


def test_a_server_killed_mid_session_resumes_exactly_and_ends_with_the_scripted_runs_event_log(tmp_path):
    import httpx

    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "coopsim", "serve", SOMALIA, "--port", "0", "--session", str(tmp_path / "s.yaml"),
               "--out", str(tmp_path / "web"), "-n", "0"]  # fmt: skip
    first = subprocess.Popen([*command, "--as", "wfp,snmg2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        urls = _urls(first)
        fac, wfp = urls["facilitator"], urls["seat wfp"]
        for _ in range(3):
            _form_post(fac, fac, "advance", to="")
        _form_post(fac, fac, "advance", to="")  # reaches WFP's decision
        assert "Decision waiting" in httpx.get(wfp, timeout=120).text
        _form_post(wfp, wfp, "decide", point="dp_escort_policy", option="wait_for_nato", rationale="Escorts are coming", by="Ana")
        _form_post(fac, fac, "advance", to="12d")
        _form_post(fac, fac, "observe", text="Half-way", objective="", by="Facilitator")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    saved = Session.from_file(tmp_path / "s.yaml")
    assert saved.at.t == 288.0 and saved.decisions["dp_escort_policy"].by == "Ana" and len(saved.observations) == 1
    second = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        urls = _urls(second)
        fac = urls["facilitator"]
        assert "(day 13, 288.0 h)" in httpx.get(fac, timeout=120).text  # exactly where it stopped
        for _ in range(60):
            page = httpx.get(fac, timeout=120).text
            if "The scenario has reached its end" in page:
                break
            waiting = re.search(r'name="point" value="([^"]+)"', page)
            if waiting:  # a seat's decision, entered by the facilitator for the table
                _form_post(fac, fac, "decide", point=waiting.group(1), option=re.search(r'name="option" value="([^"]+)"', page).group(1),
                           rationale="For the table", by="Facilitator")  # fmt: skip
            else:
                _form_post(fac, fac, "advance", to="")
        assert _form_post(fac, fac, "end").status_code == 303
    finally:
        second.send_signal(signal.SIGINT)  # Ctrl-C: a clean stop
        assert second.wait(timeout=30) == 0
        assert "Stopped. Session saved to" in second.stdout.read() and "Traceback" not in second.stderr.read()
    scripted = subprocess.run(
        [sys.executable, "-m", "coopsim", "play", SOMALIA, "--script", str(tmp_path / "s.yaml"), "--out", str(tmp_path / "script"),
         "-n", "0"],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert scripted.returncode == 0, scripted.stderr
    web = (tmp_path / "web" / "events.jsonl").read_bytes()
    assert web == (tmp_path / "script" / "events.jsonl").read_bytes() and len(web) > 10_000


def test_the_serve_command_teaches_and_refuses_bad_input_in_one_line(tmp_path):
    from click.testing import CliRunner

    from coopsim.cli import main

    result = CliRunner().invoke(main, ["serve", "--help"])
    assert "coopsim serve somalia-wfp-escort-2008 --as wfp,snmg2" in result.output
    result = CliRunner().invoke(main, ["serve", SOMALIA, "--as", "nobody", "--session", str(tmp_path / "s.yaml")])
    assert result.exit_code == 1 and result.output.count("\n") == 1 and "--as: no organisation 'nobody'" in result.output
    result = CliRunner().invoke(main, ["serve", SOMALIA, "--session", str(tmp_path / "t.yaml")])
    assert result.exit_code == 1 and "--as: name the organisations with players" in result.output
    assert not Path(tmp_path / "t.yaml").exists()
    from coopsim.web.server import bind

    taken = bind("127.0.0.1", 0)  # a port in use: refused in one line, before any session file is written
    port = str(taken.getsockname()[1])
    result = CliRunner().invoke(main, ["serve", SOMALIA, "--as", "wfp", "--port", port, "--session", str(tmp_path / "u.yaml")])
    taken.close()
    assert result.exit_code == 1 and f"--port {port}: cannot listen on 127.0.0.1 (Address already in use)" in result.output
    assert not Path(tmp_path / "u.yaml").exists()


# -- in a real browser ----------------------------------------------------------------------------------------------------

CHROMIUM = __import__("shutil").which("chromium")


@pytest.fixture
def live_server(tmp_path):
    """The app on a real socket, served by uvicorn in a thread, for the browser."""
    import uvicorn

    from coopsim.web.server import addresses, bind

    scenario = load_scenario(SOMALIA, variant="no_info_sharing")
    room = Room(scenario, Session().configured(variant="no_info_sharing", seats=("wfp", "snmg2")), tmp_path / "s.yaml")
    roles = Roles(room.seats)
    app = create_app(room, roles, report=report_writer(tmp_path / "out", 0))
    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        threading.Event().wait(0.05)
    yield room, dict(addresses(roles, "127.0.0.1", sock.getsockname()[1]))
    room.closing = True
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


def _until(condition, seconds: float = 20.0) -> None:
    """Wait for the server to have done what a click asked (the click returns before the form's request ends)."""
    import time

    end = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < end, "the server never did what the page asked"
        time.sleep(0.05)


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)")
def test_a_facilitator_and_two_seats_play_in_a_browser_and_the_un_seat_never_sees_the_restricted_plan(live_server, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    room, urls = live_server
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        fac, wfp, snmg2 = (browser.new_context().new_page() for _ in range(3))  # three screens, no shared cookies
        fetched: list[str] = []
        for page in (fac, wfp, snmg2):
            page.on("request", lambda r: fetched.append(r.url))
        fac.goto(urls["facilitator"])
        wfp.goto(urls["seat wfp"])
        snmg2.goto(urls["seat snmg2"])

        def wfp_clean():
            text = wfp.inner_text("body")
            assert PLAN not in text and "rendezvous off Mombasa" not in text

        # the facilitator advances until WFP's decision comes up; WFP's screen shows it live, without a reload
        for _ in range(6):
            fac.click("#advance-next button")
            if room.pending is not None:
                break
        wfp.wait_for_selector("#decision form", timeout=10_000)
        assert "Hold WFP ships for a NATO escort or sail unescorted?" in wfp.inner_text("#decision")
        assert snmg2.locator("#decision form").count() == 0  # not SNMG2's decision
        wfp_clean()
        wfp.check("input[name=option][value=wait_for_nato]")
        wfp.fill("#decision textarea[name=rationale]", "Escorts are coming; the pipeline holds two more weeks")
        wfp.fill("#decision input[name=by]", "Ana Lopez")
        wfp.click("#decision button[type=submit]")
        _until(lambda: "dp_escort_policy" in room.session.decisions)
        fac.wait_for_function("() => !document.querySelector('#decision')", timeout=10_000)
        # a contingency inject, an observation, and on to the day the plan is issued and withheld
        if room.table.contingencies():
            fac.click("#release button")
        fac.fill(".observe textarea[name=text]", "WFP held its ships and pressed NATO")
        fac.select_option(".observe select[name=objective]", "obj_first_delivery")
        fac.click("text=Record the observation")
        _until(lambda: len(room.session.observations) == 1)
        fac.fill("#advance-to input[name=to]", "30d")
        fac.click("#advance-to button")
        fac.wait_for_selector("text=day 31", timeout=20_000)
        wfp.wait_for_selector("text=day 31", timeout=10_000)
        assert PLAN in fac.inner_text("body") and PLAN in snmg2.inner_text("body")  # it exists, and NATO sees it
        wfp_clean()
        fac.goto(urls["facilitator"] + "?as=wfp")  # looking through WFP's eyes
        assert "looking through the eyes of World Food Programme" in fac.inner_text("header")
        assert PLAN not in fac.inner_text("#panel")
        wfp.screenshot(path=str(tmp_path / "seat-wfp.png"), full_page=True)
        fac.goto(urls["facilitator"])
        fac.click(".timetravel li:first-child a")  # look back at the first pause, with the room
        assert "Looking back at pause 0" in fac.inner_text(".lookback") and "day 1" in fac.inner_text("#clock")
        fac.click("text=Back to now")
        assert "day 31" in fac.inner_text("#clock")
        fac.click("#end button")
        fac.wait_for_selector("text=Read the after-action report", timeout=120_000)
        fac.click("text=Read the after-action report")
        aar = fac.inner_text("body")
        assert "Escorts are coming; the pipeline holds two more weeks" in aar and "WFP held its ships and pressed NATO" in aar
        assert "Ana Lopez" in aar
        browser.close()
    assert all(u.startswith(("http://127.0.0.1:", "data:")) for u in fetched), [u for u in fetched if "127.0.0.1" not in u]


def test_the_live_scoreboard_rates_as_of_now_and_waits_for_events_still_due(tmp_path):
    room, roles, client = _served(tmp_path)
    board = {o["name"]: o["rating"] for o in room.scoreboard()}
    assert board["First WFP food landed in Mogadishu by 1 Nov (day 37), before the pipeline breaks"] == "pending"
    assert board["No WFP or AU ship is attacked"] == "P"
    page = client.get(f"/{roles['facilitator'].token}/panel").text
    assert '<td class="rating pending">not yet due</td>' in page
    assert "World Food Programme</a> (0)" in page  # no seat's screen is following the room yet
    assert "Objectives as of now" not in client.get(f"/{roles['seat wfp'].token}/panel").text  # the scoreboard is control's
    _play_until(room, roles, client, 40 * 24)  # past 888 h with no delivery at all would be U; by now food has landed
    board = {o["name"]: (o["rating"], o["value"]) for o in room.scoreboard()}
    rating, value = board["First WFP food landed in Mogadishu by 1 Nov (day 37), before the pipeline breaks"]
    assert rating in "PSMU" and value is not None


def test_looking_back_shows_what_everyone_knew_then_and_a_branch_leaves_the_original_untouched(tmp_path):
    room, roles, client = _served(tmp_path)
    _play_until(room, roles, client, 30 * 24)
    pauses = room.session.pauses
    assert len(pauses) >= 4
    fac = roles["facilitator"]
    # at the first pause the plan did not exist yet; now WFP has it
    assert PLAN in client.get(f"/{fac.token}/panel?as=wfp").text
    then = client.get(f"/{fac.token}/back/0?as=wfp").text
    assert "Looking back at pause 0" in then and PLAN not in then and "<form" not in then.split('id="then"')[1]
    assert client.get(f"/{roles['observer'].token}/back/0").status_code == 200
    assert client.get(f"/{roles['seat wfp'].token}/back/0").status_code == 404  # the room's history is control's, not a seat's
    assert "Not shown: there is no pause 99" in client.get(f"/{fac.token}/back/99").text
    original = (tmp_path / "s.yaml").read_bytes()
    # rewind to the pause at WFP's decision and take the other option
    at_decision = next(i for i, p in enumerate(pauses) if p.t == 144.0)
    _post(client, fac, "branch", pause=str(at_decision))
    assert (tmp_path / "s.yaml").read_bytes() == original
    assert room.path == tmp_path / "s-branch-1.yaml" and room.table.clock == 144.0
    _post(client, fac, "advance", to="")
    assert room.pending is not None and room.pending.point.id == "dp_escort_policy"
    _post(client, roles["seat wfp"], "decide", point="dp_escort_policy", option="sail_unescorted", rationale="What if", by="Ana")
    assert Session.from_file(tmp_path / "s-branch-1.yaml").decisions["dp_escort_policy"].option == "sail_unescorted"
    assert Session.from_file(tmp_path / "s.yaml").decisions["dp_escort_policy"].option == "wait_for_nato"


def test_two_players_submitting_at_once_are_serialised_and_the_second_is_told_it_is_stale(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from coopsim.web.room import Refused

    room, roles, client = _served(tmp_path)
    while room.pending is None:
        room.advance("")
    barrier = threading.Barrier(2)

    def decide(option):
        barrier.wait()
        try:
            room.decide("wfp", "dp_escort_policy", option, f"Take {option}", "Player")
            return "taken"
        except Refused as exc:
            return str(exc)

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(decide, ["wait_for_nato", "sail_unescorted"]))
    assert outcomes == ["taken", "that decision is not waiting any more: it was taken, or the clock has moved on"]
    taken = Session.from_file(tmp_path / "s.yaml").decisions["dp_escort_policy"]
    assert taken.rationale == f"Take {taken.option}"  # one decision, whole: never a mix of the two


def test_a_restricted_fact_leaked_to_a_un_seat_by_an_inject_stays_off_its_screen(vary, tmp_path):
    # the flight schedule is NATO RESTRICTED operational information; no agreement covers the class. An inject hands it
    # straight to UN OCHA: OCHA's actor now holds it, but its seat may not be shown it.
    def leak(d):
        d["injects"].append(
            {"seq": 3, "time": "3h", "to": ["un_ocha"], "description": "A NATO officer forwards the flight plan", "fact": "flights"}
        )

    scenario = vary(leak)
    room = Room(scenario, Session().configured(seats=("un_ocha", "nac")), tmp_path / "s.yaml")
    made = Roles(room.seats)
    roles = {r.label: r for r in made.all}
    client = TestClient(create_app(room, made, report=None), follow_redirects=False)
    while room.table.clock < 72:  # past the schedule's issue on day 3, when SHAPE sends it to the NAC (and may not to OCHA)
        if room.pending is not None:
            p = room.pending.point
            room.decide(p.owner, p.id, p.default, "As planned", "Player")
        else:
            room.advance("3d")
    assert any(k.actor == "un_ocha" for f in room.view(None).facts if f.fact == "flights" for k in f.known_by)  # OCHA holds it
    assert "Flight schedule" in client.get(f"/{roles['facilitator'].token}/panel").text
    assert "Flight schedule" in client.get(f"/{roles['seat nac'].token}/panel").text
    ocha = client.get(f"/{roles['seat un_ocha'].token}/").text + client.get(f"/{roles['seat un_ocha'].token}/panel").text
    assert "Flight schedule" not in ocha
    assert "A NATO officer forwards the flight plan" in ocha  # the inject itself is OCHA's to see; the fact it carried is not

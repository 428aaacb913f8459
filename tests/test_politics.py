"""Council politics and the last-resort test: decisions that can go either way, delegated approval, and Oslo done right."""

from __future__ import annotations

import pytest
from conftest import records_of

from coopsim.engine import ScenarioError, records, run


def states(recs, request="airlift"):
    return [(r.t, r.actor, r.state, r.note) for r in recs if type(r) is records.RequestStateChanged and r.request == request]


def council(d, **how):
    d["actors"][2]["council"] = how  # the NAC


def test_a_declined_request_goes_back_with_its_reason_and_is_revised(vary):
    def edit(d):
        council(d, approve=0.0, decline=1.0, decline_reason="Allies could not agree on the mandate")
        d["requests"][0]["if_declined"] = {"then": "revise", "after": "2d", "times": 1}

    got = states(records_of(vary(edit)))
    declined = [(t, a, n) for t, a, s, n in got if s == "declined"]
    assert [n for _, _, n in declined] == ["Allies could not agree on the mandate"] * 2
    # the decline travels back the way the request came (NAC, EADRCC, OCHA); two days' revision; the same path again
    resubmitted = [(t, n) for t, _, s, n in got if s == "submitted"]
    assert resubmitted[1][1] == "revised and resubmitted after the decline"
    assert resubmitted[1][0] > declined[0][0] + 48.0
    assert got[-1][2] == "declined"  # revised once, declined again: abandoned


def test_a_deferred_request_comes_back_to_the_table(vary):
    def edit(d):
        council(d, approve=0.0, decline=0.0, defer=1.0, defer_for="1d")

    got = states(records_of(vary(edit)))
    deferred = [(t, n) for t, _, s, n in got if s == "deferred"]
    # deliberation 12 h, then a day on the shelf and another 12 h of deliberation, and so on until the run ends
    assert deferred[:3] == [
        (26.0, "the approving body deferred its decision"),
        (62.0, "the approving body deferred its decision"),
        (98.0, "the approving body deferred its decision"),
    ]


def test_a_silence_procedure_passes_the_draft_unless_silence_is_broken(vary):
    quiet = states(records_of(vary(lambda d: council(d, silence={"period": "1d", "broken": 0.0}))))
    broken = states(records_of(vary(lambda d: council(d, silence={"period": "1d", "broken": 1.0, "delay": "2d"}))))
    approved = lambda got: next(t for t, _, s, _ in got if s == "approved")  # noqa: E731
    assert approved(quiet) == 26.0 + 24.0
    assert approved(broken) == 26.0 + 24.0 + 48.0


def test_every_round_of_deliberation_counts_as_approval_so_the_parts_still_add_up(vary):
    def edit(d):
        council(d, approve=0.5, decline=0.0, defer=0.5, defer_for="1d")

    for seed in range(1, 6):
        v = run(vary(edit), seed=seed).metrics.values
        if v["rfa_cycle_time"] is None:
            continue
        parts = sum(v[f"rfa_{p}"] for p in ("transit", "queue", "processing", "rework", "approval", "transport"))
        assert parts == pytest.approx(v["rfa_cycle_time"]), seed


def test_a_standing_authority_takes_further_requests_of_the_operation_off_the_councils_table(vary):
    def edit(d, authority: bool):
        d["requests"][0]["operation"] = "relief"
        second = {**d["requests"][0], "id": "airlift2", "at": "5d"}
        second.pop("last_resort")
        second["last_resort"] = {"evidence": "as before"}
        d["requests"].append(second)
        d["channels"].append({"id": "eadrcc_shape", "between": ["eadrcc", "shape"], "latency": "1h", "max_marking": "secret"})
        if authority:
            d["authorities"] = [
                {
                    "id": "relief_authority",
                    "operation": "relief",
                    "holder": "shape",
                    "after": {"request": "airlift", "state": "approved"},
                    "approval": "2h",
                }
            ]

    with_authority = records_of(vary(lambda d: edit(d, True)))
    without = records_of(vary(lambda d: edit(d, False)))
    granted = [(r.t, r.authority, r.holder) for r in with_authority if type(r) is records.AuthorityGranted]
    assert granted == [(26.0, "relief_authority", "shape")]
    forwarded = [(a, n) for _, a, s, n in states(with_authority, "airlift2") if s == "forwarded"]
    assert forwarded == [("eadrcc", "to shape (delegated approval under relief_authority)")]
    approved = lambda recs: next(t for t, a, s, _ in states(recs, "airlift2") if s == "approved")  # noqa: E731
    assert approved(without) - approved(with_authority) > 8.0  # two hours at SHAPE instead of twelve at the NAC


def test_the_humanitarian_side_declines_a_request_a_civilian_asset_could_meet_in_time(vary):
    def with_charters(d, needed_by):
        d["assets"].append(
            {
                "id": "charters",
                "name": "Civil charters",
                "owner": "un_ocha",
                "kind": "airliner",
                "mode": "air",
                "count": 1,
                "capacity": 50,
                "base": "ramstein",
                "military": False,
            }
        )
        d["requests"][0]["needed_by"] = needed_by

    plenty = states(records_of(vary(lambda d: with_charters(d, "10d"))))
    assert plenty[1][2] == "declined" and plenty[1][1] == "un_ocha"
    # from 4 h to 240 h, 20 h round trips of 50 t from Ramstein: twelve of them
    assert plenty[1][3] == "fails the last-resort test: civilian lift can carry 600 t to islamabad by 240h: charters (600 t)"
    # needed within a day: one charter manages a single 50 t trip in time, short of the 100 t asked
    tight = states(records_of(vary(lambda d: with_charters(d, "1d"))))
    assert tight[1][2] == "validated" and tight[1][3] == "passes the last-resort test: no civilian asset meets it in time"


@pytest.mark.parametrize("purpose", ["military_support", "state"])
def test_military_support_and_a_states_own_request_take_no_last_resort_test(vary, purpose):
    def edit(d):
        d["requests"][0]["purpose"] = purpose
        d["requests"][0].pop("last_resort")

    got = states(records_of(vary(edit)))
    assert [s for _, _, s, _ in got[:3]] == ["submitted", "validated", "forwarded"]
    assert got[1][1] == "eadrcc" and got[1][3] == ""  # validated on receipt by NATO, not judged


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: council(d, approve=0.5, decline=0.1), "approve, decline and defer add up to 0.6"),
        (lambda d: d["requests"][0].update(if_declined={"then": "elsewhere"}), "elsewhere names the request to submit instead"),
        (lambda d: d["requests"][0].update(if_declined={"then": "elsewhere", "request": "airlift"}), "request airlift turns to itself"),
        (lambda d: d.update(authorities=[{"id": "a", "operation": "x", "holder": "nobody"}]), "names actor 'nobody'"),
        (lambda d: d["requests"][0].update(last_resort={"judge": "nobody"}), "names actor 'nobody'"),
    ],
)
def test_politics_that_cannot_be_are_located_errors(vary, edit, message):
    with pytest.raises(ScenarioError) as info:
        vary(edit)
    assert message in str(info.value)

"""The bad-input contract: every problem is one line ``file:LINE:COL: what is wrong (what was expected)``.

Each case starts from the valid ``tests/data/mini.yaml``, makes one targeted
text edit, writes the result to ``tmp_path`` and asserts the exact lines that
loading reports. Line and column numbers refer to the edited file; edits that
add no lines keep the line numbers of ``mini.yaml``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from coopsim.engine import ScenarioError, apply_override, apply_variant, load_scenario, loads_scenario
from coopsim.engine.scenario.problems import Position, Problem
from coopsim.engine.tabletop.session import Session

MINI = Path(__file__).parent / "data" / "mini.yaml"
MINI_TEXT = MINI.read_text(encoding="utf-8")

ACTORS = "one of: un_ocha, eadrcc, nac, shape"
LOCATIONS = "one of: ramstein, islamabad, muzaffarabad"
NOT_A_DURATION = '(expected a duration such as "90m", "6h" or "2d")'
TOP_LEVEL_KEYS = (
    "scenario, actors, locations, routes, channels, agreements, liaison, assets, facts, requests, injects, decision_points, objectives, "
    "arrivals, authorities, variants"
)


def edited(tmp_path: Path, *edits: tuple[str, str], name: str = "bad.yaml") -> Path:
    """``mini.yaml`` with each ``(old, new)`` replaced once, written to ``tmp_path``."""
    text = MINI_TEXT
    for old, new in edits:
        assert text.count(old) == 1, f"the edit {old!r} must match mini.yaml exactly once"
        text = text.replace(old, new)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path, **kwargs) -> list[str]:
    """The lines ``load_scenario`` reports for ``path``; fails if it loads."""
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, **kwargs)
    lines = [str(p) for p in info.value.problems]
    assert str(info.value) == "\n".join(lines)
    return lines


def test_the_fixture_itself_is_valid():
    scenario = load_scenario(MINI)
    assert [a.id for a in scenario.actors] == ["un_ocha", "eadrcc", "nac", "shape"]


def test_problem_line_format():
    problem = Problem(Position("f.yaml", 3, 7), "something is wrong", "something else")
    assert str(problem) == "f.yaml:3:7: something is wrong (something else)"
    assert str(Problem(Position("f.yaml", 3, 7), "something is wrong")) == "f.yaml:3:7: something is wrong"


# -- one edit, one exact line ---------------------------------------------------------------

CASES = [
    # wrong types
    pytest.param(
        "military: false, staff: 1,",
        "military: false, staff: three,",
        "12:83: actors.nac.staff: got 'three' (expected a whole number)",
        id="type-staff-text",
    ),
    pytest.param(
        "military: true, staff: 2",
        "military: true, staff: 2.5",
        "13:67: actors.shape.staff: got 2.5 (expected a whole number)",
        id="type-staff-fraction",
    ),
    pytest.param(
        "military: true, staff: 2",
        "military: maybe, staff: 2",
        "13:54: actors.shape.military: got 'maybe' (expected true or false)",
        id="type-military-not-bool",
    ),
    pytest.param(
        "family: UN, staff: 1",
        "family: UNO, staff: 1",
        "10:42: actors.un_ocha.family: 'UNO' is not allowed (one of 'NATO', 'UN', 'AU', 'EU', 'national' or 'NGO')",
        id="type-family-not-in-enum",
    ),
    pytest.param(
        "processing: 2h}",
        "processing: {dist: gamma, low: 1h}}",
        "11:73: actors.eadrcc.processing: unknown dist 'gamma' "
        "(one of 'fixed', 'uniform', 'triangular', 'exponential', 'lognormal', 'normal')",
        id="type-unknown-distribution",
    ),
    # values out of range
    pytest.param(
        "military: false, staff: 1,",
        "military: false, staff: 0,",
        "12:83: actors.nac.staff: got 0 (expected a number of at least 1)",
        id="range-staff-zero",
    ),
    pytest.param(
        "latency: 6h, max_marking: unclassified}",
        "latency: 6h, loss: 1.5, max_marking: unclassified}",
        "25:80: channels.un_nato.loss: got 1.5 (expected a number below 1)",
        id="range-loss",
    ),
    pytest.param(
        "mode: air, time: 1h}",
        "mode: air, time: 1h, risk: 1.5}",
        "22:68: routes.islamabad-muzaffarabad-air.risk: got 1.5 (expected a number of at most 1)",
        id="range-route-risk",
    ),
    pytest.param(
        "capacity: 40",
        "capacity: 0",
        "36:100: assets.c17.capacity: got 0 (expected a number above 0)",
        id="range-asset-capacity",
    ),
    # unknown keys: reported at the key, listing the keys allowed there
    pytest.param(
        "liaison: []\n",
        "liason: []\n",
        f"33:1: unknown key 'liason' in the document (one of: {TOP_LEVEL_KEYS})",
        id="unknown-key-top-level",
    ),
    pytest.param(
        "staff: 2, processing: 1h}",
        "staff: 2, processing: 1h, rank: 3}",
        "13:86: unknown key 'rank' in actors.shape (one of: id, name, family, military, staff, processing, approval, council)",
        id="unknown-key-actor",
    ),
    pytest.param(
        "processing: 2h}",
        "processing: {dist: uniform, low: 1h, high: 3h, mode: 2h}}",
        "11:108: unknown key 'mode' in actors.eadrcc.processing (one of: dist, low, high)",
        id="unknown-key-distribution",
    ),
    pytest.param(
        "    quantity: 100\n",
        "    quantity: 100\n    tonnes: 5\n",
        "49:5: unknown key 'tonnes' in requests.airlift (one of: id, kind, description, from, to, approver, marking, at, fact, "
        "quantity, cargo, pickup, site, needed_by, assets, escorts, escort_policy, purpose, operation, last_resort, rework, "
        "approve_probability, if_declined, requires, trips_require)",
        id="unknown-key-request-lists-aliases",
    ),
    # references to ids that do not exist
    pytest.param(
        "between: [un_ocha, eadrcc]",
        "between: [un_ocha, eadrc]",
        f"25:38: channels.un_nato.between.1 names actor 'eadrc', which does not exist ({ACTORS})",
        id="ref-channel-actor",
    ),
    pytest.param(
        "    site: islamabad\n",
        "    site: karachi\n",
        f"49:11: requests.airlift.site names location 'karachi', which does not exist ({LOCATIONS})",
        id="ref-request-site",
    ),
    pytest.param(
        "metric: fill_rate.islamabad",
        "metric: fill_rate.lahore",
        f"75:13: metric 'fill_rate.lahore' names location 'lahore', which does not exist ({LOCATIONS})",
        id="ref-objective-metric-location",
    ),
    pytest.param(
        "{from: islamabad, to: muzaffarabad",
        "{from: islamabad, to: bagh",
        f"22:27: routes.islamabad-bagh-air.to names location 'bagh', which does not exist ({LOCATIONS})",
        id="ref-route-to",
    ),
    # decision point default
    pytest.param(
        "    default: standard",
        "    default: express",
        "65:14: default 'express' is not one of the options of dp_priority (one of: standard, surge)",
        id="decision-default-not-an-option",
    ),
    # duplicates
    pytest.param(
        "processing: 1h}\n\nlocations",
        "processing: 1h}\n  - {id: nac, name: Second NAC, family: NATO}\n\nlocations",
        "14:10: duplicate actor id 'nac' (each id once; first at line 12)",
        id="duplicate-actor-id",
    ),
    pytest.param(
        "    kind: rfa\n",
        "    kind: rfa\n    kind: rfi\n",
        "45:5: duplicate key 'kind' (each key once; first at line 44)",
        id="duplicate-yaml-key",
    ),
    # durations
    pytest.param(
        "kind: formal, latency: 6h, max_marking: unclassified",
        "kind: formal, latency: -2h, max_marking: unclassified",
        f"25:70: channels.un_nato.latency: negative duration '-2h' {NOT_A_DURATION}",
        id="duration-negative",
    ),
    pytest.param(
        "kind: formal, latency: 6h, max_marking: unclassified",
        "kind: formal, latency: 6 hours, max_marking: unclassified",
        f"25:70: channels.un_nato.latency: '6 hours' is not a duration {NOT_A_DURATION}",
        id="duration-malformed",
    ),
    pytest.param(
        "duration: 10d",
        "duration: -10d",
        f"5:13: scenario.duration: negative duration '-10d' {NOT_A_DURATION}",
        id="duration-negative-scenario",
    ),
]


@pytest.mark.parametrize(("old", "new", "expected"), CASES)
def test_one_problem_one_exact_line(tmp_path, old, new, expected):
    path = edited(tmp_path, (old, new))
    assert problems(path) == [f"{path}:{expected}"]


def test_same_text_from_memory_names_the_given_source():
    text = MINI_TEXT.replace("military: false, staff: 1,", "military: false, staff: 0,")
    with pytest.raises(ScenarioError) as info:
        loads_scenario(text, source="exercise.yaml")
    assert [str(p) for p in info.value.problems] == ["exercise.yaml:12:83: actors.nac.staff: got 0 (expected a number of at least 1)"]


# -- cases asserted in part (see the notes on each) -----------------------------------------


def test_inject_addressed_to_unknown_actor(tmp_path):
    path = edited(tmp_path, ("to: [un_ocha], description: Earthquake", "to: [un_ocah], description: Earthquake"))
    # ``injects.1`` is seq 1, in messages as in patches and --set
    assert problems(path) == [f"{path}:54:48: injects.1.to.0 names actor 'un_ocah', which does not exist ({ACTORS})"]


def test_patch_paths_name_injects_by_seq():
    scenario = load_scenario(MINI, overrides=["injects.2.description=changed"])
    assert [i.description for i in scenario.injects] == ["Earthquake damage assessment arrives", "changed"]


def test_duplicate_inject_seq(tmp_path):
    path = edited(tmp_path, ("  - {seq: 2, time: 2h", "  - {seq: 1, time: 2h"))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert [str(p) for p in info.value.problems] == [f"{path}:55:11: duplicate inject seq 1 (each seq once; first at line 54)"]


def test_route_from_unknown_location_also_reports_the_stranded_asset(tmp_path):
    path = edited(tmp_path, ("{from: ramstein, to: islamabad", "{from: rammstein, to: islamabad"))
    assert problems(path) == [
        f"{path}:21:12: routes.rammstein-islamabad-air.from names location 'rammstein', which does not exist ({LOCATIONS})",
        f"{path}:50:14: asset c17 (air) has no route from ramstein to islamabad (air routes joining ramstein to islamabad)",
    ]


# -- malformed YAML and unsafe tags ---------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "opened_at", "col", "opener", "closer"),
    [
        pytest.param('sources: ["test fixture"]', 'sources: ["test fixture"', 7, 12, "[", "]", id="unclosed-bracket"),
        pytest.param("processing: 1h}\n\nlocations", "processing: 1h\n\nlocations", 13, 5, "{", "}", id="unclosed-brace"),
    ],
)
def test_malformed_yaml_reports_a_position(tmp_path, old, new, opened_at, col, opener, closer):
    path = edited(tmp_path, (old, new))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    [problem] = info.value.problems
    # reported where the bracket was opened, not two lines on where the parser noticed
    assert str(problem.position) == f"{path}:{opened_at}:{col}"
    assert problem.message == f"malformed YAML: {opener!r} is never closed"
    assert problem.expected == f"',' or {closer!r} before line {opened_at + 2}"


@pytest.mark.parametrize(
    ("tag", "shown"),
    [
        ("!!python/object/apply:os.system", "tag:yaml.org,2002:python/object/apply:os.system"),
        ("!!python/object/new:os.system", "tag:yaml.org,2002:python/object/new:os.system"),
        ("!!python/name:os.system", "tag:yaml.org,2002:python/name:os.system"),
    ],
)
def test_object_constructing_tags_are_refused_and_nothing_runs(tmp_path, tag, shown):
    marker = tmp_path / "executed"
    path = edited(tmp_path, ("  seed: 1\n", f'  seed: {tag} ["touch {marker}"]\n'))
    assert problems(path) == [f"{path}:6:9: YAML tag {shown!r} is not allowed (plain YAML values; tags that construct objects are refused)"]
    assert not marker.exists()


def test_other_tags_are_refused_too(tmp_path):
    path = edited(tmp_path, ("  seed: 1\n", "  seed: !!binary aGk=\n"))
    assert problems(path) == [
        f"{path}:6:9: YAML tag 'tag:yaml.org,2002:binary' is not allowed (plain YAML values; tags that construct objects are refused)"
    ]


def test_a_tag_in_a_set_value_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "executed"
    with pytest.raises(ScenarioError) as info:
        load_scenario(MINI, overrides=[f'scenario.seed=!!python/object/apply:os.system ["touch {marker}"]'])
    [problem] = info.value.problems
    assert problem.message == "YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed"
    assert problem.position.source.startswith("--set scenario.seed=")
    assert (problem.position.line, problem.position.col) == (1, 15)  # the value, counted from the start of PATH=VALUE
    assert not marker.exists()


def test_a_tag_on_a_key_is_a_scenario_error(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("!!python/name:os.system x: 1\n" + MINI_TEXT, encoding="utf-8")
    assert problems(path) == [
        f"{path}:1:1: YAML tag 'tag:yaml.org,2002:python/name:os.system' is not allowed "
        "(plain YAML values; tags that construct objects are refused)"
    ]


def test_a_merge_key_is_reported(tmp_path):
    path = edited(
        tmp_path,
        ("actors:\n", "defaults: &d {family: NATO, staff: 1}\nactors:\n"),
        ("  - {id: shape, name: SHAPE, family: NATO, military: true, staff: 2, processing: 1h}", "  - {<<: *d, id: shape, name: SHAPE}"),
    )
    assert problems(path) == [f"{path}:14:6: YAML merge keys (<<) are not supported (the keys written out, or a variant patch)"]


# -- several problems -----------------------------------------------------------------------


def test_several_type_problems_are_all_reported_sorted_by_position(tmp_path):
    # staff is written before family, so file order differs from the model's field order.
    path = edited(
        tmp_path,
        ("liaison: []\n", "liason: []\n"),
        ("latency: 6h, max_marking: unclassified", "latency: -2h, max_marking: unclassified"),
        ("family: NATO, military: true, staff: 2,", "staff: two, family: NATOO, military: true,"),
    )
    assert problems(path) == [
        f"{path}:13:37: actors.shape.staff: got 'two' (expected a whole number)",
        f"{path}:13:50: actors.shape.family: 'NATOO' is not allowed (one of 'NATO', 'UN', 'AU', 'EU', 'national' or 'NGO')",
        f"{path}:25:70: channels.un_nato.latency: negative duration '-2h' {NOT_A_DURATION}",
        f"{path}:33:1: unknown key 'liason' in the document (one of: {TOP_LEVEL_KEYS})",
    ]


def test_several_reference_problems_are_all_reported_sorted_by_position(tmp_path):
    path = edited(
        tmp_path,
        ("    default: standard", "    default: express"),
        ("between: [un_ocha, eadrcc]", "between: [un_ocha, eadrc]"),
        ("{from: islamabad, to: muzaffarabad", "{from: islamabad, to: bagh"),
        ("  - id: obj_fill", "  - id: obj_cycle"),  # duplicates are checked first, so this line is sorted last
    )
    assert problems(path) == [
        f"{path}:22:27: routes.islamabad-bagh-air.to names location 'bagh', which does not exist ({LOCATIONS})",
        f"{path}:25:38: channels.un_nato.between.1 names actor 'eadrc', which does not exist ({ACTORS})",
        f"{path}:65:14: default 'express' is not one of the options of dp_priority (one of: standard, surge)",
        f"{path}:73:9: duplicate objective id 'obj_cycle' (each id once; first at line 68)",
    ]


# -- variants -------------------------------------------------------------------------------


def test_good_variant_applies():
    assert load_scenario(MINI, variant="slow_channel").by_id["channels"]["un_nato"].latency.mean == 24.0


def test_bad_variant_patch_is_reported_at_the_patch_line_on_load(tmp_path):
    path = edited(tmp_path, ("channels.un_nato.latency: 1d", "actors.nac.staff: three"))
    expected = [f"{path}:83:25: actors.nac.staff: got 'three' (expected a whole number)"]
    assert problems(path) == expected  # checked at load, even when the variant is not asked for
    assert problems(path, variant="slow_channel") == expected


def test_bad_duration_in_variant_patch(tmp_path):
    path = edited(tmp_path, ("channels.un_nato.latency: 1d", "channels.un_nato.latency: soon"))
    assert problems(path) == [f"{path}:83:33: channels.un_nato.latency: 'soon' is not a duration {NOT_A_DURATION}"]


def test_variant_patch_naming_an_unknown_entity(tmp_path):
    path = edited(tmp_path, ("channels.un_nato.latency: 1d", "channels.un_nat.latency: 1d"))
    assert problems(path) == [
        f"{path}:82:5: patch names 'un_nat', which is not in this list (one of: un_nato, eadrcc_nac, nac_shape, shape_un)"
    ]


def test_unknown_variant_name():
    assert problems(MINI, variant="nope") == [f"{MINI}:79:1: no variant named 'nope' (one of: baseline, slow_channel)"]
    with pytest.raises(ScenarioError):
        apply_variant(load_scenario(MINI), "nope")


# -- --set overrides ------------------------------------------------------------------------
# The position of a --set problem is the override itself; the column counts
# within PATH=VALUE (column 18 is the value in ``actors.nac.staff=abc``).

STAFF_ABC = "--set actors.nac.staff=abc:1:18: actors.nac.staff: got 'abc' (expected a whole number)"


def test_bad_override_value_through_load_scenario():
    assert problems(MINI, overrides=["actors.nac.staff=abc"]) == [STAFF_ABC]


def test_bad_override_value_through_apply_override():
    scenario = load_scenario(MINI)
    with pytest.raises(ScenarioError) as info:
        apply_override(scenario, "actors.nac.staff=abc")
    assert [str(p) for p in info.value.problems] == [STAFF_ABC]
    assert scenario.by_id["actors"]["nac"].staff == 1  # the scenario is unchanged


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("actors.nac.staff=0", "--set actors.nac.staff=0:1:18: actors.nac.staff: got 0 (expected a number of at least 1)"),
        (
            "channels.un_nato.latency=-1h",
            f"--set channels.un_nato.latency=-1h:1:26: channels.un_nato.latency: negative duration '-1h' {NOT_A_DURATION}",
        ),
        (
            "actors.nac.staf=2",
            "--set actors.nac.staf=2:1:1: unknown key 'staf' in actors.nac "
            "(one of: id, name, family, military, staff, processing, approval, council)",
        ),
        (
            "actors.nato.staff=2",
            "--set actors.nato.staff=2:1:1: patch names 'nato', which is not in this list (one of: un_ocha, eadrcc, nac, shape)",
        ),
        ("staff", "--set staff:1:1: a setting needs a path and a value (dotted.path=value)"),
        ("=3", "--set =3:1:1: a setting needs a path and a value (dotted.path=value)"),
    ],
)
def test_bad_overrides(override, expected):
    assert problems(MINI, overrides=[override]) == [expected]


def test_good_override_applies():
    assert load_scenario(MINI, overrides=["actors.nac.staff=3"]).by_id["actors"]["nac"].staff == 3


# -- decision option patches ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ("{actors.nac.staff: 3}", "actors.nac.staff"),
        ("{actors: {nac: {staff: 3}}}", "actors.nac.staff"),
        ("{assets.c17.count: 3}", "assets.c17.count"),
    ],
)
def test_decision_patch_changing_a_fixed_field_is_refused(tmp_path, patch, field):
    path = edited(tmp_path, ("patch: {assets.c17.load_time: 1h}", f"patch: {patch}"))
    assert problems(path) == [
        f"{path}:64:57: option surge changes {field}, which is fixed when a run starts "
        "(change it with a variant or --set; a decision patch only retunes settings)"
    ]


def test_decision_patch_with_a_bad_value_is_reported_at_the_value(tmp_path):
    path = edited(tmp_path, ("patch: {assets.c17.load_time: 1h}", "patch: {assets.c17.load_time: fast}"))
    assert problems(path) == [f"{path}:64:80: assets.c17.load_time: 'fast' is not a duration {NOT_A_DURATION}"]


# -- decisions scripts ----------------------------------------------------------------------


def decisions_problems(tmp_path: Path, text: str) -> tuple[Path, list[str]]:
    path = tmp_path / "decisions.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        Session.from_file(path).check(load_scenario(MINI))
    return path, [str(p) for p in info.value.problems]


def test_decisions_script_naming_an_unknown_point(tmp_path):
    path, lines = decisions_problems(tmp_path, "decisions:\n  dp_priorty: surge\n")
    assert lines == [f"{path}:2:3: no decision point 'dp_priorty' in the scenario (one of: dp_priority)"]


def test_decisions_script_naming_an_unknown_option(tmp_path):
    path, lines = decisions_problems(tmp_path, "decisions:\n  dp_priority: fast\n")
    assert lines == [f"{path}:2:16: dp_priority has no option 'fast' (one of: standard, surge)"]


def test_decisions_script_with_both_mistakes(tmp_path):
    path, lines = decisions_problems(tmp_path, "decisions:\n  dp_x: surge\n  dp_priority: fast\n")
    assert lines == [
        f"{path}:2:3: no decision point 'dp_x' in the scenario (one of: dp_priority)",
        f"{path}:3:16: dp_priority has no option 'fast' (one of: standard, surge)",
    ]


def test_decisions_file_with_an_unknown_section(tmp_path):
    path = tmp_path / "decisions.yaml"
    path.write_text("choices:\n  dp_priority: surge\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        Session.from_file(path)
    assert str(info.value) == (
        f"{path}:1:1: unknown key 'choices' in the document "
        "(one of: scenario, coopsim_version, seed, variant, seats, decisions, observations, responses, releases, at, pauses)"
    )


def test_decision_with_a_misspelt_key(tmp_path):
    path = tmp_path / "decisions.yaml"
    path.write_text("decisions:\n  dp_priority: {option: surge, rationle: quicker}\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        Session.from_file(path)
    assert str(info.value) == f"{path}:2:32: unknown key 'rationle' in decisions.dp_priority (one of: option, by, rationale, t)"


def test_misspelt_key_in_a_variant_lists_the_keys_a_variant_takes(tmp_path):
    path = edited(tmp_path, ("description: Formal correspondence takes a day", "descrption: slow"))
    assert problems(path) == [f"{path}:81:5: unknown key 'descrption' in variants.slow_channel (one of: description, patch)"]


def test_session_release_of_an_inject_that_is_not_contingency(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("releases:\n  - {inject: 2, t: 3h}\n  - {inject: 9, t: 30d}\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        Session.from_file(path).check(load_scenario(MINI))
    assert [str(p) for p in info.value.problems] == [
        f"{path}:2:14: inject 2 is not a contingency inject (a contingency inject: the scenario has none)",
        f"{path}:3:14: inject 9 is not in the scenario (a contingency inject: the scenario has none)",
        f"{path}:3:20: release at 720h is not before the scenario end (a time before the end)",
    ]


def test_session_releasing_an_inject_twice_or_paused_before_a_release(tmp_path, vary):
    scenario = vary(lambda d: d["injects"].append({"seq": 3, "contingency": True, "to": ["un_ocha"], "description": "x"}))
    path = tmp_path / "s.yaml"
    path.write_text(
        "releases:\n  - {inject: 3, t: 3h, step: 9}\n  - {inject: 3, t: 4h, step: 12}\nat: {t: 3h, step: 9}\n", encoding="utf-8"
    )
    with pytest.raises(ScenarioError) as info:
        Session.from_file(path).check(scenario)
    assert [str(p) for p in info.value.problems] == [
        f"{path}:3:14: inject 3 is released twice (each inject released once)",
        f"{path}:4:5: the session is paused before its last release (at: the place of the last pause)",
    ]


def test_good_decisions_script_passes_the_check(tmp_path):
    path = tmp_path / "decisions.yaml"
    path.write_text("decisions:\n  dp_priority: surge\n", encoding="utf-8")
    decider = Session.from_file(path).decider
    decider.check(load_scenario(MINI))
    assert decider.choices["dp_priority"].option == "surge"


# -- files that cannot be read --------------------------------------------------------------


def test_an_alias_inside_itself_and_a_nul_character_are_one_line_each(tmp_path):
    for text, line in (
        ("actors: &a [*a]\n", "1:13: an alias refers to a node that contains it (an alias to a finished node)"),
        ("scenario:\n  name: a\x00b\n", "2:10: character '\\x00' is not allowed in YAML (printable text)"),
    ):
        path = tmp_path / "odd.yaml"
        path.write_text(text, encoding="utf-8")
        assert problems(path) == [f"{path}:{line}"]


def test_missing_file(tmp_path):
    path = tmp_path / "nowhere.yaml"
    assert problems(path) == [f"{path}:1:1: cannot read the file: No such file or directory (a readable YAML file)"]


def test_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("scenario: caf\xe9\n".encode("latin-1"))
    assert problems(path) == [f"{path}:1:14: not UTF-8 text: byte 0xe9, invalid continuation byte (a UTF-8 YAML file)"]


def test_document_that_is_not_a_mapping(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- 1\n- 2\n", encoding="utf-8")
    assert problems(path) == [f"{path}:1:1: the document is not a mapping (sections such as scenario:, actors:)"]


def test_a_bare_number_is_not_a_duration(tmp_path):
    path = edited(tmp_path, ("latency: 6h, max_marking: unclassified}", "latency: 6, max_marking: unclassified}"))
    assert problems(path) == [
        f'{path}:25:70: channels.un_nato.latency: 6 is not a duration with a unit (expected a duration such as "90m", "6h" or "2d")'
    ]


def test_a_patch_that_removes_an_entity_says_so_at_the_patch():
    with pytest.raises(ScenarioError) as info:
        load_scenario(MINI, overrides=["actors.nac=null"])
    lines = [str(p) for p in info.value.problems]
    assert lines[0] == "--set actors.nac=null:1:1: the patch removes actors.nac (nothing else in the scenario refers to it)"
    assert lines[1] == (
        f"{MINI}:26:40: channels.eadrcc_nac.between.1 names actor 'nac', which does not exist (one of: un_ocha, eadrcc, shape)"
    )
    assert len(lines) == 6


def test_a_patch_replacing_a_duration_with_a_mapping_is_reported_at_the_patch():
    with pytest.raises(ScenarioError) as info:
        load_scenario(MINI, overrides=["actors.nac.processing={dist: uniform, low: 1h}"])
    assert [str(p) for p in info.value.problems] == [
        "--set actors.nac.processing={dist: uniform, low: 1h}:1:23: actors.nac.processing.high is missing (a value for this required key)"
    ]


def test_true_is_not_a_staff_count(tmp_path):
    path = edited(
        tmp_path,
        (
            "{id: nac, name: North Atlantic Council, family: NATO, military: false, staff: 1,",
            "{id: nac, name: North Atlantic Council, family: NATO, military: false, staff: true,",
        ),
    )
    assert problems(path) == [f"{path}:12:83: actors.nac.staff: got True (expected a whole number)"]


def test_a_one_way_route_with_no_way_back_is_refused_at_load(tmp_path):
    path = edited(tmp_path, ("mode: air, time: 10h}", "mode: air, time: 10h, two_way: false}"))
    assert problems(path) == [
        f"{path}:50:14: asset c17 (air) has no route from islamabad to ramstein (air routes joining islamabad to ramstein)"
    ]


def test_a_zero_duration_is_refused(tmp_path):
    path = edited(tmp_path, ("  duration: 10d", "  duration: 0h"))
    assert problems(path) == [f"{path}:5:13: scenario.duration: the duration is zero (expected a duration above 0, such as 30d)"]


def test_infinite_quantities_are_refused():
    with pytest.raises(ScenarioError, match=r"requests.airlift.quantity: got inf \(expected a finite number\)"):
        load_scenario(MINI, overrides=["requests.airlift.quantity=.inf"])


def test_decision_patches_are_checked_again_after_overrides():
    with pytest.raises(ScenarioError) as info:
        load_scenario(MINI, overrides=["decision_points.dp_priority.options.surge.patch={assets.c17.count: 5}"])
    assert "option surge changes assets.c17.count, which is fixed when a run starts" in str(info.value)


def test_scenario_errors_survive_being_re_raised():
    error = ScenarioError([Problem(Position("x.yaml", 3, 4), "bad", "good")])
    again = type(error)(*error.args)
    assert str(again) == "x.yaml:3:4: bad (good)"
    assert again.problems == error.problems


def test_stray_trigger_keys_are_refused(tmp_path):
    path = edited(tmp_path, ("trigger: {request: airlift, state: approved}", "trigger: {at: 1d, option: nonsense}"))
    assert problems(path) == [
        f"{path}:61:14: decision_points.dp_priority.trigger: option goes with decision (expected decision: ... beside option)"
    ]


def test_a_decision_patch_cannot_reschedule(tmp_path):
    path = edited(tmp_path, ("patch: {assets.c17.load_time: 1h}", "patch: {injects.2.time: 5h}"))
    assert problems(path) == [
        f"{path}:64:57: option surge changes injects.2.time, which is fixed when a run starts "
        "(change it with a variant or --set; a decision patch only retunes settings)"
    ]


def test_routes_without_an_id_are_patched_by_from_to_mode():
    scenario = load_scenario(MINI, overrides=["routes.ramstein-islamabad-air.time=12h"])
    assert scenario.routes[0].time.mean == 12.0

"""The random task generator, fingerprints, splits and the cached corpus."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

from progrefine_env.lang import TOKEN_ID, check, evaluate, parse, type_of, unparse
from progrefine_env.tasks import (
    SPLITS,
    GeneratorConfig,
    Task,
    bypass_nodes,
    constant_subtrees,
    corpus,
    corpus_path,
    fingerprint,
    generate_task,
    generate_tasks,
    identity_nodes,
    idle_lambdas,
    insensitive_nodes,
    load_corpus,
    load_tasks,
    passes,
    probe_inputs,
    rejection_reason,
    split_of,
    split_of_fingerprint,
)
from progrefine_env.tasks import generator as generator_module

CONFIG = GeneratorConfig()
LOOSE = GeneratorConfig(min_nodes=1)  # hand-written examples below are smaller than the default minimum
LIST_X = {"x": "list"}


@pytest.fixture(scope="module")
def tasks() -> list[Task]:
    return generate_tasks(60, seed=7)


def _all_tests(task: Task):
    return task.tests + task.held_out_tests


def _key(inputs: dict) -> str:
    return json.dumps(inputs, sort_keys=True)


# --------------------------------------------------------------------------------------------------
# Generated tasks are valid


def test_generated_programs_round_trip_type_check_and_pass_their_tests(tasks):
    assert len(tasks) == 60
    for k, task in enumerate(tasks):
        assert task.name == f"gen-7-{k}"
        text = unparse(task.program)
        assert parse(text) == task.program and unparse(parse(text)) == text
        assert check(task.program, task.input_types).well_typed
        assert type_of(task.program, task.input_types) in ("int", "list", "bool")
        assert all(passes(task.program, task.input_types, _all_tests(task)))
        for test in _all_tests(task):
            assert evaluate(task.program, test.inputs) == test.output


def test_generated_tasks_respect_the_config(tasks):
    signatures = {tuple(s) for s in CONFIG.signatures}
    for task in tasks:
        assert CONFIG.min_nodes <= len(task.program) <= CONFIG.max_nodes
        assert tuple(task.input_types.items()) in signatures
        for name in task.input_types:  # every declared input appears in the program
            assert TOKEN_ID[name] in task.program.tokens, (name, unparse(task.program))
        assert len(task.tests) == CONFIG.num_tests and len(task.held_out_tests) == CONFIG.num_held_out
        keys = [_key(t.inputs) for t in _all_tests(task)]
        assert len(set(keys)) == len(keys), "all inputs of a task are distinct"
        outputs = [json.dumps(t.output) for t in _all_tests(task)]
        assert len(set(outputs)) > 1, "not one output for every test"
        assert len({json.dumps(t.output) for t in task.tests}) > 1, "a constant would not pass the visible tests"
        for test in _all_tests(task):
            for name, value in test.inputs.items():
                if task.input_types[name] == "list":
                    assert len(value) <= CONFIG.max_list_length
                    assert all(CONFIG.value_low <= v <= CONFIG.value_high for v in value)
                else:
                    assert CONFIG.int_low <= value <= CONFIG.int_high


def test_generated_tasks_survive_their_own_screening(tasks):
    for task in tasks:
        inputs = [t.inputs for t in _all_tests(task)]
        assert rejection_reason(task.program, task.input_types, inputs) is None, unparse(task.program)
        assert constant_subtrees(task.program) == [] and idle_lambdas(task.program) == []


def test_no_two_tasks_share_a_behaviour(tasks):
    fps = [fingerprint(t) for t in tasks]
    assert len(set(fps)) == len(fps)
    assert len({unparse(t.program) for t in tasks}) == len(tasks)


def test_corpus_is_varied(tasks):
    outputs = Counter(type_of(t.program, t.input_types) for t in tasks)
    assert outputs["int"] > 10 and outputs["list"] > 10 and outputs["bool"] > 0
    assert len({tuple(t.input_types.items()) for t in tasks}) >= len(CONFIG.signatures) // 2
    heads = Counter(unparse(t.program).split()[0].strip("(") for t in tasks)
    assert len(heads) >= 8, heads


def test_config_changes_what_is_generated():
    config = GeneratorConfig(
        num_tests=3, num_held_out=2, max_list_length=4, value_low=0, value_high=5,
        signatures=((("x", "list"), ("y", "int")),), int_low=1, int_high=3,
    )  # fmt: skip
    for task in generate_tasks(15, seed=1, config=config):
        assert task.input_types == {"x": "list", "y": "int"}
        assert len(task.tests) == 3 and len(task.held_out_tests) == 2
        for test in _all_tests(task):
            assert len(test.inputs["x"]) <= 4 and all(0 <= v <= 5 for v in test.inputs["x"])
            assert 1 <= test.inputs["y"] <= 3


def test_weights_are_options():
    no_fold = GeneratorConfig(token_weights=tuple((t, w) for t, w in CONFIG.token_weights if t != "fold"))
    only_bool = GeneratorConfig(output_types=(("bool", 1.0),), signatures=((("x", "list"),),), signature_weights=())
    assert all(TOKEN_ID["fold"] not in t.program.tokens for t in generate_tasks(30, seed=2, config=no_fold))
    for task in generate_tasks(20, seed=2, config=only_bool):
        assert type_of(task.program, task.input_types) == "bool" and task.input_types == {"x": "list"}
    no_nil = GeneratorConfig(nil_weight=0.0, constant_weights=((2, 1.0),))
    for task in generate_tasks(30, seed=2, config=no_nil):
        assert TOKEN_ID["nil"] not in task.program.tokens
        assert all(TOKEN_ID[str(v)] not in task.program.tokens for v in range(-1, 11) if v != 2)
    for bad in (
        {"token_weights": (("lam", 1.0),)}, {"token_weights": (("map", -1.0),)},
        {"constant_weights": ((11, 1.0),)}, {"signature_weights": (1.0,)}, {"nil_weight": -1.0},
    ):  # fmt: skip
        with pytest.raises(ValueError):
            GeneratorConfig(**bad)


def test_config_is_hashable_and_validated():
    assert hash(GeneratorConfig()) == hash(GeneratorConfig())
    assert GeneratorConfig() != GeneratorConfig(min_nodes=7)
    assert json.loads(json.dumps(GeneratorConfig().to_json()))["max_nodes"] == 64
    with pytest.raises(ValueError):
        GeneratorConfig(min_nodes=10, max_nodes=5)
    with pytest.raises(ValueError):
        GeneratorConfig(signatures=((("w", "list"),),))
    with pytest.raises(ValueError):
        GeneratorConfig(budget=(30, 12))
    assert GeneratorConfig(signatures=((("x", "list"),),)).signature_weights == ()  # uniform over the new ones


# --------------------------------------------------------------------------------------------------
# Determinism


def test_same_seed_same_tasks_and_different_seed_different_tasks(tasks):
    again = generate_tasks(20, seed=7)
    assert [t.to_json() for t in again] == [t.to_json() for t in tasks[:20]]
    other = generate_tasks(20, seed=8)
    assert {unparse(t.program) for t in other} != {unparse(t.program) for t in tasks[:20]}


def test_workers_do_not_change_the_result(tasks):
    # Blocks of BLOCK_SIZE candidates run in the workers; 60 tasks need more than one block.
    assert [t.to_json() for t in generate_tasks(60, seed=7, workers=2)] == [t.to_json() for t in tasks[:60]]


def test_generate_task_is_deterministic_in_its_rng():
    rng_a, rng_b = np.random.default_rng(11), np.random.default_rng(11)
    a = [generate_task(rng_a) for _ in range(40)]
    b = [generate_task(rng_b) for _ in range(40)]
    assert [t and t.to_json() for t in a] == [t and t.to_json() for t in b]
    kept = [t for t in a if t is not None]
    assert kept, "some candidates survive"
    assert len(kept) < len(a), "and some are rejected"
    assert all(isinstance(t, Task) and all(passes(t.program, t.input_types, _all_tests(t))) for t in kept)


def test_generate_tasks_edge_counts():
    assert generate_tasks(0) == []
    with pytest.raises(ValueError):
        generate_tasks(-1)


# --------------------------------------------------------------------------------------------------
# Fingerprints and splits


def test_fingerprint_is_behaviour():
    a = fingerprint(parse("(map (lam (+ a 1)) x)"), LIST_X)
    assert a == fingerprint(parse("(map (lam (+ 1 a)) x)"), LIST_X)
    assert a == fingerprint(parse("(map (lam (- a -1)) x)"), LIST_X)
    assert a != fingerprint(parse("(map (lam (+ a 2)) x)"), LIST_X)
    assert a != fingerprint(parse("(map (lam (+ a 1)) x)"), {"x": "list", "y": "int"})
    # Errors count as behaviour: head and last differ on an empty list only by value, not kind.
    assert fingerprint(parse("(head x)"), LIST_X) != fingerprint(parse("(last x)"), LIST_X)
    task = Task("t", dict(LIST_X), parse("(sort x)"), ())
    assert fingerprint(task) == fingerprint(parse("(sort x)"), LIST_X)
    assert len(probe_inputs(LIST_X)) >= 20
    assert probe_inputs(LIST_X) == probe_inputs(LIST_X)


def test_split_is_a_stable_function_of_behaviour():
    # Fixed values: the split must not depend on the process (Python's hash() would).
    assert [split_of_fingerprint(str(i)) for i in range(10)] == [
        "train", "train", "train", "train", "train", "val", "train", "train", "test", "train",
    ]  # fmt: skip
    same = [parse("(map (lam (+ a 1)) x)"), parse("(map (lam (+ 1 a)) x)")]
    assert len({split_of(Task("", dict(LIST_X), p, ())) for p in same}) == 1
    shares = Counter(split_of_fingerprint(f"behaviour-{i}") for i in range(3000))
    assert 0.75 < shares["train"] / 3000 < 0.85 and 0.07 < shares["val"] / 3000 < 0.13


def test_corpus_splits_are_disjoint_by_behaviour_and_deterministic(tmp_path, tasks, monkeypatch):
    def generate(count, seed, config, workers, progress):  # what load_corpus would generate, made once
        assert (count, seed, config) == (60, 7, GeneratorConfig())
        return tasks[:60], [fingerprint(t) for t in tasks[:60]]

    monkeypatch.setattr(corpus, "generate_tasks_with_fingerprints", generate)
    corpus._MEMORY.clear()
    parts = {s: load_corpus(s, size=60, seed=7, cache_dir=str(tmp_path)) for s in SPLITS}
    assert sum(len(p) for p in parts.values()) == 60
    assert len(parts["train"]) > len(parts["val"]) and len(parts["train"]) > len(parts["test"])
    fps = {s: {fingerprint(t) for t in p} for s, p in parts.items()}
    assert not fps["train"] & fps["val"] and not fps["train"] & fps["test"] and not fps["val"] & fps["test"]
    for split in SPLITS:
        assert [t.to_json() for t in tasks[:60] if split_of(t) == split] == [t.to_json() for t in parts[split]]
    corpus._MEMORY.clear()  # read back from the file: the same splits
    assert {s: load_corpus(s, size=60, seed=7, cache_dir=str(tmp_path)) for s in SPLITS} == parts


# --------------------------------------------------------------------------------------------------
# Dead and redundant code


INPUTS = probe_inputs(LIST_X)[:10]


@pytest.mark.parametrize(
    "text, check_name, node",
    [
        ("(take 10 (take 3 x))", "insensitive", 1),  # the 10 never matters
        ("(take 10 (take 3 x))", "identity", 0),
        ("(+ 0 (sum x))", "identity", 0),
        ("(reverse (reverse x))", "identity", 0),
        ("(if (< 1 2) x x)", "identity", 0),
        ("(if (< 1 2) x x)", "constant", 1),
        ("(map (lam (+ a 0)) x)", "identity", 2),
        ("(sum (sort x))", "bypass", 1),
        ("(len (map (lam (* a 2)) x))", "bypass", 1),
        ("(len (map (lam (* a 2)) x))", "insensitive", 3),
        ("(if (< (len x) 3) x x)", "insensitive", 1),  # the condition never matters
    ],
)
def test_dead_code_checks_find_hand_written_redundancy(text, check_name, node):
    program = parse(text)
    found = {
        "insensitive": lambda: insensitive_nodes(program, LIST_X, INPUTS),
        "identity": lambda: identity_nodes(program, LIST_X, INPUTS),
        "bypass": lambda: bypass_nodes(program, LIST_X, INPUTS),
        "constant": lambda: constant_subtrees(program),
    }[check_name]()
    assert node in found
    assert rejection_reason(program, LIST_X, INPUTS, LOOSE) is not None


@pytest.mark.parametrize(
    "text",
    [
        "(take 3 (sort x))",
        "(+ 1 (sum x))",
        "(map (lam (* a 2)) (filter (lam (> a 0)) x))",
        "(fold (lam2 (+ a (* b b))) 0 x)",
        "(reverse (take 2 x))",
    ],
)
def test_dead_code_checks_accept_live_programs(text):
    program = parse(text)
    assert insensitive_nodes(program, LIST_X, INPUTS) == []
    assert identity_nodes(program, LIST_X, INPUTS) == []
    assert bypass_nodes(program, LIST_X, INPUTS) == []
    assert rejection_reason(program, LIST_X, INPUTS, LOOSE) is None


@pytest.mark.parametrize(
    "text, repaired",
    [
        ("(+ 0 (sum x))", "(sum x)"),
        ("(map (lam (* a 3)) (reverse (reverse (take 10 (take 3 x)))))", "(map (lam (* a 3)) (take 3 x))"),
        ("(count (lam (> a 0)) (sort (filter (lam (< a 5)) x)))", "(count (lam (> a 0)) (filter (lam (< a 5)) x))"),
    ],
)
def test_repair_removes_redundancy_and_keeps_the_outputs(text, repaired):
    program = parse(text)
    kinds = generator_module._node_kinds(program, LIST_X)
    outputs = [evaluate(program, i) for i in INPUTS]
    fixed, _, reason = generator_module._screen(program, kinds, INPUTS, outputs, True, repair=True)
    assert reason is None and unparse(fixed) == repaired
    assert [evaluate(fixed, i) for i in INPUTS] == outputs
    assert rejection_reason(fixed, LIST_X, INPUTS, LOOSE) is None


def test_rejection_reasons():
    xy = {"x": "list", "y": "int"}
    inputs_xy = probe_inputs(xy)[:10]
    assert "never used" in rejection_reason(parse("(sort x)"), xy, inputs_xy, LOOSE)
    assert "ignores its parameters" in rejection_reason(parse("(map (lam y) x)"), xy, inputs_xy, LOOSE)
    assert idle_lambdas(parse("(map (lam (count (lam (> a 0)) x)) x)")) == [1]  # the inner lam rebinds a
    assert idle_lambdas(parse("(zipwith (lam2 (count (lam (> a b)) x)) x x)")) == []  # b is the outer one
    assert "same output" in rejection_reason(parse("(count (lam (> a 10)) x)"), LIST_X, INPUTS, LOOSE)
    assert "error" in rejection_reason(parse("(head x)"), LIST_X, INPUTS, LOOSE)  # the empty list
    assert "type-check" in rejection_reason(parse("(+ x 1)"), LIST_X, INPUTS, LOOSE)
    assert "nodes" in rejection_reason(parse("(sort x)"), LIST_X, INPUTS)  # below the default minimum


# --------------------------------------------------------------------------------------------------
# The corpus cache


def test_corpus_cache_is_read_back(tmp_path, monkeypatch):
    corpus._MEMORY.clear()
    first = load_corpus("train", size=15, seed=5, cache_dir=str(tmp_path))
    path = corpus_path(15, 5, GeneratorConfig(), str(tmp_path))
    assert path.exists() and len(load_tasks(path)) == 15  # an ordinary task file too

    def fail(*args, **kwargs):
        raise AssertionError("the cached corpus should have been read")

    monkeypatch.setattr(corpus, "generate_tasks_with_fingerprints", fail)
    corpus._MEMORY.clear()  # a fresh process
    second = load_corpus("train", size=15, seed=5, cache_dir=str(tmp_path))
    assert second == first and second
    assert load_corpus("train", size=15, seed=5, cache_dir=str(tmp_path), verify=True) == first
    with pytest.raises(AssertionError):  # other settings: another file
        load_corpus("train", size=16, seed=5, cache_dir=str(tmp_path))
    monkeypatch.undo()
    assert first == [t for t in generate_tasks(15, seed=5) if split_of(t) == "train"]


def test_corpus_cache_location_and_damage(tmp_path, monkeypatch):
    corpus._MEMORY.clear()
    monkeypatch.setenv("PROGREFINE_CACHE", str(tmp_path / "env-cache"))
    tasks = load_corpus("train", size=12, seed=2)
    path = corpus_path(12, 2)
    assert path.parent == tmp_path / "env-cache" and path.exists()
    # A damaged file is noticed, ignored and made again.
    corpus._MEMORY.clear()
    path.write_text(path.read_text()[:-100])
    with pytest.warns(UserWarning, match="unusable corpus cache"):
        again = load_corpus("train", size=12, seed=2)
    assert again == tasks


def test_unwritable_cache_warns_and_still_gives_the_corpus(tmp_path):
    corpus._MEMORY.clear()
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.warns(UserWarning, match="cannot cache"):
        tasks = load_corpus("train", size=8, seed=7, cache_dir=str(blocker / "cache"))
    assert tasks and all(split_of(t) == "train" for t in tasks)


def test_unknown_split_names_the_valid_ones():
    with pytest.raises(ValueError, match="train, val, test"):
        load_corpus("validation", size=10)


def test_generator_module_exports():
    for name in generator_module.__all__:
        assert hasattr(generator_module, name)

"""ProgramRefine-v0 against Gymnasium's API: check_env, spaces, seeding, pickling, masks, info."""

from __future__ import annotations

import pickle
import warnings

import gymnasium as gym
import numpy as np
import pytest
from env_tasks import MAX_NODES, TASKS, assert_same, make, make_env, masked_action, rewrite_action
from gymnasium.utils.env_checker import check_env

from progrefine_env.env import NO_TEST, OUTCOME_NAMES, ProgramRefineEnv
from progrefine_env.feedback import summarize
from progrefine_env.lang import MASK, PAD, TOKEN_ID, VOCAB_SIZE, parse
from progrefine_env.tasks.io import task_from_json

MODES = ("rewrite", "edit")
V = VOCAB_SIZE


def checker_failures(caught) -> list[str]:
    """Warnings from check_env that point at a problem (not the note that a wrapper is in the way)."""
    return [str(w.message) for w in caught if "different from the unwrapped version" not in str(w.message)]


@pytest.mark.parametrize("action_mode", MODES)
def test_check_env_on_the_raw_env(action_mode):
    env = make_env(action_mode=action_mode)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env, skip_render_check=True)
    assert checker_failures(caught) == []


@pytest.mark.parametrize("action_mode", MODES)
def test_check_env_through_gym_make_with_render_modes(action_mode, capsys):
    # With a spec, check_env also re-makes the env for every declared render mode.
    env = make(action_mode=action_mode, corruption_mode="noise", corruption=(0.2, 0.8))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env)
    assert checker_failures(caught) == []
    assert "tests:" in capsys.readouterr().out  # the human render mode printed the state


@pytest.mark.parametrize("action_mode", MODES)
def test_spaces_and_observation_layout(action_mode):
    env = make_env(action_mode=action_mode)
    n = MAX_NODES
    if action_mode == "rewrite":
        assert env.action_space == gym.spaces.MultiDiscrete([V] * n)
    else:
        assert env.action_space == gym.spaces.Discrete(n * V)
    obs, info = env.reset(seed=0, options={"task_index": 0})
    assert obs in env.observation_space
    real = len(TASKS[0].program)
    assert obs["node_mask"].tolist() == [1] * real + [0] * (n - real)
    assert obs["tokens"].dtype == np.int64 and obs["grammar_mask"].shape == (n, V)
    assert (obs["tokens"][real:] == PAD).all()
    assert obs["test_mask"].sum() == len(TASKS[0].tests)
    assert obs["edge_mask"].sum() > 0 and (obs["edge_index"][:, obs["edge_mask"] == 0] == 0).all()


def test_test_inputs_summarise_each_input_of_each_test():
    env = make_env()
    task = TASKS[1]  # inputs x (list) and y (int)
    obs, _ = env.reset(seed=0, options={"task_index": 1})
    for k, test in enumerate(task.tests):
        assert np.array_equal(obs["test_inputs"][k, 0], summarize(test.inputs["x"], test.output))
        assert np.array_equal(obs["test_inputs"][k, 1], summarize(test.inputs["y"], test.output))
        assert not obs["test_inputs"][k, 2].any()  # no input z
    assert not obs["test_inputs"][len(task.tests) :].any()  # padded tests


def test_reset_is_deterministic_and_seeds_differ():
    env = make_env(corruption=(0.2, 0.9))
    first = [env.reset(seed=s)[0]["tokens"] for s in range(8)]
    again = [env.reset(seed=s)[0]["tokens"] for s in range(8)]
    for a, b in zip(first, again):
        assert np.array_equal(a, b)
    assert len({a.tobytes() for a in first}) > 1


def rollout(env, seed: int, steps: int, action_mode: str):
    """Observations, rewards, flags and infos of `steps` seeded random masked steps (with resets)."""
    rng = np.random.default_rng(seed)
    obs, info = env.reset(seed=seed)
    trace = [(obs, info)]
    for _ in range(steps):
        action = masked_action(env.action_masks(), action_mode, env.max_nodes, rng)
        obs, reward, terminated, truncated, info = env.step(action)
        trace.append((obs, reward, terminated, truncated, info))
        if terminated or truncated:
            trace.append(env.reset())
    return trace


@pytest.mark.parametrize("action_mode", MODES)
@pytest.mark.parametrize("corruption_mode", ["mask", "noise"])
def test_two_envs_with_one_seed_give_the_same_rollout(action_mode, corruption_mode):
    options = dict(action_mode=action_mode, corruption_mode=corruption_mode, corruption=(0.1, 1.0))
    a = rollout(make_env(**options), 7, 150, action_mode)
    b = rollout(make_env(**options), 7, 150, action_mode)
    assert len(a) == len(b)
    for k, (x, y) in enumerate(zip(a, b)):
        for p, q in zip(x, y):
            assert_same(p, q, f"step {k}")
    c = rollout(make_env(**options), 8, 150, action_mode)
    assert any(not np.array_equal(x[0]["tokens"], y[0]["tokens"]) for x, y in zip(a, c))


@pytest.mark.parametrize("action_mode", MODES)
def test_pickled_env_continues_the_same_rollout(action_mode):
    env = make(action_mode=action_mode, corruption=(0.3, 1.0))
    rng = np.random.default_rng(0)
    env.reset(seed=3)
    for _ in range(3):  # mid-episode
        env.step(masked_action(env.unwrapped.action_masks(), action_mode, MAX_NODES, rng))
    clone = pickle.loads(pickle.dumps(env.unwrapped))
    assert_same(clone._get_obs(), env.unwrapped._get_obs())
    rng_a, rng_b = np.random.default_rng(1), np.random.default_rng(1)
    resets = 0
    for _ in range(120):
        out_a = env.unwrapped.step(masked_action(env.unwrapped.action_masks(), action_mode, MAX_NODES, rng_a))
        out_b = clone.step(masked_action(clone.action_masks(), action_mode, MAX_NODES, rng_b))
        for p, q in zip(out_a, out_b):
            assert_same(p, q)
        if out_a[2] or out_a[3]:  # unseeded resets: the pickled generator continues identically
            assert_same(env.unwrapped.reset(), clone.reset())
            resets += 1
    assert resets > 0
    # A fresh unpickled env (never reset) is also usable.
    fresh = pickle.loads(pickle.dumps(make_env(action_mode=action_mode)))
    obs, _ = fresh.reset(seed=0)
    assert obs in fresh.observation_space


@pytest.mark.parametrize(
    "action_mode, bad",
    [
        ("edit", -1),
        ("edit", MAX_NODES * V),
        ("edit", 2.5),
        ("edit", np.array([1, 2])),
        ("rewrite", np.zeros(MAX_NODES - 1, dtype=np.int64)),
        ("rewrite", np.full(MAX_NODES, V, dtype=np.int64)),
        ("rewrite", np.full(MAX_NODES, -1, dtype=np.int64)),
    ],
)
def test_an_action_outside_the_action_space_raises(action_mode, bad):
    env = make_env(action_mode=action_mode)
    env.reset(seed=0)
    assert bad not in env.action_space
    with pytest.raises(ValueError):
        env.step(bad)


def test_a_rewrite_action_must_be_an_integer_array():
    # Stricter than MultiDiscrete.contains, which takes any numeric array of the right shape.
    env = make_env()
    env.reset(seed=0)
    with pytest.raises(ValueError, match="integer array"):
        env.step(np.zeros(MAX_NODES, dtype=np.float32))
    env.step(np.zeros(MAX_NODES, dtype=np.int32).tolist())  # a list of ints is fine


def test_step_before_reset_raises():
    with pytest.raises(RuntimeError):
        make_env().step(np.zeros(MAX_NODES, dtype=np.int64))


DOUBLE = task_from_json(
    {
        "inputs": {"x": "list"},
        "program": "(map (lam (* a 2)) x)",
        "tests": [{"input": {"x": [1, 2]}, "output": [2, 4]}, {"input": {"x": [0]}, "output": [0]}],
        "held_out_tests": [{"input": {"x": [7]}, "output": [14]}],
    }
)


def tokens_of(text: str) -> list[int]:
    return list(parse(text).tokens)


def reset_with_hole(env, node: int) -> None:
    """Reset (corruption: one node) with a seed whose single masked node is `node`."""
    for seed in range(200):
        env.reset(seed=seed)
        if env.corrupted_nodes.tolist() == [node]:
            return
    raise AssertionError(f"no seed below 200 masks node {node}")


def test_invalid_edits_are_ignored_and_counted():
    env = make_env([DOUBLE], corruption=1 / 6, invalid_edits="ignore")
    reset_with_hole(env, 4)  # (map (lam (* a <mask>)) x)
    start = env._program
    # `filter` needs a predicate and `lam (* a _)` is a function to int: the types break.
    ill_typed = rewrite_action(tokens_of("(filter (lam (* a 2)) x)"), MAX_NODES)
    ill_typed[4] = MASK  # keep the hole as it is
    obs, reward, _, _, info = env.step(ill_typed)
    assert info["invalid_edits"] == 1 and info["nodes_changed"] == 0 and reward == 0
    assert env._program == start and obs["tokens"][0] == TOKEN_ID["map"]
    assert info["program"] == "(map (lam (* a <mask>)) x)"
    wrong_arity = rewrite_action(start.tokens, MAX_NODES)
    wrong_arity[0] = TOKEN_ID["3"]
    wrong_arity[1] = PAD
    _, _, _, _, info = env.step(wrong_arity)
    assert info["invalid_edits"] == 2 and env._program == start
    # An invalid edit beside a valid one: the valid one is applied, the other counted.
    mixed = rewrite_action(start.tokens, MAX_NODES)
    mixed[0], mixed[4] = TOKEN_ID["filter"], TOKEN_ID["3"]
    _, _, _, _, info = env.step(mixed)
    assert info["invalid_edits"] == 1 and info["nodes_changed"] == 1
    assert info["program"] == "(map (lam (* a 3)) x)"
    # edit mode: the same refusal, one edit at a time
    env = make_env([DOUBLE], corruption=1 / 6, invalid_edits="ignore", action_mode="edit")
    reset_with_hole(env, 4)
    _, reward, _, _, info = env.step(0 * V + TOKEN_ID["filter"])
    assert info["invalid_edits"] == 1 and info["nodes_changed"] == 0 and env._program.tokens[0] == TOKEN_ID["map"]


def test_invalid_edits_are_applied_with_apply():
    env = make_env([DOUBLE], corruption=1 / 6, invalid_edits="apply", action_mode="edit")
    reset_with_hole(env, 4)
    _, reward, _, _, info = env.step(4 * V + TOKEN_ID["3"])  # a wrong constant: 1 test of 2 passes
    assert info["program"] == "(map (lam (* a 3)) x)" and reward == 0.5
    _, reward, terminated, _, info = env.step(0 * V + TOKEN_ID["filter"])
    assert info["invalid_edits"] == 0 and info["nodes_changed"] == 1
    assert info["program"] == "(filter (lam (* a 3)) x)"
    assert info["type_errors"][0] == 1
    kinds = [OUTCOME_NAMES[code] for code in info["error_kinds"][: info["num_tests"]]]
    assert kinds == ["type", "type"] and reward == -0.5 and not terminated
    # The wrong arity and <mask> are never applied, even with "apply".
    before = info["program"]
    _, _, _, _, info = env.step(0 * V + TOKEN_ID["3"])
    assert info["invalid_edits"] == 1 and info["program"] == before
    _, _, _, _, info = env.step(1 * V + MASK)
    assert info["invalid_edits"] == 1 and info["program"] == before


def test_a_round_that_is_well_typed_as_a_whole_is_applied():
    # map -> filter alone breaks the types, and so does * -> > alone; together they are fine.
    env = make_env([DOUBLE], corruption=1 / 6, invalid_edits="ignore")
    env.reset(seed=0)
    action = rewrite_action(tokens_of("(filter (lam (> a 2)) x)"), MAX_NODES)
    _, _, _, _, info = env.step(action)
    assert info["invalid_edits"] == 0 and info["program"] == "(filter (lam (> a 2)) x)"


def test_info_keys_and_held_out_results_at_episode_end():
    env = make_env([DOUBLE], corruption=1 / 6, max_steps=2)
    _, info = env.reset(seed=0)
    for key in ("tests_passed", "num_tests", "error_kinds", "program", "nodes_changed", "invalid_edits",
                "type_errors", "action_mask"):  # fmt: skip
        assert key in info
    assert "held_out_passed" not in info
    _, _, terminated, truncated, info = env.step(env.expert_action())
    assert terminated and info["held_out_passed"] == 1 and info["num_held_out"] == 1
    # Truncated episodes report the held-out tests too: here a program that fits no test.
    env.reset(seed=0)
    wrong = rewrite_action(tokens_of("(map (lam (+ a 3)) x)"), MAX_NODES)
    _, _, terminated, truncated, info = env.step(wrong)
    assert not truncated and "held_out_passed" not in info
    _, _, terminated, truncated, info = env.step(wrong)
    assert truncated and not terminated and info["held_out_passed"] == 0 and info["num_held_out"] == 1


@pytest.mark.parametrize("action_mode", MODES)
def test_info_values_have_fixed_shapes_for_batched_collectors(action_mode):
    # Tianshou and TorchRL stack each info key across steps and environments: a value whose shape
    # changes (a list of the conflicting nodes, say) breaks them.
    env = make_env(action_mode=action_mode, corruption_mode="noise", corruption=(0.1, 1.0), max_steps=3)
    rng = np.random.default_rng(0)
    obs, info = env.reset(seed=0)
    layout = {key: np.asarray(value).shape for key, value in info.items()}
    assert layout["error_kinds"] == (env.max_tests,) and layout["type_errors"] == (MAX_NODES,)
    for _ in range(80):
        assert info["type_errors"].dtype == np.int8 and np.array_equal(info["type_errors"], obs["type_conflict"])
        codes, t = info["error_kinds"], info["num_tests"]
        assert codes.dtype == np.int8 and (codes[t:] == NO_TEST).all()
        assert np.array_equal(codes[:t], obs["test_outcome"][:t]) and (codes[:t] == 0).sum() == info["tests_passed"]
        obs, _, terminated, truncated, info = env.step(masked_action(info["action_mask"], action_mode, MAX_NODES, rng))
        ended = {key: np.asarray(value).shape for key, value in info.items() if "held_out" not in key}
        assert ended == layout
        if terminated or truncated:
            obs, info = env.reset()


@pytest.mark.parametrize("action_mode", MODES)
@pytest.mark.parametrize("corruption_mode", ["mask", "noise"])
def test_sample_mask_is_what_the_action_space_samples_with(action_mode, corruption_mode):
    env = make(action_mode=action_mode, corruption_mode=corruption_mode, corruption=(0.1, 1.0))
    env.action_space.seed(0)
    env.reset(seed=0)
    for _ in range(60):
        mask = env.unwrapped.action_masks().reshape(MAX_NODES, V)
        action = env.action_space.sample(mask=env.unwrapped.sample_mask())  # as given: no conversion
        if action_mode == "edit":
            assert mask.reshape(-1)[action]
        else:
            assert mask[np.arange(MAX_NODES), action].all()  # every node's token, padded slots included
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            env.reset()


@pytest.mark.parametrize("action_mode", MODES)
@pytest.mark.parametrize("corruption_mode", ["mask", "noise"])
def test_action_masks_have_the_maskable_ppo_layout(action_mode, corruption_mode):
    env = make_env(action_mode=action_mode, corruption_mode=corruption_mode, corruption=(0.1, 1.0))
    rng = np.random.default_rng(0)
    obs, info = env.reset(seed=0)
    for _ in range(60):
        mask = env.action_masks()
        assert mask.shape == (MAX_NODES * V,) and mask.dtype == np.bool_
        assert np.array_equal(mask, info["action_mask"])
        rows = mask.reshape(MAX_NODES, V)
        real = int(obs["node_mask"].sum())
        grammar = obs["grammar_mask"].astype(bool)
        if action_mode == "edit":  # edit mode: a node's current token is no edit (issue 23)
            grammar[np.arange(real), obs["tokens"][:real]] = False
        assert np.array_equal(rows[:real], grammar[:real])
        assert not rows[:real, PAD].any() and not rows[:real, MASK].any()
        if action_mode == "rewrite":
            assert rows[:real].any(axis=1).all()  # every real node has a choice
            assert (rows[real:, PAD]).all() and not rows[real:, 1:].any()  # padded: only <pad>
        else:
            assert rows[:real].any() and not rows[real:].any()
        obs, _, terminated, truncated, info = env.step(masked_action(mask, action_mode, MAX_NODES, rng))
        if terminated or truncated:
            obs, info = env.reset()


def test_rewrite_keeps_a_node_when_its_current_token_is_chosen():
    env = make_env([DOUBLE], corruption=1 / 6)
    obs, _ = env.reset(seed=0)
    _, reward, _, _, info = env.step(obs["tokens"].copy())
    assert info["nodes_changed"] == 0 and info["invalid_edits"] == 0 and reward == 0
    # ... and padded slots are ignored whatever they hold
    action = obs["tokens"].copy()
    action[len(DOUBLE.program) :] = TOKEN_ID["map"]
    _, _, _, _, info = env.step(action)
    assert info["nodes_changed"] == 0 and info["invalid_edits"] == 0


def test_render_modes():
    env = make_env(render_mode="ansi")
    env.reset(seed=0)
    text = env.render()
    assert text.startswith("step 0/") and "tests:" in text
    with pytest.raises(ValueError):
        make_env(render_mode="rgb")


def test_rgb_array_draws_the_tree_with_its_flags_and_signal():
    assert "rgb_array" in ProgramRefineEnv.metadata["render_modes"]
    env = make_env([DOUBLE], render_mode="rgb_array", corruption=1 / 3, action_mode="edit")
    obs, _ = env.reset(seed=0)
    start = env.render()
    assert start.shape == (540, 960, 3) and start.dtype == np.uint8
    assert np.array_equal(env.render(), start)  # the same state, the same picture
    state = env.picture_state()  # the colour is the observation's signal; nothing edited yet
    assert np.allclose(state.suspicion, obs["node_suspicion"][: len(env.program)]) and not state.changed
    masked = [i for i, t in enumerate(env.program.tokens) if t == MASK]
    env.step(env.expert_action())  # fills one hole
    after = env.render()
    assert env.picture_state().changed == {masked[0]} == env.picture_state().edited
    assert (after != start).any(axis=-1).sum() > 200  # a box changed: its label, fill and border
    # A complete wrong program: the tests' signal colours the boxes (red where failing tests point).
    env = make_env(render_mode="rgb_array", corruption=0.5, corruption_mode="noise")
    red = 0
    for seed in range(6):
        env.reset(seed=seed)
        signal, picture = env.picture_state().suspicion, env.render().astype(int)
        assert signal is not None and len(signal) == len(env.program)
        if signal.max() > 0.7:
            red += ((picture[..., 0] - picture[..., 1]) > 80).sum() > 100  # red/orange boxes
    assert red


def test_record_video_records_an_episode(tmp_path):
    pytest.importorskip("moviepy", reason="RecordVideo needs moviepy to write videos (render() is tested above)")
    folder = tmp_path / "videos"
    env = gym.wrappers.RecordVideo(make(render_mode="rgb_array"), str(folder), lambda k: True, disable_logger=True)
    env.reset(seed=0)
    done = False
    while not done:
        _, _, terminated, truncated, _ = env.step(env.action_space.sample(mask=env.unwrapped.sample_mask()))
        done = terminated or truncated
    env.close()
    assert list(folder.glob("*.mp4"))


@pytest.mark.parametrize(
    "option",
    [{"action_mode": "both"}, {"reward": "dense"}, {"invalid_edits": "raise"}, {"corruption": 1.5},
     {"corruption": (0.8, 0.2)}, {"max_steps": 0}, {"corruption_mode": "swap"}],
)  # fmt: skip
def test_bad_options_are_refused(option):
    with pytest.raises(ValueError):
        make_env(**option)


@pytest.mark.parametrize(
    "options, words",
    [({"corruption": float("nan")}, "corruption"), ({"corruption": 5.0}, "[0, 1]"), ({"corruption": -3}, "[0, 1]"),
     ({"corruption": "0.5"}, "number"), ({"corruption": True}, "number"), ({"corruption": (0.2,)}, "(low, high)"),
     ({"task_index": -1}, "[0, 6)"), ({"task_index": 6}, "[0, 6)"), ({"task_index": 1.0}, "int"),
     ({"task_index": "0"}, "int"), ({"task_index": True}, "int"), ({"corrupton": 0.5}, "corrupton"),
     ([("task_index", 0)], "dict")],
)  # fmt: skip
def test_bad_reset_options_are_refused(options, words):
    """Issue 13, item 6: NaN raised a conversion error, 5.0 / -3 / "0.5" passed silently, and
    task_index -1 picked the last task."""
    env = make_env()
    with pytest.raises(ValueError, match="reset option") as caught:
        env.reset(seed=0, options=options)
    assert words in str(caught.value)
    obs, _ = env.reset(seed=0, options={"task_index": np.int64(5), "corruption": np.float32(1.0)})
    assert obs["masked"].sum() == len(TASKS[5].program)  # still usable; numpy numbers are numbers
    env.reset(seed=0, options={"corruption": (0.1, 0.3)})


def test_tasks_that_do_not_fit_are_refused():
    with pytest.raises(ValueError, match="max_nodes"):
        make_env(max_nodes=8)
    with pytest.raises(ValueError, match="max_tests"):
        make_env(max_tests=2)
    with pytest.raises(TypeError):
        make_env(["(map (lam (* a 2)) x)"])


def test_tasks_from_a_json_lines_file(tmp_path):
    from progrefine_env.tasks.io import save_tasks

    path = tmp_path / "tasks.jsonl"
    save_tasks(TASKS[:2], path)
    env = gym.make("ProgramRefine-v0", tasks=str(path), max_nodes=MAX_NODES, max_tests=4)
    obs, info = env.reset(seed=0, options={"task_index": 1})
    assert obs["node_mask"].sum() == len(TASKS[1].program)
    assert info["num_tests"] == len(TASKS[1].tests)

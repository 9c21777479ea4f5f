"""Improvement from the agent's own search (agents/training/improve.py, train/improve.py): targets come only
from programs passing every visible test, nothing privileged reaches an update, a policy improved
on its own fits solves more, and a run resumes exactly under a fillings budget."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

pytest.importorskip("torch_geometric")

from agents import ModelConfig, RefineNet  # noqa: E402
from agents.acting.evaluation import SearchStates, TaskResult  # noqa: E402
from agents.nn.checkpoint import load_checkpoint, save_checkpoint  # noqa: E402
from agents.training.group_update import group_advantages  # noqa: E402
from agents.training.improve import (  # noqa: E402
    ImproveConfig,
    Improvement,
    fit_pairs,
    generation_tasks,
    kept_states,
    refine_and_collect,
)
from progrefine_env.env import ProgramRefineEnv  # noqa: E402
from progrefine_env.lang import PAD, compile_program, parse  # noqa: E402
from progrefine_env.tasks.io import save_tasks  # noqa: E402
from progrefine_env.tasks.task import Task, Test  # noqa: E402
from train.improve import build_parser, expected_rows  # noqa: E402
from train.improve import main as improve_main  # noqa: E402

OPTIONS = {"max_nodes": 32, "max_tests": 4}
EASY, HARD = "(map (lam (* a 3)) x)", "(reverse (map (lam (* a 3)) x))"


def small_model(seed: int = 0) -> RefineNet:
    torch.manual_seed(seed)
    return RefineNet(ModelConfig(hidden=16, layers=1))


def family(programs: list[str], count: int, seed: int = 0) -> list[Task]:
    """`count` tasks cycling through `programs`, each with 4 visible tests on its own random lists."""
    rng = np.random.default_rng(seed)
    tasks = []
    for k in range(count):
        program = parse(programs[k % len(programs)])
        compiled = compile_program(program, {"x": "list"})
        tests = []
        for _ in range(5):
            x = rng.integers(-9, 10, size=int(rng.integers(1, 6))).tolist()
            tests.append(Test({"x": x}, compiled.run({"x": x})))
        tasks.append(Task(f"t{k}", {"x": "list"}, program, tuple(tests[:4]), tuple(tests[4:])))
    return tasks


def test_targets_come_only_from_programs_passing_every_visible_test():
    task = family([EASY], 1)[0]
    obs = {"tokens": np.zeros(8, dtype=np.int64)}
    states = {0: SearchStates([obs, obs], task.input_types, task.tests),
              1: SearchStates([obs], task.input_types, task.tests)}  # fmt: skip
    right = TaskResult("a", 0, 1.0, round_solved=1, final_program=EASY)
    wrong = TaskResult("b", 1, 1.0, round_solved=0, final_program="(map (lam (* a 2)) x)")  # fails the tests
    unsolved = TaskResult("c", 1, 1.0, round_solved=None, final_program=EASY)
    observations, labels = fit_pairs([right, wrong, unsolved], states)
    assert len(labels) == 2  # both states of the one right task, nothing of the others
    assert labels[0][:6].tolist() == list(parse(EASY).tokens) and (labels[0][6:] == PAD).all()
    assert fit_pairs([wrong, unsolved], states) is None


def test_a_policy_improved_on_its_own_fits_solves_more():
    tasks = family([EASY, HARD], 8)
    model = small_model()
    config = ImproveConfig(cpu_budget=0, fillings=7000, steps=30, lr=3e-3, batch_size=8)
    learner = Improvement(model, config)
    solved = []
    for generation in range(3):
        results, states = refine_and_collect(model, tasks, 1.0, "mask", config, OPTIONS)
        solved.append(sum(r.round_solved is not None for r in results))
        learner.learn(fit_pairs(results, states), generation)
    assert solved[0] <= 5 and solved[2] > solved[0], solved


class WithheldEnv(ProgramRefineEnv):
    """No privileged accessor, and no held-out outcome or accuracy in `info`."""

    def __getattribute__(self, name):
        if name in ("task", "target_tokens", "expert_action", "wrong_nodes"):
            raise AssertionError(f"the improvement read the privileged env.{name}")
        return super().__getattribute__(name)

    def _get_info(self, done: bool):
        info = super()._get_info(done)
        for key in ("held_out_passed", "num_held_out", "token_accuracy", "exact"):
            info.pop(key, None)
        return info


def one_update(tasks: list[Task], env_factory) -> dict:
    model = small_model()
    config = ImproveConfig(cpu_budget=0, fillings=7000, steps=5, lr=3e-3, batch_size=8)
    results, states = refine_and_collect(model, tasks, 1.0, "mask", config, OPTIONS, env_factory)
    Improvement(model, config).learn(fit_pairs(results, states), 0)
    return model.state_dict()


def test_updates_are_the_same_without_the_target_or_the_held_out_tests():
    tasks = family([EASY, HARD], 4)
    # Same shape, other tokens; other held-out tests: at mask 1.0 nothing of either may matter.
    swapped = [Task(t.name, t.input_types, parse("(map (lam (+ a 2)) x)" if len(t.program) == 6 else
                                                 "(sort (map (lam (- a 1)) x))"), t.tests,
                    (Test({"x": [42]}, [0]),)) for t in tasks]  # fmt: skip
    reference = one_update(tasks, ProgramRefineEnv)
    for variant in (one_update(tasks, WithheldEnv), one_update(swapped, WithheldEnv)):
        assert all(torch.equal(reference[k], variant[k]) for k in reference)


def run_cli(tmp_path, generations: int, run_dir, levels=("0.75",), extra=()) -> list[dict]:
    init = tmp_path / "init.pt"
    if not init.exists():
        save_checkpoint(init, small_model())
        save_tasks(family([EASY, HARD], 4), tmp_path / "tasks.jsonl")
    out = tmp_path / "rows.jsonl"
    code = improve_main([
        "--tasks", str(tmp_path / "tasks.jsonl"), "--init", str(init), "--generations", str(generations),
        "--fillings", "3000", "--cpu-budget", "0", "--levels", *levels, "--steps", "3", "--baseline", "none",
        "--run-dir", str(run_dir), "--json", str(out), "--no-progress", *extra,
    ])  # fmt: skip
    assert code == 0
    return [json.loads(line) for line in out.read_text().splitlines()]


def test_the_cli_writes_a_row_per_generation_and_resumes_exactly(tmp_path):
    straight = run_cli(tmp_path, 2, tmp_path / "straight")
    assert [r["generation"] for r in straight] == [0, 1, 2]
    for row in straight:
        for key in ("corruption", "corruption_mode", "pass_held_out", "pass_visible", "cpu_seconds",
                    "improve_cpu_seconds"):  # fmt: skip
            assert key in row
    assert straight[-1]["improve_cpu_seconds"] > straight[0]["improve_cpu_seconds"]
    assert math.isnan(straight[-1]["loss"]) and not math.isnan(straight[0]["loss"])
    run_cli(tmp_path, 1, tmp_path / "resumed")  # a run stopped after generation 1 ...
    resumed = run_cli(tmp_path, 2, tmp_path / "resumed")  # ... and asked for one more
    same = ("generation", "pass_visible", "pass_held_out", "loss")
    assert [[r[k] for k in same] for r in resumed[:2]] == [[r[k] for k in same] for r in straight[:2]]
    assert resumed[2]["pass_visible"] == straight[2]["pass_visible"]


def test_a_run_folder_made_with_other_settings_is_refused(tmp_path, capsys):
    run_cli(tmp_path, 0, tmp_path / "run")
    with pytest.raises(SystemExit) as exit_info:
        improve_main(["--tasks", str(tmp_path / "tasks.jsonl"), "--init", str(tmp_path / "init.pt"),
                      "--fillings", "99", "--cpu-budget", "0", "--run-dir", str(tmp_path / "run"),
                      "--baseline", "none", "--no-progress"])  # fmt: skip
    assert exit_info.value.code == 2 and "other settings" in capsys.readouterr().err


def test_group_advantages_floor_the_std_and_skip_constant_groups():
    rewards = torch.tensor([[1.0, 0.0, 0.0, 0.0], [0.5, 0.5, 0.5, 0.5], [1.0, 1.0, 0.98, 1.0]])
    advantages, kept = group_advantages(rewards, std_floor=0.1)
    assert kept.tolist() == [True, False, True]
    std = rewards[0].std(unbiased=False)
    assert torch.allclose(advantages[0], (rewards[0] - 0.25) / std)
    assert (advantages[1] == 0).all()  # all equal: nothing to prefer
    assert torch.allclose(advantages[2], (rewards[2] - rewards[2].mean()) / 0.1)  # std 0.0087, floored
    assert torch.allclose(advantages[kept].sum(-1), torch.zeros(2), atol=1e-6)


def test_grpo_steps_move_the_policy_toward_the_programs_that_pass():
    tasks = family([EASY], 4)
    model = small_model()
    config = ImproveConfig(cpu_budget=0, fillings=7000, steps=20, lr=3e-3, batch_size=4, loss="grpo", group_size=8)
    results, states = refine_and_collect(model, tasks, 0.5, "mask", config, OPTIONS)
    kept = kept_states(results, states)
    assert kept and all(len(state) == 3 for state in kept)
    observations, labels = fit_pairs(results, states)
    before = found_log_likelihood(model, observations, labels)
    loss = Improvement(model, config).learn(None, 0, kept)
    assert math.isfinite(loss)
    assert found_log_likelihood(model, observations, labels) > before


def found_log_likelihood(model, observations, labels) -> float:
    """Mean log-probability of the found programs' hole tokens at the states they were found from."""
    from agents.nn.batching import to_tensors
    from agents.nn.distribution import MaskedNodeCategorical

    obs = to_tensors(observations)
    with torch.no_grad():
        dist = MaskedNodeCategorical(model(obs).logits, obs["grammar_mask"], obs["node_mask"])
        return float((dist.node_log_prob(torch.as_tensor(labels)) * obs["masked"]).sum() / obs["masked"].sum())


def test_every_mode_and_level_is_improved_on_its_own(tmp_path):
    rows = run_cli(tmp_path, 1, tmp_path / "two", levels=("0.5", "0.75"))
    assert [(r["corruption"], r["generation"]) for r in rows] == [(0.5, 0), (0.5, 1), (0.75, 0), (0.75, 1)]
    again = run_cli(tmp_path, 1, tmp_path / "two", levels=("0.5", "0.75"))  # a finished run does nothing more
    assert again == rows


def test_the_inductive_protocol_evaluates_every_kth_generation_and_the_last(tmp_path):
    save_tasks(family([EASY], 3, seed=1), tmp_path / "eval.jsonl")
    extra = ("--eval-files", str(tmp_path / "eval.jsonl"), "--eval-every", "2",
             "--corruption-mode", "mask", "noise", "--noise-levels", "0.25")  # fmt: skip
    rows = run_cli(tmp_path, 3, tmp_path / "inductive", extra=extra)
    assert {r["protocol"] for r in rows} == {"inductive"}
    assert [(r["generation"], r["corruption_mode"], r["corruption"]) for r in rows] == [
        (g, mode, level) for g in (0, 2, 3) for mode, level in (("mask", 0.75), ("noise", 0.25))
    ]
    assert all(r["tasks"].endswith("eval.jsonl") for r in rows)
    assert rows[-1]["improve_cpu_seconds"] > rows[0]["improve_cpu_seconds"]  # three updates' searches counted
    longer = run_cli(tmp_path, 4, tmp_path / "inductive", extra=extra)  # extended: generation 3 is not evaluated again
    assert longer[: len(rows)] == [{**r, "loss": longer[i]["loss"]} for i, r in enumerate(rows)]
    assert [r["generation"] for r in longer[len(rows):]] == [4, 4]
    assert not math.isnan(longer[len(rows) - 1]["loss"])  # generation 3 now has its update
    for generations, extended, written in ((3, None, rows), (4, 3, longer)):  # the progress bar's total
        args = build_parser().parse_args(["--generations", str(generations), "--levels", "0.75", *extra])
        assert expected_rows(args, ImproveConfig(generations=generations), extended) == len(written)


def test_a_bad_noise_level_is_named_by_its_flag(tmp_path, capsys):
    save_checkpoint(tmp_path / "init.pt", small_model())
    save_tasks(family([EASY], 2), tmp_path / "tasks.jsonl")
    with pytest.raises(SystemExit):
        improve_main(["--tasks", str(tmp_path / "tasks.jsonl"), "--init", str(tmp_path / "init.pt"),
                      "--corruption-mode", "noise", "--noise-levels", "1.5",
                      "--run-dir", str(tmp_path / "r")])  # fmt: skip
    assert "--noise-levels 1.5" in capsys.readouterr().err


def test_each_generation_searches_the_next_window_of_tasks():
    tasks = list(range(5))
    assert [generation_tasks(tasks, g, 2) for g in range(4)] == [[0, 1], [2, 3], [4, 0], [1, 2]]
    assert generation_tasks(tasks, 3, 0) == tasks and generation_tasks(tasks, 3, 5) == tasks


def test_an_inductive_run_keeps_each_generations_policy(tmp_path):
    save_tasks(family([EASY], 2, seed=1), tmp_path / "eval.jsonl")
    extra = ("--eval-files", str(tmp_path / "eval.jsonl"), "--tasks-per-generation", "3", "--eval-every", "5")
    run_cli(tmp_path, 2, tmp_path / "windows", extra=extra)
    policies = [load_checkpoint(tmp_path / "windows" / f"generation_{g}.pt")[0] for g in (1, 2)]
    final, _ = load_checkpoint(tmp_path / "windows" / "checkpoint.pt")
    assert all(torch.equal(a, b) for a, b in zip(policies[1].state_dict().values(), final.state_dict().values()))
    assert not all(torch.equal(a, b) for a, b in zip(*(p.state_dict().values() for p in policies)))


def test_tasks_per_generation_is_refused_by_the_test_time_protocol(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        run_cli(tmp_path, 1, tmp_path / "r", extra=("--tasks-per-generation", "2"))
    assert exit_info.value.code == 2 and "--tasks-per-generation" in capsys.readouterr().err


def test_a_run_folder_from_before_a_new_setting_resumes(tmp_path):
    run_cli(tmp_path, 1, tmp_path / "old")
    model, state = load_checkpoint(tmp_path / "old" / "checkpoint.pt")
    del state["improve_config"]["tasks_per_generation"]  # as saved before the setting existed
    extras = {k: state[k] for k in ("improve_config", "rows", "progress", "learner")}
    save_checkpoint(tmp_path / "old" / "checkpoint.pt", model, **extras)
    assert [r["generation"] for r in run_cli(tmp_path, 2, tmp_path / "old")] == [0, 1, 2]

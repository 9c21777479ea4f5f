"""Fuzzing the environment: random masked and unmasked actions through every option combination
(tests/env_fuzz.py) never raise, give finite rewards and observations inside the space, and a
masked edit never takes a well-typed program to an ill-typed one (issue 13).

The fast test runs a few thousand steps on the hand-written tasks and a few generated ones; the
`slow` one runs many more steps on a larger generated set (`make test-slow`). The long runs with
memory figures are benchmarks/memory.py (recorded in benchmarks/README.md).
"""

import pytest
from env_fuzz import OPTION_GRID, Fuzzer
from env_tasks import TASKS

from progrefine_env.tasks import generate_tasks


def fuzz(tasks, steps: int, seed: int, **options):
    stats = Fuzzer(tasks, seed=seed, **options).run(steps)
    assert stats.clean, "\n".join(stats.failures)
    assert stats.steps == steps
    return stats


def test_random_actions_through_every_option_keep_the_env_sound():
    tasks = TASKS + generate_tasks(30, seed=5)
    stats = fuzz(tasks, 4000, seed=0, max_nodes=64, max_tests=8)
    assert stats.episodes > 2 * len(OPTION_GRID)  # every option combination had episodes
    assert stats.masked_edits > 500 and stats.observations_checked > 300
    assert stats.masked_edit_steps > 500  # every one changed the program (stats.idle_edits == 0)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(4))
def test_random_actions_through_every_option_keep_the_env_sound_long(seed):
    tasks = TASKS + generate_tasks(400, seed=100 + seed)
    stats = fuzz(tasks, 50_000, seed=seed, max_nodes=64, max_tests=8, check_every=50)
    assert stats.masked_edits > 10_000

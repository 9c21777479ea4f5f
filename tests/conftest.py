"""Test-session setup: the suite leaves the temp folder as it found it.

Everything the tests write to the temp folder (pytest's `tmp_path` folders, libraries that write
there by default, and the subprocesses the tests start, which inherit `TMPDIR`) goes to one folder
of this session's own, created here and removed at the end. Before it is removed, anything in it
but pytest's folders is a leak: it is listed and the session fails.

Known writers are configured not to write: Stable-Baselines3's default logger makes a
`SB3-<date>` folder in the temp folder even when it logs nothing (`SB3_LOGDIR` names an existing
folder instead); torch's compiler caches go to a named subfolder, removed with the rest (see
EXPECTED). torch_geometric's generated `propagate` modules go to a private folder that our layer
removes at exit (agents/nn/layers/typed_gine.py), so they count as leaks here.

The test files sit in folders that mirror the source tree (tests/lang/, tests/env/, ...); the
helper modules they import by name (env_tasks, lang_reference, env_fuzz, benchmark_scripts,
example_scripts, repo_root) stay here, in tests/, which is put on `sys.path` below. pytest's
"prepend" import mode puts only a test file's own folder there (and this file's folder, as a side
effect of importing a conftest outside a package): saying it here keeps `from env_tasks import ...`
working from every folder, for one file run alone too. Fixtures used in more than one file are here.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile

import pytest

TESTS = os.path.dirname(os.path.abspath(__file__))
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)  # the helper modules of the test files, in every folder (see above)

SESSION_TMP = tempfile.mkdtemp(prefix="progrefine-tests-")
os.environ["TMPDIR"] = SESSION_TMP
tempfile.tempdir = None  # gettempdir() reads TMPDIR again
os.environ["SB3_LOGDIR"] = SESSION_TMP  # exists: SB3's logger creates nothing (it writes no files at verbose 0)
os.environ["TORCHINDUCTOR_CACHE_DIR"] = os.path.join(SESSION_TMP, "torchinductor")
os.environ["TRITON_CACHE_DIR"] = os.path.join(SESSION_TMP, "triton")
# The networks and batches under test are small: one torch thread is as fast, and two threads on a
# busy 2-core machine wait on each other (measured: the demo's refinement 10x slower at load 27).
os.environ.setdefault("OMP_NUM_THREADS", "1")
EXPECTED = ("pytest-of-", "torchinductor", "triton", "__pycache__", "progrefine-pyg-")
"""Entries of the session's temp folder that are not leaks. `progrefine-pyg-*` is the private
folder of PyG's generated modules in this process, removed at its exit, after this check
(tests/agents/test_agents_network.py checks that removal in a process of its own)."""


def leaks(folder: str) -> list[str]:
    return sorted(name for name in os.listdir(folder) if not name.startswith(EXPECTED))


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    left = leaks(SESSION_TMP)
    shutil.rmtree(SESSION_TMP, ignore_errors=True)
    if left:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = f"the tests left {len(left)} entries in the temp folder: {', '.join(left[:10])}"
        if reporter is not None:
            reporter.write_line(f"ERROR: {message}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture
def task_file(tmp_path) -> str:
    """The suite's hand-written tasks (env_tasks.TASKS) saved as a task file: its path."""
    from env_tasks import TASKS

    from progrefine_env.tasks.io import save_tasks

    path = tmp_path / "tasks.jsonl"
    save_tasks(TASKS, path)
    return str(path)

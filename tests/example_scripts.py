"""Running the scripts of examples/ as a user would (not a test module: no `test_` prefix).

Shared by tests/examples/ and tests/agents/test_rllib.py; the `task_file` fixture they use is in
tests/conftest.py.
"""

from __future__ import annotations

import os
import subprocess
import sys

from repo_root import ROOT


def run_example(name: str, *args: str, env: dict | None = None, timeout: int = 120) -> str:
    environ = {key: value for key, value in {**os.environ, **(env or {})}.items() if value is not None}
    environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), environ.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / name), *args],
        cwd=ROOT, env=environ, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout

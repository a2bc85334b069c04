"""A newcomer's first minutes, timed: ``tsrnn --help``, ``import tsrnn``, and the
README's main job (``tsrnn forecast --horizon 24 --plot forecast.png``) with a warm
and with a cold kernel cache. Wall-clock seconds of fresh interpreters, best of a few.

Targets (issue 18): ``--help`` under 1 s; the main job at most 8 s warm and 30 s cold
on a quiet 2-core machine.
"""

import os
import subprocess
import sys
import tempfile
import time

TARGETS = {"help_s": 1.0, "main_job_warm_s": 8.0, "main_job_cold_s": 30.0}


def _timed(args, env=None, cwd=None):
    start = time.perf_counter()
    proc = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=600)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{proc.stderr[-2000:]}")
    return elapsed


def run(quick=False):
    """Time the first-run steps; return one result row per step."""
    py = sys.executable
    repeats = 1 if quick else 3
    rows = [
        {
            "case": "first_run",
            "step": "help_s",
            "seconds": min(_timed([py, "-m", "tsrnn", "--help"]) for _ in range(repeats)),
        },
        {
            "case": "first_run",
            "step": "import_s",
            "seconds": min(_timed([py, "-c", "import tsrnn"]) for _ in range(repeats)),
        },
    ]
    if not quick:
        job = [py, "-m", "tsrnn", "forecast", "--horizon", "24", "--plot", "forecast.png"]
        with tempfile.TemporaryDirectory() as tmp:
            _timed(job, cwd=tmp)  # warms the user's cache
            warm = min(_timed(job, cwd=tmp) for _ in range(repeats))
            cold_env = dict(os.environ, TSRNN_CACHE_DIR=os.path.join(tmp, "cold-cache"))
            cold = _timed(job, env=cold_env, cwd=tmp)
        rows += [
            {"case": "first_run", "step": "main_job_warm_s", "seconds": warm},
            {"case": "first_run", "step": "main_job_cold_s", "seconds": cold},
        ]
    for row in rows:
        target = TARGETS.get(row["step"])
        row["target_s"] = target
        verdict = "" if target is None else ("  met" if row["seconds"] <= target else "  NOT met")
        goal = "" if target is None else f" (target <= {target:g} s)"
        print(f"first run  {row['step']:<16}{row['seconds']:>8.2f} s{goal}{verdict}")
    return rows


if __name__ == "__main__":
    run("--quick" in sys.argv)

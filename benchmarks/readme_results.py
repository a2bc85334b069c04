"""Run the examples and write their headline results into the README's table.

``python -m benchmarks.readme_results [--fast] [--check]`` runs every example that
calls ``_common.report`` (in full mode unless ``--fast``), then replaces the table
between ``<!-- results:start -->`` and ``<!-- results:end -->`` in README.md with
their rows and the machine they ran on, and keeps the raw rows in
``benchmarks/results/readme.json``. ``--fast`` only checks that the rows come out;
it does not touch the README.

``python -m benchmarks.readme_results --accuracy FILE`` runs nothing: it replaces the
table between ``<!-- accuracy:start -->`` and ``<!-- accuracy:end -->`` with the one
:func:`benchmarks.accuracy.readme_table` makes from FILE, a results file of
``python -m benchmarks.accuracy --json FILE``, and names the file and its machine.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START, END = "<!-- results:start -->", "<!-- results:end -->"
ACCURACY_START, ACCURACY_END = "<!-- accuracy:start -->", "<!-- accuracy:end -->"


def run_examples(fast):
    """Run each reporting example; return its rows in the order of the examples."""
    rows = []
    scripts = sorted(
        p
        for p in (ROOT / "examples").glob("*.py")
        if not p.name.startswith("_") and "report(" in p.read_text()
    )
    for script in scripts:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "rows.jsonl"
            env = dict(os.environ, TSRNN_RESULTS_FILE=str(out), MPLBACKEND="Agg")
            env["TSRNN_EXAMPLE_FAST"] = "1" if fast else "0"
            env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "examples"), str(ROOT)])
            print(f"running {script.name} ...", flush=True)
            subprocess.run([sys.executable, str(script)], cwd=tmp, env=env, check=True)
            if not out.exists():
                raise RuntimeError(f"{script.name} reported no result")
            rows += [json.loads(line) for line in out.read_text().splitlines()]
    return rows


def machine():
    """One line naming the machine and the versions that produced the numbers."""
    import numba
    import numpy

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh if "model name" in line)
    except (OSError, StopIteration):
        pass
    return (
        f"{os.cpu_count()} cores, {cpu}; Python {platform.python_version()}, "
        f"numba {numba.__version__}, numpy {numpy.__version__}"
    )


def table(rows, machine_line):
    """The Markdown table of the README's results section."""
    lines = ["| task | model | result | command |", "|---|---|---|---|"]
    lines += [f"| {r['task']} | {r['model']} | {r['result']} | `{r['command']}` |" for r in rows]
    return "\n".join(lines) + f"\n\nMeasured on: {machine_line}.\n"


def write_readme(text, readme=ROOT / "README.md", start=START, end=END):
    """Replace the text between the ``start`` and ``end`` markers of ``readme``."""
    content = readme.read_text()
    head, rest = content.split(start)
    _, tail = rest.split(end)
    readme.write_text(f"{head}{start}\n{text}{end}{tail}")


def accuracy_block(path):
    """The README's accuracy block from a ``benchmarks.accuracy`` results file."""
    from benchmarks.accuracy import readme_table

    results = json.loads(Path(path).read_text())
    m = results["machine"]
    source = Path(path).resolve()
    name = source.relative_to(ROOT) if source.is_relative_to(ROOT) else source
    note = f" {results['note']}" if "note" in results else ""
    return (
        readme_table(results)
        + f"\nFrom `{name}`: {m['cpus']} cores, Python {m['python']}, numba {m['numba']}."
        + note
        + "\n"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="fast mode; README untouched")
    parser.add_argument(
        "--accuracy",
        metavar="FILE",
        help="only rewrite the accuracy table from this benchmarks.accuracy results file",
    )
    args = parser.parse_args(argv)
    if args.accuracy:
        write_readme(accuracy_block(args.accuracy), start=ACCURACY_START, end=ACCURACY_END)
        print("README.md accuracy table updated")
        return 0
    rows = run_examples(args.fast)
    text = table(rows, machine())
    print(text)
    if not args.fast:
        (ROOT / "benchmarks" / "results" / "readme.json").write_text(
            json.dumps({"machine": machine(), "rows": rows}, indent=1) + "\n"
        )
        write_readme(text)
        print("README.md updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())

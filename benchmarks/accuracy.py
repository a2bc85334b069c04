"""Classification accuracy on public UCR/UEA datasets, side by side with the baselines
users compare with: ``python -m benchmarks.accuracy [--datasets A,B] [--seeds 3]``.

For each dataset of the panel it reports tsrnn's ``SequenceClassifier()`` with its
defaults (mean and standard deviation over seeds; ``--params`` replaces some of them,
to screen a candidate default), each ``architecture`` preset the estimator offers
(one network, seed 0), 1-nearest-neighbour with Euclidean distance
(scikit-learn) and MiniRocket (aeon), each with its fit time. The datasets come
from aeon's package (nothing is downloaded at run time), so aeon is an optional
benchmark dependency: ``pip install aeon``.

Variable-length datasets go to tsrnn as lists (padded and masked inside); the
baselines, which need equal lengths, get each series padded with its last value.
"""

import argparse
import json
import sys
import time

import numpy as np

PANEL = (
    "ItalyPowerDemand",
    "GunPoint",
    "BasicMotions",
    "JapaneseVowels",
    "ACSF1",
    "UnitTest",
    "PickupGestureWiimoteZ",
    "ArrowHead",
    "OSULeaf",
)


def load(name):
    """Train and test splits as tsrnn input (time-major per sequence) plus padded
    ``(n, channels, length)`` arrays for the baselines."""
    from aeon.datasets import load_classification

    splits = {}
    for split in ("train", "test"):
        X, y = load_classification(name, split=split)
        sequences = [np.asarray(x, dtype=float).T for x in X]  # (length, channels) each
        splits[split] = (sequences, np.asarray(y).astype(str))
    longest = max(len(s) for part in splits.values() for s in part[0])

    def padded(sequences):
        out = np.empty((len(sequences), sequences[0].shape[1], longest))
        for i, s in enumerate(sequences):
            out[i, :, : len(s)] = s.T
            out[i, :, len(s) :] = s[-1][:, None]
        return out

    equal = len({len(s) for part in splits.values() for s in part[0]}) == 1
    data = {}
    for split, (sequences, y) in splits.items():
        tsrnn_X = np.stack(sequences) if equal else sequences
        data[split] = (tsrnn_X, padded(sequences), y)
    return data, equal


def _timed_fit(model, X, y):
    """Fit; return the wall-clock and the CPU seconds (all threads of the process)."""
    start, cpu = time.perf_counter(), time.process_time()
    model.fit(X, y)
    return time.perf_counter() - start, time.process_time() - cpu


def evaluate_tsrnn(data, seeds, **params):
    """Accuracy and fit seconds of ``SequenceClassifier(**params)`` for each seed."""
    from tsrnn import SequenceClassifier

    X, _, y = data["train"]
    X_test, _, y_test = data["test"]
    runs = []
    for seed in seeds:
        model = SequenceClassifier(random_state=seed, **params)
        seconds, cpu_seconds = _timed_fit(model, X, y)
        runs.append(
            {
                "seed": seed,
                "accuracy": float(model.score(X_test, y_test)),
                "fit_s": seconds,
                "fit_cpu_s": cpu_seconds,
                "epochs": int(model.n_epochs_),
            }
        )
    return runs


def evaluate_1nn(data):
    """1-nearest-neighbour, Euclidean distance on the padded series."""
    from sklearn.neighbors import KNeighborsClassifier

    _, X, y = data["train"]
    _, X_test, y_test = data["test"]
    model = KNeighborsClassifier(n_neighbors=1)
    seconds, _ = _timed_fit(model, X.reshape(len(X), -1), y)
    accuracy = model.score(X_test.reshape(len(X_test), -1), y_test)
    return {"accuracy": float(accuracy), "fit_s": seconds}


def evaluate_minirocket(data):
    """aeon's MiniRocket classifier on the padded series."""
    from aeon.classification.convolution_based import MiniRocketClassifier

    _, X, y = data["train"]
    _, X_test, y_test = data["test"]
    model = MiniRocketClassifier(random_state=0)
    seconds, _ = _timed_fit(model, X, y)
    accuracy = float(np.mean(model.predict(X_test) == y_test))
    return {"accuracy": accuracy, "fit_s": seconds}


def presets():
    """The ``architecture`` options of SequenceClassifier, if it has that parameter."""
    from tsrnn import SequenceClassifier

    constraints = getattr(SequenceClassifier, "_parameter_constraints", {})
    for constraint in constraints.get("architecture", []):
        options = getattr(constraint, "options", None)
        if options:
            return sorted(options)
    return []


def run(names, n_seeds, quick=False, checkpoint=None, params=None, with_presets=True):
    """Evaluate every model on every dataset; print and return the rows.

    ``params`` are SequenceClassifier parameters that replace defaults in the
    default's runs. ``checkpoint(rows)``, if given, is called after each dataset, so
    that a long run that is interrupted keeps the datasets it finished.
    """
    seeds = list(range(n_seeds))
    quick_params = {"max_epochs": 3} if quick else {}
    rows = []
    for name in names:
        data, equal = load(name)
        n_train, n_test = len(data["train"][2]), len(data["test"][2])
        length = data["train"][1].shape[2]
        print(
            f"== {name}: {n_train} train / {n_test} test, {len(set(data['train'][2]))} "
            f"classes, length {length}{'' if equal else ' (variable)'}",
            flush=True,
        )
        row = {
            "dataset": name,
            "n_train": n_train,
            "n_test": n_test,
            "length": length,
            "equal_length": equal,
        }
        if params:
            row["params"] = params
        row["tsrnn_default"] = evaluate_tsrnn(data, seeds, **{**(params or {}), **quick_params})
        accs = [r["accuracy"] for r in row["tsrnn_default"]]
        print(
            f"  tsrnn default      {np.mean(accs):.3f} +- {np.std(accs):.3f} "
            f"({', '.join(f'{a:.3f}' for a in accs)}); fit "
            f"{np.mean([r['fit_s'] for r in row['tsrnn_default']]):.1f} s",
            flush=True,
        )
        row["presets"] = {}
        for preset in presets() if with_presets else ():
            run_ = evaluate_tsrnn(data, [0], architecture=preset, n_ensemble=1, **quick_params)[0]
            row["presets"][preset] = run_
            print(f"  tsrnn {preset:<12} {run_['accuracy']:.3f}; fit {run_['fit_s']:.1f} s")
        for key, evaluate in (
            ("1nn_euclidean", evaluate_1nn),
            ("minirocket", evaluate_minirocket),
        ):
            row[key] = evaluate(data)
            print(
                f"  {key:<18} {row[key]['accuracy']:.3f}; fit {row[key]['fit_s']:.1f} s",
                flush=True,
            )
        rows.append(row)
        if checkpoint is not None:
            checkpoint(rows)
    return rows


def fit_budget(n_sequences=100, n_steps=250, seed=0, **params):
    """Seconds of one ``SequenceClassifier(**params)`` fit on the issue's budget case.

    100 univariate sequences of 250 steps (two classes: noisy sines of two
    frequencies). Returns wall-clock and CPU seconds (``time.process_time``, all
    threads), the epochs run and the CPU seconds per epoch, so that a fit timed on a
    busy machine can still be compared with the 30 s budget.
    """
    from tsrnn import SequenceClassifier

    rng = np.random.default_rng(seed)
    y = np.arange(n_sequences) % 2
    t = np.arange(n_steps)[None, :]
    phase = rng.uniform(0, 2 * np.pi, (n_sequences, 1))
    X = np.sin(2 * np.pi * t / np.where(y[:, None] == 1, 25.0, 40.0) + phase)
    X = (X + 0.5 * rng.normal(size=X.shape))[:, :, None]
    model = SequenceClassifier(random_state=seed, **params)
    model.fit(X[:2], y[:2])  # compiles the kernels outside the timed fit
    seconds, cpu_seconds = _timed_fit(model, X, y)
    epochs = int(model.n_epochs_)
    return {
        "shape": [n_sequences, n_steps, 1],
        "params": params,
        "fit_s": seconds,
        "fit_cpu_s": cpu_seconds,
        "epochs": epochs,
        "cpu_s_per_epoch": cpu_seconds / epochs,
    }


def summary(rows):
    """The Markdown table and the issue's verdicts (default >= 1-NN everywhere; mean
    within 2 points of MiniRocket; seed standard deviation <= 2 points)."""
    lines = [
        "| dataset | tsrnn default (mean ± sd) | 1-NN Euclidean | MiniRocket | "
        "tsrnn fit s | MiniRocket fit s |",
        "|---|---|---|---|---|---|",
    ]
    means, nn, mr, sds = [], [], [], []
    for row in rows:
        accs = [r["accuracy"] for r in row["tsrnn_default"]]
        means.append(np.mean(accs))
        sds.append(np.std(accs))
        nn.append(row["1nn_euclidean"]["accuracy"])
        mr.append(row["minirocket"]["accuracy"])
        fit = np.mean([r["fit_s"] for r in row["tsrnn_default"]])
        lines.append(
            f"| {row['dataset']} | {means[-1]:.3f} ± {sds[-1]:.3f} | {nn[-1]:.3f} | "
            f"{mr[-1]:.3f} | {fit:.1f} | {row['minirocket']['fit_s']:.1f} |"
        )
    lines.append(
        f"| **mean** | **{np.mean(means):.3f}** | {np.mean(nn):.3f} | {np.mean(mr):.3f} | | |"
    )
    verdicts = {
        "default_ge_1nn_everywhere": bool(all(m >= n for m, n in zip(means, nn, strict=True))),
        "mean_within_2_points_of_minirocket": bool(np.mean(means) >= np.mean(mr) - 0.02),
        "seed_sd_le_2_points_everywhere": bool(all(s <= 0.02 for s in sds)),
    }
    return "\n".join(lines), verdicts


def readme_table(results):
    """The README's accuracy table from a results file of this benchmark.

    Per dataset: the default's mean ± sd over seeds, each preset (seed 0), 1-NN,
    MiniRocket and their fit times, then the panel means and, in words, every place
    where the default misses one of the issue's targets, has fewer seeds than the
    others, or was not run (the datasets listed in ``rows_without_default_runs``).
    """
    rows = results["rows"]
    n_seeds = max(len(row["tsrnn_default"]) for row in rows)
    names = sorted({p for row in rows for p in row.get("presets", {})})
    lines = [
        "| dataset | default (mean ± sd) | "
        + "".join(f"{p} | " for p in names)
        + "1-NN | MiniRocket | default fit s (wall / CPU) | MiniRocket fit s |",
        "|---|---|" + "---|" * len(names) + "---|---|---|---|",
    ]
    means, sds, nn, mr = [], [], [], []
    losses = []
    for row in rows:
        runs = row["tsrnn_default"]
        accs = [r["accuracy"] for r in runs]
        means.append(float(np.mean(accs)))
        sds.append(float(np.std(accs)))
        nn.append(row["1nn_euclidean"]["accuracy"])
        mr.append(row["minirocket"]["accuracy"])
        wall = np.mean([r["fit_s"] for r in runs])
        cpu = [r["fit_cpu_s"] for r in runs if "fit_cpu_s" in r]
        cpu_text = f"{np.mean(cpu):.0f}" if cpu else "-"
        presets = row.get("presets", {})
        cells = "".join(
            f"{presets[p]['accuracy']:.3f} | " if p in presets else "- | " for p in names
        )
        name = row["dataset"] + ("" if row.get("equal_length", True) else " (variable length)")
        lines.append(
            f"| {name} | {means[-1]:.3f} ± {sds[-1]:.3f} | {cells}{nn[-1]:.3f} | "
            f"{mr[-1]:.3f} | {wall:.0f} / {cpu_text} | {row['minirocket']['fit_s']:.1f} |"
        )
        if means[-1] < nn[-1]:
            losses.append(f"below 1-NN on {row['dataset']} ({means[-1]:.3f} vs {nn[-1]:.3f})")
        if sds[-1] > 0.02:
            losses.append(f"seed sd {sds[-1]:.3f} on {row['dataset']}")
        if len(runs) < n_seeds:
            losses.append(f"{len(runs)} of {n_seeds} seeds on {row['dataset']}")
    preset_means = "".join(
        f"{np.mean([r['presets'][p]['accuracy'] for r in rows if p in r.get('presets', {})]):.3f}"
        " | "
        for p in names
    )
    lines.append(
        f"| **mean ({len(rows)})** | **{np.mean(means):.3f}** | {preset_means}{np.mean(nn):.3f} | "
        f"{np.mean(mr):.3f} | | |"
    )
    gap = np.mean(mr) - np.mean(means)
    if gap > 0.02:
        losses.append(f"panel mean {100 * gap:.1f} points below MiniRocket's (target: 2)")
    missing = results.get("rows_without_default_runs", [])
    if missing:
        losses.append(f"not run: {', '.join(missing)}")
    text = "\n".join(lines) + "\n"
    if losses:
        text += "\nWhere the default misses the targets: " + "; ".join(losses) + ".\n"
    return text


def _machine():
    import platform

    import numba

    import tsrnn

    return {
        "python": platform.python_version(),
        "numba": numba.__version__,
        "tsrnn": tsrnn.__version__,
        "cpus": __import__("os").cpu_count(),
        "processor": platform.processor() or platform.machine(),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=",".join(PANEL), help="comma-separated names")
    parser.add_argument("--seeds", type=int, default=3, help="seeds for tsrnn's default")
    parser.add_argument("--quick", action="store_true", help="3 epochs: checks that it runs")
    parser.add_argument(
        "--params",
        type=json.loads,
        help="JSON object of SequenceClassifier parameters replacing defaults in the "
        "default's runs, to screen a candidate default (e.g. '{\"n_ensemble\": 3}')",
    )
    parser.add_argument("--no-presets", action="store_true", help="skip the presets' seed-0 runs")
    parser.add_argument("--json", help="write the results (with the machine) to this file")
    parser.add_argument(
        "--budget",
        action="store_true",
        help="only time the default fit on 100 sequences of 250 steps (the 30 s budget)",
    )
    args = parser.parse_args(argv)
    if args.budget:
        print(json.dumps(fit_budget(**(args.params or {})), indent=1))
        return 0
    try:
        import aeon  # noqa: F401
    except ImportError:
        print(
            "benchmarks.accuracy needs aeon for its datasets and MiniRocket: pip install aeon",
            file=sys.stderr,
        )
        return 2

    def save(rows, verdicts=None):
        if args.json:
            results = {"machine": _machine(), "rows": rows}
            if verdicts is not None:
                results["verdicts"] = verdicts
            with open(args.json, "w") as fh:
                json.dump(results, fh, indent=1)

    rows = run(
        args.datasets.split(","),
        args.seeds,
        quick=args.quick,
        checkpoint=save,
        params=args.params,
        with_presets=not args.no_presets,
    )
    table, verdicts = summary(rows)
    print()
    print(table)
    for key, ok in verdicts.items():
        print(f"{key}: {'yes' if ok else 'NO'}")
    save(rows, verdicts)
    return 0


if __name__ == "__main__":
    sys.exit(main())

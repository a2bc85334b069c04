"""Classification accuracy on public UCR/UEA datasets, side by side with the baselines
users compare with: ``python -m benchmarks.accuracy [--datasets A,B] [--seeds 3]``.

For each dataset of the panel it reports tsrnn's ``SequenceClassifier()`` with its
defaults (mean and standard deviation over seeds), each ``architecture`` preset the
estimator offers (seed 0), 1-nearest-neighbour with Euclidean distance
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
    start = time.perf_counter()
    model.fit(X, y)
    return time.perf_counter() - start


def evaluate_tsrnn(data, seeds, **params):
    """Accuracy and fit seconds of ``SequenceClassifier(**params)`` for each seed."""
    from tsrnn import SequenceClassifier

    X, _, y = data["train"]
    X_test, _, y_test = data["test"]
    runs = []
    for seed in seeds:
        model = SequenceClassifier(random_state=seed, **params)
        seconds = _timed_fit(model, X, y)
        runs.append(
            {
                "seed": seed,
                "accuracy": float(model.score(X_test, y_test)),
                "fit_s": seconds,
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
    seconds = _timed_fit(model, X.reshape(len(X), -1), y)
    accuracy = model.score(X_test.reshape(len(X_test), -1), y_test)
    return {"accuracy": float(accuracy), "fit_s": seconds}


def evaluate_minirocket(data):
    """aeon's MiniRocket classifier on the padded series."""
    from aeon.classification.convolution_based import MiniRocketClassifier

    _, X, y = data["train"]
    _, X_test, y_test = data["test"]
    model = MiniRocketClassifier(random_state=0)
    seconds = _timed_fit(model, X, y)
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


def run(names, n_seeds, quick=False):
    """Evaluate every model on every dataset; print and return the rows."""
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
        row["tsrnn_default"] = evaluate_tsrnn(data, seeds, **quick_params)
        accs = [r["accuracy"] for r in row["tsrnn_default"]]
        print(
            f"  tsrnn default      {np.mean(accs):.3f} +- {np.std(accs):.3f} "
            f"({', '.join(f'{a:.3f}' for a in accs)}); fit "
            f"{np.mean([r['fit_s'] for r in row['tsrnn_default']]):.1f} s",
            flush=True,
        )
        row["presets"] = {}
        for preset in presets():
            run_ = evaluate_tsrnn(data, [0], architecture=preset, **quick_params)[0]
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
    return rows


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
    parser.add_argument("--json", help="write the results (with the machine) to this file")
    args = parser.parse_args(argv)
    try:
        import aeon  # noqa: F401
    except ImportError:
        print(
            "benchmarks.accuracy needs aeon for its datasets and MiniRocket: pip install aeon",
            file=sys.stderr,
        )
        return 2
    rows = run(args.datasets.split(","), args.seeds, quick=args.quick)
    table, verdicts = summary(rows)
    print()
    print(table)
    for key, ok in verdicts.items():
        print(f"{key}: {'yes' if ok else 'NO'}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"machine": _machine(), "rows": rows, "verdicts": verdicts}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())

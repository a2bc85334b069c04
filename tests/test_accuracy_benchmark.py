"""The accuracy benchmark's README table and its generating command (no aeon needed)."""

from benchmarks import accuracy, readme_results


def _results():
    def run(seed, acc):
        return {"seed": seed, "accuracy": acc, "fit_s": 10.0, "fit_cpu_s": 8.0, "epochs": 5}

    def row(name, accs, nn, mr, equal=True):
        return {
            "dataset": name,
            "equal_length": equal,
            "tsrnn_default": [run(i, a) for i, a in enumerate(accs)],
            "presets": {"fcn": run(0, accs[0])},
            "1nn_euclidean": {"accuracy": nn, "fit_s": 0.0},
            "minirocket": {"accuracy": mr, "fit_s": 1.25},
        }

    return {
        "machine": {"cpus": 2, "python": "3.11", "numba": "0.6"},
        "note": "A busy machine.",
        "rows": [
            row("A", [0.9, 0.9, 0.9], 0.8, 0.95),
            row("B", [0.5, 0.6, 0.7], 0.62, 0.9, False),
        ],
    }


def test_readme_table_rows_means_and_misses():
    lines = accuracy.readme_table(_results()).splitlines()
    assert lines[0].startswith("| dataset | default (mean ± sd) | fcn | 1-NN | MiniRocket |")
    assert lines[2] == "| A | 0.900 ± 0.000 | 0.900 | 0.800 | 0.950 | 10 / 8 | 1.2 |"
    assert (
        lines[3]
        == "| B (variable length) | 0.600 ± 0.082 | 0.500 | 0.620 | 0.900 | 10 / 8 | 1.2 |"
    )
    assert lines[4] == "| **mean (2)** | **0.750** | 0.700 | 0.710 | 0.925 | | |"
    assert lines[-1] == (
        "Where the default misses the targets: below 1-NN on B (0.600 vs 0.620); "
        "seed sd 0.082 on B; panel mean 17.5 points below MiniRocket's (target: 2)."
    )


def test_accuracy_block_replaces_only_the_marked_block(tmp_path):
    results = tmp_path / "results.json"
    results.write_text(__import__("json").dumps(_results()))
    readme = tmp_path / "README.md"
    readme.write_text(
        "intro\n<!-- results:start -->\nkept\n<!-- results:end -->\n"
        "<!-- accuracy:start -->\nold table\n<!-- accuracy:end -->\noutro\n"
    )
    block = readme_results.accuracy_block(results)
    readme_results.write_readme(
        block, readme, start=readme_results.ACCURACY_START, end=readme_results.ACCURACY_END
    )
    text = readme.read_text()
    assert "old table" not in text and "\nkept\n" in text and text.endswith("outro\n")
    assert "| A | 0.900 ± 0.000 |" in text
    assert "2 cores, Python 3.11, numba 0.6. A busy machine.\n<!-- accuracy:end -->" in text


def test_readme_table_names_missing_seeds_and_datasets():
    results = _results()
    results["rows"][0]["tsrnn_default"].pop()
    results["rows_without_default_runs"] = ["C"]
    assert accuracy.readme_table(results).splitlines()[-1] == (
        "Where the default misses the targets: 2 of 3 seeds on A; below 1-NN on B (0.600 vs "
        "0.620); seed sd 0.082 on B; panel mean 17.5 points below MiniRocket's (target: 2); "
        "not run: C."
    )


def test_run_screens_params_and_runs_the_presets_as_single_networks(monkeypatch):
    calls = []

    def evaluate_tsrnn(data, seeds, **params):
        calls.append((tuple(seeds), params))
        return [{"seed": s, "accuracy": 0.5, "fit_s": 1.0, "epochs": 1} for s in seeds]

    train = ([], __import__("numpy").zeros((4, 1, 7)), ["a", "b", "a", "b"])
    monkeypatch.setattr(accuracy, "load", lambda name: ({"train": train, "test": train}, True))
    monkeypatch.setattr(accuracy, "evaluate_tsrnn", evaluate_tsrnn)
    monkeypatch.setattr(accuracy, "presets", lambda: ["fcn"])
    for baseline in ("evaluate_1nn", "evaluate_minirocket"):
        monkeypatch.setattr(accuracy, baseline, lambda data: {"accuracy": 0.5, "fit_s": 0.0})
    (row,) = accuracy.run(["A"], 2, params={"n_ensemble": 3})
    assert calls == [((0, 1), {"n_ensemble": 3}), ((0,), {"architecture": "fcn", "n_ensemble": 1})]
    assert row["params"] == {"n_ensemble": 3}
    calls.clear()
    accuracy.run(["A"], 1, with_presets=False)
    assert calls == [((0,), {})]

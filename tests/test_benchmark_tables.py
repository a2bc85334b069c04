"""benchmarks/tables.py renders the recorded results files for the documentation."""

import json

from benchmarks import readme_results, tables


def test_forecast_table_has_the_recorded_mase():
    text = tables.forecast()
    series = json.loads((tables.RESULTS / tables.FORECAST).read_text())["series"]
    airline = series["airline"]
    mean, sd = airline["tsrnn_single"]["mase"]
    assert f"| airline | {airline['tsrnn_ensemble']['mase']:.3f} | {mean:.3f} ± {sd:.3f} |" in text
    assert f"`results/{tables.FORECAST}`" in text


def test_accuracy_baseline_sd_is_numpys():
    # benchmarks.accuracy prints np.std (population): ItalyPowerDemand 0.954 ± 0.003.
    assert "| ItalyPowerDemand | 0.954 ± 0.003 | 0.955 | 0.963 |" in tables.accuracy_baseline()


def test_speed_table_lists_each_training_case():
    data = json.loads((tables.RESULTS / tables.SPEED).read_text())
    training = [case for case in data["cases"] if case["case"] == "training"]
    text = tables.speed()
    assert len(training) > 0
    for case in training:
        assert f"| {case['ratio']:.2f} |" in text


def test_readme_table_is_the_one_written_into_the_readme():
    data = json.loads((tables.RESULTS / tables.README).read_text())
    assert tables.readme() == readme_results.table(data["rows"], data["machine"])
    assert tables.readme() in (tables.RESULTS.parents[1] / "README.md").read_text()


def test_markdown_has_every_section():
    text = tables.markdown()
    assert text.count("\n## ") + text.startswith("## ") == 6

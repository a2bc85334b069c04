"""The benchmarks' single entry point: ``python -m benchmarks [--quick] [--json FILE]``.

Runs the layer benchmark (``recurrent.py``: one recurrent layer, forward + backward),
the training, CNN, GEMM, latency, overhead, start-up and memory cases
(``training.py``), the Conv1D-BatchNorm-ReLU and LSTM-FCN training epochs
(``normalization.py``, ``composite.py``), tsrnn and PyTorch CPU in the same run,
printing ratios (> 1: tsrnn faster), and a newcomer's first run (``first_run.py``).
See README.md for the latest results.
"""

import argparse
import json

from benchmarks import composite, first_run, normalization, recurrent, training


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny shapes: checks that it runs")
    parser.add_argument("--json", help="write all results to this JSON file")
    parts = ["recurrent", "training", "layers", "first_run"]
    parser.add_argument("--only", choices=parts, help="run one part")
    args = parser.parse_args(argv)
    result = {"machine": recurrent._machine()}
    if args.only in (None, "recurrent"):
        print("== one recurrent layer, forward + backward, samples/s (ratio = tsrnn / torch)")
        print(recurrent.HEADER)
        layer = recurrent.run(
            recurrent.QUICK_SHAPES if args.quick else recurrent.SHAPES, 0.05 if args.quick else 1.0
        )
        result.update(torch=layer["torch"], rows=layer["rows"])
    if args.only in (None, "training"):
        print("== training, CNN, GEMM, latency, overhead, start-up, memory")
        result["cases"] = training.run(quick=args.quick)
    if args.only in (None, "layers"):
        print("== training epochs: Conv1D-BatchNorm-ReLU, LSTM-FCN (ratio = tsrnn / torch)")
        result["layers"] = normalization.run(quick=args.quick) + composite.run(quick=args.quick)
    if args.only in (None, "first_run"):
        print("== first run: tsrnn --help, import, the README's main job (warm and cold cache)")
        result["first_run"] = first_run.run(quick=args.quick)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(result, fh, indent=2)
    return result


main()

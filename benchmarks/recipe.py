"""The training recipe of issue 15 (item 3) on aeon's UCR datasets.

``python -m benchmarks.recipe OUT.jsonl GunPoint,UnitTest,ArrowHead best,plateau,ens5``
appends one JSON line per (dataset, configuration, seed 0-2) to ``OUT.jsonl``:

- ``best``: ``SequenceClassifier(architecture='recurrent', lr_schedule='constant')``, the
  default before the default became 'resnet' (it keeps the best training-loss epoch on a
  stall); every configuration below starts from it;
- ``plateau``: ``lr_schedule='plateau'``;
- ``ens5``: ``lr_schedule='plateau', n_ensemble=5, n_jobs=2``; ``accuracy_ens3`` is the
  ensemble of its first three members, which is exactly ``n_ensemble=3`` (the member
  seeds are the first draws of the same generator);
- ``ens5c``: ``n_ensemble=5, n_jobs=2`` with a constant learning rate.

Run it with ``PYTHONPATH`` at a checkout to measure that checkout's code (``best``
there is "today's default" on a checkout before the recipe). Needs aeon.
"""

import json
import sys
import time

from benchmarks.accuracy import load

#: The recurrent network the recipe was measured on (the classifier's default then).
RECURRENT = {"architecture": "recurrent", "lr_schedule": "constant"}
CONFIGS = {
    "best": {},
    "plateau": {"lr_schedule": "plateau"},
    "ens5": {"lr_schedule": "plateau", "n_ensemble": 5, "n_jobs": 2},
    "ens5c": {"n_ensemble": 5, "n_jobs": 2},
}


def run(path, names, configs, seeds=(0, 1, 2)):
    from tsrnn import SequenceClassifier

    with open(path, "a") as out:
        for name in names:
            data, _ = load(name)
            X, _, y = data["train"]
            X_test, _, y_test = data["test"]
            for seed in seeds:
                for config in configs:
                    model = SequenceClassifier(
                        random_state=seed, **{**RECURRENT, **CONFIGS[config]}
                    )
                    wall, cpu = time.perf_counter(), time.process_time()
                    model.fit(X, y)
                    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                    record = {
                        "dataset": name,
                        "config": config,
                        "seed": seed,
                        "accuracy": float(model.score(X_test, y_test)),
                        "fit_wall_s": wall,
                        "fit_cpu_s": cpu,
                        "epochs": int(model.n_epochs_),
                    }
                    if model.n_ensemble == 5:
                        rest = model._extra_networks
                        model._extra_networks = rest[:2]
                        record["accuracy_ens3"] = float(model.score(X_test, y_test))
                        model._extra_networks = rest
                    out.write(json.dumps(record) + "\n")
                    out.flush()
                    print(record, flush=True)


if __name__ == "__main__":
    run(sys.argv[1], sys.argv[2].split(","), sys.argv[3].split(","))

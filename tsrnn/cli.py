"""The ``tsrnn`` command line."""

import argparse
import sys
import time

import numpy as np


def _check(args):
    """Compile the kernels, compare them with the NumPy reference, report timings."""
    from tsrnn import Recurrent
    from tsrnn.kernels.reference import recurrent as ref

    rng = np.random.default_rng(0)
    T, B, F, H = args.steps, args.batch, args.features, args.hidden
    x = rng.standard_normal((T, B, F))
    dy = rng.standard_normal((T, B, H))
    print(f"tsrnn kernel check: steps={T} batch={B} features={F} hidden={H}")
    print(f"{'cell':<18}{'max rel. error vs reference':>28}{'float32 fwd+bwd':>18}")
    worst = 0.0
    for cell, opts in (("rnn", {}), ("lstm", {}), ("gru", {}), ("gru", {"reset_after": False})):
        name = cell + ("" if opts.get("reset_after", True) else " (reset before)")
        layer = Recurrent(cell, F, H, dtype="float64", **opts)
        p = layer.init_params(0)
        y, _, _, cache = layer.forward(p, x)
        dx, g, _, _ = layer.backward(p, cache, dy)
        h0 = np.zeros((B, H))
        if cell == "lstm":
            ry, _, _, rc = ref.lstm_forward(x, h0, h0, p["l0.W_x"], p["l0.W_h"], p["l0.b"])
            rg = ref.lstm_backward(rc, dy, h0, h0)
        elif cell == "gru":
            ry, _, rc = ref.gru_forward(
                x,
                h0,
                p["l0.W_x"],
                p["l0.W_h"],
                p["l0.b"],
                p["l0.b_hn"] if layer.reset_after else None,
                layer.reset_after,
            )
            rg = ref.gru_backward(rc, dy, h0)
        else:
            ry, _, rc = ref.rnn_forward(x, h0, p["l0.W_x"], p["l0.W_h"], p["l0.b"])
            rg = ref.rnn_backward(rc, dy, h0)
        pairs = [(y, ry), (dx, rg["x"])] + [(g[f"l0.{k}"], rg[k]) for k in ("W_x", "W_h", "b")]
        err = max(np.abs(a - b).max() / max(np.abs(b).max(), 1e-300) for a, b in pairs)
        worst = max(worst, err)
        layer32 = Recurrent(cell, F, H, dtype="float32", **opts)
        p32 = layer32.init_params(0)
        layer32.backward(p32, layer32.forward(p32, x)[3], dy)  # compile / warm up
        start = time.perf_counter()
        layer32.backward(p32, layer32.forward(p32, x)[3], dy)
        elapsed = time.perf_counter() - start
        print(f"{name:<18}{err:>28.1e}{elapsed * 1e3:>15.2f} ms")
    ok = worst <= 1e-10
    print("OK: kernels agree with the reference" if ok else "FAILED: kernels disagree")
    return 0 if ok else 1


def build_parser():
    parser = argparse.ArgumentParser(
        prog="tsrnn", description="Numba-accelerated recurrent networks for time series."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="verify the compiled kernels on this machine")
    check.add_argument("--steps", type=int, default=50)
    check.add_argument("--batch", type=int, default=32)
    check.add_argument("--features", type=int, default=4)
    check.add_argument("--hidden", type=int, default=32)
    check.set_defaults(func=_check)
    return parser


def main(argv=None):
    """Entry point of the ``tsrnn`` console script."""
    args = build_parser().parse_args(argv)
    for name in ("steps", "batch", "features", "hidden"):
        if getattr(args, name, 1) < 1:
            print(f"tsrnn: error: --{name} must be a positive integer", file=sys.stderr)
            return 2
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())

"""Derive the float32 tanh approximation used by ``tsrnn.kernels.scalar``.

tanh(x) ~= x * P(x^2) / Q(x^2) on [-CLAMP, CLAMP], clamped outside (where float32
tanh is already +-1 to within an ulp). The coefficients are fitted by a Sanathanan-Koerner
iteration on the linearised problem x P(x^2) - tanh(x) Q(x^2) = 0 (Q's constant
term fixed to 1), followed by Lawson's reweighting towards the minimax fit. Run it
to regenerate the constants and print the float32 error measured on a dense grid:

    python benchmarks/tools/fit_tanh.py
"""

import numpy as np

CLAMP = 9.0
NUM_DEGREE = 6  # P has NUM_DEGREE + 1 coefficients in x^2 (odd numerator up to x^13)
DEN_DEGREE = 3  # Q has DEN_DEGREE + 1 coefficients in x^2 (even denominator up to x^6)


def fit(sk_iterations=30, lawson_iterations=200):
    x = np.linspace(1e-6, CLAMP, 20000)
    t = np.tanh(x)
    s = x * x
    num_cols = [x * s**k for k in range(NUM_DEGREE + 1)]
    den_cols = [-t * s**k for k in range(1, DEN_DEGREE + 1)]
    design = np.stack(num_cols + den_cols, axis=1)
    q_prev = np.ones_like(x)
    weights = np.ones_like(x) / x.size
    best = (np.inf, None, None)
    for it in range(sk_iterations + lawson_iterations):
        # Sanathanan-Koerner: dividing by the previous Q turns the linearised residual
        # into the true one at convergence; Lawson's reweighting then pushes to minimax.
        sw = np.sqrt(weights) / q_prev
        scaled = design * sw[:, None]
        # Column scaling keeps the monomial basis well conditioned.
        norms = np.linalg.norm(scaled, axis=0)
        coef, *_ = np.linalg.lstsq(scaled / norms, t * sw, rcond=None)
        coef = coef / norms
        p = coef[: NUM_DEGREE + 1]
        q = np.concatenate([[1.0], coef[NUM_DEGREE + 1 :]])
        q_prev = np.polyval(q[::-1], s)
        err = np.abs(evaluate(x, p, q, np.float64) - t)
        if err.max() < best[0]:
            best = (err.max(), p, q)
        if it >= sk_iterations:
            weights = weights * err
            weights /= weights.sum()
    return best[1], best[2]


def evaluate(x, p, q, dtype):
    x = np.clip(np.asarray(x, dtype), -CLAMP, CLAMP)
    s = x * x
    num = np.zeros_like(x)
    for c in p[::-1]:
        num = num * s + dtype(c)
    den = np.zeros_like(x)
    for c in q[::-1]:
        den = den * s + dtype(c)
    return x * num / den


if __name__ == "__main__":
    p, q = fit()
    print("P =", [float(v) for v in p])
    print("Q =", [float(v) for v in q])
    grid = np.linspace(-12, 12, 2_000_001).astype(np.float32)
    approx = evaluate(grid, p, q, np.float32)
    exact = np.tanh(grid.astype(np.float64))
    print("max |error| float32:", float(np.max(np.abs(approx - exact))))
    print("max |approx|:", float(np.max(np.abs(approx))))

"""Scalar math of the cells, written once for every compiler.

These are plain Python functions on scalars. The CPU kernels call them inside
``numba.njit`` loops (where the overloads below pick an implementation by the
scalar's type); the CUDA kernels will compile the same functions as device
functions. The NumPy reference in :mod:`tsrnn.kernels.reference` deliberately does
not use this module, so that it stays an independent check.

Precision policy
----------------
* float64 uses exact ``math.tanh`` / ``math.exp``: gradient checks and the 1e-10
  agreement with the reference need it.
* float32 uses a clamped odd rational approximation of tanh (maximum error
  3.5e-7 over the whole real line, measured on a grid of 2 million points; see
  ``benchmarks/tools/fit_tanh.py`` for the fit), and
  ``sigmoid(x) = 0.5 + 0.5 * tanh(x / 2)``. Unlike ``math.tanh`` (a scalar libm
  call) it is branch-free arithmetic that LLVM vectorises.

Literals are typed per precision (``_F32``/``_F64`` constants), because a Python
float literal is float64 in Numba and would silently promote float32 arithmetic.
Derivatives are written in terms of the activation's output, as BPTT caches
outputs rather than pre-activations.
"""

import math

import numpy as np
from numba import types
from numba.extending import overload

# Odd rational approximation tanh(x) ~= x P(x^2) / Q(x^2) on [-9, 9].
# Coefficients from benchmarks/tools/fit_tanh.py (Sanathanan-Koerner + Lawson fit).
TANH_CLAMP = 9.0
TANH_P = (
    0.9999999689266901,
    0.13079155966860262,
    0.0030986456945935794,
    1.1101732381577531e-05,
    -2.002919205423452e-08,
    5.192516673508279e-11,
    -8.290866045405482e-14,
)
TANH_Q = (1.0, 0.46412476214691206, 0.024473727273543577, 0.0002538588566202808)

_f = np.float32
_P0, _P1, _P2, _P3, _P4, _P5, _P6 = (_f(c) for c in TANH_P)
_Q0, _Q1, _Q2, _Q3 = (_f(c) for c in TANH_Q)
_CLAMP32 = _f(TANH_CLAMP)
_ZERO32, _HALF32, _ONE32 = _f(0.0), _f(0.5), _f(1.0)
_ZERO64, _ONE64 = 0.0, 1.0


def _is_float32(x):
    """True for a float32 scalar, in Python (np.float32) and in Numba typing."""
    if isinstance(x, types.Type):
        return isinstance(x, types.Float) and x.bitwidth == 32
    return isinstance(x, np.float32)


# --- float32 implementations ---------------------------------------------------------


def _tanh32(x):
    x = min(max(x, -_CLAMP32), _CLAMP32)
    s = x * x
    num = ((((((_P6 * s + _P5) * s + _P4) * s + _P3) * s + _P2) * s + _P1) * s + _P0) * x
    den = ((_Q3 * s + _Q2) * s + _Q1) * s + _Q0
    # Rounding can put the quotient one ulp beyond +-1; clamping keeps 1 - tanh^2 >= 0.
    return min(max(num / den, -_ONE32), _ONE32)


def _sigmoid32(x):
    return _HALF32 + _HALF32 * tanh(_HALF32 * x)  # the dispatching tanh, typed by Numba


# relu and its slope are branch-free: a conditional expression inlined with
# inline="always" makes Numba emit NumbaIRAssumptionWarning on first compile.
# (x + |x|) / 2 is exact (doubling and halving are) and propagates NaN.


def _relu32(x):
    return (x + abs(x)) * _HALF32


def _dtanh32(x):
    return _ONE32 - x * x


def _dsigmoid32(x):
    return x * (_ONE32 - x)


def _drelu32(x):
    return np.float32(x > _ZERO32)


# --- float64 implementations ---------------------------------------------------------


def _tanh64(x):
    return math.tanh(x)


def _sigmoid64(x):
    # exp of a non-positive number never overflows.
    if x >= _ZERO64:
        return _ONE64 / (_ONE64 + math.exp(-x))
    e = math.exp(x)
    return e / (_ONE64 + e)


def _relu64(x):
    return (x + abs(x)) * 0.5


def _dtanh64(x):
    return _ONE64 - x * x


def _dsigmoid64(x):
    return x * (_ONE64 - x)


def _drelu64(x):
    return np.float64(x > _ZERO64)


# --- public dispatching functions ----------------------------------------------------


def _by_precision(impl32, impl64, doc):
    """A scalar function that runs ``impl32`` on float32 and ``impl64`` otherwise.

    Implementations take one argument named ``x`` (overloads match by name).

    In Python it dispatches on the value's type; in Numba an ``overload`` makes the
    same choice at compile time, so the jitted loop contains no branch on dtype.
    """

    def dispatch(x):
        return impl32(x) if _is_float32(x) else impl64(np.float64(x))

    def typer(x):
        return impl32 if _is_float32(x) else impl64

    dispatch.__doc__ = doc
    overload(dispatch, inline="always")(typer)
    _TYPERS[dispatch] = typer
    return dispatch


#: dispatch function -> its typer, for targets with their own overload registry.
_TYPERS = {}


def register_overloads(overload_for_target):
    """Register the precision dispatch with another target's ``overload``.

    numba-cuda keeps its own registry, separate from ``numba.extending``'s.
    """
    for dispatch, typer in _TYPERS.items():
        overload_for_target(dispatch)(typer)


tanh = _by_precision(_tanh32, _tanh64, "Hyperbolic tangent (rational approximation in float32).")
sigmoid = _by_precision(_sigmoid32, _sigmoid64, "Logistic sigmoid 1 / (1 + exp(-x)).")
relu = _by_precision(_relu32, _relu64, "Rectified linear unit max(x, 0).")
dtanh = _by_precision(_dtanh32, _dtanh64, "tanh'(a) from its output y = tanh(a): 1 - y^2.")
dsigmoid = _by_precision(_dsigmoid32, _dsigmoid64, "sigmoid'(a) from y = sigmoid(a): y (1 - y).")
drelu = _by_precision(_drelu32, _drelu64, "relu'(a) from y = relu(a): 1 where y > 0, else 0.")


def _sign(x):
    # The zero keeps its sign and NaN stays NaN, as np.sign in Numba; inf gives +-1.
    if x == 0 or x != x:
        return x
    return math.copysign(1.0, x)


sign = _by_precision(_sign, _sign, "np.sign: -1, 0 or 1, NaN for NaN.")

# Activation codes shared by every kernel and the layer classes.
ACTIVATION_CODES = {"tanh": 0, "relu": 1, "linear": 2, "sigmoid": 3}
TANH, RELU, LINEAR, SIGMOID = (ACTIVATION_CODES[k] for k in ("tanh", "relu", "linear", "sigmoid"))


# --- compound functions (compiled by each backend: njit(inline="always") on the CPU) --


def activate(a, code):
    """The activation with integer ``code`` applied to a scalar pre-activation."""
    if code == TANH:
        return tanh(a)
    if code == RELU:
        return relu(a)
    if code == SIGMOID:
        return sigmoid(a)
    return a


def activation_slope(y, code):
    """The activation's derivative, from its output ``y``."""
    if code == TANH:
        return dtanh(y)
    if code == RELU:
        return drelu(y)
    if code == SIGMOID:
        return dsigmoid(y)
    return y - y + 1  # one, in y's precision

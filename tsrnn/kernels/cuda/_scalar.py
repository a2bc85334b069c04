"""The shared scalar math compiled as CUDA device functions.

These are the compound functions of :mod:`tsrnn.kernels.scalar` and the formulas
of :mod:`tsrnn.kernels.formulas`; the CPU kernels compile the same functions with
``njit``.

Kernels call ``scalar.tanh``, ``scalar.sigmoid``... directly: those resolve per
dtype through their ``overload`` at compile time, on either target.
"""

from numba import config, cuda

from tsrnn.kernels import formulas, scalar

try:  # numba-cuda: its CUDA target keeps its own overload registry
    from numba.cuda.extending import overload as _cuda_overload
except ImportError:  # numba's built-in CUDA target reads numba.extending's
    _cuda_overload = None

if _cuda_overload is not None and not config.ENABLE_CUDASIM:
    scalar.register_overloads(_cuda_overload)

_device = cuda.jit(device=True)

activate = _device(scalar.activate)
activation_slope = _device(scalar.activation_slope)

lstm_cell_gradient = _device(formulas.lstm_cell_gradient)
gru_candidate_preactivation = _device(formulas.gru_candidate_preactivation)
gru_state_update = _device(formulas.gru_state_update)
gru_cell_gradient = _device(formulas.gru_cell_gradient)
gru_reset_before_update_gradient = _device(formulas.gru_reset_before_update_gradient)
sigmoid_gate_gradient = _device(formulas.sigmoid_gate_gradient)

squared_error = _device(formulas.squared_error)
absolute_error = _device(formulas.absolute_error)
huber_error = _device(formulas.huber_error)
logistic_error = _device(formulas.logistic_error)
pinball_error = _device(formulas.pinball_error)
softmax_log_normaliser = _device(formulas.softmax_log_normaliser)

adam_update = _device(formulas.adam_update)
sgd_update = _device(formulas.sgd_update)

"""The shared scalar math compiled for the CPU (inlined into the kernels).

These are the compound scalar functions of :mod:`tsrnn.kernels.scalar` and the
formulas of :mod:`tsrnn.kernels.formulas`.
"""

from numba import njit

from tsrnn.kernels import formulas, scalar

_inline = njit(inline="always", error_model="numpy")

activate = _inline(scalar.activate)
activation_slope = _inline(scalar.activation_slope)

lstm_cell_gradient = _inline(formulas.lstm_cell_gradient)
gru_candidate_preactivation = _inline(formulas.gru_candidate_preactivation)
gru_state_update = _inline(formulas.gru_state_update)
gru_cell_gradient = _inline(formulas.gru_cell_gradient)
gru_reset_before_update_gradient = _inline(formulas.gru_reset_before_update_gradient)
sigmoid_gate_gradient = _inline(formulas.sigmoid_gate_gradient)

squared_error = _inline(formulas.squared_error)
absolute_error = _inline(formulas.absolute_error)
huber_error = _inline(formulas.huber_error)
logistic_error = _inline(formulas.logistic_error)
pinball_error = _inline(formulas.pinball_error)
softmax_log_normaliser = _inline(formulas.softmax_log_normaliser)

adam_update = _inline(formulas.adam_update)
sgd_update = _inline(formulas.sgd_update)

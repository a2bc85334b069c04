"""Each cell's spec (tsrnn/kernels/cells.py) matches its kernels' argument lists."""

import inspect

import pytest

from tsrnn.kernels import cells
from tsrnn.kernels.cpu import recurrent as kernels


def _arguments(kernel):
    return list(inspect.signature(kernel.py_func).parameters)


@pytest.mark.parametrize("name", sorted(cells.CELLS))
def test_forward_kernel_takes_the_arguments_its_spec_names(name):
    spec = cells.CELLS[name]
    states = ["h_state", "c_state"] if spec.has_cell_state else ["h_state"]
    expected = ["x", "mask", *spec.params, "rmask", "activation", "reverse", *states, "h_seq"]
    expected += [field for field, _ in spec.cache]
    args = _arguments(spec.forward(kernels))
    assert args[: len(expected)] == expected
    assert len(args) == len(expected) + len(spec.forward_work)


@pytest.mark.parametrize("name", sorted(cells.CELLS))
def test_backward_kernel_takes_the_arguments_its_spec_names(name):
    spec = cells.CELLS[name]
    lstm = spec.has_cell_state
    expected = ["x", "mask", "W_x", "W_h", "rmask", "activation", "reverse"]
    expected += ["h0", "c0"] if lstm else ["h0"]
    expected += ["h_seq", *(field for field, _ in spec.cache), "dh_seq"]
    expected += ["dh_state", "dc_state"] if lstm else ["dh_state"]
    expected += ["dx", *(f"d{p}" for p in spec.params), "da_seq", "h_prev_seq"]
    args = _arguments(spec.backward(kernels))
    assert args[: len(expected)] == expected
    work = len(spec.backward_seq_work) + len(spec.backward_work)
    assert len(args) == len(expected) + work


def test_the_gru_variant_picks_the_spec():
    assert cells.cell_spec("gru").cache == (("gates", 3), ("hn_seq", 1))
    assert cells.cell_spec("gru", reset_after=False).cache == (("gates", 3), ("rh_seq", 1))
    assert cells.cell_spec("gru", reset_after=False).params == ("W_x", "W_h", "b")

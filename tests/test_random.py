"""Seeds from random_state, derived one way everywhere (tsrnn/_random.py)."""

import numpy as np

from tsrnn._random import SEED_BOUND, as_generator, draw_seeds


def test_draw_seeds_is_check_random_state_then_randint_below_the_int32_bound():
    expected = np.random.RandomState(5).randint(np.iinfo(np.int32).max, size=4).tolist()
    assert draw_seeds(5, 4) == expected
    assert draw_seeds(5) == expected[0]
    assert all(type(seed) is int and 0 <= seed < SEED_BOUND for seed in draw_seeds(None, 50))


def test_as_generator_continues_a_generator_and_seeds_one_from_anything_else():
    generator = np.random.default_rng(1)
    assert as_generator(generator) is generator
    assert as_generator(3).random() == np.random.default_rng(3).random()
    from_state = as_generator(np.random.RandomState(7)).random()
    assert from_state == np.random.default_rng(draw_seeds(7)).random()

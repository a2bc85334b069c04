"""Seeds from ``random_state``, derived one way everywhere.

``random_state`` follows scikit-learn (None, an int or a RandomState) and is
turned into explicit integer seeds for what it drives (umap's habit); code that
draws random numbers itself takes a NumPy Generator.
"""

import numpy as np
from sklearn.utils import check_random_state

#: Seeds are drawn below this bound, which every NumPy seeding function accepts.
SEED_BOUND = np.iinfo(np.int32).max


def draw_seeds(random_state, n=None):
    """Draw integer seeds from ``random_state``.

    Parameters
    ----------
    random_state : None, int or numpy.random.RandomState
        As scikit-learn's ``random_state``: an int gives the same seeds every call.
    n : int or None, default=None
        How many seeds; None draws one.

    Returns
    -------
    int or list of int
        One seed when ``n`` is None, else a list of ``n`` seeds, each in
        ``[0, SEED_BOUND)``.
    """
    rng = check_random_state(random_state)
    if n is None:
        return int(rng.randint(SEED_BOUND))
    return [int(seed) for seed in rng.randint(SEED_BOUND, size=n)]


def as_generator(random_state):
    """A NumPy Generator for ``random_state``.

    Parameters
    ----------
    random_state : None, int, numpy.random.Generator or numpy.random.RandomState
        A Generator is returned as it is (its stream continues); a RandomState
        seeds a new Generator with :func:`draw_seeds`; anything else goes to
        :func:`numpy.random.default_rng`.

    Returns
    -------
    numpy.random.Generator
    """
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(draw_seeds(random_state))
    return np.random.default_rng(random_state)

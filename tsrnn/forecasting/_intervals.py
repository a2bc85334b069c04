"""Conformal calibration of the quantile bands on held-out forecasts.

The network's quantile heads are fitted in-sample and come out overconfident, so
each symmetric band is widened by the conformal rule of Romano et al. (2019): on
forecasts of values the calibration fit did not train on, score how far each value
falls outside the band, and widen the band by the finite-sample conformal quantile
of those scores (the ceil((n + 1) * coverage)-th smallest of n), which covers a new
value with at least the nominal probability when the scores are exchangeable.

Two scores are candidates. The *relative* score divides the miss by the band's
width, so the band grows in proportion (a band that the heads made wide at some
steps grows most there); the *additive* score divides it by the spread of the
series' one-step changes, so every step gets the same margin (the original CQR
rule, in units that make series of any scale comparable). Where the heads' width
varies for reasons the errors do not share (on the lynx cycle it went from 240 to
5,000 over ten steps), the relative rule multiplies that noise; where the heads
track the errors, it is the tighter one. Both reach the nominal coverage on the
calibration values, and the one with the narrower mean band there is kept.
"""

import math

import numpy as np


def conformal_quantile(scores, coverage):
    """The finite-sample conformal quantile of ``scores``.

    Parameters
    ----------
    scores : ndarray
        Non-conformity scores of held-out values.
    coverage : float
        Nominal coverage in (0, 1).

    Returns
    -------
    float
        The ceil((n + 1) * coverage)-th smallest score, or the largest when there
        are too few scores for that rank.
    """
    scores = np.sort(np.ravel(scores))
    rank = min(math.ceil((scores.size + 1) * coverage), scores.size)
    return float(scores[rank - 1])


def calibrate_band(lower, upper, true, unit, coverage):
    """The conformal widening of one band.

    Parameters
    ----------
    lower, upper : ndarray
        The band's bounds on held-out values.
    true : ndarray
        The held-out values (same shape).
    unit : ndarray or float
        Positive spread of one-step changes of each value's series, broadcast
        against ``true``: the unit of the additive margin.
    coverage : float
        The band's nominal coverage.

    Returns
    -------
    dict
        ``relative`` (the band grows by this share of its width on each side)
        and ``additive`` (and by this many ``unit`` on each side), one of them
        0; ``rule``; ``raw_coverage``, ``coverage`` and ``mean_width`` on the
        calibration values before and after widening; ``n_values``.
    """
    width = np.maximum(upper - lower, 1e-12)
    miss = np.maximum(lower - true, true - upper)
    unit = np.broadcast_to(unit, miss.shape)
    # A band that covers more than its nominal share shrinks under the relative rule
    # (never past its midpoint: a value inside scores at least -1/2); a negative
    # additive margin could cross the bounds where the heads are close, so it only
    # widens.
    relative = conformal_quantile(miss / width, coverage)
    additive = max(conformal_quantile(miss / unit, coverage), 0.0)
    relative_width = float(np.mean(width * (1 + 2 * relative)))
    additive_width = float(np.mean(width + 2 * additive * unit))
    if relative_width <= additive_width:
        rule, additive, mean_width = "relative", 0.0, relative_width
        covered = miss <= relative * width
    else:
        rule, relative, mean_width = "additive", 0.0, additive_width
        covered = miss <= additive * unit
    return {
        "rule": rule,
        "relative": relative,
        "additive": additive,
        "raw_coverage": float(np.mean(miss <= 0)),
        "coverage": float(np.mean(covered)),
        "mean_width": mean_width,
        "n_values": int(miss.size),
    }


def step_unit(values):
    """The additive margin's unit: the spread of one-step changes (1 where none).

    Calibration reads it on a series divided by its power of two; :func:`margin_unit`
    is the same unit in the series' own units.
    """
    diffs = np.diff(values, axis=0)
    sigma = diffs.std(axis=0) if len(diffs) > 1 else np.zeros(values.shape[1:])
    return np.where(sigma > 0, sigma, 1.0)


def margin_unit(sigma, magnitude):
    """:func:`step_unit` in a series' own units.

    Parameters
    ----------
    sigma : ndarray
        Spread of the series' one-step changes, in its own units (0 where none).
    magnitude : float or ndarray
        The power of two the series was divided by when calibrated.

    Returns
    -------
    ndarray
        ``sigma``, or ``magnitude`` where ``sigma`` is 0 (the unit 1 of the scaled
        series), so that a margin means the same at calibration and prediction.
    """
    return np.where(sigma > 0, sigma, magnitude)

"""The forecast's blend of the network and a simple anchor, chosen on held-out windows.

The network forecasts how the future departs from its anchor (the seasonal naive
forecast, or the last value). On a short noisy series much of what it learns about
those departures is noise, and a simple forecast can do better: on the hold-outs of
wineind, woolyrnq and ausbeer the network lost to seasonal naive (MASE 1.26, 1.42 and
0.84 against 1.21, 1.36 and 0.55), and the seasonal mean (the last cycle's level plus
the seasonal profile averaged over up to six cycles, which averages the noise of
single cycles away) beat it on all three (1.10, 1.35 and 0.43). On trending series
seasonal naive plus the look-back's drift is the candidate that helps. Which to
trust is a model-selection question, answered the way AutoETS answers it: by the
error on data the candidates did not train on (keeping the simpler blend unless the
other wins by two standard errors, see :func:`select`). The calibration fit already
forecasts the held-out end of the series; :func:`select` picks there a simple anchor (see
:func:`candidate_anchors`) and the share ``w`` of the network's departure from it to
keep (``w = 1`` the network, ``w = 0`` the simple forecast, in between a convex blend
of the two), and :func:`toward_anchor` applies the choice to every quantile forecast.

The same held-out forecasts then calibrate the intervals, and a residual that helped
choose the blend is smaller than a new one: scored on the windows it was chosen on,
the band's coverage is optimistic. :func:`cross_fit` therefore splits the windows in
two folds in time (see :func:`purged_folds`) and scores each value with the blend
chosen on the other fold. Consecutive windows forecast overlapping stretches, so a
window next to the other fold forecasts some of that fold's values: the windows
between the folds whose targets would reach into the other fold's are purged (they
choose neither blend), and each of their values is scored with the blend chosen on
the fold whose targets do not include it. No value is scored under a blend chosen on
a window that forecast it. The forecasts keep the blend chosen on all windows. When
the windows cannot make two such folds (a series with at most ``steps`` windows, or
a panel of one such series) no blend can be chosen apart from the values it is
scored on, and the network is kept alone.
"""

import numpy as np

# Candidate shares of the network's departure from the anchor: a coarse grid keeps
# the choice from fitting the noise of a few held-out windows.
WEIGHTS = np.linspace(0.0, 1.0, 11)
# The simple forecasts the network is blended with, in order of preference on a tie.
# The last reads the whole history before each origin and is offered on a panel only
# (see :func:`seasonal_trend`).
ANCHORS = ("training anchor", "seasonal mean", "drift", "seasonal trend")
# How many standard errors of held-out gain a blend keeping more of the network must
# show (see :func:`select`). Over the 8 series of ``benchmarks.forecast`` and seeds
# 0-7, the default ensemble's mean MASE was 0.710 choosing the lowest error, 0.688
# with one standard error and 0.673 with two; woolyrnq lost to seasonal naive at 2,
# 1 and 0 of the 8 seeds, and sunspots' mean rose from 0.655 to 0.701.
STANDARD_ERRORS = 2.0


def seasonal_mean(windows, steps, season, n_targets):
    """The seasonal-mean forecast after each window.

    Parameters
    ----------
    windows : ndarray of shape (n_windows, span, n_features)
        The look-back before each origin (the model's ``anchor_window_`` steps),
        targets first.
    steps : int
        Steps to forecast.
    season : int
        Steps per seasonal cycle (at least 2).
    n_targets : int
        Leading features that are targets.

    Returns
    -------
    ndarray of shape (n_windows, steps, n_targets)
        The mean of the last cycle plus, at each step, the average over the
        look-back's whole cycles of that season's departure from its cycle's mean.
    """
    cycles = windows.shape[1] // season
    y = windows[:, windows.shape[1] - cycles * season :, :n_targets]
    y = y.reshape(len(windows), cycles, season, n_targets)
    profile = (y - y.mean(axis=2, keepdims=True)).mean(axis=1)
    level = y[:, -1].mean(axis=1, keepdims=True)
    # Step j after the window falls in the season position j of a cycle.
    return level + profile[:, np.arange(steps) % season]


def candidate_anchors(windows, steps, season, n_targets, training_anchor, history=None):
    """The simple forecasts to blend the network with, keyed as :data:`ANCHORS`.

    The anchor the network was trained on; the seasonal mean (see
    :func:`seasonal_mean`); and seasonal naive plus drift (see :func:`with_drift`).
    The last two read ``windows``, the look-back before each origin (the model's
    ``anchor_window_`` steps), and need two whole cycles of it (two steps without a
    season; see :func:`reads_enough`). With ``history`` (the whole history before
    each window's end, as :func:`seasonal_trend` reads it), also the seasonal trend,
    when the window has two whole cycles: every series a model forecasts has a
    window, so every history it will read then has the two cycles the fit needs.
    """
    names = [ANCHORS[0]]
    if season > 1 and reads_enough(ANCHORS[1], windows.shape[1], season):
        names.append(ANCHORS[1])
    if reads_enough(ANCHORS[2], windows.shape[1], season):
        names.append(ANCHORS[2])
    anchors = {
        name: blend_anchor(name, windows, steps, season, n_targets, training_anchor)
        for name in names
    }
    if history is not None and season > 1 and windows.shape[1] >= 2 * season:
        anchors[ANCHORS[3]] = seasonal_trend(history, steps, season, n_targets)
    return anchors


def blend_anchor(name, windows, steps, season, n_targets, training_anchor):
    """The simple forecast ``name`` (one of :data:`ANCHORS`) after each window.

    ``training_anchor`` is returned for the first of :data:`ANCHORS`, and for the
    seasonal mean and the drift when ``windows`` is too short a look-back for them
    (see :func:`reads_enough`: a forecast from fewer past steps than the model's
    ``anchor_window_`` falls back to the rule the network was trained on, which
    reads one cycle at most). Only the named forecast is computed, which spares a
    recursive forecast the other candidates at every step. For the seasonal trend
    ``windows`` are the whole histories that :func:`seasonal_trend` reads.
    """
    if not reads_enough(name, windows.shape[1], season):
        return training_anchor
    if name == ANCHORS[1]:
        return seasonal_mean(windows, steps, season, n_targets)
    if name == ANCHORS[2]:
        return with_drift(windows, steps, season, n_targets)
    if name == ANCHORS[3]:
        return seasonal_trend(windows, steps, season, n_targets)
    return training_anchor


def seasonal_trend(history, steps, season, n_targets):
    """The least-squares seasonal-trend forecast after each history.

    A line plus a profile of ``season`` seasonal levels, fitted by least squares to
    the whole of each history and extended over the steps after it (the
    ``trend + season`` regression of R's ``forecast::tslm``). A panel's window is
    capped by its shortest series, and on long series a trend and a seasonal profile
    read from the whole history are steadier than any read from the window: on the
    200-series synthetic panel of ``benchmarks.forecast --panel`` (draw 1) the
    network lost to AutoETS on the longest quarter of the series (MASE 0.513
    against 0.484) and won on the shortest (0.430 against 0.443).

    Parameters
    ----------
    history : ndarray of shape (n_windows, span, n_features)
        The values before each origin, targets first, ending at the origin;
        shorter histories are padded in front with NaN (see :func:`padded`).
    steps : int
        Steps to forecast.
    season : int
        Steps per seasonal cycle (at least 2); each history needs two whole cycles.
    n_targets : int
        Leading features that are targets.

    Returns
    -------
    ndarray of shape (n_windows, steps, n_targets)
    """
    span = history.shape[1]
    t = np.arange(span + steps)
    # The slope's column in units of the span keeps the normal equations well scaled.
    design = np.column_stack([(t - span) / span, np.eye(season)[t % season]])
    past = design[:span]
    outer = (past[:, :, None] * past[:, None, :]).reshape(span, -1)
    out = np.empty((len(history), steps, n_targets))
    for k in range(n_targets):
        y = history[:, :, k]
        seen = ~np.isnan(y)
        gram = (seen @ outer).reshape(len(y), season + 1, season + 1)
        moment = np.where(seen, y, 0.0) @ past
        coef = np.linalg.solve(gram, moment[..., None])[..., 0]
        out[:, :, k] = coef @ design[span:].T
    return out


def padded(histories):
    """Histories of different lengths, padded in front with NaN to the longest.

    Parameters
    ----------
    histories : list of ndarray of shape (length, n_features)

    Returns
    -------
    ndarray of shape (len(histories), longest, n_features)
    """
    span = max(len(h) for h in histories)
    out = np.full((len(histories), span, histories[0].shape[1]), np.nan)
    for row, values in zip(out, histories, strict=True):
        row[span - len(values) :] = values
    return out


def reads_enough(name, span, season):
    """Whether a look-back of ``span`` steps gives the simple forecast ``name``.

    The seasonal mean and the drift need two whole cycles (two steps without a
    season): with one, the drift divides by zero steps, and with less neither has a
    cycle to repeat. The training anchor reads one cycle at most, which the window
    holds, and the seasonal trend the whole history, which has two cycles wherever
    it was offered (see :func:`candidate_anchors`).
    """
    return name not in ANCHORS[1:3] or span >= 2 * season


def with_drift(windows, steps, season, n_targets):
    """Seasonal naive plus drift after each window.

    The value one cycle before each step (the last value without a season) plus the
    look-back's drift per step (the change between the means of its first and last
    cycles, over the steps between them) times the steps since that value;
    ``windows`` is the look-back before each origin (the model's ``anchor_window_``
    steps).
    """
    y = windows[:, :, :n_targets]
    first, last = y[:, :season].mean(axis=1), y[:, -season:].mean(axis=1)
    drift = (last - first) / (y.shape[1] - season)
    position = np.arange(steps) % season - season
    gap = np.arange(steps) - position  # steps from the repeated value to the target
    return y[:, position] + drift[:, None, :] * gap[None, :, None]


def toward_anchor(q, anchor, weight, median):
    """Quantile forecasts moved toward an anchor.

    Parameters
    ----------
    q : ndarray of shape (..., n_quantiles)
        Quantile forecasts.
    anchor : ndarray
        The anchors, of ``q``'s shape without its last axis.
    weight : float
        Share of the median's departure from the anchor to keep.
    median : int
        Index of the median in the last axis.

    Returns
    -------
    ndarray
        ``q`` shifted so that the median keeps ``weight`` of its departure; the
        spread of the quantiles around the median is unchanged.
    """
    if weight == 1.0:
        return q
    shift = (1.0 - weight) * (q[..., median] - anchor)
    return q - shift[..., None]


def select(q, anchors, true, median, n_windows=None):
    """Choose the anchor and weight on held-out forecasts.

    Parameters
    ----------
    q : ndarray of shape (n_windows, steps, n_targets, n_quantiles)
        The network's quantile forecasts of held-out values.
    anchors : dict of ndarray of shape (n_windows, steps, n_targets)
        The candidate simple forecasts of the same values (see
        :func:`candidate_anchors`), in order of preference.
    true : ndarray of shape (n_windows, steps, n_targets)
        The held-out values.
    median : int
        Index of the median quantile.
    n_windows : int, optional
        The windows whose count sets the standard error (default: those given).
        :func:`cross_fit` passes all of the held-out windows when it chooses on one
        fold, so that a fold's choice is as tolerant as the choice on all of them.

    Returns
    -------
    (str, float, ndarray)
        The anchor's name and the weight chosen, and ``q`` moved by them.

    Notes
    -----
    A significance rule in the spirit of the one-standard-error rule (Breiman et al.,
    1984; Hastie et al., *The Elements of Statistical Learning*, 7.10): of the blends
    whose mean absolute error of the median forecast is within
    :data:`STANDARD_ERRORS` (two) standard errors of the lowest, the one that keeps
    the least of the network (the smallest weight, then the earlier anchor). The
    standard error is that of the mean over the windows of each window's error minus
    the best blend's, so the network's share must win by about a 5% significance
    level (less strict than it reads: overlapping windows share targets, and the
    standard error treats them as independent). The network's departure varies with
    the seed far more than the simple forecasts do, so a blend that wins by less
    than the noise of a few held-out windows is left for the simpler one (over seeds
    0-7, woolyrnq's MASE went from 1.26-1.40 to 1.25-1.31 and lynx's from 0.40-1.23
    to 0.36-0.90; see :data:`WEIGHTS`).
    """
    errors = {}
    for name, anchor in anchors.items():
        departure, target = q[..., median] - anchor, true - anchor
        for weight in WEIGHTS[::-1]:
            error = np.abs(target - weight * departure)
            errors[name, float(weight)] = error.reshape(len(error), -1).mean(axis=1)
    best = None
    for key, error in errors.items():  # the larger weight, and earlier anchor, on a tie
        if best is None or error.mean() < errors[best].mean() * (1 - 1e-12):
            best = key
    order, n = list(anchors), len(q) if n_windows is None else n_windows
    kept = []
    for (name, weight), error in errors.items():
        excess = error - errors[best]
        # One window gives no spread to measure: the lowest error is kept.
        se = excess.std(ddof=1) / np.sqrt(n) if len(excess) > 1 else 0.0
        if excess.mean() <= STANDARD_ERRORS * se:
            kept.append((weight, order.index(name), name))
    weight, _, name = min(kept)
    return name, weight, toward_anchor(q, anchors[name], weight, median)


def purged_folds(owner, steps):
    """The two folds of :func:`cross_fit`, purged of the windows between them.

    Parameters
    ----------
    owner : ndarray of shape (n_windows,)
        The series of each window, the windows of a series in time order, one step
        apart (consecutive forecast origins).
    steps : int
        Steps each window forecasts.

    Returns
    -------
    fold : ndarray of int, shape (n_windows,)
        0 for the first fold, 1 for the second, -1 for a purged window, which
        chooses neither fold's blend.
    boundary : ndarray of int, shape (n_windows,)
        How many of each window's leading target steps lie in the first fold's
        targets (``steps`` in the first fold, 0 in the second).

    Notes
    -----
    The first fold is the earlier half of a series' windows once ``steps - 1`` are
    set aside; those next ``steps - 1`` windows still forecast some of the first
    fold's targets and are purged, and the rest is the second fold, whose targets
    begin where the first fold's end. Every target value
    thus lies in the span of one fold's targets only. A series with too few windows
    for two folds and the purge between them goes whole to one fold, alternately the
    first and the second, so that a panel of short series is split by series.
    """
    owner = np.asarray(owner)
    fold = np.zeros(len(owner), dtype=int)
    boundary = np.full(len(owner), steps)
    gap, whole = steps - 1, 0
    for key in dict.fromkeys(owner.tolist()):
        at = np.flatnonzero(owner == key)
        if len(at) - gap < 2:
            fold[at] = whole % 2
            boundary[at] = steps if whole % 2 == 0 else 0
            whole += 1
            continue
        first = (len(at) - gap + 1) // 2
        fold[at[first : first + gap]] = -1
        fold[at[first + gap :]] = 1
        # The first fold's targets end ``steps - 1`` after its last origin.
        boundary[at] = np.clip(first - 1 + steps - np.arange(len(at)), 0, steps)
    return fold, boundary


def cross_fit(q, anchors, true, median, fold, boundary):
    """Choose the blend on all held-out windows, and cross-fit the forecasts to score.

    Parameters
    ----------
    q, anchors, true, median
        As :func:`select`.
    fold, boundary : ndarray of shape (n_windows,)
        The fold of each window and how many of its leading steps lie in the first
        fold's targets (see :func:`purged_folds`).

    Returns
    -------
    (str, float, ndarray)
        The anchor and weight :func:`select` chooses on all windows (the blend the
        forecasts use), and ``q`` with the values in the first fold's targets moved
        by the blend chosen on the second fold, and the others by the blend chosen
        on the first: forecasts to calibrate the intervals on, none of them moved by
        a blend chosen on windows with its value among their targets. Each fold's
        choice is held to the standard error of all the windows, as the forecasts'
        is (a fold's own, larger, would lean to the simple forecast more than the
        forecasts do, and widen the bands). When a fold is empty, the training
        anchor with weight 1 (the network alone) and ``q`` unchanged.
    """
    first, second = fold == 0, fold == 1
    if not first.any() or not second.any():
        return ANCHORS[0], 1.0, q
    moved = []
    for chosen_on in (second, first):
        name, weight, _ = select(
            q[chosen_on],
            {k: a[chosen_on] for k, a in anchors.items()},
            true[chosen_on],
            median,
            n_windows=len(q),
        )
        moved.append(toward_anchor(q, anchors[name], weight, median))
    early = np.arange(q.shape[1])[None, :] < np.asarray(boundary)[:, None]
    scored = np.where(early[:, :, None, None], moved[0], moved[1])
    name, weight, _ = select(q, anchors, true, median)
    return name, weight, scored

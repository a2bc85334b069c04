"""The Forecaster's known covariates: what it was fitted with, and their matrices.

:class:`KnownCovariatesMixin` reads the future covariates ``X`` (with
``future_covariates=True``), the calendar features and a panel's static covariates
at fit time, records their configuration (column names, standardisation, calendar
features, the static table) in ``_cov``, and builds the standardised
(time, features) matrix of known covariates for any stretch of a series: the
history it trains on, and the history and horizon it forecasts from. How those
matrices enter the network is :func:`~tsrnn.forecasting._covariates.with_known`.
"""

import numpy as np

from tsrnn.forecasting._covariates import (
    CovariateError,
    calendar_features,
    covariate_rows,
    covariate_table,
    resolve_calendar,
    series_rows,
    standardizer,
    static_rows,
)
from tsrnn.forecasting._panel import ID_COLUMN, TIME_COLUMN
from tsrnn.forecasting._series import future_index
from tsrnn.layers import Flatten, Parallel


class KnownCovariatesMixin:
    """Future, calendar and static covariates of the Forecaster (module docstring)."""

    def _uses_known(self):
        """Whether the network reads known covariates over window + horizon."""
        cov = getattr(self, "_cov", None)
        return cov is not None and cov["n_known"] > 0

    def _start_covariates(self, X, static, panel):
        """Check the covariate arguments of ``fit`` against the parameters."""
        if static is not None and not panel:
            raise CovariateError(
                "static covariates describe the series of a panel; fit on a panel to use them"
            )
        if X is not None and panel and not self.future_covariates:
            raise CovariateError(
                "past-only exogenous features X are not supported with a panel; set "
                "future_covariates=True for covariates known over the horizon"
            )
        future = self.future_covariates and X is not None
        if (future or self.calendar is not None or static is not None) and (
            self.strategy != "direct"
        ):
            raise CovariateError(
                "future covariates, calendar and static covariates need strategy='direct'"
            )
        return future

    def _finish_covariates(self, cov, n_x):
        """Record the configuration ``cov`` and the public attributes it implies."""
        n_static = len(cov.get("static_columns", []))
        cov["n_known"] = n_x + 2 * len(cov["calendar"]) + n_static
        self._cov = cov
        self.calendar_ = list(cov["calendar"])
        self.covariate_columns_ = list(cov["columns"])
        self.static_columns_ = list(cov.get("static_columns", []))

    def _assemble(self, x, index, static=None):
        """Standardised known covariates over ``index``: X columns, calendar, static."""
        cov = self._cov
        parts = []
        if cov["columns"]:
            parts.append((x - cov["center"]) / cov["spread"])
        parts.append(calendar_features(index, cov["calendar"]))
        if static is not None:
            parts.append(np.broadcast_to(static, (len(index), static.shape[-1])))
        return np.concatenate(parts, axis=1)

    def _with_skip(self, rnn):
        """The recurrent layer, beside a flattened copy of the inputs when covariates are known.

        The dense head then reads every step's covariates directly: the covariate of
        forecast step ``j`` can move output ``j`` through one linear weight, which an
        LSTM's final state alone learnt poorly (a daily series with a promotion flag
        gained nothing from it without the skip).
        """
        if not self._uses_known():
            return rnn
        return Parallel([[rnn], [Flatten()]])

    def _no_static(self, static):
        if static is not None:
            raise CovariateError("static covariates describe the series of a panel model")

    # --- one series ---------------------------------------------------------------------

    def _fit_known(self, X, static, index, n):
        """Known covariates of the training series (n, f), or None without any."""
        future = self._start_covariates(X, static, panel=False)
        names = resolve_calendar(self.calendar, index)
        cov = {"future": future, "columns": [], "calendar": names}
        x = None
        if future:
            x, columns = covariate_rows(X, n, "X (the covariates of y)", index=index)
            cov["columns"] = columns
            cov["center"], cov["spread"] = standardizer(x)
        self._finish_covariates(cov, len(cov["columns"]))
        if not self._uses_known():
            return None
        return self._assemble(x, index if index is not None else np.arange(n))

    def _forecast_known(self, y, X, n, meta):
        """Known covariates (n + horizon, f) from the history's start to the horizon's end.

        Without ``y`` the history's are stored and ``X`` covers the horizon; with ``y``
        ``X`` covers both.
        """
        cov, h = self._cov, self.horizon
        index = meta["index"]
        future = np.arange(n, n + h) if index is None else future_index(index, h)
        x = None
        if cov["columns"]:
            if X is None:
                raise CovariateError(
                    f"this Forecaster reads future covariates {cov['columns']}: pass X "
                    f"with their values on the {h} forecast time stamps"
                )
            if y is None:
                what = f"X (the covariates of the {h} forecast steps)"
                x, _ = covariate_rows(X, h, what, cov["columns"], future)
            else:
                what = f"X (the covariates of y's {n} steps and the {h} forecast steps)"
                full = None if index is None else index.append(future)
                x, _ = covariate_rows(X, n + h, what, cov["columns"], full)
        if y is None:
            return np.concatenate([self._known, self._assemble(x, future)])
        span = np.arange(n + h) if index is None else index.append(future)
        return self._assemble(x, span)

    # --- panels ------------------------------------------------------------------------

    def _columns(self, options, meta):
        """The id, time and value column names that key a panel's covariates."""
        value = meta.get("value_column", meta.get("value"))
        id_column = options.get("id_column") or ID_COLUMN
        return id_column, options.get("time_column") or TIME_COLUMN, value

    def _fit_known_panel(self, y, X, static, ids, indexes, options, meta):
        """Per-series known covariates of a panel's training series, or None."""
        future = self._start_covariates(X, static, panel=True)
        names = resolve_calendar(self.calendar, indexes[0])
        cov = {"future": future, "columns": [], "calendar": names}
        xs = [None] * len(ids)
        if future:
            table, columns = covariate_table(X, *self._columns(options, meta), y=y)
            xs = [
                series_rows(table, columns, key, index, "X")
                for key, index in zip(ids, indexes, strict=True)
            ]
            cov["columns"] = columns
            cov["center"], cov["spread"] = standardizer(np.concatenate(xs))
        statics = [None] * len(ids)
        if static is not None:
            raw, cov["static_columns"] = static_rows(static, ids)
            cov["static_ids"] = list(ids)
            cov["static_values"] = raw
            cov["static_center"], cov["static_spread"] = standardizer(raw)
            statics = list((raw - cov["static_center"]) / cov["static_spread"])
        self._finish_covariates(cov, len(cov["columns"]))
        if not self._uses_known():
            return None
        return [
            self._assemble(x, index, s) for x, index, s in zip(xs, indexes, statics, strict=True)
        ]

    def _static_of(self, ids, static):
        """Standardised static covariates of ``ids`` (from ``static`` or the fit's table)."""
        cov = self._cov
        if not cov.get("static_columns"):
            if static is not None:
                raise CovariateError("this Forecaster was fitted without static covariates")
            return [None] * len(ids)
        if static is None:
            known = {key: i for i, key in enumerate(cov["static_ids"])}
            unknown = [key for key in ids if key not in known]
            if unknown:
                raise CovariateError(
                    f"series {unknown[:5]} have no static covariates from the fit; pass "
                    "static= with a row for each"
                )
            raw = cov["static_values"][[known[key] for key in ids]]
        else:
            raw, columns = static_rows(static, ids)
            if columns != cov["static_columns"]:
                raise CovariateError(
                    f"static has columns {columns}; the model was fitted with "
                    f"{cov['static_columns']}"
                )
        return list((raw - cov["static_center"]) / cov["static_spread"])

    def _forecast_known_panel(self, stored, X, static, ids, indexes, futures):
        """Known covariates (n_series, window + horizon, f) of each series' window and horizon.

        ``stored`` (the fit's per-series matrices) serves the history when the panel
        is the training one; else ``X`` must cover each series' last window too.
        """
        cov = self._cov
        w = self.window_
        table = columns = None
        if cov["columns"]:
            if X is None:
                raise CovariateError(
                    f"this Forecaster reads future covariates {cov['columns']}: pass X with "
                    f"their values on the {self.horizon} forecast time stamps of each series"
                )
            panel = self._panel
            table, columns = covariate_table(X, *self._columns(panel["options"], panel["meta"]))
        elif X is not None:
            raise CovariateError("this Forecaster was fitted without future covariates; drop X")
        statics = self._static_of(ids, static)
        n_static = len(cov.get("static_columns", []))
        out = []
        for i, (key, index, future) in enumerate(zip(ids, indexes, futures, strict=True)):
            span = future if stored is not None else index[-w:].append(future)
            x = None
            if table is not None:
                what = "X (the covariates of the forecast steps)"
                if stored is None:
                    what = "X (the covariates of each series' last window and forecast steps)"
                x = series_rows(table, columns, key, span, what)
            part = self._assemble(x, span, statics[i])
            if stored is not None:
                history = stored[i][-w:].copy()
                if n_static:  # the static covariates given now, over the window too
                    history[:, -n_static:] = statics[i]
                part = np.concatenate([history, part])
            out.append(part)
        return np.stack(out)

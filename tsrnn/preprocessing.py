"""TimeSeriesScaler: per-feature standardisation of sequence data for pipelines.

scikit-learn's StandardScaler cannot take 3-D input; this scaler standardises each
feature over all samples and (real, unpadded) time steps, so that
``make_pipeline(TimeSeriesScaler(), SequenceRegressor())`` works on any input
format tsrnn accepts.
"""

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin, _fit_context
from sklearn.utils.validation import check_is_fitted, validate_data

from tsrnn import _formats
from tsrnn.persistence import SaveMixin


class TimeSeriesScaler(SaveMixin, OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Standardise each feature of sequences to zero mean and unit variance.

    Parameters
    ----------
    data_format : {'channels_last', 'channels_first'}, default='channels_last'
        Axis order of 3-D numpy input (see :class:`tsrnn.SequenceRegressor`).

    Attributes
    ----------
    mean_, scale_ : ndarray of shape (n_channels,)
        Per-feature statistics over samples and real time steps (a feature with zero
        variance gets scale 1).
    n_features_in_ : int
        As the sequence estimators count it (2-D input: its columns).

    Notes
    -----
    Output keeps the input's form where it can: 2-D arrays stay 2-D (univariate
    sequences scaled with one mean and scale), MultiIndex DataFrames stay
    DataFrames (with the input's index and row order), variable-length lists stay
    lists; other sequence input becomes a 3-D array.
    """

    _parameter_constraints = {"data_format": [str]}

    def __init__(self, data_format="channels_last"):
        self.data_format = data_format

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags

    def _values(self, X, reset):
        _formats.check_input(X)
        if _formats.is_tabular(X):
            X2 = validate_data(self, X, reset=reset, dtype=[np.float64, np.float32])
            return X2[:, :, None], None, "2d"
        seq = _formats.to_sequences(X, self.data_format)
        if not np.isfinite(seq.values).all():
            raise ValueError("Input X contains NaN or infinity")
        if reset:
            self.n_features_in_ = seq.values.shape[2]
        return seq.values, seq.mask, seq.kind

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn each feature's mean and scale over samples and real time steps.

        Parameters
        ----------
        X : array-like of sequences
            Any input format tsrnn accepts (2-D or 3-D arrays, DataFrames, DataArrays,
            variable-length lists).
        y : None
            Ignored.

        Returns
        -------
        self : TimeSeriesScaler

        Raises
        ------
        ValueError
            If ``X`` contains NaN or infinity, or is not a sequence format tsrnn reads.
        """
        values, mask, _ = self._values(X, reset=True)
        real = values.reshape(-1, values.shape[2]) if mask is None else values[mask]
        self.mean_, std = _mean_and_std(real)
        self.scale_ = np.where(std > 0, std, 1.0)
        return self

    def transform(self, X):
        """Standardise ``X`` with the fitted ``mean_`` and ``scale_``.

        Parameters
        ----------
        X : array-like of sequences
            Input of the form given to :meth:`fit`, with the same number of features.

        Returns
        -------
        X_scaled : ndarray, DataFrame or list of ndarray
            ``(X - mean_) / scale_``, in the form described in the class Notes.

        Raises
        ------
        ValueError
            If the number of features differs from the fitted one, ``X`` contains NaN or
            infinity, or is too large to standardise without overflow.
        sklearn.exceptions.NotFittedError
            If the scaler is not fitted.
        """
        check_is_fitted(self, "mean_")
        values, mask, kind = self._values(X, reset=False)
        if values.shape[2] != self.mean_.size:
            raise ValueError(
                f"X has {values.shape[2]} features per step, but "
                f"TimeSeriesScaler was fitted with {self.mean_.size}"
            )
        with np.errstate(over="ignore", invalid="ignore"):
            scaled = (values - self.mean_) / self.scale_
            if not np.isfinite(scaled).all():  # x - mean overflowed near the float range
                scaled = values / self.scale_ - self.mean_ / self.scale_
        if not np.isfinite(scaled).all():
            raise ValueError(
                "X is too large to standardise with the fitted mean_ and scale_ "
                f"(max |x| = {np.abs(values).max():.3g})"
            )
        return self._restore_form(X, scaled, mask, kind)

    def inverse_transform(self, X):
        """Undo :meth:`transform`: ``X * scale_ + mean_``.

        Parameters
        ----------
        X : array-like of sequences
            Standardised input.

        Returns
        -------
        X_original : ndarray, DataFrame or list of ndarray
            In the form described in the class Notes.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the scaler is not fitted.
        """
        check_is_fitted(self, "mean_")
        values, mask, kind = self._values(X, reset=False)
        return self._restore_form(X, values * self.scale_ + self.mean_, mask, kind)

    def _restore_form(self, X, values, mask, kind):
        if kind == "2d":
            return values[:, :, 0]
        if kind == "pandas":
            lengths = values.shape[1] if mask is None else mask.sum(axis=1)
            lengths = np.broadcast_to(lengths, values.shape[:1])
            rows = np.concatenate([values[i, :n] for i, n in enumerate(lengths)])
            # Back to X's own row order, so that output rows line up with input rows.
            in_x_order = np.empty_like(rows)
            in_x_order[_formats.multiindex_order(X.index)[0]] = rows
            return pd.DataFrame(in_x_order, index=X.index, columns=X.columns)
        if mask is not None:
            return [values[i, : int(n)] for i, n in enumerate(mask.sum(axis=1))]
        if self.data_format == "channels_first" and kind == "ndarray3d":
            return values.transpose(0, 2, 1)
        return values


# Beyond these magnitudes, squares overflow to inf or underflow to 0.
_SAFE_MAGNITUDES = (1e-150, 1e150)


def _mean_and_std(real):
    """Per-column mean and standard deviation of ``real`` (n_values, n_features).

    Exact for huge and tiny values too: such columns are divided by their largest
    magnitude first, so that squaring neither overflows nor underflows.
    """
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        mean, std = real.mean(axis=0), real.std(axis=0)
    largest = np.abs(real).max(axis=0)
    extreme = (largest > _SAFE_MAGNITUDES[1]) | ((largest > 0) & (largest < _SAFE_MAGNITUDES[0]))
    if extreme.any():
        factor = np.where(extreme, largest, 1.0)
        prescaled = real / factor
        mean = np.where(extreme, prescaled.mean(axis=0) * factor, mean)
        std = np.where(extreme, prescaled.std(axis=0) * factor, std)
    return mean, std

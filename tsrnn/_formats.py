"""Conversion of user data to ``(n_samples, n_timesteps, n_features)`` plus a mask.

One module owns every input format, and estimators call it once:

* numpy 3-D ``(n_samples, n_timesteps, n_features)``; with
  ``data_format='channels_first'`` the aeon/sktime layout
  ``(n_cases, n_channels, n_timepoints)``.
* numpy 2-D ``(n_samples, n_timesteps)`` and wide 2-D DataFrames: one univariate
  sequence per row.
* pandas DataFrame with a two-level MultiIndex ``(instance, time)`` and one column
  per feature (sktime's "pd-multiindex"); sequences may differ in length. Instances
  come in the order of their first row (as ``groupby(level=0, sort=False)``), each
  sorted by time.
* xarray DataArray: 3-D, by dimension names when they are recognised (see
  ``SAMPLE_DIMS``, ``TIME_DIMS``, ``FEATURE_DIMS``; rename others with
  ``DataArray.rename``), otherwise by position (sample, time, feature); 2-D
  (sample, time) is univariate. A Dataset's data variables are the features.
* a list of 2-D ``(n_timesteps_i, n_features)`` (or 1-D) arrays of any lengths.

Unequal lengths are padded at the end with zeros and described by a boolean mask
``(n_samples, n_timesteps)``, False on padding.

Labelled input (the instances of a MultiIndex, the sample coordinate of xarray
input) keeps its instance labels, so that targets given with labels are aligned to
them (:func:`align_targets`) and predictions can be labelled.
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

SAMPLE_DIMS = ("sample", "samples", "instance", "instances", "case", "cases", "batch")
TIME_DIMS = ("time", "times", "timestep", "timesteps", "step", "steps", "timepoint")
FEATURE_DIMS = ("feature", "features", "channel", "channels", "variable", "variables")
DATA_FORMATS = ("channels_last", "channels_first")


@dataclass
class Sequences:
    """Sequence input converted to one padded array.

    ``values`` (n_samples, n_timesteps, n_features) float64,
    ``mask`` (n_samples, n_timesteps) bool or None when all lengths are equal,
    ``feature_names`` (array of str) or None, the ``kind`` of the original, and the
    instance labels ``index`` (a pandas Index, in the order of ``values``) or None.
    """

    values: np.ndarray
    mask: np.ndarray | None
    feature_names: np.ndarray | None
    kind: str
    index: pd.Index | None = None


ACCEPTED = (
    "a numpy array (n_samples, n_timesteps[, n_features]), a list of arrays, a pandas "
    "DataFrame, an xarray DataArray or Dataset, a dask array, or tsrnn.streaming.Batches"
)


_NOT_SEQUENCES = (Mapping, set, frozenset, str, bytes, Iterator)


def check_input(X, what="X"):
    """Refuse, before any conversion, input that is not a collection of numeric sequences.

    Rather than let NumPy make it numeric, refuse input that is no collection of
    sequences (None, a dict, a set, a generator, a scalar: TypeError) or that holds
    no numbers (dates, durations, strings: ValueError).
    """
    if isinstance(X, np.ndarray):  # the common case, on every predict: kept cheap
        if X.dtype.kind not in "fiub":
            refuse_non_numeric(X, what)
        return
    # Values are read only for object dtypes (to look for strings).
    if isinstance(X, pd.DataFrame):
        for i, (name, dtype) in enumerate(X.dtypes.items()):
            if getattr(dtype, "kind", "O") not in "fiub":
                refuse_non_numeric(X.iloc[:, i].to_numpy(), f"column {name!r} of {what}", dtype)
    elif hasattr(X, "data_vars"):  # an xarray Dataset (a Mapping, but accepted)
        for name, variable in X.data_vars.items():
            if variable.dtype.kind not in "fiub":
                refuse_non_numeric(variable.values, f"variable {name!r} of {what}")
    elif hasattr(X, "dims"):
        if X.dtype.kind not in "fiub":
            refuse_non_numeric(X.values, what)
    elif hasattr(X, "toarray"):  # scipy.sparse (dok is a dict): scikit-learn refuses it
        return
    elif X is None or isinstance(X, _NOT_SEQUENCES) or np.isscalar(X):
        hint = ""
        if isinstance(X, Iterator):
            hint = (
                " (an iterator can be read only once: to stream batches, pass "
                "tsrnn.streaming.Batches(a function returning a new iterator))"
            )
        raise TypeError(f"{what} must be {ACCEPTED}; got {type(X).__name__}{hint}")
    elif isinstance(X, (list, tuple)):
        try:
            a = np.asarray(X)
        except ValueError:  # ragged: each sequence is checked when it is converted
            return
        refuse_non_numeric(a, what)


def refuse_non_numeric(a, what="X", dtype=None):
    """Raise ValueError when array ``a`` holds dates, durations or strings."""
    dtype = a.dtype if dtype is None else dtype
    kind = getattr(dtype, "kind", "O")
    if kind in "fiub":
        return
    if kind in "Mm":
        raise ValueError(
            f"{what} must contain numbers, got dtype {dtype}: dates and durations are not "
            "made numeric silently; convert them first (e.g. to seconds)"
        )
    if kind in "US" or (kind == "O" and any(isinstance(v, (str, bytes)) for v in a.flat)):
        raise ValueError(
            f"{what} must contain numbers, got strings (dtype {dtype}); convert them to "
            "numbers first"
        )


def is_tabular(X):
    """True for inputs scikit-learn would see as 2-D.

    These are a 2-D array or array-like, a DataFrame without a MultiIndex, and a
    sparse matrix.
    """
    if isinstance(X, pd.DataFrame):
        return not isinstance(X.index, pd.MultiIndex)
    if hasattr(X, "dims") or hasattr(X, "data_vars"):  # xarray
        return False
    if hasattr(X, "toarray"):  # scipy.sparse
        return True
    if isinstance(X, np.ndarray):
        return X.ndim == 2
    if isinstance(X, (list, tuple)):
        try:
            a = np.asarray(X)
        except ValueError:  # ragged
            return False
        return a.ndim == 2 and a.dtype != object
    return False


def to_sequences(X, data_format="channels_last"):
    """Convert any supported input (other than 2-D tabular) to :class:`Sequences`.

    Raises ValueError for input of another form, non-numeric values, or input with
    no samples, no time steps or no features.
    """
    seq = _convert(X, data_format)
    n, n_steps, n_features = seq.values.shape
    for size, what in ((n, "samples"), (n_steps, "time steps"), (n_features, "features")):
        if size == 0:
            raise ValueError(f"X is empty: it has 0 {what} (shape {seq.values.shape})")
    return seq


def _convert(X, data_format):
    if data_format not in DATA_FORMATS:
        raise ValueError(f"data_format must be one of {DATA_FORMATS}, got {data_format!r}")
    if isinstance(X, pd.DataFrame):
        return _from_multiindex_frame(X)
    if hasattr(X, "data_vars"):
        return _from_dataset(X)
    if hasattr(X, "dims"):
        return _from_dataarray(X)
    if isinstance(X, (list, tuple)):
        try:
            a = np.asarray(X)
        except ValueError:
            a = None
        if a is None or a.dtype == object:
            return _from_list(X)
        X = a
    X = np.asarray(X)
    if X.dtype == object:
        return _from_list(list(X))
    if X.ndim == 2:
        return Sequences(_as_float(X)[:, :, None], None, None, "ndarray2d")
    if X.ndim != 3:
        hint = ""
        if X.ndim <= 1:
            hint = (
                " Reshape your data either using X.reshape(1, -1) if it is a single "
                "univariate sequence, or X.reshape(-1, 1) for sequences of one step."
            )
        raise ValueError(
            f"expected sequences as a 3-D array (n_samples, n_timesteps, n_features) or a "
            f"2-D array (n_samples, n_timesteps), got a {X.ndim}-D array of shape "
            f"{X.shape}.{hint}"
        )
    if data_format == "channels_first":
        X = X.transpose(0, 2, 1)
    return Sequences(_as_float(X), None, None, "ndarray3d")


def _as_float(a, what="X"):
    a = np.asarray(a)
    if a.dtype.kind in "fiub":
        return a.astype(np.float64, copy=False)
    if a.dtype.kind == "c":
        raise ValueError(f"{what} contains complex numbers; expected real values")
    refuse_non_numeric(a, what)
    try:
        return a.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} must contain numbers, got dtype {a.dtype}: {exc}") from exc


def pad(arrays):
    """Stack 2-D arrays (n_timesteps_i, n_features) into a zero-padded 3-D array and a mask.

    The mask is None when every length is the same.
    """
    if not arrays:
        raise ValueError("X is empty: it contains 0 sequences")
    n_features = {a.shape[1] for a in arrays}
    if len(n_features) > 1:
        raise ValueError(
            f"all sequences must have the same number of features, got {sorted(n_features)}"
        )
    lengths = np.array([a.shape[0] for a in arrays])
    if lengths.min() == 0:
        raise ValueError(f"sequence {int(np.argmin(lengths))} has no time steps")
    values = np.zeros((len(arrays), lengths.max(), n_features.pop()))
    for i, a in enumerate(arrays):
        values[i, : len(a)] = a
    if (lengths == lengths[0]).all():
        return values, None
    return values, np.arange(lengths.max())[None, :] < lengths[:, None]


def _from_list(items):
    arrays = []
    for i, item in enumerate(items):
        a = _as_float(item, f"sequence {i}")
        if a.ndim == 1:
            a = a[:, None]
        if a.ndim != 2:
            raise ValueError(
                f"sequence {i} must be 1-D or 2-D (n_timesteps, n_features), got shape {a.shape}"
            )
        arrays.append(a)
    values, mask = pad(arrays)
    return Sequences(values, mask, None, "list")


def _from_multiindex_frame(df):
    if df.index.nlevels != 2:
        raise ValueError(
            "a DataFrame of sequences needs a two-level MultiIndex (instance, time) with one "
            f"column per feature; got an index with {df.index.nlevels} levels"
        )
    if df.index.has_duplicates:
        raise ValueError("the (instance, time) MultiIndex has duplicate entries")
    order, instances, lengths = multiindex_order(df.index)
    rows = np.split(df.to_numpy()[order], np.cumsum(lengths)[:-1])
    arrays = [_as_float(a, f"instance {k!r}") for k, a in zip(instances, rows, strict=True)]
    values, mask = pad(arrays)
    names = np.asarray([str(c) for c in df.columns], dtype=object)
    return Sequences(values, mask, names, "pandas", instances)


def multiindex_order(index):
    """How a two-level ``(instance, time)`` index becomes sequences.

    Returns the row order (instances in the order of their first row, each sorted
    by time, stably), the instance labels in that order, and the number of rows of
    each.
    """
    instance_codes, instances = pd.factorize(index.get_level_values(0))
    time_codes = pd.factorize(index.get_level_values(1), sort=True)[0]
    if (instance_codes < 0).any() or (time_codes < 0).any():
        raise ValueError("the (instance, time) MultiIndex has missing (NaN) labels")
    order = np.lexsort((time_codes, instance_codes))
    instances = pd.Index(instances, name=index.names[0])
    return order, instances, np.bincount(instance_codes, minlength=len(instances))


def _labels_of(y):
    """The row labels of a pandas or xarray target, or None for unlabelled ones."""
    if isinstance(y, (pd.Series, pd.DataFrame)):
        return y.index
    if hasattr(y, "dims") and not hasattr(y, "data_vars") and y.ndim in (1, 2):
        dim = _find_dim(list(y.dims), SAMPLE_DIMS) or y.dims[0]
        return y.indexes[dim] if dim in y.indexes else None
    return None


def align_targets(y, index, strict=True, what="y"):
    """``y`` (or a sample weight) in the order of X's instance labels ``index``.

    A pandas Series or DataFrame, or a DataArray with a sample coordinate, whose
    labels are X's instances is reordered by label. Unlabelled targets, and pandas
    targets with a default RangeIndex, are taken by position. Other labels that do
    not match X's raise ValueError (with ``strict``; else they are taken by position,
    as scikit-learn does for tabular input).
    """
    labels = None if index is None else _labels_of(y)
    if labels is None or labels.equals(index):
        return y
    if labels.is_unique and len(labels) == len(index) and labels.isin(index).all():
        if isinstance(y, (pd.Series, pd.DataFrame)):
            return y.loc[index]
        return y.sel({y.dims[0] if labels.name is None else labels.name: index.to_numpy()})
    default = isinstance(labels, pd.RangeIndex) and labels.start == 0 and labels.step == 1
    if not strict or default:
        return y
    missing = index[~index.isin(labels)].tolist()
    extra = labels[~labels.isin(index)].tolist()
    raise ValueError(
        f"the labels of {what} do not match the instances of X: {len(missing)} of X's "
        f"instances are not in {what} (e.g. {missing[:5]}), {len(extra)} labels of {what} "
        f"are not instances of X (e.g. {extra[:5]}); pass {what} indexed by X's instances or "
        "as a plain array in their order"
    )


def _find_dim(dims, names):
    hits = [d for d in dims if str(d).lower() in names]
    return hits[0] if len(hits) == 1 else None


def _from_dataarray(da):
    dims = list(da.dims)
    if da.ndim == 2:
        order = [_find_dim(dims, SAMPLE_DIMS), _find_dim(dims, TIME_DIMS)]
        if None in order or order[0] == order[1]:
            order = dims
        values = _as_float(da.transpose(*order).values)[:, :, None]
        return Sequences(values, None, None, "xarray", da.indexes.get(order[0]))
    if da.ndim != 3:
        raise ValueError(f"an xarray DataArray of sequences must be 2-D or 3-D, got dims {dims}")
    order = [_find_dim(dims, n) for n in (SAMPLE_DIMS, TIME_DIMS, FEATURE_DIMS)]
    if None in order or len(set(order)) < 3:
        order = dims  # unrecognised names: by position (sample, time, feature)
    da = da.transpose(*order)
    feature_dim = order[2]
    names = None
    if feature_dim in da.coords:
        names = np.asarray([str(v) for v in da.coords[feature_dim].values], dtype=object)
    return Sequences(_as_float(da.values), None, names, "xarray", da.indexes.get(order[0]))


def _from_dataset(ds):
    if not ds.data_vars:
        raise ValueError("the xarray Dataset has no data variables")
    names = list(ds.data_vars)
    arrays, index = [], None
    for name in names:
        da = ds[name]
        if da.ndim != 2:
            raise ValueError(
                f"Dataset variable {name!r} must be 2-D (sample, time), got dims {da.dims}"
            )
        order = [_find_dim(list(da.dims), SAMPLE_DIMS), _find_dim(list(da.dims), TIME_DIMS)]
        if None in order:
            order = list(da.dims)
        arrays.append(_as_float(da.transpose(*order).values, f"variable {name!r}"))
        index = ds.indexes.get(order[0])
    values = np.stack(arrays, axis=2)
    names = np.asarray([str(n) for n in names], dtype=object)
    return Sequences(values, None, names, "xarray", index)

"""Machinery shared by the sequence estimators: parameters, data, and the fit loop.

The estimator classes stay thin (scikit-learn's ``neural_network`` structure):
parameters are stored untouched in ``__init__`` and validated in ``fit`` with
scikit-learn's own constraint machinery; the network lives in ``network_``.
"""

import contextlib
import copy
import inspect
import itertools
import math
import numbers
import warnings
from abc import ABCMeta, abstractmethod
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
from joblib import effective_n_jobs
from sklearn.base import BaseEstimator, _fit_context, clone
from sklearn.model_selection import train_test_split
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data
from tqdm.auto import tqdm

from tsrnn import _formats, architectures, streaming
from tsrnn._random import draw_seeds
from tsrnn._threads import default_thread_count, single_blas_thread
from tsrnn._validation import BATCH_SIZE, NON_NEGATIVE_INT, POSITIVE_INT
from tsrnn.backend import resolve_device
from tsrnn.estimators._params import estimator_params
from tsrnn.kernels.cpu.checks import largest_magnitude
from tsrnn.network import Network
from tsrnn.persistence import Checkpoint, SaveMixin, data_fingerprint
from tsrnn.training import NonFiniteLossError, ReduceLROnPlateau, get_optimizer
from tsrnn.training.loop import (
    TrainingHistory,
    array_batches,
    evaluate,
    fit_batches,
    resolve_batch_size,
)

# Looked up per predict call: np.finfo and np.dtype(...).name cost microseconds.
_FLOAT_MAX = {name: float(np.finfo(name).max) for name in ("float32", "float64")}


def _auto_batch_size(n_samples):
    """About 8 updates per epoch on small datasets, 32 samples per batch otherwise."""
    return int(np.clip(n_samples // 8, 8, 32))


# Training warnings name the frame of the estimator's fit (or partial_fit):
# warn <- _run_epochs <- _train <- _fit <- fit.
_FIT_STACKLEVEL = 4


class TrainingDivergedWarning(UserWarning):
    """Training stopped because the loss or a gradient became NaN or infinite."""


class TrainingDivergedError(ValueError):
    """Training diverged before reaching any weights with a finite loss on the data."""


class TrainingInterruptedWarning(UserWarning):
    """Training was interrupted (Ctrl-C); the estimator kept the best weights so far."""


#: Parameters fixed when the network and its optimizer are built: a warm start or
#: partial_fit cannot change them. The recurrent preset's knobs include those of
#: every other preset.
ARCHITECTURE_PARAMS = ("architecture", *architectures.RECURRENT_KNOBS, "dtype", "optimizer")


#: The recurrent-network settings each other preset reads (see ``_build_layers``).
_PRESET_KNOBS = {
    "fcn": {"conv_filters"},
    "resnet": {"conv_filters"},
    "inceptiontime": {"conv_filters"},
    "lstm-fcn": {"cell", "hidden_size", "activation", "conv_filters"},
}


def single_network(estimator):
    """Whether ``partial_fit`` is available: it trains one network (``n_ensemble=1``).

    Used with scikit-learn's ``available_if``, so that an ensemble has no
    ``partial_fit`` (as scikit-learn's checks and meta-estimators expect) and the
    error says why.
    """
    if estimator.n_ensemble != 1:
        raise AttributeError(
            f"{type(estimator).__name__}: partial_fit trains a single network; it is not "
            f"available with n_ensemble={estimator.n_ensemble} (pass n_ensemble=1)"
        )
    return True


@estimator_params
class BaseSequenceEstimator(SaveMixin, BaseEstimator, metaclass=ABCMeta):
    """Shared parameters and fit machinery; see SequenceRegressor for the docs.

    Subclasses define how targets are encoded and scored, and the loss.
    """

    _parameter_constraints = {
        "architecture": [StrOptions(set(architectures.PRESETS))],
        "cell": [StrOptions({"lstm", "gru", "rnn"}), None],
        "hidden_size": [POSITIVE_INT],
        "num_layers": [POSITIVE_INT],
        "bidirectional": ["boolean"],
        "conv_filters": [NON_NEGATIVE_INT],
        "conv_kernel_size": [POSITIVE_INT],
        "pool_size": [POSITIVE_INT, None],
        "activation": [StrOptions({"tanh", "relu"})],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "recurrent_dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "optimizer": [StrOptions({"adam", "sgd"})],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "weight_decay": [Interval(numbers.Real, 0, None, closed="left")],
        "batch_size": BATCH_SIZE,
        "max_epochs": [POSITIVE_INT],
        "shuffle": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "patience": [POSITIVE_INT],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "clip_norm": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "dtype": [StrOptions({"float32", "float64"})],
        "device": [StrOptions({"cpu", "cuda", "auto"})],
        "data_format": [StrOptions({"channels_last", "channels_first"})],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "lr_schedule": [StrOptions({"constant", "plateau"})],
        "reduce_lr_factor": [Interval(numbers.Real, 0, 1, closed="neither")],
        "reduce_lr_patience": [POSITIVE_INT],
        "reduce_lr_cooldown": [NON_NEGATIVE_INT],
        "min_learning_rate": [Interval(numbers.Real, 0, None, closed="left")],
        "n_ensemble": [POSITIVE_INT],
        "n_jobs": [numbers.Integral, None],
    }

    # The parameters and their defaults (the generated __init__ takes them in this
    # order; subclasses append their own).
    architecture: str = "recurrent"
    cell: str | None = "lstm"
    hidden_size: int = 32
    num_layers: int = 1
    bidirectional: bool = False
    conv_filters: int = 0
    conv_kernel_size: int = 3
    pool_size: int | None = None
    activation: str = "tanh"
    dropout: float = 0.0
    recurrent_dropout: float = 0.0
    optimizer: str = "adam"
    learning_rate: float = 3e-3
    weight_decay: float = 0.0
    batch_size: int | str = "auto"
    max_epochs: int = 200
    shuffle: bool = True
    early_stopping: bool = False
    validation_fraction: float = 0.1
    patience: int = 20
    tol: float = 1e-4
    clip_norm: float | None = 1.0
    dtype: str = "float32"
    device: str = "cpu"
    data_format: str = "channels_last"
    random_state: int | np.random.RandomState | None = None
    verbose: int = 0
    warm_start: bool = False
    lr_schedule: str = "constant"
    reduce_lr_factor: float = 0.5
    reduce_lr_patience: int = 5
    reduce_lr_cooldown: int = 0
    min_learning_rate: float = 1e-4
    n_ensemble: int = 1
    n_jobs: int | None = None

    #: Parameters newer than some saved models, with the value that rebuilds and
    #: continues those models as they were (see :mod:`tsrnn.modelfile.schema`).
    _params_added_later = {
        "architecture": "recurrent",
        "lr_schedule": "constant",
        "reduce_lr_factor": 0.5,
        "reduce_lr_patience": 5,
        "reduce_lr_cooldown": 0,
        "min_learning_rate": 1e-4,
        "n_ensemble": 1,
        "n_jobs": None,
    }

    #: scikit-learn checks that do not apply, with the reason (for
    #: ``parametrize_with_checks(..., expected_failed_checks=...)``).
    _expected_failed_checks = {
        "check_sample_weight_equivalence_on_dense_data": (
            "training is mini-batch gradient descent with shuffling: repeating a sample "
            "changes the batches and the number of steps per epoch, so a weight of 2 is not "
            "equivalent to a repetition (scikit-learn's MLPRegressor/MLPClassifier are "
            "marked the same way)"
        ),
    }

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        # With a fixed random_state the fitted weights are bit-identical, run after run,
        # whatever the BLAS thread count, and in threads at once as one after the other
        # (tests/estimators/test_thread_reproducibility.py).
        tags.non_deterministic = False
        return tags

    # --- data ---------------------------------------------------------------------------

    def _convert_X(self, X, reset):
        """Validate and convert X; return (values (n, T, C), mask or None, labels).

        ``labels`` is None, or ``(index, kind)``: the sample labels of a DataFrame
        (kind 'frame'), of a MultiIndex DataFrame's instances ('pandas') or of xarray
        input's sample coordinate ('xarray').
        """
        # Once fitted on sequences, read predict-time input as sequences too (a list of
        # one 1-D array would otherwise look like one tabular row).
        _formats.check_input(X)
        fitted_on_sequences = not reset and getattr(self, "_input_kind", "") == "sequences"
        if _formats.is_tabular(X) and not fitted_on_sequences:
            X2 = validate_data(
                self, X, reset=reset, dtype=[np.float64, np.float32], ensure_min_samples=1
            )
            values, mask, kind = X2.astype(np.float64, copy=False)[:, :, None], None, "2d"
            labels = (X.index, "frame") if isinstance(X, pd.DataFrame) else None
            self._check_range(values)
            if reset:
                self._input_kind = kind
        else:
            seq = _formats.to_sequences(X, self.data_format)
            values, mask = seq.values, seq.mask
            labels = None if seq.index is None else (seq.index, seq.kind)
            if values.shape[0] == 0:
                raise ValueError("X is empty: it contains 0 samples")
            self._check_range(values)
            if reset:
                self._input_kind = "sequences"
                self.n_features_in_ = values.shape[2]
                if seq.feature_names is not None:
                    self.feature_names_in_ = seq.feature_names
                elif hasattr(self, "feature_names_in_"):
                    del self.feature_names_in_
            else:
                self._check_sequence_features(values, seq.feature_names)
        if not reset and values.shape[2] != self.n_channels_:
            name = type(self).__name__
            raise ValueError(
                f"X has {values.shape[2]} features per step, but {name} was "
                f"fitted with {self.n_channels_}"
            )
        return values, mask, labels

    def _check_range(self, values):
        """Reject NaN, infinity and values beyond the network dtype's range."""
        largest = largest_magnitude(values)
        if not np.isfinite(largest):
            raise ValueError("Input X contains NaN or infinity")
        if largest > (_FLOAT_MAX.get(self.dtype) or _FLOAT_MAX[np.dtype(self.dtype).name]):
            raise ValueError(
                f"X has values beyond the range of {self.dtype} (max |x| = "
                f"{largest:.3g}); scale X or use dtype='float64'"
            )

    def _check_sequence_features(self, values, names):
        fitted_names = getattr(self, "feature_names_in_", None)
        if names is not None and fitted_names is not None and list(names) != list(fitted_names):
            raise ValueError(
                f"X has feature names {list(names)}, but {type(self).__name__} was "
                f"fitted with {list(fitted_names)}"
            )

    # --- network ------------------------------------------------------------------------

    def _build_layers(self, n_outputs, equal_length):
        self._warn_unread_knobs()
        if self.architecture == "recurrent":
            names = architectures.RECURRENT_KNOBS
            return architectures.recurrent(
                n_outputs, equal_length, **{k: getattr(self, k) for k in names}
            )
        if self.architecture == "lstm-fcn":
            return architectures.lstm_fcn(
                n_outputs,
                equal_length,
                cell=self.cell,
                hidden_size=self.hidden_size,
                activation=self.activation,
                width=self.conv_filters or None,
            )
        build = {
            "fcn": architectures.fcn,
            "resnet": architectures.resnet,
            "inceptiontime": architectures.inception_time,
        }[self.architecture]
        return build(n_outputs, equal_length, width=self.conv_filters or None)

    def _warn_unread_knobs(self):
        """Warn when recurrent-network settings are given to a preset that ignores them.

        The classifier's default is a ResNet, so ``SequenceClassifier(cell='gru')``
        would otherwise train a ResNet without a word.
        """
        read = _PRESET_KNOBS.get(self.architecture)
        if read is None:
            return
        defaults = inspect.signature(type(self)).parameters
        unread = [
            name
            for name in architectures.RECURRENT_KNOBS
            if name not in read and getattr(self, name) != defaults[name].default
        ]
        if unread:
            warnings.warn(
                f"architecture={self.architecture!r} does not read {', '.join(unread)}; "
                "those settings shape the 'recurrent' network (pass architecture='recurrent' "
                "to train one)",
                UserWarning,
                stacklevel=_FIT_STACKLEVEL + 2,
            )

    def _check_device(self):
        """Check the architecture and resolve ``device``.

        Check the architecture and resolve ``device`` ('auto' -> 'cuda' or 'cpu');
        'cuda' without a usable GPU raises :class:`tsrnn.DeviceUnavailableError`.
        """
        self.device_ = resolve_device(self.device)
        if self.architecture == "recurrent" and self.cell is None and self.conv_filters == 0:
            raise ValueError("cell=None needs a convolutional front end: set conv_filters > 0")
        if self.architecture == "lstm-fcn" and self.cell is None:
            raise ValueError("architecture='lstm-fcn' needs a recurrent cell: set cell")
        recurrent = self.architecture in ("recurrent", "lstm-fcn")
        if recurrent and self.activation == "relu" and self.cell == "gru":
            raise ValueError("activation='relu' is available for cell='lstm' and 'rnn' only")

    # --- fitting ------------------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self, X, y=None, sample_weight=None, *, checkpoint=None, checkpoint_every=1, resume=False
    ):
        """Fit the network to sequences ``X`` and targets ``y``.

        Parameters
        ----------
        X : array-like, DataFrame, DataArray, list of arrays, dask array or Batches
            Sequences (n_samples, n_steps, n_features) in any supported format
            (2-D input is read as univariate sequences). Values must be numbers:
            dates, durations and strings are refused. A dask array (or a
            dask-backed DataArray) or :class:`tsrnn.streaming.Batches` is streamed
            chunk by chunk and never held in memory in full.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets; None only when ``X`` is :class:`~tsrnn.streaming.Batches`.
            Arrays are taken in the order of X's samples (for a MultiIndex
            DataFrame: its instances in the order of their first row). A pandas
            Series/DataFrame or DataArray labelled by X's instances (MultiIndex
            level 0, xarray sample coordinate, or the index of a 2-D DataFrame)
            is aligned by label; labels that do not match a MultiIndex's
            instances or an xarray sample coordinate raise ValueError.
        sample_weight : array-like of shape (n_samples,), optional
            Aligned to X like ``y``.
        checkpoint : str or path-like, optional
            Write the training state (weights, optimizer moments, history and
            random generator) to this model file every ``checkpoint_every``
            epochs and at the end, and the best epoch's model next to it
            (``run.tsrnn`` -> ``run.best.tsrnn``). Writes are atomic: a crash or
            kill at any moment leaves a loadable file.
        checkpoint_every : int, default=1
        resume : bool, default=False
            Continue the run stored in ``checkpoint`` (if the file exists; else
            start afresh). With the same parameters, data and seed, the result is
            bit-identical to an uninterrupted run. ``max_epochs`` may be raised
            to train longer.

        Returns
        -------
        self
        """
        return self._fit(
            X,
            y,
            sample_weight,
            incremental=False,
            checkpoint=checkpoint,
            checkpoint_every=checkpoint_every,
            resume=resume,
        )

    def _seeds(self, root=None):
        """Derive the seeds of one fit from ``random_state``.

        The root seed, and integer seeds for initialisation, the validation split and
        training derived from it.
        """
        if root is None:
            root = draw_seeds(self.random_state)
        init, split, train = np.random.SeedSequence(root).spawn(3)
        return (
            root,
            int(init.generate_state(1)[0]),
            int(split.generate_state(1)[0]),
            np.random.default_rng(train),
        )

    def _fit(
        self,
        X,
        y,
        sample_weight,
        incremental,
        classes=None,
        checkpoint=None,
        checkpoint_every=1,
        resume=False,
    ):
        self._check_device()
        if self.n_ensemble > 1:
            return self._fit_ensemble(
                X, y, sample_weight, incremental, classes, checkpoint, resume
            )
        if (incremental or self.warm_start) and getattr(self, "_extra_networks", None):
            raise ValueError(
                f"{type(self).__name__} is fitted as an ensemble of {len(self.networks_)} "
                "networks: partial_fit and warm_start continue a single network; fit with "
                "warm_start=False to train a new model"
            )
        stream = streaming.is_stream(X)
        if y is None and not isinstance(X, streaming.Batches):
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None"
            )
        ckpt = None if checkpoint is None else Checkpoint(checkpoint, checkpoint_every)
        if resume and ckpt is None:
            raise ValueError("resume=True needs checkpoint=<path> of the run to continue")
        resumed = ckpt.restore(self) if resume else None
        first = resumed is None and (
            not (incremental or self.warm_start) or not hasattr(self, "network_")
        )
        prepare = self._prepare_stream if stream else self._prepare_arrays
        input_shape, fingerprint, make_batches = prepare(
            X, y, sample_weight, first, classes, incremental
        )
        fingerprint = fingerprint() if ckpt is not None else None
        root, init_seed, split_seed, rng = self._seeds(
            None if resumed is None else resumed["seed"]
        )
        if resumed is not None:
            if resumed["fingerprint"] != fingerprint:
                raise ValueError(
                    f"the checkpoint {str(ckpt.path)!r} was written while "
                    "training on other data: resume with the same X, y and "
                    "sample_weight"
                )
            rng.bit_generator.state = resumed["rng_state"]
            if isinstance(X, streaming.Batches):
                warnings.warn(
                    f"{type(self).__name__}: resuming on Batches checks only the first batch "
                    "against the checkpoint; the rest cannot be checked without reading them "
                    "all: make sure they are the same as in the interrupted run",
                    UserWarning,
                    stacklevel=3,
                )
        elif not first:
            self._check_architecture_unchanged()
            # A warm start gets a fresh early-stopping budget.
            self._history.bad_epochs, self._history.stopped_early = 0, False
        if first:
            self.__dict__.pop("_extra_networks", None)  # a single network now
            self.n_channels_ = input_shape[1]
            # The orthogonal initialisation's QR runs on NumPy's BLAS, whose threads
            # change its last bits on some OpenBLAS versions (0.3.21): one thread here too.
            with single_blas_thread():
                self.network_ = Network(
                    self._build_layers(self._n_network_outputs(), input_shape[0] is not None),
                    dtype=self.dtype,
                ).build(input_shape, init_seed)
            self._optimizer = get_optimizer(
                self.optimizer, self.learning_rate, weight_decay=self.weight_decay
            )
            self._history = TrainingHistory()
            self.validation_scores_ = []
            self._architecture = {k: getattr(self, k) for k in ARCHITECTURE_PARAMS}
        epoch_batches, validation = make_batches(split_seed)
        epochs = 1 if incremental else self.max_epochs
        if resumed is not None:
            done = self._history.stopped_early or self._history.n_epochs >= self.max_epochs
            epochs = 0 if done else self.max_epochs - self._history.n_epochs
        checkpointing = None
        if ckpt is not None:
            checkpointing = (ckpt, {"seed": root, "fingerprint": fingerprint, "rng": rng})
        # One BLAS thread: OpenBLAS' threaded products round differently, so the thread
        # count would change a seeded fit (tsrnn/_threads.py).
        with single_blas_thread():
            self._train(epoch_batches, validation, rng, epochs, incremental, checkpointing)
        return self

    def _lr_scheduler(self):
        """The learning-rate schedule of ``lr_schedule`` (None: a constant rate)."""
        if self.lr_schedule == "plateau":
            return ReduceLROnPlateau(
                factor=self.reduce_lr_factor,
                patience=self.reduce_lr_patience,
                min_lr=self.min_learning_rate,
                min_delta=self.tol,
                cooldown=self.reduce_lr_cooldown,
            )
        return None

    def _fit_ensemble(self, X, y, sample_weight, incremental, classes, checkpoint, resume):
        """Fit the members of an ensemble.

        Fit ``n_ensemble`` networks from seeds drawn from ``random_state``, in up to
        ``n_jobs`` threads (None: up to the cores, capped by ``OMP_NUM_THREADS``); the
        members never share state, so the thread count does not change the result.
        """
        name = type(self).__name__
        if self.warm_start and hasattr(self, "network_"):
            raise ValueError(
                f"{name}: warm_start continues a single network; it is not available with "
                f"n_ensemble={self.n_ensemble}"
            )
        if checkpoint is not None or resume:
            raise ValueError(
                f"{name}: checkpoints hold the training state of a single network; they are "
                f"not available with n_ensemble={self.n_ensemble}"
            )
        if classes is not None:
            raise ValueError(f"{name}: classes is a partial_fit parameter")
        seeds = draw_seeds(self.random_state, self.n_ensemble)
        members = [
            clone(self).set_params(
                n_ensemble=1,
                n_jobs=None,
                random_state=seed,
                verbose=self.verbose if i == 0 else 0,
                warm_start=False,
            )
            for i, seed in enumerate(seeds)
        ]

        def fit_member(member):
            return member._fit(X, y, sample_weight, incremental=False)

        # None: a thread per member up to the cores this process may use, as
        # HistGradientBoosting uses them by default (each member trains on one BLAS
        # thread); OMP_NUM_THREADS, which joblib's and dask's workers set, caps it.
        n_cores = default_thread_count() if self.n_jobs is None else effective_n_jobs(self.n_jobs)
        n_threads = min(n_cores, self.n_ensemble)
        # The members' BLAS limit is set here, before their threads start: it is
        # process-wide, and they then only share it.
        with single_blas_thread():
            if n_threads == 1:
                for member in members:
                    fit_member(member)
            else:
                with ThreadPoolExecutor(n_threads) as pool:
                    list(pool.map(fit_member, members))
        params = self.get_params(deep=False)
        fitted = {k: v for k, v in vars(members[0]).items() if k not in params}
        # Fitted attributes of an earlier fit go (e.g. feature_names_in_); private ones
        # that scikit-learn's meta-estimators set on this estimator stay.
        for key in [k for k in vars(self) if k.endswith("_") and k not in params]:
            if key not in fitted:
                delattr(self, key)
        self.__dict__.update(fitted)
        self._extra_networks = [member.network_ for member in members[1:]]
        return self

    @property
    def networks_(self):
        """All fitted networks: ``network_`` and, with ``n_ensemble > 1``, the others."""
        if "network_" not in vars(self):
            raise AttributeError(f"{type(self).__name__} has no networks_: it is not fitted")
        return [self.network_, *getattr(self, "_extra_networks", ())]

    def _check_loaded_state(self):
        """Check that a loaded ensemble's members fit together.

        A loaded ensemble's members must take the same input and give the same
        outputs as ``network_``.
        """
        extra = getattr(self, "_extra_networks", ())
        first = getattr(self, "network_", None)
        if first is None:
            if extra:
                raise ValueError("ensemble members without a first network (network_)")
            return
        for net in extra:
            if net.dtype != first.dtype or net.input_shape != first.input_shape:
                raise ValueError(
                    f"an ensemble member takes {net.dtype} input shaped {net.input_shape}, "
                    f"network_ takes {first.dtype} shaped {first.input_shape}"
                )

    def _check_architecture_unchanged(self):
        built = getattr(self, "_architecture", None)
        if built is None:  # a model saved before the architecture was recorded
            return
        built = {**self._params_added_later, **built}
        changed = [k for k in ARCHITECTURE_PARAMS if built.get(k) != getattr(self, k)]
        if changed:
            diffs = ", ".join(f"{k}={built.get(k)!r} -> {getattr(self, k)!r}" for k in changed)
            raise ValueError(
                f"{type(self).__name__}: warm_start and partial_fit continue the fitted "
                f"network, but these parameters changed since it was built: {diffs}. Set them "
                "back, or fit with warm_start=False to build a new network"
            )

    def _prepare_arrays(self, X, y, sample_weight, first, classes, incremental):
        """Prepare in-memory training data.

        In-memory data: (input_shape, fingerprint(), make_batches(split_seed)); the
        fingerprint (a hash of all the data) is computed only for checkpoints.
        """
        values, mask, labels = self._convert_X(X, reset=first)
        if labels is not None:
            # Targets given with labels follow X's instances (strictly for sequence
            # formats; a tabular frame's labels may differ, as in scikit-learn).
            index, kind = labels
            y = _formats.align_targets(y, index, strict=kind != "frame")
            sample_weight = _formats.align_targets(
                sample_weight, index, kind != "frame", "sample_weight"
            )
        y_enc = self._encode_y(y, values.shape[0], first, classes)
        sample_weight = _check_sample_weight(sample_weight, values, dtype=np.float64)
        sample_weight = self._effective_weights(y_enc, sample_weight, incremental)
        fingerprint = lambda: data_fingerprint(values, mask, y_enc, sample_weight)  # noqa: E731
        input_shape = (values.shape[1] if mask is None else None, values.shape[2])

        def make_batches(split_seed):
            nonlocal values, y_enc, sample_weight, mask
            validation = None
            if self.early_stopping and not incremental:
                values, y_enc, sample_weight, mask, validation = self._split(
                    values, y_enc, sample_weight, mask, split_seed
                )
                Xv, yv, mv, wv = validation
                Xv, mv = self.network_.check_input(Xv, mv)
                validation = (Xv, yv, mv, wv)
            X_checked, mask = self.network_.check_input(values, mask)
            batches = array_batches(
                X_checked,
                y_enc,
                mask,
                sample_weight,
                self._batch_size(values.shape[0]),
                self.shuffle,
            )
            return batches, validation

        return input_shape, fingerprint, make_batches

    def _prepare_stream(self, X, y, sample_weight, first, classes, incremental):
        """Streamed data (a dask array or Batches): nothing is read in full but y."""
        name = type(self).__name__
        if sample_weight is not None:
            raise ValueError(f"{name}: sample_weight is not supported with streamed data")
        if getattr(self, "class_weight", None) is not None:
            raise ValueError(f"{name}: class_weight is not supported with streamed data")
        if self.early_stopping and not incremental:
            raise ValueError(
                f"{name}: early_stopping needs in-memory data for its validation split; with "
                "streamed data, training stops when the training loss stalls for `patience` "
                "epochs"
            )
        source = streaming.make_source(X, y, self.data_format)
        if first:
            self._input_kind = "sequences"
            self.n_features_in_ = source.n_features
            if hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
        elif source.n_features != self.n_channels_:
            raise ValueError(
                f"X has {source.n_features} features per step, but {name} was "
                f"fitted with {self.n_channels_}"
            )
        targets = source.targets()
        self._encode_y(targets, len(targets), first, classes)  # fits the target encoding
        batch_size = self._batch_size(len(targets))

        def make_batches(split_seed):
            def epoch_batches(rng):
                for Xb, yb in source.epoch(batch_size, rng, self.shuffle):
                    Xb, mb = self.network_.check_input(Xb)
                    yield Xb, self._encode_y(yb, len(Xb), False, None), mb, None

            return epoch_batches, None

        return (source.n_steps, source.n_features), source.fingerprint, make_batches

    def _split(self, values, y, w, mask, seed):
        n = values.shape[0]
        n_val = int(np.ceil(self.validation_fraction * n))
        if n_val < 1 or n - n_val < 1:
            raise ValueError(
                f"early_stopping needs enough samples for a validation set: {n} samples "
                f"with validation_fraction={self.validation_fraction}"
            )
        idx = np.arange(n)
        stratify = self._stratify(y)
        try:
            tr, va = train_test_split(idx, test_size=n_val, random_state=seed, stratify=stratify)
        except ValueError:  # a class too small to stratify
            tr, va = train_test_split(idx, test_size=n_val, random_state=seed)
        take = lambda a, i: None if a is None else a[i]  # noqa: E731
        validation = (values[va], y[va], take(mask, va), w[va])
        return values[tr], y[tr], w[tr], take(mask, tr), validation

    def _stratify(self, y):
        return None

    def _train(self, epoch_batches, validation, rng, epochs, incremental, checkpointing=None):
        """Train ``network_`` for up to ``epochs`` epochs and record its history.

        ``checkpointing`` is None or ``(Checkpoint, run)``, ``run`` holding the root
        seed, the data's fingerprint and the training generator.
        """
        bar, progress = self._progress(epochs, validation)
        callbacks = [
            self._validation_scoring(validation),
            progress,
            self._checkpoint_writer(checkpointing),
        ]
        try:
            with self._on_device():
                completed = self._run_epochs(
                    epoch_batches,
                    validation,
                    rng,
                    epochs,
                    incremental,
                    [callback for callback in callbacks if callback is not None],
                )
        finally:
            if bar is not None:
                bar.close()
        self._record_history()
        if completed and checkpointing is not None:
            ckpt, run = checkpointing
            ckpt.final(self, self._training_state(run))

    def _validation_scoring(self, validation):
        """The callback appending the validation score to ``validation_scores_``, or None."""
        if validation is None:
            return None
        _, yv, _, wv = validation

        def score_validation(epoch, hist):
            # Scores the validation output the loop already computed for its loss.
            self.validation_scores_.append(self._score_output(hist.validation_output, yv, wv))

        return score_validation

    def _progress(self, epochs, validation):
        """With ``verbose``, a tqdm bar over the epochs and the callback updating it."""
        if not self.verbose:
            return None, None
        bar = tqdm(total=epochs, desc=type(self).__name__, unit="epoch", leave=True)

        def progress(epoch, hist):
            info = {"loss": f"{hist.loss_curve[-1]:.4g}"}
            if hist.validation_loss_curve:
                info["val_loss"] = f"{hist.validation_loss_curve[-1]:.4g}"
            if self.validation_scores_ and validation is not None:
                info["val_score"] = f"{self.validation_scores_[-1]:.4g}"
            bar.set_postfix(info)
            bar.update(1)

        return bar, progress

    def _checkpoint_writer(self, checkpointing):
        """The callback writing a checkpoint after each epoch, or None."""
        if checkpointing is None:
            return None
        ckpt, run = checkpointing

        def write_checkpoint(epoch, hist):
            self._record_history()
            ckpt.after_epoch(self, hist, self._training_state(run))

        return write_checkpoint

    @staticmethod
    def _training_state(run):
        """What a checkpoint stores to resume the run: seed, data fingerprint, generator."""
        return {
            "seed": run["seed"],
            "fingerprint": run["fingerprint"],
            "rng_state": run["rng"].bit_generator.state,
        }

    @contextlib.contextmanager
    def _on_device(self):
        """Keep the weights and optimizer moments on ``device_`` for one training run.

        They go to the device once and come back once at the end (checkpoints copy
        them out, once per epoch), so fitted estimators hold NumPy weights and
        pickle anywhere, whatever stopped the run.
        """
        net, optimizer = self.network_, self._optimizer
        net.to(self.device_)
        optimizer.to(self.device_)
        try:
            yield
        finally:
            net.to("cpu")
            optimizer.to("cpu")

    def _run_epochs(self, epoch_batches, validation, rng, epochs, incremental, callbacks):
        """Run the epochs under the exception policy; True when none stopped them.

        A non-finite loss keeps the last good weights with a warning, or raises
        :class:`TrainingDivergedError` when no weights reached have a finite loss;
        Ctrl-C keeps the best weights so far, with a warning.
        """
        history = self._history
        try:
            fit_batches(
                self.network_,
                epoch_batches,
                loss=self._loss(),
                optimizer=self._optimizer,
                epochs=epochs,
                validation_data=validation,
                patience=None if incremental else self.patience,
                min_delta=self.tol,
                # The best epoch's weights, by validation loss with early_stopping, else
                # by training loss (the last epochs before a stall are no better).
                restore_best=True,
                clip_norm=self.clip_norm,
                schedule=self._lr_scheduler(),
                random_state=rng,
                callbacks=callbacks,
                history=history,
                track_best=True,
            )
            return True
        except NonFiniteLossError as exc:
            if not self._keep_finite_weights(exc, epoch_batches, validation):
                del self.network_  # weights with a non-finite loss are no fitted model
                raise TrainingDivergedError(
                    f"{type(self).__name__}: training diverged in epoch {history.n_epochs + 1} "
                    f"({exc}) and no weights it reached give a finite loss on the training "
                    "data; lower learning_rate, set clip_norm, or scale X and y"
                ) from exc
            warnings.warn(
                f"{type(self).__name__}: training stopped after {history.n_epochs} epochs "
                f"because {exc}. The estimator keeps the last good weights (the latest "
                "with a finite loss on the data); consider a lower learning_rate or "
                "scaling the data.",
                TrainingDivergedWarning,
                stacklevel=_FIT_STACKLEVEL,
            )
        except KeyboardInterrupt:
            if history.best_weights is not None:
                self.network_.set_weights(history.best_weights)
            warnings.warn(
                f"{type(self).__name__}: training interrupted after {history.n_epochs} epochs; "
                "the estimator is fitted with the best weights so far.",
                TrainingInterruptedWarning,
                stacklevel=_FIT_STACKLEVEL,
            )
        return False

    def _keep_finite_weights(self, exc, epoch_batches, validation):
        """Recover from a non-finite training step.

        After a non-finite step, keep the latest weights whose loss is finite on all
        the training (and validation) data: those the failing step started from, those
        from before the step before it, or the best epoch's. False when none is.
        """
        net, loss = self.network_, self._loss()

        def finite_loss(weights):
            if weights is not None:
                net.set_weights(weights)
            # A private generator: the check must not change the training's random stream.
            batches = epoch_batches(np.random.default_rng(0))
            for Xb, yb, mb, wb in itertools.chain(batches, [validation] if validation else []):
                if not math.isfinite(evaluate(net, loss, Xb, yb, mb, wb)[0]):
                    return False
            return True

        if finite_loss(None):
            return True
        if exc.before_last_step is not None and finite_loss(exc.before_last_step[0]):
            self._optimizer.load_state_dict(exc.before_last_step[1])
            return True
        return self._history.best_weights is not None and finite_loss(self._history.best_weights)

    def _record_history(self):
        history = self._history
        self.loss_curve_ = list(history.loss_curve)
        self.validation_loss_curve_ = list(history.validation_loss_curve)
        self.best_loss_ = history.best_loss
        self.n_epochs_ = self.n_iter_ = history.n_epochs

    def _batch_size(self, n_samples):
        return resolve_batch_size(self.batch_size, n_samples, _auto_batch_size)

    def _predict_network(self, X):
        """The outputs of every network of the ensemble for X, and X's labels.

        The outputs of the networks (``networks_``, a list) for X, and X's labels
        (see :meth:`_convert_X`).
        """
        if not hasattr(self, "network_"):  # check_is_fitted costs ~30 us per call
            check_is_fitted(self, "network_")
        device = "cpu" if self.device == "cpu" else resolve_device(self.device)
        values, mask, labels = self._convert_X(X, reset=False)
        outputs = []
        for net in [self.network_, *getattr(self, "_extra_networks", ())]:
            if device != "cpu":
                # A private device copy: concurrent predict calls never share one.
                net = copy.deepcopy(net).to(device)
            if mask is None:
                # _convert_X checked shape, features, NaN, infinity and the dtype's range,
                # so the network's own check_input would only repeat them (~8 us per call).
                values = np.ascontiguousarray(values, dtype=net.dtype)
                outputs.append(net.predict(values, validate=False))
            else:
                outputs.append(net.predict(values, mask))
        return outputs, labels

    @staticmethod
    def _label_output(out, labels):
        """Label the predictions of a MultiIndex DataFrame by instance.

        Predictions of a MultiIndex DataFrame as a Series (1-D) or DataFrame (2-D)
        indexed by its instances; other input keeps NumPy output.
        """
        if labels is None or labels[1] != "pandas":
            return out
        return (pd.Series if out.ndim == 1 else pd.DataFrame)(out, index=labels[0])

    @abstractmethod
    def _encode_y(self, y, n_samples, reset, classes):
        """Validate y and encode it in the loss' format (fitting encoders on reset)."""

    @abstractmethod
    def _n_network_outputs(self):
        """Width of the network's output layer."""

    @abstractmethod
    def _loss(self):
        """The training loss (a tsrnn.losses.Loss)."""

    @abstractmethod
    def _score_output(self, out, y_enc, sample_weight):
        """The estimator's score (R^2, accuracy) of network output ``out`` on encoded targets."""

    def _effective_weights(self, y_enc, sample_weight, incremental):
        return sample_weight

"""SequenceRegressor: a recurrent (and/or convolutional) network for sequence regression."""

import numpy as np
from sklearn.base import RegressorMixin, _fit_context
from sklearn.metrics import r2_score
from sklearn.utils import check_array
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.metaestimators import available_if

from tsrnn.estimators._base import BaseSequenceEstimator, single_network
from tsrnn.estimators._params import estimator_params
from tsrnn.losses import get_loss


@estimator_params
class SequenceRegressor(RegressorMixin, BaseSequenceEstimator):
    """Regression on sequences with a recurrent or convolutional network.

    The network is one of the ``architecture`` presets (by default ``[Conv1D front
    end] -> [MaxPooling1D] -> recurrent layers -> Dense``), trained with mini-batch
    gradient descent on the (internally standardised) targets.

    Parameters
    ----------
    architecture : {'recurrent', 'fcn', 'resnet', 'lstm-fcn', 'inceptiontime'}, \
            default='recurrent'
        The network (builders in :mod:`tsrnn.architectures`); each preset reads
        only the knobs listed here and ignores the others.

        - 'recurrent': an optional causal Conv1D front end (``conv_filters``,
          ``conv_kernel_size``, ``pool_size``), a recurrent stack (``cell``,
          ``hidden_size``, ``num_layers``, ``bidirectional``, ``activation``,
          ``dropout``, ``recurrent_dropout``) and a Dense head.
        - 'fcn': the fully convolutional network of Wang et al. (2017): three
          Conv1D-BatchNormalization-ReLU blocks with kernels 8, 5, 3 and
          ``(w, 2w, w)`` filters, global average pooling, Dense. ``w`` is
          ``conv_filters``, or 64 when it is 0 (the paper's 128 trains about four
          times slower).
        - 'resnet': Wang et al.'s ResNet: three residual blocks of three conv
          blocks (kernels 8, 5, 3) with a 1x1 Conv1D-BatchNormalization shortcut
          and ReLU after the addition, ``(w, 2w, 2w)`` filters (``conv_filters``,
          or 16 when it is 0, a quarter of the paper's 64, for
          :class:`SequenceClassifier`'s default ensemble of six), global average
          pooling, Dense.
        - 'lstm-fcn': the FCN branch (its ``w`` as for 'fcn') in parallel with a
          recurrent branch (``cell``: 'lstm' is LSTM-FCN, 'gru' GRU-FCN;
          ``hidden_size``, ``activation``) whose last hidden state goes through
          dropout 0.8 (Karim et al., 2018); both concatenated, Dense.
        - 'inceptiontime': one InceptionTime network (Ismail Fawaz et al., 2020;
          their ensemble of five is ``n_ensemble=5``): six inception modules, each
          a 1x1 bottleneck, three parallel Conv1D with kernels 39, 19, 9 (the
          paper's 40, 20, 10 made odd) and a max pooling (3, stride 1) + 1x1
          Conv1D branch, concatenated, BatchNormalization, ReLU; a residual 1x1
          shortcut around every three modules, global average pooling, Dense.
          ``w`` filters per convolution (``conv_filters``, or the paper's 32 when
          it is 0). It is the slowest preset: about 400,000 weights at w = 32.

        The convolutional presets pad 'same' on equal-length data and 'causal' on
        variable-length data, where a padded sequence then gives exactly the
        output of the unpadded one.
    cell : {'lstm', 'gru', 'rnn'} or None, default='lstm'
        Recurrent cell. None builds a convolution-only network (needs
        ``conv_filters > 0``), flattened for equal-length data and globally
        average-pooled for variable-length data.
    hidden_size : int, default=32
        Units per recurrent layer and direction. 32 is enough for typical small
        problems and keeps training fast on a laptop.
    num_layers : int, default=1
    bidirectional : bool, default=False
    conv_filters : int, default=0
        Filters of a causal Conv1D front end (0: none).
    conv_kernel_size : int, default=3
    pool_size : int or None, default=None
        Max-pooling after the front end (None: none; fixed-length data only).
    activation : {'tanh', 'relu'}, default='tanh'
        Cell activation (LSTM and simple RNN).
    dropout, recurrent_dropout : float, default=0.0
        Variational input and recurrent dropout (Keras' semantics).
    optimizer : {'adam', 'sgd'}, default='adam'
    learning_rate : float, default=3e-3
        Adam's usual 1e-3 is slow for the small networks and datasets this
        library targets; 3e-3 converges in fewer epochs and stays stable with
        ``clip_norm``.
    weight_decay : float, default=0.0
        L2 penalty added to the gradient.
    batch_size : int or 'auto', default='auto'
        'auto' is ``clip(n_samples // 8, 8, 32)``: about eight updates per epoch on
        the small datasets typical of time series (with 50 samples a batch of 32
        gives two updates per epoch, and GunPoint's accuracy fell from 0.97 to 0.94),
        and Keras' 32 on larger ones.
    max_epochs : int, default=200
    shuffle : bool, default=True
        Shuffle the samples every epoch (streamed dask arrays: the chunk order, and
        the rows of 4 chunks at a time). Without shuffling, in-memory and streamed
        data give the same batches and identical weights.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data, stop when its loss
        has not improved by ``tol`` for ``patience`` epochs, and restore the weights
        of the best validation epoch. Without it, training stops when the training
        loss stalls for ``patience`` epochs (as MLPRegressor does) and keeps the
        weights of the epoch with the lowest training loss.
    validation_fraction : float, default=0.1
    patience : int, default=20
    tol : float, default=1e-4
        Minimum improvement of the monitored loss.
    clip_norm : float or None, default=1.0
        Clip the gradient's global norm: the standard guard against exploding
        gradients in backpropagation through time.
    dtype : {'float32', 'float64'}, default='float32'
    device : {'cpu', 'cuda', 'auto'}, default='cpu'
        Where the network trains and predicts. 'cuda' runs every kernel on an
        NVIDIA GPU through numba.cuda (``pip install 'tsrnn[cuda]'``); weights and
        optimizer state stay on the GPU for the whole fit, and the fitted estimator
        holds NumPy weights, so it pickles, saves and predicts on any machine.
        Without a usable GPU, 'cuda' raises :class:`tsrnn.DeviceUnavailableError`
        (a ValueError) that says how to install it, and 'auto' uses the CPU.
    data_format : {'channels_last', 'channels_first'}, default='channels_last'
        Axis order of 3-D numpy input: (n_samples, n_timesteps, n_features), or
        aeon/sktime's (n_cases, n_channels, n_timepoints).
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, the validation split, shuffling and dropout; a fixed
        value gives bit-identical fitted weights.
    verbose : int, default=0
        1 shows a progress bar per epoch with the losses and validation score.
    warm_start : bool, default=False
        Continue from the fitted weights (and optimizer state) when fit is called again.
        The architecture (``cell``, ``hidden_size``, ``num_layers``, ``bidirectional``,
        the convolution and pooling settings, ``activation``, the dropouts, ``dtype``
        and ``optimizer``) cannot change then: a change raises ValueError naming it.
    lr_schedule : {'constant', 'plateau'}, default='constant'
        'plateau' multiplies the learning rate by ``reduce_lr_factor`` when the
        monitored loss (the validation loss with ``early_stopping``, else the
        training loss) has not improved by ``tol`` for ``reduce_lr_patience``
        epochs, as Keras' ``ReduceLROnPlateau`` callback does
        (:class:`tsrnn.training.ReduceLROnPlateau`). Keep ``reduce_lr_patience``
        below ``patience``, or training stops before the rate is reduced.
    reduce_lr_factor : float, default=0.5
        Keras' ``factor``; ``0 < reduce_lr_factor < 1``.
    reduce_lr_patience : int, default=5
        Keras' ``patience`` of the reduction. Stopping counts the same stalled
        epochs, so with ``patience=20`` the rate is reduced up to three times
        before training stops.
    reduce_lr_cooldown : int, default=0
        Keras' ``cooldown``: epochs after a reduction before stalls count again.
    min_learning_rate : float, default=1e-4
        Keras' ``min_lr``: the rate is never reduced below it.
    n_ensemble : int, default=1
        Train this many networks, each from its own seed (drawn from
        ``random_state``), and average their predictions (a classifier averages
        their probabilities), as InceptionTime ensembles five networks. A fixed
        ``random_state`` gives a bit-identical ensemble whatever ``n_jobs``.
        ``partial_fit``, ``warm_start`` and checkpoints train a single network and
        raise ValueError with ``n_ensemble > 1``.
    n_jobs : int or None, default=None
        Threads training the ensemble's networks in parallel (the kernels release
        the GIL; each network trains on one BLAS thread). None: one thread per
        network, up to the number of processors (as HistGradientBoosting uses every
        core by default), and no more than ``OMP_NUM_THREADS`` where it is set (as
        joblib's workers in ``GridSearchCV(n_jobs=...)`` and dask's workers set it,
        so that parallel fits do not oversubscribe the cores); 1 trains them one
        after the other; -1 all processors.
    loss : {'mse', 'mae', 'huber'}, default='mse'
        The training loss.

    Attributes
    ----------
    network_ : tsrnn.Network
        The network (with ``n_ensemble > 1``: the first member).
    networks_ : list of tsrnn.Network
        All ``n_ensemble`` networks, ``network_`` first.
    n_features_in_ : int
        Features per time step (for 2-D input: its columns, as scikit-learn counts).
    feature_names_in_ : ndarray of str
        When X had feature (column) names.
    n_outputs_ : int
    loss_curve_, validation_loss_curve_ : list of float
        Training and validation loss per epoch (validation with early_stopping).
        With ``n_ensemble > 1``, these and the other training attributes below
        (``validation_scores_``, ``best_loss_``, ``n_epochs_``) are the first
        member's.
    validation_scores_ : list of float
        R^2 on the validation set per epoch (with early_stopping).
    best_loss_ : float
    n_epochs_ : int
        Epochs run (also ``n_iter_``).
    device_ : {'cpu', 'cuda'}
        The device the last fit ran on.

    Examples
    --------
    >>> import numpy as np
    >>> from tsrnn import SequenceRegressor
    >>> X = np.random.default_rng(0).normal(size=(64, 20, 2))
    >>> y = X[:, -5:, 0].sum(axis=1)
    >>> reg = SequenceRegressor(hidden_size=16, max_epochs=20, random_state=0).fit(X, y)
    >>> reg.predict(X[:3]).shape
    (3,)
    """

    _parameter_constraints = {
        **BaseSequenceEstimator._parameter_constraints,
        "loss": [StrOptions({"mse", "mae", "huber"})],
    }

    loss: str = "mse"

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True  # y may be (n_samples, n_outputs)
        return tags

    @available_if(single_network)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over (X, y), starting from the current weights if fitted."""
        return self._fit(X, y, sample_weight, incremental=True)

    def predict(self, X):
        """Predictions, shaped (n_samples,) or (n_samples, n_outputs) like the fitted y.

        For a MultiIndex DataFrame X: a Series (or, for several outputs, a DataFrame)
        indexed by its instances, in the order of their first row.
        """
        outputs, labels = self._predict_network(X)
        out = outputs[0]
        if len(outputs) > 1:  # an ensemble: the mean, summed in member order
            out = out.astype(np.float64)
            for member_out in outputs[1:]:
                out = out + member_out
            out = out / len(outputs)
        # float64 y_scale_ promotes the network's output before the product.
        out = out * self.y_scale_ + self.y_mean_
        return self._label_output(out[:, 0] if self._y_1d else out, labels)

    def _encode_y(self, y, n_samples, reset, classes):
        try:
            y = check_array(y, ensure_2d=False, dtype=np.float64, input_name="y")
        except (TypeError, ValueError) as exc:
            if any(word in str(exc) for word in ("NaN", "infinity", "sample")):
                raise  # scikit-learn's own clear message
            raise ValueError(
                "y must hold real numbers (regression targets); it could not be "
                "read as an array of floats"
            ) from exc
        if y.ndim not in (1, 2):
            raise ValueError(f"y must be 1-D or 2-D, got shape {y.shape}")
        if y.shape[0] != n_samples:
            raise ValueError(f"X has {n_samples} samples but y has {y.shape[0]}")
        y2 = y.reshape(n_samples, -1)
        if reset:
            self._y_1d = y.ndim == 1
            self.n_outputs_ = y2.shape[1]
            with np.errstate(over="ignore", invalid="ignore"):
                self.y_mean_ = y2.mean(axis=0)
                scale = y2.std(axis=0)
            self.y_scale_ = np.where(scale > 0, scale, 1.0)
        elif y2.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {y2.shape[1]} outputs, but the estimator was fitted with {self.n_outputs_}"
            )
        with np.errstate(over="ignore", invalid="ignore"):
            y_enc = (y2 - self.y_mean_) / self.y_scale_
        if not (np.isfinite(y_enc).all() and np.isfinite(self.y_scale_).all()):
            raise ValueError(
                f"y is too large to standardise (max |y| = {np.abs(y2).max():.3g}); rescale y"
            )
        return y_enc

    def _n_network_outputs(self):
        return self.n_outputs_

    def _loss(self):
        return get_loss(self.loss)

    def _score_output(self, out, y_enc, sample_weight):
        return r2_score(y_enc, out, sample_weight=sample_weight)

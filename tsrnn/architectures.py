"""Named network architectures (the estimators' ``architecture`` presets).

Each builder returns the list of layers of a :class:`~tsrnn.network.Network` that
maps ``(batch, n_steps, n_features)`` sequences to ``n_outputs`` values per sequence
(logits for classifiers). They know nothing about scikit-learn.

Convolutions use 'same' padding when every sequence has the same length (as the
published models do), and 'causal' padding for variable-length (masked) batches:
there, a 'same' convolution near a sequence's end would read the padding, while a
causal one reads real steps only, so a padded sequence gives exactly the result of
the unpadded one. Batch statistics and global pooling skip padded steps.
"""

from tsrnn.layers import (
    RNN,
    Activation,
    BatchNormalization,
    Conv1D,
    Dense,
    Dropout,
    Flatten,
    GlobalAveragePooling1D,
    MaxPooling1D,
    Parallel,
    Residual,
)

#: The presets, in the order the documentation lists them.
PRESETS = ("recurrent", "fcn", "resnet", "lstm-fcn", "inceptiontime")
#: The estimator parameters that :func:`recurrent` takes.
RECURRENT_KNOBS = (
    "cell",
    "hidden_size",
    "num_layers",
    "bidirectional",
    "conv_filters",
    "conv_kernel_size",
    "pool_size",
    "activation",
    "dropout",
    "recurrent_dropout",
)
#: FCN's filters per conv block are (w, 2w, w). Wang et al. use w = 128; half of it
#: keeps a 200-epoch fit on 100 sequences of 250 steps near 30 s on two cores.
FCN_WIDTH = 64
#: ResNet's filters per residual block are (w, 2w, 2w). Wang et al. use w = 64; at a
#: quarter of it a network trains in about 0.4 of the time of one at w = 32, so the
#: classifier's default ensemble of six takes about 2.4 times as long as one network
#: at w = 32, and its average varies less with the seed (benchmarks/README.md).
RESNET_WIDTH = 16
#: InceptionTime's filters per convolution (each module outputs 4w channels); the
#: paper's w = 32.
INCEPTION_WIDTH = 32
#: InceptionTime's three kernel sizes: the paper's 40, 20, 10 made odd, so that
#: 'same' padding is symmetric.
INCEPTION_KERNELS = (39, 19, 9)
#: Inception modules per residual block (a shortcut adds the block's input).
INCEPTION_BLOCK = 3


def _padding(equal_length):
    return "same" if equal_length else "causal"


def conv_block(filters, kernel_size, padding, activation="relu"):
    """``Conv1D - BatchNormalization - Activation``: the unit of FCN and ResNet.

    The activation is the batch normalization's own (``BatchNormalization(
    activation=...)``, the same values as a separate :class:`~tsrnn.Activation`
    layer in one pass less over the data); 'linear' leaves it out.

    The batch normalization's moving statistics use momentum 0.9 (PyTorch's
    default), not Keras' 0.99: small datasets give a few updates per epoch, and
    with 0.99 the moving statistics lag the batch statistics so far behind that
    inference collapses (FCN on OSULeaf after 25 epochs: 0.865 training-mode
    accuracy on the training set, 0.145 in inference mode; 0.505 with 0.9).
    """
    return [
        Conv1D(filters, kernel_size, padding=padding, activation="linear"),
        BatchNormalization(momentum=0.9, activation=activation),
    ]


def recurrent(
    n_outputs,
    equal_length,
    *,
    cell="lstm",
    hidden_size=32,
    num_layers=1,
    bidirectional=False,
    conv_filters=0,
    conv_kernel_size=3,
    pool_size=None,
    activation="tanh",
    dropout=0.0,
    recurrent_dropout=0.0,
):
    """An optional causal Conv1D front end and max pooling, a recurrent stack, Dense.

    With ``cell=None`` the convolution's output is flattened (equal lengths) or
    global-average-pooled (variable lengths) instead.
    """
    layers = []
    if conv_filters:
        # Causal padding keeps variable-length (masked) batches exact.
        layers.append(Conv1D(conv_filters, conv_kernel_size, padding="causal"))
    if pool_size and pool_size > 1:
        layers.append(MaxPooling1D(pool_size))
    if cell is not None:
        layers.append(
            RNN(
                cell,
                hidden_size,
                num_layers=num_layers,
                bidirectional=bidirectional,
                activation=activation,
                dropout=dropout,
                recurrent_dropout=recurrent_dropout,
            )
        )
    elif not conv_filters:
        raise ValueError("cell=None needs a convolutional front end: set conv_filters > 0")
    else:
        layers.append(Flatten() if equal_length else GlobalAveragePooling1D())
    layers.append(Dense(n_outputs))
    return layers


def fcn_body(equal_length, width=None):
    """The FCN's convolutional body, without its output layer.

    FCN's three conv blocks, kernels 8, 5, 3 with ``(width, 2 * width, width)``
    filters, and global average pooling (Wang et al., 2017).
    """
    w = FCN_WIDTH if width is None else width
    padding = _padding(equal_length)
    layers = []
    for f, k in zip((w, 2 * w, w), (8, 5, 3), strict=True):
        layers += conv_block(f, k, padding)
    return layers + [GlobalAveragePooling1D()]


def fcn(n_outputs, equal_length, width=None):
    """The FCN preset (Wang et al., 2017).

    Fully convolutional network: Conv(128, 8), Conv(256, 5), Conv(128, 3), each with
    BatchNormalization and ReLU, global average pooling, Dense (Wang et al., 2017).
    ``width`` replaces 128 (the middle block has twice as many filters).
    """
    return fcn_body(equal_length, width) + [Dense(n_outputs)]


def resnet(n_outputs, equal_length, width=None):
    """The ResNet preset (Wang et al., 2017).

    Three residual blocks of three conv blocks (kernels 8, 5, 3; the last without
    its ReLU), a 1x1 Conv1D + BatchNormalization shortcut, ReLU after the addition;
    global average pooling, Dense (Wang et al., 2017). The blocks have
    ``(width, 2 * width, 2 * width)`` filters (64, 128, 128 in the paper; 16, 32,
    32 by default: :data:`RESNET_WIDTH`).
    """
    w = RESNET_WIDTH if width is None else width
    padding = _padding(equal_length)
    layers = []
    for f in (w, 2 * w, 2 * w):
        main = []
        for k, activation in zip((8, 5, 3), ("relu", "relu", "linear"), strict=True):
            main += conv_block(f, k, padding, activation)  # the last ReLU: after the addition
        shortcut = conv_block(f, 1, padding, "linear")
        layers += [Residual(main, shortcut=shortcut), Activation("relu")]
    return layers + [GlobalAveragePooling1D(), Dense(n_outputs)]


def lstm_fcn(
    n_outputs,
    equal_length,
    *,
    cell="lstm",
    hidden_size=8,
    activation="tanh",
    dropout=0.8,
    width=None,
):
    """The LSTM-FCN preset: FCN and a recurrent branch side by side.

    An FCN branch in parallel with a recurrent branch (``cell``: LSTM, GRU or the
    simple RNN; its last hidden state, then dropout), concatenated, Dense (Karim et
    al., 2018; GRU-FCN: Elsayed et al., 2018). ``width`` as in :func:`fcn_body`.

    The recurrent branch reads the sequence step by step (the paper's "dimension
    shuffle", which feeds it the whole series as one step, does not extend to
    variable lengths).
    """
    recurrent_branch = [RNN(cell, hidden_size, activation=activation)]
    if dropout:
        recurrent_branch.append(Dropout(dropout))
    return [Parallel([fcn_body(equal_length, width), recurrent_branch]), Dense(n_outputs)]


def inception_module(width, padding, bottleneck=True):
    """One InceptionTime module: ``4 * width`` output channels.

    A 1x1 bottleneck Conv1D (``width`` filters) feeding three parallel Conv1D of
    ``width`` filters and kernels :data:`INCEPTION_KERNELS`, beside a branch of max
    pooling (3 steps, stride 1) and a 1x1 Conv1D on the module's input; the four
    outputs concatenated, BatchNormalization, ReLU (Ismail Fawaz et al., 2020).
    With ``bottleneck=False`` the three convolutions read the input directly.
    """
    convs = Parallel(
        [[Conv1D(width, k, padding=padding, activation="linear")] for k in INCEPTION_KERNELS]
    )
    main = (
        [Conv1D(width, 1, padding=padding, activation="linear"), convs] if bottleneck else [convs]
    )
    pooled = [
        MaxPooling1D(3, 1, padding=padding),
        Conv1D(width, 1, padding=padding, activation="linear"),
    ]
    return [Parallel([main, pooled]), BatchNormalization(momentum=0.9, activation="relu")]


def inception_time(n_outputs, equal_length, width=None, depth=6):
    """The InceptionTime preset: one network of Ismail Fawaz et al.'s ensemble (2020).

    ``depth`` inception modules (:func:`inception_module`), with a residual
    shortcut (1x1 Conv1D and BatchNormalization, ReLU after the addition) around
    every three; global average pooling, Dense. The first module has no
    bottleneck: it convolves the input itself (the paper skips it on univariate
    input). ``width`` replaces the paper's 32 filters per convolution.
    """
    w = INCEPTION_WIDTH if width is None else width
    padding = _padding(equal_length)
    layers, block = [], []
    for i in range(depth):
        block += inception_module(w, padding, bottleneck=i > 0)
        if (i + 1) % INCEPTION_BLOCK == 0:
            shortcut = conv_block(4 * w, 1, padding, "linear")
            layers += [Residual(block, shortcut=shortcut), Activation("relu")]
            block = []
    return layers + block + [GlobalAveragePooling1D(), Dense(n_outputs)]

"""Container layers: parallel branches (concatenated) and residual blocks (added).

A container is a :class:`~tsrnn.layers.base.Layer` whose parameters are the union
of its children's, named ``'{branch}.{position}.{child name}.{parameter}'``; the
network's flat buffer therefore stays one buffer, and each child gets views into it
exactly as a top-level layer does. Forward and backward call the children's own
kernels, so a container runs wherever its children run.

On the CPU, while one network trains with a core to spare, a container's first
sequence runs in this thread and the others beside it in a helper thread
(:func:`tsrnn._threads.run_pair`); each writes its own arrays, so the results are
the same bits as in turn.
"""

import dataclasses
import functools

from tsrnn._threads import run_pair
from tsrnn.kernels import workspace
from tsrnn.layers.base import Layer

#: Inputs of fewer rows (samples times steps) run their branches in turn: handing one
#: to the helper thread costs 30-40 us, about a small branch's whole pass.
SIDE_BY_SIDE_ROWS = 2048


def _rows(x):
    return x.shape[0] * x.shape[1] if len(x.shape) == 3 else x.shape[0]


def _check_sequence(layers, what):
    layers = list(layers)
    if not layers:
        raise ValueError(f"{what} needs at least one layer")
    for layer in layers:
        if not isinstance(layer, Layer):
            raise TypeError(f"{what} must hold layers, got {type(layer).__name__}")
    return layers


class _Container(Layer):
    """Shared machinery: sequences of children over one parameter namespace."""

    supports_mask = True

    def _sequences(self):
        """The child sequences, in parameter order."""
        raise NotImplementedError

    def _prefixes(self):
        return [
            [f"{s}.{j}.{layer.name}." for j, layer in enumerate(seq)]
            for s, seq in enumerate(self._sequences())
        ]

    def _build_sequence(self, seq, shape):
        for layer in seq:
            shape = layer.build(shape, self.dtype)
        return shape

    def param_specs(self):
        return [
            (prefix + name, shape)
            for seq, prefixes in zip(self._sequences(), self._prefixes(), strict=True)
            for layer, prefix in zip(seq, prefixes, strict=True)
            for name, shape in layer.param_specs()
        ]

    @property
    def non_trainable_params(self):
        return tuple(
            prefix + name
            for seq, prefixes in zip(self._sequences(), self._prefixes(), strict=True)
            for layer, prefix in zip(seq, prefixes, strict=True)
            for name in layer.non_trainable_params
        )

    def build(self, input_shape, dtype):
        """Build the children; see :meth:`tsrnn.layers.base.Layer.build`."""
        self._child_param_names = None  # the children's shapes, hence names, may change
        return super().build(input_shape, dtype)

    def _child_names(self):
        """Per-sequence lists of ``(prefix, names)``: each child's parameter names.

        Kept from one call to the next: the views are made at every forward and
        backward pass, and matching every name against every prefix each time cost
        more than a small layer's kernels.
        """
        names = getattr(self, "_child_param_names", None)
        if names is None:
            names = self._child_param_names = [
                [
                    (prefix, tuple(name for name, _ in layer.param_specs()))
                    for layer, prefix in zip(seq, prefixes, strict=True)
                ]
                for seq, prefixes in zip(self._sequences(), self._prefixes(), strict=True)
            ]
        return names

    def _child_views(self, params):
        """Per-sequence lists of per-child dicts of views (names without the prefix)."""
        return [
            [{name: params[prefix + name] for name in names} for prefix, names in seq]
            for seq in self._child_names()
        ]

    def init_params(self, params, rng):
        for seq, views in zip(self._sequences(), self._child_views(params), strict=True):
            for layer, p in zip(seq, views, strict=True):
                layer.init_params(p, rng)

    @property
    def needs_input_gradient(self):
        return self._needs_input_gradient

    @needs_input_gradient.setter
    def needs_input_gradient(self, value):
        # Only the first child of each sequence reads the container's input.
        self._needs_input_gradient = bool(value)
        for seq in self._sequences():
            for j, layer in enumerate(seq):
                layer.needs_input_gradient = self._needs_input_gradient if j == 0 else True

    @property
    def draws_random(self):
        """Whether a child draws from the random generator in training."""
        return any(layer.draws_random for seq in self._sequences() for layer in seq)

    def _own_layers_only(self):
        """Whether every layer inside is one of tsrnn's (whose thread safety is known).

        A layer written elsewhere may keep state or draw random numbers without saying
        so: its container runs the branches in turn.
        """
        return all(
            type(layer).__module__.startswith("tsrnn.")
            and (not isinstance(layer, _Container) or layer._own_layers_only())
            for seq in self._sequences()
            for layer in seq
        )

    def _side_by_side(self, tasks, rows):
        """Run ``tasks`` (one per sequence; the first here, the others beside it if they may).

        At the same time only on the CPU, for inputs of at least :data:`SIDE_BY_SIDE_ROWS`
        ``rows`` (samples times steps), when at most one sequence draws random numbers
        (their order would otherwise depend on the threads' timing), and when every
        layer inside is tsrnn's own.
        """
        pool = workspace.active()

        def others():
            # Each in a workspace of its own, wherever it runs: the arrays it gets do
            # not depend on the other thread's requests.
            for i, task in enumerate(tasks[1:], 1):
                with workspace.using(None if pool is None else pool.child((id(self), i))):
                    task()

        drawing = sum(any(layer.draws_random for layer in seq) for seq in self._sequences())
        if (
            len(tasks) == 1
            or self.device != "cpu"
            or drawing > 1
            or rows < SIDE_BY_SIDE_ROWS
            or not self._own_layers_only()
        ):
            tasks[0]()
            others()
        else:
            run_pair(others, tasks[0])

    def to(self, device):
        for seq in self._sequences():
            for layer in seq:
                layer.to(device)
        return super().to(device)

    def _run(self, seq, views, x, ctx):
        """Forward through ``seq`` with a context of its own (a branch that ends the sequence, e.g.

        a recurrent layer, must not end it for its siblings).
        """
        ctx = dataclasses.replace(ctx)
        caches = []
        for layer, p in zip(seq, views, strict=True):
            x, cache = layer.forward(p, x, ctx)
            caches.append(cache)
        return x, caches

    def _run_backward(self, seq, views, grad_views, caches, d):
        for layer, p, g, cache in zip(
            reversed(seq), reversed(views), reversed(grad_views), reversed(caches), strict=True
        ):
            d = layer.backward(p, cache, d, g)
        return d

    def _backward_into(self, parts, i, seq, views, grad_views, caches, d):
        parts[i] = self._run_backward(seq, views, grad_views, caches, d)

    def _sum_input_gradients(self, parts):
        if not self._needs_input_gradient:
            return None
        arrays = self.backend.arrays
        total = arrays.copy(parts[0])
        for part in parts[1:]:
            arrays.add_into(total, arrays.contiguous(part))
        return total

    def _end_mask(self, ctx):
        if len(self.output_shape) < 2:
            ctx.mask = None  # the output is one vector per sequence: the sequence ends here

    def __repr__(self):
        return f"{type(self).__name__}({self._repr_args()})"


class Parallel(_Container):
    """Branches applied to the same input, outputs concatenated on the last axis.

    Parameters
    ----------
    branches : list of list of Layer
        Each branch is a sequence of layers. Their outputs must agree in every axis
        but the last: e.g. all ``(batch, n_steps, ·)``, or all global-pooled to
        ``(batch, ·)``.

    Notes
    -----
    Each branch sees the forward context's padding mask; the output keeps it when
    it is a sequence. Parameters are named ``'{branch}.{position}.{layer}.{name}'``.

    Examples
    --------
    >>> from tsrnn import LSTM, Conv1D, Dense, GlobalAveragePooling1D, Network
    >>> from tsrnn.layers.composite import Parallel
    >>> net = Network([
    ...     Parallel([[Conv1D(8, 3, padding="same"), GlobalAveragePooling1D()], [LSTM(4)]]),
    ...     Dense(1),
    ... ]).build((20, 1), random_state=0)
    >>> net.output_shape
    (1,)
    """

    name = "parallel"

    def __init__(self, branches):
        branches = list(branches)
        if not branches:
            raise ValueError("Parallel needs at least one branch")
        self.branches = [
            _check_sequence(b, f"branch {i} of Parallel") for i, b in enumerate(branches)
        ]
        self._needs_input_gradient = True

    def _sequences(self):
        return self.branches

    def get_config(self):
        """Return the constructor arguments."""
        return {"branches": [list(b) for b in self.branches]}

    def _repr_args(self):
        return "[" + ", ".join(f"[{', '.join(map(repr, b))}]" for b in self.branches) + "]"

    def _output_shape(self, input_shape):
        shapes = [self._build_sequence(b, input_shape) for b in self.branches]
        leading = {s[:-1] for s in shapes}
        if len(leading) != 1:
            raise ValueError(
                "Parallel branches must agree in every axis but the last to be concatenated, "
                f"got output shapes {shapes}"
            )
        self._widths = [s[-1] for s in shapes]
        return shapes[0][:-1] + (sum(self._widths),)

    def forward(self, params, x, ctx):
        """Run the children on ``x``; return the output and the cache for backward."""
        arrays = self.backend.arrays
        results = [None] * len(self.branches)

        def branch(i, b, views):
            out, cache = self._run(b, views, x, ctx)
            results[i] = (arrays.contiguous(out), cache)

        rows = _rows(x)
        self._side_by_side(
            [
                functools.partial(branch, i, b, views)
                for i, (b, views) in enumerate(
                    zip(self.branches, self._child_views(params), strict=True)
                )
            ],
            rows,
        )
        self._end_mask(ctx)
        return arrays.concat_last([out for out, _ in results]), ([c for _, c in results], rows)

    def backward(self, params, cache, dy, grads):
        """Backpropagate ``dy`` through the children; return the input gradient."""
        arrays = self.backend.arrays
        cache, rows = cache
        views, grad_views = self._child_views(params), self._child_views(grads)
        parts = [None] * len(self.branches)
        tasks, lo = [], 0
        for i, (b, v, g, c, width) in enumerate(
            zip(self.branches, views, grad_views, cache, self._widths, strict=True)
        ):
            d = dy if len(self.branches) == 1 else arrays.take_last(dy, lo, lo + width)
            tasks.append(functools.partial(self._backward_into, parts, i, b, v, g, c, d))
            lo += width
        self._side_by_side(tasks, rows)
        return self._sum_input_gradients(parts)


class Residual(_Container):
    """``layers(x) + shortcut(x)``: a residual block.

    Parameters
    ----------
    layers : list of Layer
        The main path.
    shortcut : list of Layer or None, default=None
        The projection on the shortcut path (e.g. a 1x1 ``Conv1D`` and a
        ``BatchNormalization`` when the widths differ); None is the identity.
        Both paths must give the same output shape.

    Notes
    -----
    Both paths see the forward context's padding mask. Parameters are named
    ``'0.{position}.{layer}.{name}'`` on the main path and ``'1.{position}...'`` on
    the shortcut. An activation after the addition (as in ResNet) is a separate
    :class:`~tsrnn.layers.Activation` layer.
    """

    name = "residual"

    def __init__(self, layers, shortcut=None):
        self.layers = _check_sequence(layers, "the main path of Residual")
        self.shortcut = (
            None if shortcut is None else _check_sequence(shortcut, "the shortcut of Residual")
        )
        self._needs_input_gradient = True

    def _sequences(self):
        return [self.layers] if self.shortcut is None else [self.layers, self.shortcut]

    def get_config(self):
        """Return the constructor arguments."""
        shortcut = None if self.shortcut is None else list(self.shortcut)
        return {"layers": list(self.layers), "shortcut": shortcut}

    def _repr_args(self):
        main = ", ".join(map(repr, self.layers))
        if self.shortcut is None:
            return f"[{main}]"
        return f"[{main}], shortcut=[{', '.join(map(repr, self.shortcut))}]"

    def _output_shape(self, input_shape):
        main = self._build_sequence(self.layers, input_shape)
        short = (
            input_shape
            if self.shortcut is None
            else self._build_sequence(self.shortcut, input_shape)
        )
        if main != short:
            raise ValueError(
                f"Residual paths must give the same shape to be added: the main path gives "
                f"{main}, the shortcut {short}"
            )
        return main

    def forward(self, params, x, ctx):
        """Run the children on ``x``; return the output and the cache for backward."""
        arrays = self.backend.arrays
        views = self._child_views(params)
        if self.shortcut is None:
            out, main_cache = self._run(self.layers, views[0], x, ctx)
            short, short_cache = x, None
        else:
            paths = [None, None]

            def path(i, seq):
                paths[i] = self._run(seq, views[i], x, ctx)

            self._side_by_side(
                [functools.partial(path, i, seq) for i, seq in enumerate(self._sequences())],
                _rows(x),
            )
            (out, main_cache), (short, short_cache) = paths
        y = arrays.copy(arrays.contiguous(out))
        arrays.add_into(y, arrays.contiguous(short))
        self._end_mask(ctx)
        return y, (main_cache, short_cache, _rows(x))

    def backward(self, params, cache, dy, grads):
        """Backpropagate ``dy`` through the children; return the input gradient."""
        main_cache, short_cache, rows = cache
        views, grad_views = self._child_views(params), self._child_views(grads)
        if self.shortcut is None:
            parts = [self._run_backward(self.layers, views[0], grad_views[0], main_cache, dy)]
            parts.append(dy)
            return self._sum_input_gradients(parts)
        parts = [None, None]
        self._side_by_side(
            [
                functools.partial(self._backward_into, parts, i, seq, v, g, c, dy)
                for i, (seq, v, g, c) in enumerate(
                    zip(
                        self._sequences(),
                        views,
                        grad_views,
                        (main_cache, short_cache),
                        strict=True,
                    )
                )
            ],
            rows,
        )
        return self._sum_input_gradients(parts)

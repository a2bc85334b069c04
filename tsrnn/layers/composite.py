"""Container layers: parallel branches (concatenated) and residual blocks (added).

A container is a :class:`~tsrnn.layers.base.Layer` whose parameters are the union
of its children's, named ``'{branch}.{position}.{child name}.{parameter}'``; the
network's flat buffer therefore stays one buffer, and each child gets views into it
exactly as a top-level layer does. Forward and backward call the children's own
kernels, so a container runs wherever its children run.
"""

import dataclasses

from tsrnn.layers.base import Layer


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
        outs, caches = [], []
        for b, views in zip(self.branches, self._child_views(params), strict=True):
            out, cache = self._run(b, views, x, ctx)
            outs.append(self.backend.arrays.contiguous(out))
            caches.append(cache)
        self._end_mask(ctx)
        return self.backend.arrays.concat_last(outs), caches

    def backward(self, params, cache, dy, grads):
        """Backpropagate ``dy`` through the children; return the input gradient."""
        arrays = self.backend.arrays
        parts, lo = [], 0
        views, grad_views = self._child_views(params), self._child_views(grads)
        for b, v, g, c, width in zip(
            self.branches, views, grad_views, cache, self._widths, strict=True
        ):
            d = dy if len(self.branches) == 1 else arrays.take_last(dy, lo, lo + width)
            parts.append(self._run_backward(b, v, g, c, d))
            lo += width
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
        out, main_cache = self._run(self.layers, views[0], x, ctx)
        if self.shortcut is None:
            short, short_cache = x, None
        else:
            short, short_cache = self._run(self.shortcut, views[1], x, ctx)
        y = arrays.copy(arrays.contiguous(out))
        arrays.add_into(y, arrays.contiguous(short))
        self._end_mask(ctx)
        return y, (main_cache, short_cache)

    def backward(self, params, cache, dy, grads):
        """Backpropagate ``dy`` through the children; return the input gradient."""
        main_cache, short_cache = cache
        views, grad_views = self._child_views(params), self._child_views(grads)
        parts = [self._run_backward(self.layers, views[0], grad_views[0], main_cache, dy)]
        if self.shortcut is None:
            parts.append(dy)
        else:
            parts.append(
                self._run_backward(self.shortcut, views[1], grad_views[1], short_cache, dy)
            )
        return self._sum_input_gradients(parts)

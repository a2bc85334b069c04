"""Optimizers: small classes with one ``update`` method over a flat parameter buffer."""

import inspect

from tsrnn.backend import backend_of, get_backend


class Optimizer:
    """Base class. ``update(params, grads)`` changes the flat ``params`` in place.

    ``learning_rate`` may be changed between steps (that is what schedules do).
    Optimizer state (moments, step count) is exposed by :meth:`state_dict` so a
    checkpoint can resume a run exactly.

    Parameters
    ----------
    learning_rate : float > 0
        The step size.
    weight_decay : float >= 0, default=0.0
        L2 penalty added to the gradient.

    Raises
    ------
    ValueError
        If ``learning_rate`` is not positive or ``weight_decay`` is negative.
    """

    def __init__(self, learning_rate, weight_decay=0.0):
        if not learning_rate > 0:
            raise ValueError(f"learning_rate must be positive, got {learning_rate!r}")
        if weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay!r}")
        self.learning_rate = float(learning_rate)
        self.weight_decay = float(weight_decay)
        self.step_count = 0

    def state_dict(self):
        """Step count, learning rate and copies of the buffers (on their device)."""
        state = {"step_count": self.step_count, "learning_rate": self.learning_rate}
        state.update({k: backend_of(v).arrays.copy(v) for k, v in self._buffers().items()})
        return state

    def load_state_dict(self, state):
        """Restore the state :meth:`state_dict` returned, in place.

        Parameters
        ----------
        state : dict
            ``step_count``, ``learning_rate`` and the buffers (copied into this
            optimizer's buffers on their device); buffers absent from ``state`` are reset.
        """
        self.step_count = int(state["step_count"])
        self.learning_rate = float(state["learning_rate"])
        for name, value in self._buffers().items():
            if name in state:
                backend_of(value).arrays.copy_into(state[name], value)
            else:  # a state from before the first step, which creates the buffers
                setattr(self, name, None)

    def _get_state(self):
        """What a model file stores: the scalar settings and :meth:`state_dict` on the host.

        On the host because a checkpoint can be written while training on a GPU.
        """
        config = {k: v for k, v in vars(self).items() if isinstance(v, (int, float, bool))}
        state = {
            k: backend_of(v).arrays.to_host(v) if hasattr(v, "shape") else v
            for k, v in self.state_dict().items()
        }
        return {"config": config, "state": state}

    @classmethod
    def _from_state(cls, config, state):
        """The optimizer a model file describes (the inverse of :meth:`_get_state`)."""
        accepted = inspect.signature(cls).parameters
        opt = cls(**{k: v for k, v in config.items() if k in accepted})
        opt.load_state_dict(state)
        return opt

    def to(self, device):
        """Move the optimizer's buffers (moments, velocity) to ``device``.

        Parameters
        ----------
        device : {'cpu', 'cuda'}

        Returns
        -------
        self
        """
        arrays = get_backend(device).arrays
        for name, value in self._buffers().items():
            host = backend_of(value).arrays.to_host(value)
            setattr(self, name, arrays.to_device(host))
        return self

    def _buffers(self):
        return {}


class Adam(Optimizer):
    """Adam with bias correction; ``weight_decay`` is L2 (as ``torch.optim.Adam``).

    Parameters
    ----------
    learning_rate : float > 0, default=1e-3
    beta1, beta2 : float in [0, 1), default=0.9, 0.999
        Decay rates of the first and second moment estimates.
    eps : float, default=1e-8
        Added to the denominator.
    weight_decay : float >= 0, default=0.0
        L2 penalty added to the gradient.

    Raises
    ------
    ValueError
        If an argument is out of range.
    """

    def __init__(self, learning_rate=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
        super().__init__(learning_rate, weight_decay)
        for name, beta in (("beta1", beta1), ("beta2", beta2)):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {beta!r}")
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)
        self.m = self.v = None

    def _buffers(self):
        return {} if self.m is None else {"m": self.m, "v": self.v}

    def load_state_dict(self, state):
        """Restore :meth:`state_dict`'s output, allocating the moments if needed."""
        if "m" in state and self.m is None:
            arrays = backend_of(state["m"]).arrays
            self.m, self.v = arrays.zeros_like(state["m"]), arrays.zeros_like(state["v"])
        super().load_state_dict(state)

    def update(self, params, grads):
        """Take one Adam step: update ``params`` in place from ``grads``.

        Parameters
        ----------
        params : ndarray of shape (n_params,)
            The network's flat parameter buffer (NumPy or CUDA), updated in place.
        grads : ndarray of shape (n_params,)
            dL/dparams, on the same device.
        """
        backend = backend_of(params)
        if self.m is None:
            self.m, self.v = backend.arrays.zeros_like(params), backend.arrays.zeros_like(params)
        self.step_count += 1
        backend.optim.adam_step(
            params,
            grads,
            self.m,
            self.v,
            self.learning_rate,
            self.beta1,
            self.beta2,
            self.eps,
            self.weight_decay,
            self.step_count,
        )


class SGD(Optimizer):
    """SGD with optional momentum and Nesterov momentum (as ``torch.optim.SGD``).

    Parameters
    ----------
    learning_rate : float > 0, default=1e-2
    momentum : float in [0, 1), default=0.9
    nesterov : bool, default=False
        Nesterov momentum; needs ``momentum > 0``.
    weight_decay : float >= 0, default=0.0
        L2 penalty added to the gradient.

    Raises
    ------
    ValueError
        If an argument is out of range.
    """

    def __init__(self, learning_rate=1e-2, momentum=0.9, nesterov=False, weight_decay=0.0):
        super().__init__(learning_rate, weight_decay)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
        if nesterov and momentum == 0:
            raise ValueError("Nesterov momentum needs momentum > 0")
        self.momentum, self.nesterov = float(momentum), bool(nesterov)
        self.velocity = None

    def _buffers(self):
        return {} if self.velocity is None else {"velocity": self.velocity}

    def load_state_dict(self, state):
        """Restore :meth:`state_dict`'s output, allocating the velocity if needed."""
        if "velocity" in state and self.velocity is None:
            self.velocity = backend_of(state["velocity"]).arrays.zeros_like(state["velocity"])
        super().load_state_dict(state)

    def update(self, params, grads):
        """Take one SGD step: update ``params`` in place from ``grads``.

        Parameters
        ----------
        params : ndarray of shape (n_params,)
            The network's flat parameter buffer (NumPy or CUDA), updated in place.
        grads : ndarray of shape (n_params,)
            dL/dparams, on the same device.
        """
        backend = backend_of(params)
        first = self.velocity is None
        if first:
            self.velocity = backend.arrays.zeros_like(params)
        self.step_count += 1
        backend.optim.sgd_step(
            params,
            grads,
            self.velocity,
            self.learning_rate,
            self.momentum,
            self.nesterov,
            self.weight_decay,
            first,
        )


def clip_by_global_norm(grads, max_norm):
    """Scale ``grads`` in place so that its norm is at most ``max_norm``.

    The rule of ``torch.nn.utils.clip_grad_norm_``: multiply by
    ``max_norm / (norm + 1e-6)`` when that factor is below 1.

    Parameters
    ----------
    grads : ndarray of shape (n_params,)
        The flat gradient buffer (NumPy or CUDA), scaled in place.
    max_norm : float
        The largest allowed Euclidean norm.

    Returns
    -------
    float
        The norm of ``grads`` before clipping.
    """
    kernels = backend_of(grads).optim
    norm = kernels.global_norm(grads)
    factor = max_norm / (norm + 1e-6)
    if factor < 1.0:
        kernels.scale_in_place(grads, factor)
    return norm


OPTIMIZERS = {"adam": Adam, "sgd": SGD}


def get_optimizer(name, learning_rate, **kwargs):
    """An optimizer instance from a name in ``OPTIMIZERS`` or an Optimizer.

    Parameters
    ----------
    name : {'adam', 'sgd'} or Optimizer
        An Optimizer is returned as is (``learning_rate`` and ``kwargs`` are ignored).
    learning_rate : float
        The step size of a new optimizer.
    **kwargs
        Further constructor arguments of the named optimizer.

    Returns
    -------
    Optimizer

    Raises
    ------
    ValueError
        If ``name`` is not a known optimizer.
    """
    if isinstance(name, Optimizer):
        return name
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)}, got {name!r}")
    return OPTIMIZERS[name](learning_rate=learning_rate, **kwargs)

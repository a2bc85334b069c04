"""The exceptions of model files."""


class ModelFileError(ValueError):
    """A model file cannot be loaded.

    It is corrupt, truncated, hostile, not a tsrnn model, or from a newer format.
    """


class SaveTargetError(ValueError):
    """A model cannot be saved at the given path (a folder, a device, a FIFO...)."""

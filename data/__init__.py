"""The shipped datasets, installed as the ``tsrnn.data`` package (see README.md)."""

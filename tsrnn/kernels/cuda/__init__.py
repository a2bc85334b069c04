"""GPU kernels compiled with ``numba.cuda`` (the ``tsrnn[cuda]`` extra).

They mirror :mod:`tsrnn.kernels.cpu` file by file, with the same names,
conventions and scalar math (:mod:`tsrnn.kernels.scalar`), and take device arrays.
Tested on Numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``) against the NumPy
reference; ``pytest -m gpu tests/cuda`` runs the same tests on a real GPU.
"""

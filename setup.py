"""Package discovery: every package under tsrnn/, plus data/ as ``tsrnn.data``.

The repository's top-level data/ folder holds the shipped datasets.

Everything else about the build is in pyproject.toml. setuptools' declarative
``packages.find`` cannot map a folder outside ``tsrnn/`` into the package, hence
this file.
"""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["tsrnn", "tsrnn.*"]) + ["tsrnn.data"],
    package_dir={"tsrnn.data": "data"},
)

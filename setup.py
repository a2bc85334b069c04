"""Package discovery: every package under tsrnn/, plus the repository's top-level data/
folder installed as the ``tsrnn.data`` package (the shipped datasets).

Everything else about the build is in pyproject.toml. setuptools' declarative
``packages.find`` cannot map a folder outside ``tsrnn/`` into the package, hence
this file.
"""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["tsrnn", "tsrnn.*"]) + ["tsrnn.data"],
    package_dir={"tsrnn.data": "data"},
)

"""Loaders for the datasets shipped in the ``tsrnn.data`` package (see data/README.md).

Series come back as pandas objects indexed by time; classification sets as
numpy arrays ``X`` of shape (n_cases, n_timesteps, n_channels) (a list of 2-D
arrays when the lengths differ) with string labels ``y``.
"""

from importlib.resources import files

import numpy as np
import pandas as pd


def _path(name):
    return files("tsrnn.data") / name


def load_airline():
    """Monthly airline passengers 1949-01..1960-12 as a Series with a monthly index.

    Returns
    -------
    pandas.Series
        144 float values named 'passengers', indexed by month-start timestamps.
    """
    df = pd.read_csv(_path("Airline.csv"))
    index = pd.PeriodIndex(df["Date"], freq="M").to_timestamp()
    return pd.Series(df["Passengers"].to_numpy(float), index=index, name="passengers")


def load_sunspots():
    """Yearly sunspot activity 1700-2008 as a Series indexed by year-start timestamps.

    Returns
    -------
    pandas.Series
        309 float values named 'sunactivity'.
    """
    df = pd.read_csv(_path("sunspots.csv"))
    index = pd.to_datetime(df["YEAR"].astype(int).astype(str), format="%Y")
    return pd.Series(df["SUNACTIVITY"].to_numpy(float), index=index, name="sunactivity")


def load_co2():
    """Weekly Mauna Loa CO2 1958-2001 as a Series (NaN where the record has gaps).

    Returns
    -------
    pandas.Series
        Float values (ppm) named 'co2', indexed by the weeks' timestamps.
    """
    df = pd.read_csv(_path("co2.csv"))
    index = pd.to_datetime(df["date"].astype(str), format="%Y%m%d")
    return pd.Series(df["co2"].to_numpy(float), index=index, name="co2")


def read_ts(path):
    """Parse a ``.ts`` classification file (the UCR/UEA archive format).

    Parameters
    ----------
    path : str or path-like
        The file; everything before its ``@data`` line is skipped.

    Returns
    -------
    X : ndarray of shape (n_cases, n_timesteps, n_channels) or list of ndarray
        An array when all cases have one length, otherwise a list of
        (n_timesteps_i, n_channels) arrays.
    y : ndarray of shape (n_cases,)
        String class labels.

    Raises
    ------
    ValueError
        If the file has no ``@data`` section or a value is not a number.
    """
    cases, labels, in_data = [], [], False
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if not in_data:
                in_data = line.lower() == "@data"
                continue
            *channels, label = line.split(":")
            cases.append(np.array([[float(v) for v in c.split(",")] for c in channels]).T)
            labels.append(label.strip())
    if not cases:
        raise ValueError(f"{path} has no @data section")
    y = np.array(labels)
    if len({c.shape for c in cases}) == 1:
        return np.stack(cases), y
    return cases, y


def _load_classification(name, split):
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    return read_ts(_path(f"{name}_{split.upper()}.ts"))


def load_italy_power_demand(split="train"):
    """ItalyPowerDemand (UCR): 24-step daily demand curves, 2 classes.

    Parameters
    ----------
    split : {'train', 'test'}, default='train'
        The archive's own train/test split.

    Returns
    -------
    X : ndarray of shape (n_cases, 24, 1)
    y : ndarray of shape (n_cases,)
        String class labels.

    Raises
    ------
    ValueError
        If ``split`` is neither 'train' nor 'test'.
    """
    return _load_classification("ItalyPowerDemand", split)


def load_gunpoint(split="train"):
    """GunPoint (UCR): 150-step hand trajectories, 2 classes.

    Parameters
    ----------
    split : {'train', 'test'}, default='train'
        The archive's own train/test split.

    Returns
    -------
    X : ndarray of shape (n_cases, 150, 1)
    y : ndarray of shape (n_cases,)
        String class labels.

    Raises
    ------
    ValueError
        If ``split`` is neither 'train' nor 'test'.
    """
    return _load_classification("GunPoint", split)


def load_basic_motions(split="train"):
    """BasicMotions (UEA): 100 steps, 6 channels, 4 activities.

    Parameters
    ----------
    split : {'train', 'test'}, default='train'
        The archive's own train/test split.

    Returns
    -------
    X : ndarray of shape (n_cases, 100, 6)
    y : ndarray of shape (n_cases,)
        String class labels.

    Raises
    ------
    ValueError
        If ``split`` is neither 'train' nor 'test'.
    """
    return _load_classification("BasicMotions", split)


def load_japanese_vowels(split="train"):
    """JapaneseVowels (UEA): 12 channels, 7-29 steps (a list of arrays), 9 speakers.

    Parameters
    ----------
    split : {'train', 'test'}, default='train'
        The archive's own train/test split.

    Returns
    -------
    X : list of ndarray of shape (n_timesteps_i, 12)
    y : ndarray of shape (n_cases,)
        String class labels.

    Raises
    ------
    ValueError
        If ``split`` is neither 'train' nor 'test'.
    """
    return _load_classification("JapaneseVowels", split)

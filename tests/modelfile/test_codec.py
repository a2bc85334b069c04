"""The codec: pandas indexes and periods round-trip exactly; Forecasters fitted on any
index type save and load."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tsrnn
from tsrnn import Forecaster
from tsrnn.preprocessing import TimeSeriesScaler

INDEXES = {
    "period-monthly": pd.period_range("2000-01", periods=6, freq="M", name="month"),
    "period-quarterly": pd.period_range("1999Q3", periods=4, freq="Q"),
    "period-annual": pd.PeriodIndex(["1900", "1901", "1903"], freq="Y"),
    "datetime-tz-freq": pd.date_range("2021-03-27", periods=5, freq="D", tz="Europe/Rome"),
    "datetime-tz-irregular": pd.DatetimeIndex(
        ["2020-01-01 00:30", "2020-06-01 12:00"], tz="America/New_York"
    ),
    "datetime-hourly": pd.date_range("2020-01-01", periods=4, freq="h", name="t"),
    "range": pd.RangeIndex(5, 45, 2, name="step"),
    "range-empty": pd.RangeIndex(0),
    "int64": pd.Index([3, 1, 2], dtype="int64", name="id"),
    "uint8": pd.Index([3, 1, 2], dtype="uint8"),
    "float": pd.Index([0.5, 1.5]),
    "strings": pd.Index(["a", "b"], name="label"),
    "timedelta-freq": pd.timedelta_range("1D", periods=3, freq="D"),
    "multi": pd.MultiIndex.from_tuples(
        [("a", pd.Period("2000-01", "M")), ("b", pd.Period("2000-02", "M"))],
        names=["id", "month"],
    ),
}


def roundtrip_extra(value, tmp_path):
    path = tmp_path / "m.tsrnn"
    tsrnn.save(TimeSeriesScaler(), path, extra={"value": value})
    return tsrnn.load(path, return_extra=True)[1]["value"]


@pytest.mark.parametrize("name", INDEXES)
def test_index_round_trips_exactly(name, tmp_path):
    index = INDEXES[name]
    loaded = roundtrip_extra(index, tmp_path)
    assert type(loaded) is type(index)
    pd.testing.assert_index_equal(loaded, index, exact=True)
    assert loaded.names == index.names
    assert getattr(loaded, "freq", None) == getattr(index, "freq", None)


@pytest.mark.parametrize(
    "value",
    [
        pd.Period("2001-03", freq="M"),
        pd.Period("1960", freq="Y"),
        pd.Timestamp("2020-05-01 10:00", tz="Asia/Tokyo"),
        pd.Timestamp("1999-12-31"),
    ],
    ids=repr,
)
def test_period_and_timestamp_scalars_round_trip(value, tmp_path):
    loaded = roundtrip_extra(value, tmp_path)
    assert type(loaded) is type(value) and loaded == value
    assert getattr(loaded, "freq", None) == getattr(value, "freq", None)
    assert str(getattr(loaded, "tz", None)) == str(getattr(value, "tz", None))


@pytest.mark.parametrize(
    "index",
    [
        pd.period_range("2000-01", periods=40, freq="M"),
        pd.period_range("1900", periods=40, freq="Y"),
        pd.RangeIndex(5, 45),
        pd.Index(np.arange(40) * 3),
        pd.date_range("2020-01-01", periods=40, freq="h", tz="UTC"),
    ],
    ids=["period-M", "period-Y", "range", "int64", "datetime-utc"],
)
def test_forecaster_fitted_on_any_index_saves_and_loads(index, tmp_path):
    y = pd.Series(np.sin(np.arange(40) / 3), index=index, name="y")
    est = Forecaster(window=6, horizon=3, hidden_size=3, max_epochs=2, random_state=0).fit(y)
    path = tmp_path / "forecaster.tsrnn"
    est.save(path)
    loaded = tsrnn.load(path)
    pd.testing.assert_series_equal(loaded.predict(), est.predict())
    pd.testing.assert_index_equal(loaded._meta["index"], est._meta["index"], exact=True)


def test_files_written_before_the_split_still_load():
    # Written by tsrnn at commit 69c9694 (before the persistence split), with its
    # predicted probabilities on X below.
    data = Path(__file__).parent / "data"
    X = np.random.default_rng(0).normal(size=(6, 5, 2))
    loaded = tsrnn.load(data / "format1-classifier.tsrnn")
    expected = np.load(data / "format1-classifier-proba.npy")
    np.testing.assert_array_equal(loaded.predict_proba(X), expected)
    assert list(loaded.classes_) == ["a", "b", "c"]


class _Arrays:
    """An archive of the arrays an Encoder collected."""

    def __init__(self, arrays):
        self.arrays = arrays

    def array(self, name, **expect):
        return self.arrays[name]


# Frequencies as pandas spelt them before 2.2, and from 2.2 on (pandas 3 reads only
# the second, pandas 2.0 only the first), with the index of each built without either.
SPELLINGS = {
    "annual": ("A-DEC", "YE-DEC", pd.date_range("2000", periods=3, freq=pd.offsets.YearEnd())),
    "monthly": ("M", "ME", pd.date_range("2000", periods=3, freq=pd.offsets.MonthEnd())),
    "quarterly": (
        "Q-DEC",
        "QE-DEC",
        pd.date_range("2000", periods=3, freq=pd.offsets.QuarterEnd(startingMonth=12)),
    ),
    "two-monthly": ("2M", "2ME", pd.date_range("2000", periods=3, freq=pd.offsets.MonthEnd(2))),
    "hourly": ("H", "h", pd.date_range("2000", periods=3, freq=pd.offsets.Hour())),
    "annual-periods": ("A-DEC", "Y-DEC", pd.period_range("2000", periods=3, freq="Y")),
    "annual-period": ("A-DEC", "Y-DEC", pd.Period("2000", freq="Y")),
}


@pytest.mark.parametrize("name", SPELLINGS)
def test_a_frequency_spelt_by_another_pandas_loads(name):
    from tsrnn.modelfile.codec import Decoder, Encoder

    old, new, value = SPELLINGS[name]
    encoder = Encoder()
    data = encoder(value)
    assert data["freq"] in (old, new)
    data["freq"] = old if data["freq"] == new else new  # as the other pandas saved it
    loaded = Decoder(_Arrays(encoder.arrays))(data)
    if isinstance(value, pd.Period):
        assert loaded == value and loaded.freq == value.freq
    else:
        pd.testing.assert_index_equal(loaded, value, exact=True)
        assert loaded.freq == value.freq

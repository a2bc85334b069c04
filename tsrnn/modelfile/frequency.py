"""Pandas frequency strings read by every supported pandas.

pandas 2.2 renamed the period-end aliases of datetime frequencies ('M' to 'ME',
'Q-DEC' to 'QE-DEC', 'A-DEC' to 'YE-DEC', ...), spelt the annual period 'Y-DEC'
instead of 'A-DEC', and lowered the case of the sub-daily aliases ('H' to 'h', 'T' to
'min', ...). pandas 3 reads only the new spellings, pandas 2.0 and 2.1 only the old
ones, so no single spelling serves every supported pandas. A model file keeps the
spelling of the pandas that saved it, and :func:`readable` translates it on load to
the one the running pandas reads.
"""

import re
import warnings

import pandas as pd
from pandas.tseries.frequencies import to_offset

# Aliases of datetime (and timedelta) frequencies: the spelling before pandas 2.2,
# then from pandas 2.2 on.
_DATETIME = {
    "A": "YE",
    "Y": "YE",
    "BA": "BYE",
    "BY": "BYE",
    "AS": "YS",
    "BAS": "BYS",
    "Q": "QE",
    "BQ": "BQE",
    "M": "ME",
    "BM": "BME",
    "SM": "SME",
    "CBM": "CBME",
    "H": "h",
    "BH": "bh",
    "CBH": "cbh",
    "T": "min",
    "S": "s",
    "L": "ms",
    "U": "us",
    "N": "ns",
}
# Period frequencies kept 'M' and 'Q'; the annual and sub-daily ones changed.
_PERIOD = {"A": "Y", "H": "h", "T": "min", "S": "s", "L": "ms", "U": "us", "N": "ns"}
# A multiple, an alias, and an anchor such as '-DEC' or '-15': '2ME', 'QE-DEC'.
_PARTS = re.compile(r"(-?\d*)([A-Za-z]+)(-\w+)?")


def _reads(freq, period):
    """Whether the running pandas reads ``freq`` without an error or a deprecation."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            pd.PeriodDtype(freq) if period else to_offset(freq)
        except (ValueError, TypeError, Warning):
            return False
    return True


def readable(freq, period=False):
    """The spelling of a frequency that the running pandas reads.

    Parameters
    ----------
    freq : str or None
        A frequency as some supported pandas spelt it (``freqstr``).
    period : bool, default=False
        Whether it is the frequency of periods (else of dates or time deltas).

    Returns
    -------
    str or None
        ``freq`` if the running pandas reads it as it is (without a deprecation
        warning), else its spelling from the other side of pandas 2.2's renaming
        when that reads, else ``freq`` unchanged (for pandas to reject by name).
    """
    if freq is None or _reads(freq, period):
        return freq
    parts = _PARTS.fullmatch(freq)
    if parts is None:
        return freq
    multiple, alias, anchor = parts.groups()
    newer = _PERIOD if period else _DATETIME
    older = {}
    for old, new in newer.items():
        older.setdefault(new, old)
    for table in (newer, older):
        if alias in table:
            candidate = multiple + table[alias] + (anchor or "")
            if _reads(candidate, period):
                return candidate
    return freq

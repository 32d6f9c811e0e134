"""Conversions of Python, numpy-like and pandas-like values into the API's JSON (no server needed).

numpy and pandas are not required: their values are recognised by duck typing (`.item()`,
`.tolist()`), which the small fakes below mimic. When numpy happens to be installed, its real
values are checked too.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import os
from decimal import Decimal
from typing import Any, List

import pytest

from vigil_client import to_json, to_ts
from vigil_client._convert import clean_item

UTC = dt.timezone.utc


class FakeScalar:
    """Like a numpy scalar (np.float64 is a float, but np.float32, np.int64, np.bool_ are not)."""

    ndim = 0

    def __init__(self, value: Any) -> None:
        self.value = value

    def item(self) -> Any:
        return self.value

    def tolist(self) -> Any:
        return self.value


class FakeArray:
    """Like a numpy array: `.tolist()` gives nested lists of Python values."""

    ndim = 1

    def __init__(self, values: List[Any]) -> None:
        self.values = values

    def tolist(self) -> List[Any]:
        return list(self.values)

    def item(self) -> Any:
        raise ValueError("can only convert an array of size 1 to a Python scalar")


def test_nan_and_inf_become_null_at_any_depth() -> None:
    value = {"a": math.nan, "b": [1.0, math.inf, {"c": -math.inf}], "d": Decimal("NaN"), "e": Decimal("Infinity"),
             "f": FakeScalar(math.nan), "g": FakeArray([math.nan, 2.0])}
    out = to_json(value)
    assert out == {"a": None, "b": [1.0, None, {"c": None}], "d": None, "e": None, "f": None, "g": [None, 2.0]}
    json.dumps(out, allow_nan=False)  # would raise on any NaN left


def test_plain_values_keep_their_type() -> None:
    assert to_json(True) is True and to_json(False) is False  # bool stays bool, not 1/0
    assert to_json(3) == 3 and isinstance(to_json(3), int)
    assert to_json(Decimal("1.25")) == 1.25 and isinstance(to_json(Decimal("1.25")), float)
    assert to_json(FakeScalar(7)) == 7 and to_json(FakeScalar(True)) is True
    assert to_json(FakeArray([[1, 2], [3, 4]])) == [[1, 2], [3, 4]]
    assert to_json((1, "a")) == [1, "a"]
    assert to_json({1: 0.5, "b": 0.5}) == {"1": 0.5, "b": 0.5}  # class keys as JSON spells them
    assert to_json({True: 0.25, FakeScalar(False): 0.75}) == {"true": 0.25, "false": 0.75}


def test_other_values_become_strings_with_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    class Odd:
        def __str__(self) -> str:
            return "odd!"

    with caplog.at_level(logging.WARNING, logger="vigil_client"):
        assert to_json({"x": Odd(), "y": [Odd(), Odd()]}) == {"x": "odd!", "y": ["odd!", "odd!"]}
    warnings = [r for r in caplog.records if "Odd" in r.getMessage()]
    assert len(warnings) == 1


def test_datetimes_in_values_are_rfc3339() -> None:
    assert to_json(dt.datetime(2024, 5, 1, 12, 0, 0, 250_000)) == "2024-05-01T12:00:00.250Z"  # naive = UTC
    assert to_json(dt.datetime(2024, 5, 1, 14, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))) == "2024-05-01T14:00:00.000+02:00"
    assert to_json(dt.date(2024, 5, 1)) == "2024-05-01"


def test_ts_forms_become_epoch_milliseconds() -> None:
    assert to_ts(1_700_000_000) == 1_700_000_000_000  # epoch seconds (int)
    assert to_ts(1_700_000_000.123) == 1_700_000_000_123  # time.time(): rounded to the ms
    assert to_ts(1_700_000_000_123) == 1_700_000_000_123  # already milliseconds
    assert to_ts(Decimal("1700000000.5")) == 1_700_000_000_500
    assert to_ts(FakeScalar(1_700_000_000.25)) == 1_700_000_000_250
    assert to_ts(dt.datetime(2024, 1, 1, 0, 0, 0, 123_999)) == 1_704_067_200_123  # naive = UTC, µs truncated
    assert to_ts(dt.datetime(2024, 1, 1, 2, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))) == 1_704_067_200_000
    assert to_ts(dt.datetime(2024, 1, 1, tzinfo=UTC)) == 1_704_067_200_000
    assert to_ts(dt.date(2024, 1, 1)) == 1_704_067_200_000
    assert to_ts("2024-01-01T00:00:00Z") == "2024-01-01T00:00:00Z"  # strings go as they are
    assert to_ts(None) is None and to_ts(math.nan) is None


def test_clean_item_leaves_out_empty_optionals() -> None:
    item = clean_item({"id": "a", "ts": None, "features": {"x": math.nan}, "prediction": 1, "score": None, "segment": None})
    assert item == {"id": "a", "features": {"x": None}, "prediction": 1}


def test_real_numpy() -> None:
    try:
        import numpy as np
    except ImportError:
        # numpy is optional for the client (the fakes above cover its interfaces), not for CI: .ci/run installs python3-numpy
        if os.environ.get("CI") == "true":
            raise
        print("numpy is not installed: the real numpy values are not checked (apt-get install python3-numpy)")
        return
    out = to_json({"f32": np.float32(0.5), "i64": np.int64(3), "b": np.bool_(True), "nan": np.float64("nan"),
                   "arr": np.array([1.5, np.inf]), "m": np.array([[1, 2]])})
    assert out == {"f32": 0.5, "i64": 3, "b": True, "nan": None, "arr": [1.5, None], "m": [[1, 2]]}
    assert type(out["i64"]) is int and type(out["b"]) is bool
    json.dumps(out, allow_nan=False)
    assert to_ts(np.float64(1_700_000_000.5)) == 1_700_000_000_500
    assert to_ts(np.datetime64("2024-01-01T00:00:00.123456789")) == 1_704_067_200_123

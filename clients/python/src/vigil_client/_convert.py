"""Conversion of Python (and numpy / pandas) values into the JSON the Vigil API takes.

Everything here is pure standard library: numpy and pandas values are recognised by duck typing
(``.item()``, ``.tolist()``, ``.astype()``), never imported.
"""

from __future__ import annotations

import calendar
import datetime as _dt
import logging
import math
import threading
from decimal import Decimal, InvalidOperation
from typing import Any, Dict, Optional, Union

logger = logging.getLogger("vigil_client")

JSONValue = Union[None, bool, int, float, str, list, dict]

#: Below this, a number given as ``ts`` is epoch seconds (``time.time()``); at or above, it is
#: already epoch milliseconds. 1e11 seconds is the year 5138, 1e11 milliseconds is March 1973.
EPOCH_MS_THRESHOLD = 1e11

#: Deeper structures than this are not walked (the API takes none so deep): stringified instead.
MAX_DEPTH = 32

_warned_lock = threading.Lock()
_warned_types: set = set()


def _warn_once(kind: str, value: Any) -> None:
    name = f"{type(value).__module__}.{type(value).__qualname__}"
    key = (kind, name)
    with _warned_lock:
        if key in _warned_types:
            return
        _warned_types.add(key)
    logger.warning("vigil_client: %s value of type %s: sent as its str() (said once per type)", kind, name)


def _is_missing(value: Any) -> bool:
    """pandas.NA and pandas.NaT (and anything else that is not equal to itself)."""
    if type(value).__name__ in ("NAType", "NaTType"):
        return True
    try:
        return bool(value != value)
    except Exception:  # an ambiguous comparison (arrays, NA-like objects)
        return False


def _safe_str(value: Any) -> str:
    try:
        return str(value)
    except Exception:
        try:
            return repr(value)
        except Exception:
            return f"<{type(value).__name__}>"


def _datetime64_to_datetime(value: Any) -> Any:
    """numpy.datetime64 → datetime (naive, UTC) or None for NaT; other values unchanged."""
    if type(value).__name__ != "datetime64":
        return value
    try:
        if _is_missing(value):
            return None
        return value.astype("datetime64[us]").item()
    except Exception:
        return value


def _key(key: Any) -> str:
    """A JSON object key: classes and feature names are strings; True → "true" as JSON spells it."""
    if isinstance(key, str):
        return key
    if hasattr(key, "item") and callable(key.item) and not isinstance(key, (int, float)):
        try:
            key = key.item()
        except Exception:
            pass
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, float) and key.is_integer():
        return str(int(key))
    return _safe_str(key)


def rfc3339(value: _dt.datetime) -> str:
    """An RFC 3339 string of a datetime (naive: taken as UTC), to the millisecond."""
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=_dt.timezone.utc)
    text = value.isoformat(timespec="milliseconds")
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def to_json(value: Any, *, _depth: int = 0) -> JSONValue:
    """Converts a value into plain JSON types, recursively.

    * ``NaN`` and ``±Inf`` (Python, numpy or ``Decimal``) → ``None``; so do ``pandas.NA``/``NaT``.
    * ``bool`` stays ``bool``; ``int`` stays ``int``; ``Decimal`` → ``float``.
    * numpy scalars → their Python value (``.item()``), numpy arrays → lists (``.tolist()``).
    * ``datetime`` → an RFC 3339 string (naive datetimes are UTC); ``date`` → ``YYYY-MM-DD``.
    * mappings → ``dict`` with string keys; lists, tuples, sets → ``list``.
    * anything else → ``str(value)``, with a warning logged once per type.
    """
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, Decimal):
        try:
            f = float(value)
        except (ValueError, InvalidOperation):
            return None
        return f if math.isfinite(f) else None
    if _depth > MAX_DEPTH:
        _warn_once("a too deeply nested", value)
        return _safe_str(value)
    if isinstance(value, _dt.datetime):
        return None if _is_missing(value) else rfc3339(value)
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, dict) or (hasattr(value, "items") and hasattr(value, "keys")):  # Mapping, pandas.Series
        try:
            return {_key(k): to_json(v, _depth=_depth + 1) for k, v in value.items()}
        except Exception:
            pass
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_json(v, _depth=_depth + 1) for v in value]
    if type(value).__name__ in ("NAType", "NaTType"):
        return None
    converted = _datetime64_to_datetime(value)
    if converted is not value:
        return to_json(converted, _depth=_depth + 1)
    # numpy arrays (and anything array-like with .tolist()), then numpy scalars (.item())
    tolist = getattr(value, "tolist", None)
    if callable(tolist) and getattr(value, "ndim", 1) != 0:
        try:
            return to_json(tolist(), _depth=_depth + 1)
        except Exception:
            pass
    item = getattr(value, "item", None)
    if callable(item):
        try:
            plain = item()
        except Exception:
            plain = value
        if plain is not value:
            return to_json(plain, _depth=_depth + 1)
    _warn_once("a non-JSON", value)
    return _safe_str(value)


def to_ts(value: Any) -> Optional[Union[int, str, JSONValue]]:
    """An event time as the API takes it: epoch milliseconds (an int), or None to leave ``ts`` out.

    * ``datetime`` (and ``pandas.Timestamp``): aware ones are exact instants; **naive ones are
      taken as UTC**. Sub-millisecond digits are truncated, as the server does for RFC 3339 times.
    * ``date``: its midnight, UTC.
    * a number (``int``, ``float``, ``Decimal``, numpy scalar): epoch **seconds**, as
      ``time.time()`` gives; a number at or above 1e11 is taken as epoch milliseconds already.
    * a string: sent as it is (the server takes RFC 3339 times).
    * ``None``, NaN, ``NaT``: no ``ts`` (the server uses the time it receives the item).
    """
    if value is None:
        return None
    value = _datetime64_to_datetime(value)
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, _dt.datetime):
        if _is_missing(value):
            return None
        aware = value if value.tzinfo is not None and value.utcoffset() is not None else value.replace(tzinfo=_dt.timezone.utc)
        seconds = calendar.timegm(aware.utctimetuple())
        return seconds * 1000 + aware.microsecond // 1000
    if isinstance(value, _dt.date):
        return calendar.timegm(value.timetuple()) * 1000
    if not isinstance(value, (int, float, Decimal, bool)):
        item = getattr(value, "item", None)
        if callable(item):
            try:
                return to_ts(item())
            except Exception:
                pass
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        try:
            f = float(value)
        except (ValueError, InvalidOperation):
            return None
        if not math.isfinite(f):
            return None
        if abs(f) >= EPOCH_MS_THRESHOLD:
            return int(value) if isinstance(value, int) else int(round(f))
        if isinstance(value, int):
            return value * 1000
        return int(round(f * 1000))
    # anything else (a bool, an unknown object): the server says what is wrong with it
    return to_json(value)


def clean_item(fields: Dict[str, Any]) -> Dict[str, JSONValue]:
    """One API item: optional fields that are ``None`` (or NaN) left out, ``ts`` converted, the rest made JSON."""
    item: Dict[str, JSONValue] = {}
    for name, value in fields.items():
        if name == "ts":
            ts = to_ts(value)
            if ts is not None:
                item["ts"] = ts
        elif name in ("id", "prediction", "label"):
            item[name] = to_json(value)
        else:  # an optional field: None, NaN or NaT leaves it out (a NaN latency is no latency)
            converted = to_json(value)
            if converted is not None:
                item[name] = converted
    return item

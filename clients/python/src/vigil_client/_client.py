"""The background sender: a bounded queue, one daemon thread, batches per (model, kind)."""

from __future__ import annotations

import atexit
import email.utils
import gzip as _gzip
import http.client
import json
import logging
import os
import random
import ssl
import threading
import time
import weakref
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Deque, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union
from urllib.parse import quote, urlsplit

from ._convert import JSONValue, clean_item

__all__ = ["Vigil", "VigilError", "Rejection", "Stats"]

logger = logging.getLogger("vigil_client")

USER_AGENT = "vigil-client-python/0.1.0"

#: Statuses worth another attempt: the server (or a proxy before it) is busy, starting or failing.
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class VigilError(Exception):
    """A batch Vigil did not take: a 4xx answer, or retries exhausted (given to ``on_error``).

    ``status`` is the HTTP status (``None`` for a connection error), ``code`` and ``message`` the
    server's ``{"error": {"code", "message"}}`` when it sent one.
    """

    def __init__(self, message: str, *, status: Optional[int] = None, code: Optional[str] = None,
                 model: str = "", kind: str = "", items: int = 0, attempts: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.model = model
        self.kind = kind
        self.items = items
        self.attempts = attempts

    def __str__(self) -> str:
        where = f"{self.kind} of model {self.model!r}" if self.model else self.kind
        status = f"HTTP {self.status}" if self.status is not None else "no answer"
        code = f" {self.code}" if self.code else ""
        return f"{self.items} {where} not delivered after {self.attempts} attempt(s): {status}{code}: {self.message}"


@dataclass(frozen=True)
class Rejection:
    """One item the server rejected (from a 207 or 422 answer), with its reason."""

    model: str
    kind: str
    index: int
    id: Optional[str]
    field: str
    reason: str


@dataclass(frozen=True)
class Stats:
    """The client's counters, in items unless said otherwise.

    Every item logged ends up in exactly one of ``sent``, ``rejected``, ``failed``, ``dropped``,
    or is still ``pending``.
    """

    #: Items the server stored or already had (re-sent ids are not errors; see ``duplicates``).
    sent: int
    #: Of ``sent``: ids the server already had (first write wins), so nothing new was stored.
    duplicates: int
    #: Items not queued: the queue was full (``max_queue``) or the client was closed.
    dropped: int
    #: Items the server rejected (207/422 answers); the last few reasons in ``last_rejections``.
    rejected: int
    #: Items in batches given up: a 4xx answer, retries exhausted, or still unsent at close.
    failed: int
    #: Batches given up (the ``failed`` items, counted in batches).
    failed_batches: int
    #: Attempts repeated after a 429/5xx answer or a connection error.
    retries: int
    #: Items queued or being sent.
    pending: int
    last_rejections: Tuple[Rejection, ...]
    last_error: Optional[VigilError]


class _Marker:
    """A flush request in the queue: everything before it is sent before its event is set."""

    __slots__ = ("event",)

    def __init__(self) -> None:
        self.event = threading.Event()


_Entry = Tuple[str, str, Dict[str, JSONValue], float]  # model, kind, item, monotonic time queued

_LAST_REJECTIONS = 20


class Vigil:
    """Sends predictions and labels to Vigil without ever blocking or failing the caller.

    ``log_*`` only convert the values and put them on a bounded queue; one daemon thread batches
    them per (model, kind), sends NDJSON (gzip-compressed when ``gzip``) and retries 429/5xx answers
    and connection errors (after the server's ``Retry-After`` when it gives one, else with
    exponential backoff and jitter, at most ``max_retries`` times). A full queue drops the item
    and counts it in :meth:`stats`. Whatever is queued is flushed at :meth:`close`, when leaving a
    ``with`` block, and at interpreter exit (for at most ``exit_timeout`` seconds).

    Args:
        url: Vigil's base URL, e.g. ``http://vigil:9470``.
        token: an ingest token (``Authorization: Bearer <token>``); ``None`` when Vigil has none.
        batch_size: items per request, at most.
        flush_interval: seconds an item may wait for its batch to fill.
        max_queue: items queued at most; more are dropped (counted).
        timeout: seconds per HTTP request.
        gzip: compress request bodies.
        max_retries: attempts after the first one for a retryable failure.
        on_error: called (from the sender thread) with a :class:`VigilError` for every batch given up.
        exit_timeout: seconds the interpreter-exit flush may take.
        backoff: first backoff delay in seconds (doubled per attempt, up to ``max_backoff``).
        max_backoff: longest wait between attempts, ``Retry-After`` included.
        ssl_context: for ``https`` URLs, instead of the default verifying context.
    """

    def __init__(self, url: str, token: Optional[str] = None, *, batch_size: int = 500,
                 flush_interval: float = 1.0, max_queue: int = 100_000, timeout: float = 10.0,
                 gzip: bool = True, max_retries: int = 5,
                 on_error: Optional[Callable[[VigilError], None]] = None,
                 exit_timeout: float = 5.0, backoff: float = 0.5, max_backoff: float = 30.0,
                 ssl_context: Optional[ssl.SSLContext] = None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"url must be an http:// or https:// URL, got {url!r}")
        if batch_size < 1 or max_queue < 1:
            raise ValueError("batch_size and max_queue must be at least 1")
        self.url = url.rstrip("/")
        self._scheme = parts.scheme
        self._host = parts.hostname
        self._port = parts.port
        self._base_path = parts.path.rstrip("/")
        self._token = token
        self._batch_size = batch_size
        self._flush_interval = max(0.0, flush_interval)
        self._max_queue = max_queue
        self._timeout = timeout
        self._gzip = gzip
        self._max_retries = max(0, max_retries)
        self._on_error = on_error
        self._exit_timeout = exit_timeout
        self._backoff = backoff
        self._max_backoff = max_backoff
        self._ssl_context = ssl_context
        self._init_state()
        hook = _exit_hook(weakref.ref(self))
        self._atexit_hook = hook
        atexit.register(hook)
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=_fork_hook(weakref.ref(self)))

    def _init_state(self) -> None:
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._queue: Deque[Union[_Entry, _Marker]] = deque()
        self._queued = 0  # items in _queue (markers apart)
        self._markers = 0
        self._closed = False
        self._stop = threading.Event()
        self._conn: Optional[http.client.HTTPConnection] = None
        self._enqueued = 0
        self._sent = self._duplicates = self._dropped = self._rejected = 0
        self._failed = self._failed_batches = self._retries = 0
        self._last_rejections: Deque[Rejection] = deque(maxlen=_LAST_REJECTIONS)
        self._last_error: Optional[VigilError] = None
        self._pid = os.getpid()
        self._thread = threading.Thread(target=self._run, name="vigil-client-sender", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ public API

    def log_prediction(self, model: str, id: Union[str, int], features: Optional[Mapping[str, Any]],
                       prediction: Any, *, score: Any = None, ts: Any = None,
                       model_version: Optional[str] = None, latency_ms: Optional[float] = None,
                       segment: Optional[str] = None, error: Union[str, bool, None] = None,
                       traceparent: Optional[str] = None) -> bool:
        """Queues one prediction; returns whether it was queued (``False``: dropped and counted).

        ``ts`` may be a ``datetime`` (naive = UTC), epoch seconds (``time.time()``), epoch
        milliseconds (≥ 1e11) or an RFC 3339 string; ``None`` lets the server use its receipt time.
        ``traceparent`` is the serving request's W3C trace context (e.g. from OpenTelemetry's
        propagator): stored with the prediction and the exemplar of its latency.
        """
        item = _convert({"id": id, "ts": ts, "model_version": model_version, "features": features,
                         "prediction": prediction, "score": score, "latency_ms": latency_ms,
                         "segment": segment, "error": error, "traceparent": traceparent})
        return self._enqueue(model, "predictions", [item]) == 1

    def log_predictions(self, model: str, records: Iterable[Mapping[str, Any]]) -> int:
        """Queues prediction items given as mappings with the API's field names; returns how many were queued."""
        return self._enqueue(model, "predictions", [_convert(dict(r)) for r in records])

    def log_label(self, model: str, id: Union[str, int], label: Any, *, ts: Any = None) -> bool:
        """Queues one ground-truth label (joined to its prediction by ``(model, id)``)."""
        return self._enqueue(model, "labels", [_convert({"id": id, "label": label, "ts": ts})]) == 1

    def log_labels(self, model: str, records: Iterable[Mapping[str, Any]]) -> int:
        """Queues label items (``{"id", "label", "ts"?}`` mappings); returns how many were queued."""
        return self._enqueue(model, "labels", [_convert(dict(r)) for r in records])

    def log_dataframe(self, model: str, df: Any, *, id_column: str, prediction_column: str,
                      score_column: Optional[str] = None, ts_column: Optional[str] = None,
                      version_column: Optional[str] = None,
                      feature_columns: Optional[Sequence[str]] = None,
                      latency_column: Optional[str] = None,
                      segment_column: Optional[str] = None) -> int:
        """Queues one prediction per row of a pandas DataFrame; returns how many were queued.

        The features are ``feature_columns``, by default every column not named by another
        argument. Raises ``ImportError`` without pandas and ``ValueError`` for a missing column
        (mistakes in the call itself); like the other ``log_*``, it never raises for a full queue.
        """
        if not (callable(getattr(df, "to_dict", None)) and hasattr(df, "columns")):
            try:
                import pandas  # noqa: F401
            except ImportError:
                raise ImportError("log_dataframe needs pandas: pip install 'vigil-client[pandas]'") from None
            raise TypeError(f"log_dataframe expects a pandas.DataFrame, got {type(df).__name__}")
        columns = [str(c) for c in df.columns]
        named = {"id": id_column, "prediction": prediction_column, "score": score_column,
                 "ts": ts_column, "model_version": version_column, "latency_ms": latency_column,
                 "segment": segment_column}
        used = {c for c in named.values() if c is not None}
        features = list(feature_columns) if feature_columns is not None else [c for c in columns if c not in used]
        missing = [c for c in [*used, *features] if c not in columns]
        if missing:
            raise ValueError(f"log_dataframe: no column {', '.join(map(repr, sorted(missing)))} in the DataFrame")
        items = []
        for row in df.to_dict(orient="records"):
            row = {str(k): v for k, v in row.items()}
            fields: Dict[str, Any] = {field: row[col] for field, col in named.items() if col is not None}
            fields["features"] = {c: row[c] for c in features}
            items.append(_convert(fields))
        return self._enqueue(model, "predictions", items)

    def flush(self, timeout: Optional[float] = None) -> bool:
        """Sends everything queued so far; returns ``True`` once it is all settled (sent, rejected
        or given up), ``False`` if ``timeout`` seconds passed first."""
        if threading.current_thread() is self._thread:
            return False  # from on_error, on the sender thread itself: it cannot wait for itself
        marker = _Marker()
        with self._cond:
            if not self._thread.is_alive():
                return self._queued == 0
            self._queue.append(marker)
            self._markers += 1
            self._cond.notify()
        return marker.event.wait(timeout)

    def close(self, timeout: Optional[float] = 30.0) -> bool:
        """Flushes (for at most ``timeout`` seconds) and stops the sender; later ``log_*`` calls are
        dropped. Items still unsent then are counted as failed. Returns whether everything was settled."""
        with self._cond:
            if self._closed:
                return self._queued == 0
            self._closed = True
        try:
            atexit.unregister(self._atexit_hook)
        except Exception:
            pass
        done = self.flush(timeout)
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        self._thread.join(timeout=max(1.0, self._timeout + 1.0))
        return done

    def stats(self) -> Stats:
        """A consistent snapshot of the counters."""
        with self._lock:
            settled = self._sent + self._rejected + self._failed
            return Stats(sent=self._sent, duplicates=self._duplicates, dropped=self._dropped,
                         rejected=self._rejected, failed=self._failed,
                         failed_batches=self._failed_batches, retries=self._retries,
                         pending=max(0, self._enqueued - settled),
                         last_rejections=tuple(self._last_rejections), last_error=self._last_error)

    def __enter__(self) -> "Vigil":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ------------------------------------------------------------------ queue

    def _enqueue(self, model: str, kind: str, items: List[Dict[str, JSONValue]]) -> int:
        if not items:
            return 0
        now = time.monotonic()
        with self._cond:
            if self._closed:
                room = 0
            else:
                room = max(0, min(len(items), self._max_queue - self._queued))
            for item in items[:room]:
                self._queue.append((model, kind, item, now))
            before = self._queued
            self._queued += room
            self._enqueued += room
            dropped = len(items) - room
            self._dropped += dropped
            # wake the sender when a batch is ready (it wakes by itself when one is due)
            if room and (before == 0 or before < self._batch_size <= self._queued):
                self._cond.notify()
        if dropped:
            _log_drop(self._closed, dropped)
        return room

    def _run(self) -> None:
        buffers: Dict[Tuple[str, str], List[Dict[str, JSONValue]]] = {}
        first: Dict[Tuple[str, str], float] = {}
        try:
            while True:
                with self._cond:
                    while not self._stop.is_set() and self._markers == 0 and self._queued < self._batch_size:
                        oldest = [t + self._flush_interval for t in first.values()]
                        if self._queue:
                            head = self._queue[0]
                            oldest.append(head[3] + self._flush_interval if isinstance(head, tuple) else 0.0)
                        wait = min(oldest) - time.monotonic() if oldest else None
                        if wait is not None and wait <= 0:
                            break
                        self._cond.wait(wait)
                    if self._stop.is_set():
                        return
                    entries: List[Union[_Entry, _Marker]] = []
                    while self._queue and len(entries) < self._batch_size:
                        entry = self._queue.popleft()
                        if isinstance(entry, _Marker):
                            self._markers -= 1
                        else:
                            self._queued -= 1
                        entries.append(entry)
                for entry in entries:
                    if isinstance(entry, _Marker):
                        for key in list(buffers):
                            self._send(key, buffers.pop(key))
                        first.clear()
                        entry.event.set()
                        continue
                    model, kind, item, t = entry
                    key = (model, kind)
                    buf = buffers.setdefault(key, [])
                    if not buf:
                        first[key] = t
                    buf.append(item)
                    if len(buf) >= self._batch_size:
                        self._send(key, buffers.pop(key))
                        first.pop(key, None)
                now = time.monotonic()
                for key in [k for k, t in first.items() if t + self._flush_interval <= now]:
                    self._send(key, buffers.pop(key))
                    del first[key]
        except Exception:  # a bug here must not go unnoticed, nor kill the caller
            logger.exception("vigil_client: the sender stopped")
        finally:
            self._abandon(buffers)

    def _abandon(self, buffers: Dict[Tuple[str, str], List[Dict[str, JSONValue]]]) -> None:
        """At stop: whatever is still queued or buffered is given up (counted as failed)."""
        with self._cond:
            left = sum(len(b) for b in buffers.values()) + self._queued
            markers = [e for e in self._queue if isinstance(e, _Marker)]
            self._queue.clear()
            self._queued = self._markers = 0
            self._closed = True
            if left:
                self._failed += left
                self._failed_batches += len(buffers)
        for marker in markers:
            marker.event.set()
        if left:
            logger.warning("vigil_client: %d item(s) still unsent at close: given up", left)
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    # ------------------------------------------------------------------ sending

    def _send(self, key: Tuple[str, str], items: List[Dict[str, JSONValue]]) -> None:
        model, kind = key
        if self._stop.is_set():
            self._fail(VigilError("the client was closed before this batch could be sent", model=model, kind=kind, items=len(items), attempts=0))
            return
        try:
            self._attempts(key, items)
        except Exception as e:  # a bug must not stop the sender: the batch is given up, counted
            logger.exception("vigil_client: sending failed")
            self._fail(VigilError(f"internal error: {type(e).__name__}: {e}", model=model, kind=kind, items=len(items), attempts=0))

    def _attempts(self, key: Tuple[str, str], items: List[Dict[str, JSONValue]]) -> None:
        model, kind = key
        path = f"{self._base_path}/v1/models/{quote(model, safe='')}/{kind}"
        body = b"".join(json.dumps(item, allow_nan=False, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"
                        for item in items)
        headers = {"Content-Type": "application/x-ndjson", "Accept": "application/json", "User-Agent": USER_AGENT}
        if self._gzip:
            body = _gzip.compress(body, compresslevel=6, mtime=0)
            headers["Content-Encoding"] = "gzip"
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        attempt = 0
        while True:
            attempt += 1
            retry_after: Optional[float] = None
            try:
                status, answer_headers, data = self._post(path, body, headers)
            except (OSError, http.client.HTTPException) as e:
                err = VigilError(f"{type(e).__name__}: {e}", model=model, kind=kind, items=len(items), attempts=attempt)
                retryable = True
            else:
                if status in (200, 207, 422):
                    self._settle(model, kind, items, data)
                    return
                if status == 413 and len(items) > 1:  # too many items or bytes: send halves
                    half = len(items) // 2
                    self._send(key, items[:half])
                    self._send(key, items[half:])
                    return
                code, message = _error_of(data)
                err = VigilError(message, status=status, code=code, model=model, kind=kind, items=len(items), attempts=attempt)
                retryable = status in RETRYABLE_STATUSES
                retry_after = _retry_after(answer_headers.get("retry-after"))
            if not retryable or attempt > self._max_retries or self._stop.is_set():
                self._fail(err)
                return
            delay = retry_after if retry_after is not None else self._backoff * (2 ** (attempt - 1)) * random.uniform(0.5, 1.0)
            delay = min(max(0.0, delay), self._max_backoff)
            with self._lock:
                self._retries += 1
            logger.info("vigil_client: retrying %s of model %r in %.2f s (%s)", kind, model, delay, err.message)
            if self._stop.wait(delay):
                err.message = f"{err.message} (client closed while waiting to retry)"
                self._fail(err)
                return

    def _post(self, path: str, body: bytes, headers: Mapping[str, str]) -> Tuple[int, Dict[str, str], bytes]:
        """One POST on the kept-alive connection; a reused connection the server closed is reopened once."""
        for reused in (self._conn is not None, False):
            if self._conn is None:
                self._conn = self._connect()
            conn = self._conn
            try:
                try:
                    conn.request("POST", path, body=body, headers=dict(headers))
                except (BrokenPipeError, ConnectionResetError):
                    # the server may have answered before reading the body (401, 403, 413) and closed
                    resp = conn.getresponse()
                else:
                    resp = conn.getresponse()
                data = resp.read()
                answer = {k.lower(): v for k, v in resp.getheaders()}
                if resp.will_close:
                    conn.close()
                    self._conn = None
                return resp.status, answer, data
            except (OSError, http.client.HTTPException):
                conn.close()
                self._conn = None
                if not reused:
                    raise
        raise AssertionError("unreachable")

    def _connect(self) -> http.client.HTTPConnection:
        if self._scheme == "https":
            return http.client.HTTPSConnection(self._host, self._port, timeout=self._timeout,
                                               context=self._ssl_context or ssl.create_default_context())
        return http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)

    def _settle(self, model: str, kind: str, items: List[Dict[str, JSONValue]], data: bytes) -> None:
        try:
            answer = json.loads(data.decode("utf-8")) if data else {}
        except ValueError:
            answer = {}
        rejected = answer.get("rejected") or [] if isinstance(answer, dict) else []
        duplicates = answer.get("duplicates") or [] if isinstance(answer, dict) else []
        rejections = [Rejection(model=model, kind=kind, index=int(r.get("index", -1)),
                                id=None if r.get("id") is None else str(r.get("id")),
                                field=str(r.get("field", "")), reason=str(r.get("reason", "")))
                      for r in rejected if isinstance(r, dict)]
        with self._lock:
            self._sent += len(items) - len(rejections)
            self._duplicates += len(duplicates)
            self._rejected += len(rejections)
            self._last_rejections.extend(rejections)
        if rejections:
            r = rejections[0]
            logger.warning("vigil_client: %d of %d %s of model %r rejected; e.g. item %d (id %s): %s: %s",
                           len(rejections), len(items), kind, model, r.index, r.id, r.field, r.reason)

    def _fail(self, err: VigilError) -> None:
        with self._lock:
            self._failed += err.items
            self._failed_batches += 1
            self._last_error = err
        logger.error("vigil_client: %s", err)
        if self._on_error is not None:
            try:
                self._on_error(err)
            except Exception:
                logger.exception("vigil_client: on_error raised")


def _convert(fields: Dict[str, Any]) -> Dict[str, JSONValue]:
    try:
        return clean_item(fields)
    except Exception as e:  # never fail the caller: the server will say what is wrong
        logger.warning("vigil_client: could not convert an item (%s): sent with its fields as strings", e)
        return {str(k): str(v) for k, v in fields.items() if v is not None}


def _log_drop(closed: bool, n: int) -> None:
    # at most one warning a second: a full queue under load would flood the log otherwise
    now = time.monotonic()
    if now - _drop_log[0] >= 1.0:
        _drop_log[0] = now
        logger.warning("vigil_client: %d item(s) dropped: %s", n, "the client is closed" if closed else "the queue is full")


_drop_log = [float("-inf")]


def _error_of(data: bytes) -> Tuple[Optional[str], str]:
    """The server's error code and message from ``{"error": {"code", "message"}}``, or a body excerpt."""
    try:
        err = json.loads(data.decode("utf-8"))["error"]
        return str(err.get("code")), str(err.get("message"))
    except Exception:
        return None, data[:200].decode("utf-8", "replace")


def _retry_after(value: Optional[str]) -> Optional[float]:
    """Retry-After in seconds: a number of seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - time.time())


def _exit_hook(ref: "weakref.ReferenceType[Vigil]") -> Callable[[], None]:
    def hook() -> None:
        client = ref()
        if client is not None:
            client.close(timeout=client._exit_timeout)
    return hook


def _fork_hook(ref: "weakref.ReferenceType[Vigil]") -> Callable[[], None]:
    def hook() -> None:  # the child has no sender thread, and maybe a lock held: start afresh
        client = ref()
        if client is not None and client._pid != os.getpid():
            client._init_state()
    return hook

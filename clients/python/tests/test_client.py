"""The client against a real `vigil serve` (the `vigil` fixture), and against a small local HTTP
server (`fake`) where a test needs the server to misbehave: block, answer 503/429, count attempts."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import subprocess
import sys
import threading
import time
from decimal import Decimal
from typing import Any, Dict, List, Tuple

import pytest

from conftest import SRC, Daemon, FakeServer, Request, accept_all, proxy_to
from vigil_client import Vigil, VigilError

UTC = dt.timezone.utc
FLUSH = 30.0  # generous: flush() returns as soon as everything is settled


def iso_ms(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def test_predictions_and_labels_arrive(vigil: Daemon, uid: str) -> None:
    errors: List[VigilError] = []
    with Vigil(vigil.url, vigil.token, on_error=errors.append) as client:
        assert client.log_prediction("fraud", f"{uid}-1", {"amount": 12.5, "age": 3, "country": "FR"}, 1,
                                     score=0.9, model_version="v2", latency_ms=12.0, segment="web",
                                     traceparent="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        assert client.log_predictions("fraud", [{"id": f"{uid}-2", "features": {"amount": 1, "country": "DE"}, "prediction": 0, "score": 0.1}]) == 1
        assert client.log_predictions("churn", [{"id": f"{uid}-c", "features": {"tenure": 4, "plan": "pro"}, "prediction": "stay",
                                                 "score": {"stay": 0.7, "churn": 0.3}}]) == 1
        assert client.log_label("fraud", f"{uid}-1", 1)
        assert client.log_labels("fraud", [{"id": f"{uid}-2", "label": 1}]) == 1
        assert client.flush(FLUSH)
        stats = client.stats()
    assert (stats.sent, stats.rejected, stats.failed, stats.dropped, stats.pending) == (5, 0, 0, 0, 0)
    assert errors == []
    one = vigil.prediction("fraud", f"{uid}-1")
    assert one["features"] == {"amount": 12.5, "age": 3, "country": "FR"}
    assert (one["prediction"], one["score"], one["model_version"], one["latency_ms"], one["segment"]) == ("1", 0.9, "v2", 12, "web")
    assert one["traceparent"] == "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    assert vigil.prediction("fraud", f"{uid}-2")["traceparent"] is None
    assert one["label"]["label"] == "1"
    assert vigil.prediction("fraud", f"{uid}-2")["label"]["label"] == "1"
    assert vigil.prediction("churn", f"{uid}-c")["score"] == {"stay": 0.7, "churn": 0.3}


def test_nan_and_inf_become_null_and_the_batch_is_stored(vigil: Daemon, uid: str) -> None:
    client = Vigil(vigil.url, vigil.token)
    try:
        client.log_prediction("fraud", f"{uid}-nan", {"amount": math.nan, "age": math.inf, "country": None}, 1, score=math.nan)
        client.log_prediction("fraud", f"{uid}-dec", {"amount": Decimal("2.5"), "age": -math.inf, "country": True}, False,
                              score=Decimal("0.25"), latency_ms=math.nan)
        # nested in a score map too: converted to null, which a multiclass score does not take, so the
        # server rejects that item (a 207 naming the field), and keeps the batch's other item
        client.log_predictions("churn", [
            {"id": f"{uid}-map", "features": {"tenure": math.nan}, "prediction": "churn", "score": {"stay": math.nan, "churn": 1.0}},
            {"id": f"{uid}-ok", "features": {"tenure": 1.0}, "prediction": "churn", "score": {"stay": 0.0, "churn": 1.0}},
        ])
        assert client.flush(FLUSH)
        stats = client.stats()
    finally:
        client.close()
    assert (stats.sent, stats.rejected, stats.failed) == (3, 1, 0)
    assert [(r.model, r.id, r.field) for r in stats.last_rejections] == [("churn", f"{uid}-map", "score.stay")]
    nan = vigil.prediction("fraud", f"{uid}-nan")
    assert nan["features"] == {"amount": None, "age": None, "country": None} and nan["score"] is None
    dec = vigil.prediction("fraud", f"{uid}-dec")
    assert dec["features"] == {"amount": 2.5, "age": None, "country": "true"}
    assert (dec["prediction"], dec["score"], dec["latency_ms"]) == ("false", 0.25, None)
    assert vigil.get(f"/v1/models/churn/predictions/{uid}-ok")[0] == 200
    assert vigil.get(f"/v1/models/churn/predictions/{uid}-map")[0] == 404


def test_epoch_seconds_and_datetimes_are_stored_to_the_millisecond(vigil: Daemon, uid: str) -> None:
    now = time.time()
    base = int(now) - 3600
    cases: Dict[str, Tuple[Any, int]] = {
        "float-seconds": (now, round(now * 1000)),
        "int-seconds": (base, base * 1000),
        "epoch-ms": (base * 1000 + 7, base * 1000 + 7),
        "naive-utc": (dt.datetime.fromtimestamp(base, UTC).replace(tzinfo=None, microsecond=123_999), base * 1000 + 123),
        "aware-plus2": (dt.datetime.fromtimestamp(base, dt.timezone(dt.timedelta(hours=2))).replace(microsecond=456_000), base * 1000 + 456),
        "rfc3339": (iso_ms(base * 1000 + 5), base * 1000 + 5),
    }
    with Vigil(vigil.url, vigil.token) as client:
        for name, (ts, _) in cases.items():
            client.log_prediction("fraud", f"{uid}-{name}", {"amount": 1.0}, 1, ts=ts)
            client.log_label("fraud", f"{uid}-{name}", 0, ts=ts)
        assert client.flush(FLUSH)
        assert (client.stats().sent, client.stats().rejected) == (2 * len(cases), 0)
    for name, (_, ms) in cases.items():
        stored = vigil.prediction("fraud", f"{uid}-{name}")
        assert (name, stored["ts"], stored["label"]["ts"]) == (name, iso_ms(ms), iso_ms(ms))


def test_duplicates_are_not_errors(vigil: Daemon, uid: str) -> None:
    errors: List[VigilError] = []
    with Vigil(vigil.url, vigil.token, on_error=errors.append) as client:
        client.log_prediction("fraud", f"{uid}-d", {"amount": 1.0}, 1, score=0.5)
        assert client.flush(FLUSH)
        client.log_prediction("fraud", f"{uid}-d", {"amount": 2.0}, 0, score=0.1)  # a retry/replay
        assert client.flush(FLUSH)
        stats = client.stats()
    assert (stats.sent, stats.duplicates, stats.rejected, stats.failed) == (2, 1, 0, 0)
    assert errors == [] and stats.last_error is None
    assert vigil.prediction("fraud", f"{uid}-d")["features"] == {"amount": 1.0}  # the first write wins


def test_a_full_queue_drops_and_counts_without_raising_or_blocking(fake: FakeServer) -> None:
    release = threading.Event()
    arrived = threading.Event()

    def blocked(req: Request) -> Tuple[int, Dict[str, str], bytes]:
        arrived.set()
        release.wait(30)
        return accept_all(req)

    fake.respond = blocked
    client = Vigil(fake.url, batch_size=1, max_queue=5, flush_interval=0.01)
    try:
        assert client.log_prediction("m", "first", {"x": 1}, 1)
        assert arrived.wait(10), "the sender never sent the first item"
        t0 = time.monotonic()
        queued = [client.log_prediction("m", f"id-{i}", {"x": i}, 1) for i in range(50)]
        elapsed = time.monotonic() - t0
        assert queued == [True] * 5 + [False] * 45
        assert elapsed < 5.0  # the sender is blocked for up to 30 s: the callers were not
        stats = client.stats()
        assert (stats.dropped, stats.pending, stats.sent) == (45, 6, 0)
        release.set()
        assert client.flush(FLUSH)
        assert (client.stats().sent, client.stats().dropped, client.stats().pending) == (6, 45, 0)
    finally:
        release.set()
        client.close()
    assert sorted(i["id"] for r in fake.requests for i in r.items) == sorted(["first"] + [f"id-{i}" for i in range(5)])


def test_503_and_429_are_retried_after_retry_after(vigil: Daemon, fake: FakeServer, uid: str) -> None:
    real = proxy_to(vigil.url)

    def busy_then_proxy(req: Request) -> Tuple[int, Dict[str, str], bytes]:
        n = len(fake.requests)
        if n == 1:
            return 503, {"Retry-After": "1"}, b'{"error":{"code":"VIGIL_ERR_STORE_UNAVAILABLE","message":"try again"}}'
        if n == 2:
            return 429, {"Retry-After": "1"}, b'{"error":{"code":"RATE_LIMITED","message":"slow down"}}'
        return real(req)

    fake.respond = busy_then_proxy
    errors: List[VigilError] = []
    with Vigil(fake.url, vigil.token, backoff=0.01, on_error=errors.append) as client:
        client.log_predictions("fraud", [{"id": f"{uid}-{i}", "features": {"amount": i}, "prediction": 1} for i in range(3)])
        assert client.flush(FLUSH)
        stats = client.stats()
    assert len(fake.requests) == 3
    a, b, c = (r.at for r in fake.requests)
    assert b - a >= 1.0 and c - b >= 1.0  # Retry-After: 1 was honoured (backoff alone would be ~0.01 s)
    assert [r.raw for r in fake.requests] == [fake.requests[0].raw] * 3  # the same batch each time
    assert (stats.sent, stats.retries, stats.failed) == (3, 2, 0) and errors == []
    assert vigil.prediction("fraud", f"{uid}-2")["features"] == {"amount": 2}


def test_backoff_without_retry_after_and_giving_up(fake: FakeServer) -> None:
    fake.respond = lambda req: (503, {}, b'{"error":{"code":"VIGIL_ERR_HTTP_CLOSING","message":"shutting down"}}')
    errors: List[VigilError] = []
    with Vigil(fake.url, max_retries=3, backoff=0.05, on_error=errors.append) as client:
        client.log_prediction("m", "a", {"x": 1}, 1)
        client.log_prediction("m", "b", {"x": 1}, 1)
        assert client.flush(FLUSH)
        stats = client.stats()
    assert len(fake.requests) == 4  # the first attempt and 3 retries
    gaps = [b.at - a.at for a, b in zip(fake.requests, fake.requests[1:])]
    assert all(g >= 0.02 for g in gaps)  # 0.05 · 2^k with jitter in [0.5, 1]
    assert (stats.failed, stats.failed_batches, stats.retries, stats.sent) == (2, 1, 3, 0)
    assert len(errors) == 1 and errors[0].status == 503 and errors[0].code == "VIGIL_ERR_HTTP_CLOSING" and errors[0].attempts == 4


def test_connection_errors_are_retried_then_reported(fake: FakeServer) -> None:
    url = fake.url
    fake.close()  # nothing listens there any more
    errors: List[VigilError] = []
    with Vigil(url, max_retries=2, backoff=0.01, on_error=errors.append) as client:
        client.log_label("m", "a", 1)
        assert client.flush(FLUSH)
        stats = client.stats()
    assert (stats.failed, stats.retries) == (1, 2)
    assert len(errors) == 1 and errors[0].status is None and errors[0].attempts == 3


@pytest.mark.parametrize("token, model, status, code", [
    ("wrong-token-0123456789abcdef", "fraud", 403, "VIGIL_ERR_AUTH_FORBIDDEN"),
    (None, "fraud", 401, "VIGIL_ERR_AUTH_MISSING"),
    ("TOKEN", "no-such-model", 404, "VIGIL_ERR_MODEL_UNKNOWN"),
])
def test_a_4xx_is_not_retried_and_is_reported(vigil: Daemon, uid: str, token: Any, model: str, status: int, code: str,
                                              caplog: pytest.LogCaptureFixture) -> None:
    errors: List[VigilError] = []
    with Vigil(vigil.url, vigil.token if token == "TOKEN" else token, on_error=errors.append) as client:
        client.log_prediction(model, f"{uid}-x", {"amount": 1.0}, 1)
        assert client.flush(FLUSH)
        stats = client.stats()
    assert (stats.failed, stats.failed_batches, stats.retries, stats.sent) == (1, 1, 0, 0)
    assert len(errors) == 1
    err = errors[0]
    assert (err.status, err.code, err.attempts, err.model, err.kind, err.items) == (status, code, 1, model, "predictions", 1)
    assert err.message and stats.last_error is err
    assert any(code in r.getMessage() for r in caplog.records if r.name == "vigil_client")


@pytest.mark.parametrize("compress", [True, False])
def test_gzip_bodies_are_accepted_by_the_daemon(vigil: Daemon, fake: FakeServer, uid: str, compress: bool) -> None:
    fake.respond = proxy_to(vigil.url)  # to see what goes on the wire, then let the real daemon answer
    with Vigil(fake.url, vigil.token, gzip=compress) as client:
        client.log_predictions("fraud", [{"id": f"{uid}-{i}", "features": {"amount": i, "country": "é"}, "prediction": 1} for i in range(50)])
        assert client.flush(FLUSH)
        assert (client.stats().sent, client.stats().failed) == (50, 0)
    (req,) = fake.requests
    assert req.headers["content-type"] == "application/x-ndjson"
    assert req.headers["authorization"] == f"Bearer {vigil.token}"
    assert (req.headers.get("content-encoding"), req.raw[:2] == b"\x1f\x8b") == (("gzip", True) if compress else (None, False))
    assert len(req.items) == 50
    assert vigil.prediction("fraud", f"{uid}-49")["features"] == {"amount": 49, "country": "é"}


def test_close_delivers_everything(vigil: Daemon, uid: str) -> None:
    before = vigil.count("bulk")
    client = Vigil(vigil.url, vigil.token, batch_size=400, flush_interval=3600)  # nothing would go out by itself
    for i in range(1000):
        client.log_prediction("bulk", f"{uid}-{i}", {"x": float(i)}, i % 2, score=0.5)
    assert client.stats().pending > 0
    assert client.close()
    stats = client.stats()
    assert (stats.sent, stats.pending, stats.failed) == (1000, 0, 0)
    assert vigil.count("bulk") == before + 1000
    assert not client.log_prediction("bulk", f"{uid}-late", {"x": 1.0}, 1)  # after close: dropped, counted
    assert client.stats().dropped == 1


def test_interpreter_exit_flushes(vigil: Daemon, uid: str) -> None:
    script = (
        "import sys\n"
        "from vigil_client import Vigil\n"
        "v = Vigil(sys.argv[1], sys.argv[2], flush_interval=3600)\n"
        "for i in range(20):\n"
        "    v.log_prediction('atexit', f'{sys.argv[3]}-{i}', {'x': i}, 1)\n"
        # no close(): the atexit hook must send them
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    done = subprocess.run([sys.executable, "-c", script, vigil.url, vigil.token, uid], env=env, timeout=60, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    for i in (0, 19):
        assert vigil.prediction("atexit", f"{uid}-{i}")["features"] == {"x": i}


def test_many_threads_logging_at_once(vigil: Daemon, uid: str) -> None:
    before = vigil.count("threads")
    client = Vigil(vigil.url, vigil.token, batch_size=97, flush_interval=0.05)
    start = threading.Barrier(8)
    results: List[int] = []

    def worker(n: int) -> None:
        start.wait()
        ok = 0
        for i in range(500):
            if n % 2:
                ok += client.log_prediction("threads", f"{uid}-{n}-{i}", {"x": float(i)}, 1)
            else:
                ok += client.log_predictions("threads", [{"id": f"{uid}-{n}-{i}", "features": {"x": i}, "prediction": 0}])
            if i % 100 == 0:
                client.flush(0)  # flushes racing with logging, from every thread
        results.append(ok)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert client.close()
    stats = client.stats()
    assert results == [500] * 8
    assert (stats.sent, stats.duplicates, stats.dropped, stats.rejected, stats.failed) == (4000, 0, 0, 0, 0)
    assert vigil.count("threads") == before + 4000


class FakeDataFrame:
    """The part of pandas.DataFrame that log_dataframe uses: `.columns` and `.to_dict(orient="records")`."""

    def __init__(self, rows: List[Dict[str, Any]]) -> None:
        self.rows = rows
        self.columns = list(rows[0])

    def to_dict(self, orient: str) -> List[Dict[str, Any]]:
        assert orient == "records"
        return [dict(r) for r in self.rows]


def test_log_dataframe(vigil: Daemon, uid: str) -> None:
    t = dt.datetime(2025, 1, 2, 3, 4, 5, 678_000)  # naive: UTC (a pandas.Timestamp is a datetime)
    df = FakeDataFrame([
        {"rid": f"{uid}-0", "amount": 1.5, "country": "FR", "pred": 1, "proba": 0.75, "when": t, "version": "v3"},
        {"rid": f"{uid}-1", "amount": math.nan, "country": None, "pred": 0, "proba": 0.25, "when": t, "version": "v3"},
    ])
    with Vigil(vigil.url, vigil.token) as client:
        n = client.log_dataframe("fraud", df, id_column="rid", prediction_column="pred", score_column="proba",
                                 ts_column="when", version_column="version")
        assert n == 2
        with pytest.raises(ValueError, match="no column 'nope'"):
            client.log_dataframe("fraud", df, id_column="nope", prediction_column="pred")
        with pytest.raises((ImportError, TypeError), match="pandas"):
            client.log_dataframe("fraud", [{"rid": 1}], id_column="rid", prediction_column="pred")
        assert client.flush(FLUSH)
        assert (client.stats().sent, client.stats().rejected) == (2, 0)
    first = vigil.prediction("fraud", f"{uid}-0")
    assert (first["features"], first["score"], first["model_version"], first["ts"]) == ({"amount": 1.5, "country": "FR"}, 0.75, "v3", "2025-01-02T03:04:05.678Z")
    assert vigil.prediction("fraud", f"{uid}-1")["features"] == {"amount": None, "country": None}


def test_a_413_batch_is_split(fake: FakeServer) -> None:
    def small_batches_only(req: Request) -> Tuple[int, Dict[str, str], bytes]:
        if len(req.items) > 2:
            return 413, {}, b'{"error":{"code":"VIGIL_ERR_INGEST_BATCH_TOO_LARGE","message":"more than 2 items"}}'
        return accept_all(req)

    fake.respond = small_batches_only
    with Vigil(fake.url) as client:
        client.log_labels("m", [{"id": str(i), "label": 1} for i in range(7)])
        assert client.flush(FLUSH)
        assert (client.stats().sent, client.stats().failed) == (7, 0)
    accepted = sorted(i["id"] for r in fake.requests if len(r.items) <= 2 for i in r.items)
    assert accepted == sorted(str(i) for i in range(7))

"""Fixtures: a real `vigil serve` (session scope) and a small programmable HTTP server on 127.0.0.1.

The daemon: node from $VIGIL_NODE (or `node` on PATH), the built daemon from $VIGIL_MAIN (or
dist/src/main.js of this checkout; `npm run build` makes it).
"""

from __future__ import annotations

import gzip
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
if str(SRC) not in sys.path:
    sys.path.insert(0, str(SRC))

REPO = Path(__file__).resolve().parents[3]
TOKEN = "py-client-ingest-token-0123456789"

CONFIG = """\
server:
  address: 127.0.0.1
  port: 0
  tokens:
    ingest: ["{token}"]
storage:
  path: {db}
evaluation_interval: 1m
models:
  - name: fraud
    task: binary
    positive_class: 1
    windows: [1h]
    features:
      - {{ name: amount, type: numeric }}
      - {{ name: age, type: numeric }}
      - {{ name: country, type: categorical }}
  - name: churn
    task: multiclass
    classes: [stay, churn]
    windows: [1h]
    features:
      - {{ name: tenure, type: numeric }}
      - {{ name: plan, type: categorical }}
  - name: threads
    task: binary
    windows: [1h]
    features:
      - {{ name: x, type: numeric }}
  - name: bulk
    task: binary
    windows: [1h]
    features:
      - {{ name: x, type: numeric }}
  - name: atexit
    task: binary
    windows: [1h]
    features:
      - {{ name: x, type: numeric }}
"""


class Daemon:
    """A running `vigil serve`: its URL and token, and read-back helpers."""

    def __init__(self, url: str, token: str, proc: subprocess.Popen) -> None:
        self.url = url
        self.token = token
        self.proc = proc

    def get(self, path: str) -> Tuple[int, Any]:
        req = urllib.request.Request(self.url + path, headers={"Authorization": f"Bearer {self.token}", "Accept": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def prediction(self, model: str, id: str) -> Dict[str, Any]:
        status, body = self.get(f"/v1/models/{model}/predictions/{id}")
        assert status == 200, (status, body)
        return body

    def count(self, model: str) -> int:
        status, body = self.get(f"/v1/models/{model}")
        assert status == 200, (status, body)
        return int(body["predictions"])


@pytest.fixture(scope="session")
def vigil(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    node = os.environ.get("VIGIL_NODE") or shutil.which("node")
    main = Path(os.environ.get("VIGIL_MAIN") or REPO / "dist" / "src" / "main.js")
    if not node:
        pytest.fail("no node: set VIGIL_NODE or put node (>= 22) on PATH (source scripts/node.sh)")
    if not main.exists():
        pytest.fail(f"{main} is missing: run `npm run build` (or set VIGIL_MAIN)")
    tmp = tmp_path_factory.mktemp("vigil")
    config = tmp / "vigil.yaml"
    config.write_text(CONFIG.format(token=TOKEN, db=tmp / "vigil.db"))
    out = open(tmp / "stdout.log", "wb")
    err = open(tmp / "stderr.log", "wb")
    proc = subprocess.Popen([node, str(main), "serve", "--config", str(config)], stdout=out, stderr=err, cwd=tmp)
    url = None
    deadline = time.monotonic() + 60
    try:
        while url is None:
            if proc.poll() is not None:
                pytest.fail(f"vigil exited with {proc.returncode} before it started:\n"
                            f"{(tmp / 'stdout.log').read_text()[-3000:]}\n{(tmp / 'stderr.log').read_text()[-3000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"vigil did not log 'vigil started' within 60 s:\n{(tmp / 'stdout.log').read_text()[-3000:]}")
            for line in (tmp / "stdout.log").read_text().splitlines():
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                if rec.get("msg") == "vigil started" and isinstance(rec.get("url"), str):
                    url = rec["url"]
            time.sleep(0.05)
        yield Daemon(url, TOKEN, proc)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        out.close()
        err.close()


@pytest.fixture
def uid() -> str:
    """A prefix that makes this test's ids unique in the session's store."""
    return uuid.uuid4().hex[:10]


class Request:
    """One request the fake server received."""

    def __init__(self, method: str, path: str, headers: Dict[str, str], raw: bytes, at: float) -> None:
        self.method = method
        self.path = path
        self.headers = headers
        self.raw = raw
        self.at = at

    @property
    def body(self) -> bytes:
        return gzip.decompress(self.raw) if self.headers.get("content-encoding") == "gzip" else self.raw

    @property
    def items(self) -> List[Dict[str, Any]]:
        return [json.loads(line) for line in self.body.decode("utf-8").splitlines() if line.strip()]


Responder = Callable[[Request], Tuple[int, Dict[str, str], bytes]]


class FakeServer:
    """A small HTTP server on 127.0.0.1: records every request, answers with `respond(request)`
    (default: Vigil's 200 `{"accepted": n, "duplicates": [], "rejected": []}`)."""

    def __init__(self) -> None:
        self.requests: List[Request] = []
        self.respond: Responder = accept_all
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                req = Request("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, raw, time.monotonic())
                with fake.lock:
                    fake.requests.append(req)
                status, headers, body = fake.respond(req)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def accept_all(req: Request) -> Tuple[int, Dict[str, str], bytes]:
    return 200, {}, json.dumps({"accepted": len(req.items), "duplicates": [], "rejected": []}).encode()


def proxy_to(url: str) -> Responder:
    """A responder that forwards the request, as it came, to `url` (the real daemon)."""
    host, port = url.split("//")[1].split(":")

    def respond(req: Request) -> Tuple[int, Dict[str, str], bytes]:
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        try:
            fwd = {k: v for k, v in req.headers.items() if k in ("content-type", "content-encoding", "authorization")}
            conn.request("POST", req.path, body=req.raw, headers=fwd)
            r = conn.getresponse()
            return r.status, {}, r.read()
        finally:
            conn.close()

    return respond


@pytest.fixture
def fake() -> Iterator[FakeServer]:
    server = FakeServer()
    yield server
    server.close()

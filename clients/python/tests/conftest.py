"""Fixtures: the real eventgate daemon (built from this repository), a
proxy that drops responses, and helpers that wait for conditions."""

from __future__ import annotations

import http.client
import http.server
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Callable, List, Optional

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
sys.path.insert(0, str(HERE.parent / "src"))  # the package under test, uninstalled

import eventgate  # noqa: E402


def wait_until(cond: Callable[[], object], timeout: float = 30.0, what: str = "condition") -> object:
    """Poll cond until it returns a true value; fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


@pytest.fixture(scope="session")
def eventgate_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The eventgate binary: $EVENTGATE_BIN, else built from this repository."""
    given = os.environ.get("EVENTGATE_BIN")
    if given:
        return Path(given)
    go = shutil.which("go") or "/usr/local/go/bin/go"
    out = tmp_path_factory.mktemp("bin") / "eventgate"
    subprocess.run([go, "build", "-o", str(out), "./cmd/eventgate"], cwd=REPO, check=True, timeout=900)
    return out


class Daemon:
    """One `eventgate serve` process on a free loopback port, with a data
    directory and an admin token of its own."""

    def __init__(self, binary: Path, data_dir: Path) -> None:
        self.binary = binary
        self.data_dir = data_dir
        self.token = secrets.token_hex(16)
        self.url = ""
        self.proc: Optional[subprocess.Popen] = None
        self.log: List[str] = []

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("EVENTGATE_")}
        env.update(EVENTGATE_DIR=str(self.data_dir), EVENTGATE_TOKENS=f"{self.token}:admin",
                   EVENTGATE_LOG_FORMAT="json")
        self.proc = subprocess.Popen([str(self.binary), "serve", "--listen", "127.0.0.1:0"],
                                     env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        found = threading.Event()

        def read() -> None:
            assert self.proc is not None and self.proc.stderr is not None
            for line in self.proc.stderr:
                self.log.append(line)
                if not found.is_set():
                    try:
                        rec = json.loads(line)
                    except ValueError:
                        continue
                    if rec.get("msg") == "eventgate serving":
                        self.url = rec["url"]
                        found.set()

        threading.Thread(target=read, daemon=True).start()
        wait_until(lambda: found.is_set() or self.proc.poll() is not None, 60, "eventgate serve to listen")
        if not found.is_set():
            raise RuntimeError("eventgate serve exited: " + "".join(self.log))

        def healthy() -> bool:
            try:
                return eventgate.Client(self.url, self.token, timeout=2).health().get("status") == "ok"
            except eventgate.TransportError:
                return False

        wait_until(healthy, 30, "/healthz")

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


@pytest.fixture(scope="session")
def daemon(eventgate_bin: Path, tmp_path_factory: pytest.TempPathFactory):
    """A running daemon shared by the tests (each test uses sessions of its own)."""
    d = Daemon(eventgate_bin, tmp_path_factory.mktemp("data"))
    d.start()
    yield d
    d.stop()


@pytest.fixture
def client(daemon: Daemon):
    """A Client of the shared daemon."""
    with eventgate.Client(daemon.url, daemon.token) as c:
        yield c


def new_session(prefix: str = "py") -> str:
    """A session id no other test uses."""
    return f"{prefix}-{secrets.token_hex(6)}"


def settled_events(c: eventgate.Client, session_id: str, timeout: float = 30.0) -> List[eventgate.StoredEvent]:
    """The session's events once everything recorded before the call is
    readable: a marker event is logged last, and its arrival in the session
    means the events before it are there too (the session files are written
    in journal order). The marker is left out of the result."""
    marker = c.log({"session_id": session_id, "type": "test.marker"})

    def read():
        try:
            evs = list(c.events(session_id))
        except eventgate.NotFoundError:  # not projected yet
            return None
        return evs if any(e.id == marker.id for e in evs) else None

    evs = wait_until(read, timeout, f"the marker of {session_id}")
    return [e for e in evs if e.id != marker.id]  # type: ignore[union-attr]


class DropProxy:
    """An HTTP proxy in front of the daemon that forwards each POST and, for
    every ``every``-th one, reads the daemon's answer and then closes the
    client's connection without passing the answer on: the event is
    recorded, the client sees a dropped connection."""

    def __init__(self, upstream: str, every: int = 3) -> None:
        u = urllib.parse.urlsplit(upstream)
        self.host, self.port = u.hostname, u.port
        self.every = every
        self.posts = 0
        self.dropped = 0
        self.lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _forward(self, method: str) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else None
                drop = False
                if method == "POST":
                    with proxy.lock:
                        proxy.posts += 1
                        drop = proxy.posts % proxy.every == 0
                        if drop:
                            proxy.dropped += 1
                up = http.client.HTTPConnection(proxy.host, proxy.port, timeout=30)
                try:
                    hdrs = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                    up.request(method, self.path, body=body, headers=hdrs)
                    r = up.getresponse()
                    data = r.read()
                finally:
                    up.close()
                if drop:
                    self.close_connection = True
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    return
                self.send_response(r.status)
                for k, v in r.getheaders():
                    if k.lower() not in ("content-length", "connection", "transfer-encoding", "date", "server"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                self._forward("POST")

            def do_GET(self) -> None:
                self._forward("GET")

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "DropProxy":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()

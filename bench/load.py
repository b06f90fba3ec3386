"""A bounded, concurrent HTTP client for 127.0.0.1: N threads, each one visitor.

Each thread keeps one keep-alive connection and its own cookies (so a tracked
site sees returning visitors, not a new one per request) and sends what a
browser sends for a normal navigation: a desktop user agent, no Do Not Track,
no Global Privacy Control, no prefetch header. Nothing a tracker would skip.

A run stops by itself: no new request after ``duration`` seconds, nor past
``max_requests``; a request in flight ends within ``timeout``.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie

from bench.server import HOST
from bench.stats import percentile

BROWSER_HEADERS = {
    "User-Agent": ("Mozilla/5.0 (X11; Linux x86_64; rv:145.0) Gecko/20100101 Firefox/145.0"),
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "en",
}


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


#: make_request(thread_index, request_index) -> Request
RequestFactory = Callable[[int, int], Request]


def rotate(paths: list[str]) -> RequestFactory:
    """GET each path in turn; threads start at different paths."""
    if not paths:
        raise ValueError("no paths to request")

    def make(thread: int, i: int) -> Request:
        return Request("GET", paths[(thread + i) % len(paths)])

    return make


@dataclass
class LoadResult:
    requests: int = 0  # answered with an expected status
    errors: int = 0  # unexpected status, refused, reset or timed out
    elapsed: float = 0.0  # seconds of wall time
    latencies_ms: list[float] = field(default_factory=list)  # of the expected answers
    statuses: Counter = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list)
    server_cpu_s: float | None = None  # CPU the server spent meanwhile, when measured

    @property
    def throughput(self) -> float:
        return self.requests / self.elapsed if self.elapsed else 0.0

    @property
    def cpu_ms_per_request(self) -> float | None:
        if self.server_cpu_s is None or not self.requests:
            return None
        return self.server_cpu_s * 1000 / self.requests

    def latency(self, p: float) -> float | None:
        return percentile(self.latencies_ms, p) if self.latencies_ms else None

    def summary(self) -> dict:
        return {
            "requests": self.requests,
            "errors": self.errors,
            "elapsed_s": round(self.elapsed, 3),
            "throughput_rps": round(self.throughput, 2),
            "p50_ms": _round(self.latency(50)),
            "p95_ms": _round(self.latency(95)),
            "p99_ms": _round(self.latency(99)),
            "server_cpu_ms_per_request": _round(self.cpu_ms_per_request),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def merge(results: Iterable[LoadResult]) -> LoadResult:
    """Rounds of one side added up: throughput over the summed time, pooled latencies."""
    total = LoadResult()
    for r in results:
        total.requests += r.requests
        total.errors += r.errors
        total.elapsed += r.elapsed
        total.latencies_ms.extend(r.latencies_ms)
        total.statuses.update(r.statuses)
        total.error_samples.extend(r.error_samples[: max(0, 5 - len(total.error_samples))])
        if r.server_cpu_s is not None:
            total.server_cpu_s = (total.server_cpu_s or 0.0) + r.server_cpu_s
    return total


class _Budget:
    def __init__(self, limit: int | None) -> None:
        self.left = limit
        self.lock = threading.Lock()

    def take(self) -> bool:
        if self.left is None:
            return True
        with self.lock:
            if self.left <= 0:
                return False
            self.left -= 1
            return True


def run_load(
    port: int,
    make_request: RequestFactory,
    *,
    concurrency: int,
    duration: float,
    max_requests: int | None = None,
    ok_statuses: tuple[int, ...] = (200,),
    host_header: str = "localhost",
    timeout: float = 10.0,
) -> LoadResult:
    """Send requests from ``concurrency`` threads for ``duration`` seconds."""
    if concurrency < 1 or duration <= 0:
        raise ValueError("concurrency and duration must be positive")
    budget = _Budget(max_requests)
    per_thread = [LoadResult() for _ in range(concurrency)]
    start_line = threading.Barrier(concurrency + 1)
    deadline = [0.0]

    def worker(index: int) -> None:
        result = per_thread[index]
        cookies: dict[str, str] = {}
        conn: http.client.HTTPConnection | None = None
        start_line.wait()
        i = 0
        while time.monotonic() < deadline[0] and budget.take():
            req = make_request(index, i)
            i += 1
            headers = {**BROWSER_HEADERS, "Host": host_header, **req.headers}
            if cookies:
                headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
            started = time.perf_counter()
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
                conn.request(req.method, req.path, body=req.body, headers=headers)
                response = conn.getresponse()
                response.read()
                took_ms = (time.perf_counter() - started) * 1000
                _keep_cookies(cookies, response.headers.get_all("Set-Cookie") or [])
                if response.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as exc:
                result.errors += 1
                if len(result.error_samples) < 5:
                    result.error_samples.append(f"{req.method} {req.path}: {exc!r}")
                if conn is not None:
                    conn.close()
                conn = None
                continue
            result.statuses[response.status] += 1
            if response.status in ok_statuses:
                result.requests += 1
                result.latencies_ms.append(took_ms)
            else:
                result.errors += 1
                if len(result.error_samples) < 5:
                    result.error_samples.append(f"{req.method} {req.path}: {response.status}")
        if conn is not None:
            conn.close()

    threads = [
        threading.Thread(target=worker, args=(n,), daemon=True, name=f"load-{n}")
        for n in range(concurrency)
    ]
    for t in threads:
        t.start()
    deadline[0] = time.monotonic() + duration
    started = time.perf_counter()
    start_line.wait()
    for t in threads:
        t.join(timeout=duration + timeout + 5)
    total = merge(per_thread)
    total.elapsed = time.perf_counter() - started
    return total


def _keep_cookies(jar: dict[str, str], set_cookie_headers: list[str]) -> None:
    for raw in set_cookie_headers:
        try:
            parsed = SimpleCookie(raw)
        except CookieError:
            continue
        for name, morsel in parsed.items():
            if morsel.value and morsel["max-age"] != "0":
                jar[name] = morsel.value
            else:
                jar.pop(name, None)

"""An HTTP load generator on loopback: threads with http.client, one connection each.

Two shapes:
- `closed_loop`: N connections, each sending its next request as soon as the last answer came
  back: the throughput the server sustains at that concurrency, and its latencies there;
- `fixed_rate`: requests scheduled at a fixed rate, spread over the connections; each latency
  is measured from the moment the request was *due*, so a stalled server shows up in the p99
  instead of silently slowing the schedule down (no coordinated omission).

Connections are kept alive when the server allows it; gunicorn's sync workers close them after
every response and http.client reconnects, which is counted in the latency as a client would see it.
"""

from __future__ import annotations

import http.client
import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from ops.bench.figures import Latency, per_second


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


RequestSource = Callable[[int], Request]


@dataclass
class LoadResult:
    seconds: float
    latencies: list[float] = field(default_factory=list)  # successful requests, seconds
    statuses: Counter[str] = field(default_factory=Counter)

    @property
    def ok(self) -> int:
        return len(self.latencies)

    @property
    def errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if not status.startswith("2"))

    @property
    def throughput(self) -> float:
        return per_second(self.ok, self.seconds)

    def as_dict(self) -> dict[str, object]:
        latency = Latency.of(self.latencies)
        return {
            "seconds": round(self.seconds, 2),
            "requests_ok": self.ok,
            "errors": self.errors,
            "statuses": dict(self.statuses),
            "throughput_per_s": round(self.throughput, 1),
            "latency": latency.as_dict() if latency else None,
        }


class _Client:
    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.connection = http.client.HTTPConnection(host, port, timeout=timeout)

    def send(self, request: Request) -> str:
        """The status of the answer ('error:<Exception>' when there was none)."""
        try:
            self.connection.request(
                request.method, request.path, body=request.body, headers=request.headers
            )
            response = self.connection.getresponse()
            response.read()
            if response.will_close:
                self.connection.close()
            return str(response.status)
        except (OSError, http.client.HTTPException) as exc:
            self.connection.close()
            return f"error:{type(exc).__name__}"

    def close(self) -> None:
        self.connection.close()


@dataclass
class _Shared:
    lock: threading.Lock = field(default_factory=threading.Lock)
    counter: itertools.count = field(default_factory=itertools.count)
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)

    def next_index(self) -> int:
        with self.lock:
            return next(self.counter)

    def record(self, status: str, seconds: float, *, measured: bool) -> None:
        if not measured:
            return
        with self.lock:
            self.statuses[status] += 1
            if status.startswith("2"):
                self.latencies.append(seconds)


def closed_loop(
    host: str,
    port: int,
    source: RequestSource,
    *,
    connections: int,
    seconds: float,
    warmup: float = 0.0,
    on_measure_start: Callable[[], None] | None = None,
    on_measure_end: Callable[[], None] | None = None,
    timeout: float = 30.0,
) -> LoadResult:
    """Keep `connections` requests in flight for warmup + seconds; measure the last `seconds`
    (the callbacks mark that window, e.g. for CPU sampling)."""
    shared = _Shared()
    begin = time.monotonic()
    measure_from, until = begin + warmup, begin + warmup + seconds

    def worker() -> None:
        client = _Client(host, port, timeout)
        while (now := time.monotonic()) < until:
            request = source(shared.next_index())
            status = client.send(request)
            done = time.monotonic()
            shared.record(status, done - now, measured=now >= measure_from and done <= until)
        client.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(connections)]
    for thread in threads:
        thread.start()
    _at(measure_from, on_measure_start)
    _at(until, on_measure_end)
    for thread in threads:
        thread.join()
    return LoadResult(seconds, shared.latencies, shared.statuses)


def _at(moment: float, callback: Callable[[], None] | None) -> None:
    time.sleep(max(moment - time.monotonic(), 0))
    if callback is not None:
        callback()


def fixed_rate(
    host: str,
    port: int,
    source: RequestSource,
    *,
    rate: float,
    seconds: float,
    connections: int = 16,
    warmup: float = 0.0,
    on_measure_start: Callable[[], None] | None = None,
    on_measure_end: Callable[[], None] | None = None,
    timeout: float = 30.0,
    grace: float = 10.0,
) -> LoadResult:
    """Send `rate` requests a second for warmup + seconds; latency counts from the due time.
    A server that cannot keep up is not waited for forever: requests still unsent `grace`
    seconds after the schedule ended are counted as "dropped" (errors) and never sent."""
    shared = _Shared()
    total = int(rate * (warmup + seconds))
    first_measured = int(rate * warmup)
    begin = time.monotonic() + 0.05
    give_up = begin + warmup + seconds + grace

    def worker(lane: int) -> None:
        client = _Client(host, port, timeout)
        for slot in range(lane, total, connections):
            due = begin + slot / rate
            time.sleep(max(due - time.monotonic(), 0))
            if time.monotonic() > give_up:
                shared.record("dropped", 0.0, measured=slot >= first_measured)
                continue
            status = client.send(source(slot))
            shared.record(status, time.monotonic() - due, measured=slot >= first_measured)
        client.close()

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(connections)]
    for thread in threads:
        thread.start()
    _at(begin + warmup, on_measure_start)
    for thread in threads:
        thread.join()
    if on_measure_end is not None:
        on_measure_end()
    elapsed = max(time.monotonic() - (begin + warmup), 1e-9)
    return LoadResult(elapsed, shared.latencies, shared.statuses)


def sequential(
    host: str,
    port: int,
    source: RequestSource,
    *,
    count: int,
    max_seconds: float | None = None,
    timeout: float = 120.0,
) -> LoadResult:
    """Up to `count` requests one after the other on one connection: the service latency, no
    queueing. Stops early after `max_seconds` (slow pages)."""
    shared = _Shared()
    client = _Client(host, port, timeout)
    begin = time.monotonic()
    for index in range(count):
        if max_seconds is not None and time.monotonic() - begin > max_seconds:
            break
        started = time.monotonic()
        status = client.send(source(index))
        shared.record(status, time.monotonic() - started, measured=True)
    client.close()
    return LoadResult(time.monotonic() - begin, shared.latencies, shared.statuses)

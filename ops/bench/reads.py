"""The read side at scale: a consumer's case page, a staff queue page, the monitoring overview.

Over HTTP each page gets its latency (and CPU per request at a fixed rate); in-process, through
Django's test client under `CaptureQueriesContext`, its query count, the time spent in SQL and the
slowest statements: the profile that says what dominates when a target is missed.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from accounts.tokens import issue_token
from cases.models import Case
from departments.models import NATIONAL_CODE, Department
from ops.bench.figures import Latency
from ops.bench.loadgen import Request
from ops.workload import STAFF_PREFIX

SLOWEST = 3


@dataclass(frozen=True)
class Staff:
    department: Department
    token: str
    user: User


def staff_token(code: str) -> Staff:
    """The generated staff member of a department, with a fresh token."""
    user = User.objects.get(username=f"{STAFF_PREFIX}{code}")
    with transaction.atomic():
        token = issue_token(user=user)
    return Staff(Department.objects.get(code=code), token, user)


def busiest_county() -> str:
    """The county-level department holding the most cases (a heavy queue, not an average one)."""
    row = (
        Case.objects.values("department_id")
        .annotate(n=Count("id"))
        .order_by("-n", "department_id")
        .first()
    )
    assert row is not None, "no cases"
    return str(row["department_id"])


def levels(county: str) -> dict[str, str]:
    """national / province / city / county codes above the busiest county."""
    department = Department.objects.get(code=county)
    codes = department.ancestor_codes()
    province = next(code for code in codes if code.endswith("0000") and code != NATIONAL_CODE)
    city = department.parent_id or county
    return {"national": NATIONAL_CODE, "province": province, "city": city, "county": county}


def case_pages(consumers: dict[int, str], *, count: int, seed: int) -> list[tuple[str, str]]:
    """(token, case number) pairs: cases of consumers who hold a token."""
    rows = list(
        Case.objects.filter(consumer_id__in=list(consumers))
        .order_by("id")
        .values_list("consumer_id", "number")[: count * 4]
    )
    random.Random(f"pages:{seed}").shuffle(rows)
    return [(consumers[user], number) for user, number in rows[:count]]


def get(path: str, token: str) -> Callable[[int], Request]:
    request = Request("GET", path, None, {"Authorization": f"Bearer {token}"})
    return lambda index: request


def case_page_source(pairs: list[tuple[str, str]]) -> Callable[[int], Request]:
    def source(index: int) -> Request:
        token, number = pairs[index % len(pairs)]
        return Request("GET", f"/api/v1/cases/{number}", None, {"Authorization": f"Bearer {token}"})

    return source


_CLIENT: list[Client] = []


def _client() -> Client:
    """One test client for the whole run: its handler loads the middleware once, as a web
    worker does, so the timing is the request's and not the start-up's."""
    if not _CLIENT:
        _CLIENT.append(Client())
        _CLIENT[0].get("/api/v1/categories")
    return _CLIENT[0]


def profile(method: str, path: str, token: str, body: bytes | None = None) -> dict[str, Any]:
    """One request in-process (after a warm-up one when it is a read): status, queries, SQL
    time, the slowest statements."""
    client, headers = _client(), {"Authorization": f"Bearer {token}"}
    if method == "GET":
        client.get(path, headers=headers)
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as captured:
        if method == "POST":
            response = client.post(
                path, body or b"", content_type="application/json", headers=headers
            )
        else:
            response = client.get(path, headers=headers)
    seconds = time.perf_counter() - started
    return {
        "status": response.status_code,
        "seconds": round(seconds, 4),
        **query_profile(captured.captured_queries),
    }


def query_profile(queries: list[dict[str, str]]) -> dict[str, Any]:
    timed = sorted(queries, key=lambda q: float(q["time"]), reverse=True)
    return {
        "queries": len(queries),
        "sql_ms": round(sum(float(q["time"]) for q in queries) * 1000, 1),
        "slowest": [
            {"ms": round(float(q["time"]) * 1000, 1), "sql": q["sql"][:300]}
            for q in timed[:SLOWEST]
        ],
    }


def timed_calls(call: Callable[[], object], *, count: int, warmup: int = 1) -> dict[str, Any]:
    """Call in-process `warmup` times untimed (as the HTTP pages are warmed up: the first call
    of a process pays its imports and the connection's first plans), then `count` times;
    latency summary and the queries of the last call."""
    for _ in range(warmup):
        call()
    seconds = []
    queries: list[dict[str, str]] = []
    for _ in range(count):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            call()
            seconds.append(time.perf_counter() - started)
        queries = captured.captured_queries
    latency = Latency.of(seconds)
    assert latency is not None
    return {"latency": latency.as_dict(), **query_profile(queries)}

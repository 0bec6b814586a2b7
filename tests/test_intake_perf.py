"""What filing a case costs (issue 6): the reply is built from the rows just written, the case row
is written once with its number and event head, and one complaint takes a fixed few queries.

Runs on SQLite by default and on PostgreSQL with DATABASE_URL (where the key is reserved first).
"""

from __future__ import annotations

import dataclasses
import os
import time
import uuid
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext

from api.errors import ApiError
from cases import intake_writes
from cases.api import throttle
from cases.events import GENESIS, verify_case_events
from cases.intake import submit_case
from cases.intake_writes import Respondent, reserve
from cases.models import Case, CaseEvent
from cases.numbering import format_number
from cases.rules import local_date
from tests.test_intake_api import PNG, media_and_cache  # noqa: F401 (an autouse fixture)
from tests.test_intake_api import complaint_body as intake_complaint_body

ON_POSTGRESQL = connection.vendor == "postgresql"

# The token with its user (and whether they hold a membership: a consumer holds none); on
# PostgreSQL one statement reserving the keys with the department's row and the business, then the
# case, its event and clock, and the supervision rollup's upsert (sent together: one round trip);
# on SQLite the department's row, the business, the case, its number, the event, the clock and the
# upsert. Not counted: BEGIN, COMMIT.
MAX_QUERIES_PER_COMPLAINT = 6 if ON_POSTGRESQL else 8
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


def complaint_body(**overrides):
    """The intake suite's complaint, naming a platform too (the reply carries it)."""
    platform = {"name": "某购物平台", "address": "杭州市余杭区"}
    body = intake_complaint_body(**overrides)
    body["respondent"] = {**body["respondent"], "platform": platform}
    return body


def upload(api, user, name):
    response = api.as_user(user).post(
        "/api/v1/attachments", {"file": SimpleUploadedFile(name, PNG, "image/png")}
    )
    assert response.status_code == 201, response.content
    return response.json()["id"]


def filed_and_shown(api, user, path, body, **headers):
    """The 201 body of a submission, and the same case as GET then shows it to the same user.
    The reply is not validated against `CaseOut` again (the GET is): the bytes must be the same,
    key order included."""
    client = api.as_user(user)
    created = client.post_json(path, body, **headers)
    assert created.status_code == 201, created.content
    shown = client.get(f"/api/v1/cases/{created.json()['number']}")
    assert shown.status_code == 200
    assert created.content == shown.content
    assert created["Content-Type"] == shown["Content-Type"]
    return created.json(), shown.json()


def statements(captured: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"]
        for q in captured.captured_queries
        if not q["sql"].lstrip().upper().startswith(TRANSACTION_CONTROL)
    ]


# --- the reply is the case as GET shows it ----------------------------------------------------


def test_the_reply_to_a_complaint_with_evidence_is_the_case_as_get_shows_it(api, cast):
    ids = [upload(api, cast.alice, "receipt.png"), upload(api, cast.alice, "photo.png")]

    created, shown = filed_and_shown(
        api, cast.alice, "/api/v1/complaints", complaint_body(attachments=ids)
    )

    assert created == shown
    assert [a["id"] for a in created["attachments"]] == ids
    assert [e["action"] for e in created["timeline"]] == ["submit"]
    assert created["allowed_actions"] == shown["allowed_actions"]


def test_the_reply_to_a_report_is_the_case_as_get_shows_it(api, cast):
    created, shown = filed_and_shown(
        api, cast.alice, "/api/v1/reports", complaint_body(notify_me=True, demand="")
    )
    assert created == shown
    assert created["notify_me"] is True


def test_the_reply_to_a_consultation_is_the_case_as_get_shows_it(api, cast):
    body = {"department": "330106", "question": "网购七天无理由退货怎么算？"}
    created, shown = filed_and_shown(api, cast.alice, "/api/v1/consultations", body)
    assert created == shown
    assert created["deadlines"][0]["kind"] == "answer"


def test_a_hotline_agent_gets_the_staff_view_get_shows_of_an_earlier_call(api, cast):
    body = complaint_body(
        on_behalf_of={"real_name": "王五", "phone": "13900000009", "address": "杭州市上城区"},
        channel="hotline",
        received_at="2026-09-30T10:00:00+08:00",
    )

    created, shown = filed_and_shown(api, cast.hank, "/api/v1/complaints", body)

    assert created == shown
    assert created["handler_unit"] is None
    assert created["timeline"][0]["visibility"] == "public"
    assert created["party"]["phone"] == "13900000009"  # hank's county holds the case
    assert verify_case_events(Case.objects.get(number=created["number"])) is None


def test_a_replayed_submission_answers_with_the_first_case_as_get_shows_it(api, cast):
    first, _ = filed_and_shown(
        api, cast.alice, "/api/v1/complaints", complaint_body(), HTTP_IDEMPOTENCY_KEY="once"
    )

    again, shown = filed_and_shown(
        api, cast.alice, "/api/v1/complaints", complaint_body(), HTTP_IDEMPOTENCY_KEY="once"
    )

    assert again == first == shown
    assert Case.objects.count() == 1


# --- the case row: number and event head in place, the chain intact ---------------------------


def test_a_filed_case_carries_its_number_and_the_head_of_an_intact_chain(api, cast):
    response = api.as_user(cast.alice).post_json("/api/v1/complaints", complaint_body())

    case = Case.objects.get(number=response.json()["number"])
    event = CaseEvent.objects.get(case=case)
    assert case.number == format_number(
        kind=case.kind, received_on=local_date(case.received_at), sequence=case.pk
    )
    assert (event.seq, event.prev_hash) == (1, GENESIS)
    assert case.event_head == event.hash
    assert verify_case_events(case) is None


def test_cases_filed_one_after_another_each_keep_an_intact_chain(api, cast):
    client = api.as_user(cast.alice)
    numbers = [
        client.post_json("/api/v1/complaints", complaint_body(facts=f"第{n}件。")).json()["number"]
        for n in range(3)
    ]

    cases = Case.objects.filter(number__in=numbers)
    assert len({c.pk for c in cases}) == 3
    assert all(verify_case_events(case) is None for case in cases)
    assert not Case.objects.filter(event_head="").exists()


def test_a_refused_submission_after_the_case_was_written_leaves_nothing(api, cast):
    someone_elses = upload(api, cast.bob, "theirs.png")

    response = api.as_user(cast.alice).post_json(
        "/api/v1/complaints", complaint_body(attachments=[someone_elses])
    )

    assert response.status_code == 422
    assert not Case.objects.exists()
    assert not CaseEvent.objects.exists()


@pytest.mark.skipif(not ON_POSTGRESQL, reason="the rows are sent in a pipeline")
def test_a_write_refused_by_the_database_is_an_integrity_error_and_leaves_nothing(
    api, cast, monkeypatch
):
    taken = api.as_user(cast.alice).post_json("/api/v1/complaints", complaint_body()).json()
    taken_id = Case.objects.get(number=taken["number"]).pk

    def reserve_a_used_key(**kwargs):
        return dataclasses.replace(reserve(**kwargs), case_id=taken_id)

    monkeypatch.setattr(intake_writes, "reserve", reserve_a_used_key)
    with pytest.raises(IntegrityError):
        submit_case(kind="complaint", by=cast.alice, payload=complaint_body(facts="又一件。"))

    assert Case.objects.count() == CaseEvent.objects.count() == 1
    monkeypatch.undo()
    again = api.as_user(cast.alice).post_json("/api/v1/complaints", complaint_body())
    assert again.status_code == 201  # the connection is usable


@pytest.mark.skipif(not ON_POSTGRESQL, reason="the key is reserved from a sequence")
def test_on_postgresql_the_case_row_is_written_once_with_a_reserved_key(api, cast):
    queries = second_complaint_statements(api, cast)

    on_cases = [sql for sql in queries if '"cases_case"' in sql]
    assert len(on_cases) == 1
    assert on_cases[0].startswith('INSERT INTO "cases_case"')
    assert sum("nextval" in sql for sql in queries) == 1


def test_reserving_keys_asks_the_sequences_on_postgresql_only(cast):
    first = reserve(department="330106", respondent=None)
    second = reserve(
        department="330106", respondent=Respondent(name="x", uscc="91330106MA2H7KQ4L5")
    )

    keys = [(r.case_id, r.event_id, r.clock_id) for r in (first, second)]
    if ON_POSTGRESQL:
        assert all(key is not None for pair in keys for key in pair)
        assert all(later > earlier for earlier, later in zip(*keys, strict=True))
    else:
        assert keys == [(None, None, None)] * 2
    assert first.department is not None and first.department[0] == "330106"
    assert (first.businesses, second.businesses) == ([], [cast.shop.pk])


# --- queries ------------------------------------------------------------------------------------


def second_complaint_statements(api, cast) -> list[str]:
    """The statements of Alice's second complaint (the first warms the per-process caches)."""
    client = api.as_user(cast.alice)
    client.post_json("/api/v1/complaints", complaint_body(facts="先来一件。"))
    with CaptureQueriesContext(connection) as captured:
        response = client.post_json("/api/v1/complaints", complaint_body())
    assert response.status_code == 201
    return statements(captured)


def test_one_complaint_takes_a_fixed_few_queries(api, cast):
    queries = second_complaint_statements(api, cast)
    assert len(queries) <= MAX_QUERIES_PER_COMPLAINT, "\n".join(queries)
    # Nothing just written is read back; that a consumer holds no membership came with the token.
    read_back = ("cases_caseevent", "cases_deadline", "cases_attachment", "cases_case")
    selects = [sql for sql in queries if sql.startswith("SELECT")]
    assert not [sql for sql in selects if any(f'FROM "{t}"' in sql for t in read_back)]
    assert not [sql for sql in selects if 'FROM "accounts_membership"' in sql]


def test_a_hotline_agent_s_memberships_are_read_once_per_request(api, cast):
    body = complaint_body(
        on_behalf_of={"real_name": "王五", "phone": "13900000009", "address": "杭州市上城区"}
    )

    client = api.as_user(cast.hank)

    with CaptureQueriesContext(connection) as captured:
        response = client.post_json("/api/v1/complaints", body)

    assert response.status_code == 201
    assert response.json()["party"]["phone"] == "13900000009"  # staff holding the case
    memberships = [sql for sql in statements(captured) if '"accounts_membership"' in sql]
    assert len(memberships) == 1


# --- the rate limit -----------------------------------------------------------------------------


def test_the_rate_limit_counts_each_request_of_the_window_in_the_cache():
    """Local memory here; with REDIS_URL set, Redis (one pipelined INCR and EXPIRE per request)."""
    user = SimpleNamespace(pk=f"probe-{uuid.uuid4().hex}")
    for _ in range(2):
        throttle(user=user, bucket="probe", limit=2, window=3600)  # type: ignore[arg-type]

    with pytest.raises(ApiError) as refused:
        throttle(user=user, bucket="probe", limit=2, window=3600)  # type: ignore[arg-type]

    assert refused.value.status == 429
    assert refused.value.code == "rate_limited"


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL is not set")
def test_on_redis_a_window_s_counter_expires_with_its_window():
    from django.core.cache import caches

    store = caches["default"]
    user = SimpleNamespace(pk=f"probe-{uuid.uuid4().hex}")
    now = int(time.time())
    throttle(user=user, bucket="probe", limit=5, window=3600)  # type: ignore[arg-type]

    key = store.make_and_validate_key(f"throttle:probe:{user.pk}:{now - now % 3600}")
    client = store._cache.get_client(key)  # type: ignore[attr-defined]
    assert client.get(key) == b"1"
    assert 0 < client.ttl(key) <= 3600

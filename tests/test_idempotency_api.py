"""Idempotency-Key on the create endpoints: one case per key, however often it is sent."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from businesses.models import Business
from cases import idempotency
from cases.idempotency import issue_form_token
from cases.intake import submit_case
from cases.models import Case, CaseEvent, Deadline, IdempotencyKey
from tests.test_intake_api import complaint_body


@pytest.fixture(autouse=True)
def fast_cast(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()


def post(api, user, body, key=None, path="/api/v1/complaints"):
    extra = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return api.as_user(user).post_json(path, body, **extra)


def test_a_retry_with_the_same_key_and_body_returns_the_first_case(api, cast):
    first = post(api, cast.alice, complaint_body(), key="k-1")
    again = post(api, cast.alice, complaint_body(), key="k-1")

    assert first.status_code == again.status_code == 201
    assert again.json()["number"] == first.json()["number"]
    assert Case.objects.count() == 1


def test_key_order_and_spacing_of_the_body_do_not_matter(api, cast):
    body = complaint_body()
    first = post(api, cast.alice, body, key="k-1")
    reordered = dict(reversed(list(body.items())))
    again = post(api, cast.alice, reordered, key="k-1")
    assert again.json()["number"] == first.json()["number"]


def test_the_same_key_with_a_different_body_is_refused(api, cast):
    post(api, cast.alice, complaint_body(), key="k-1")

    response = post(api, cast.alice, complaint_body(facts="完全不同的事。"), key="k-1")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_mismatch"
    assert Case.objects.count() == 1


def test_the_same_key_on_another_endpoint_is_a_different_request(api, cast):
    post(api, cast.alice, complaint_body(), key="k-1")
    response = post(api, cast.alice, complaint_body(), key="k-1", path="/api/v1/reports")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_mismatch"


def test_without_a_key_two_submissions_are_two_cases(api, cast):
    first = post(api, cast.alice, complaint_body())
    second = post(api, cast.alice, complaint_body())

    assert first.status_code == second.status_code == 201
    assert first.json()["number"] != second.json()["number"]
    assert Case.objects.count() == 2


def test_keys_belong_to_their_user(api, cast):
    mine = post(api, cast.alice, complaint_body(), key="shared")
    theirs = post(api, cast.bob, complaint_body(), key="shared")

    assert theirs.status_code == 201
    assert theirs.json()["number"] != mine.json()["number"]
    assert theirs.json()["party"]["name"] == "李博"


def test_a_refused_submission_does_not_use_up_the_key(api, cast):
    refused = post(api, cast.alice, complaint_body(facts=""), key="k-1")
    assert refused.status_code == 422

    accepted = post(api, cast.alice, complaint_body(), key="k-1")

    assert accepted.status_code == 201
    assert IdempotencyKey.objects.get(key="k-1").case.number == accepted.json()["number"]


@pytest.mark.parametrize("key", ["", "k" * 101])
def test_an_empty_or_overlong_key_is_refused(api, cast, key):
    response = post(api, cast.alice, complaint_body(), key=key)
    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == ["Idempotency-Key"]


def test_a_request_that_loses_the_race_answers_with_the_winner_and_leaves_nothing(
    api, cast, monkeypatch
):
    """Two requests with one key both pass the first look-up; the second to record the key hits
    the unique constraint. Simulated: the second request's look-up misses the first's key."""
    first = post(api, cast.alice, complaint_body(), key="race")
    before = (
        Case.objects.count(),
        CaseEvent.objects.count(),
        Deadline.objects.count(),
        Business.objects.count(),
    )
    real_replay = idempotency.replay
    calls = []

    def first_lookup_misses(**kwargs):
        calls.append(kwargs["key"])
        return None if len(calls) == 1 else real_replay(**kwargs)

    monkeypatch.setattr(idempotency, "replay", first_lookup_misses)

    again = post(api, cast.alice, complaint_body(), key="race")

    assert again.status_code == 201
    assert again.json()["number"] == first.json()["number"]
    assert len(calls) == 2
    after = (
        Case.objects.count(),
        CaseEvent.objects.count(),
        Deadline.objects.count(),
        Business.objects.count(),
    )
    assert after == before


def test_the_race_loser_with_another_body_gets_the_mismatch(api, cast, monkeypatch):
    post(api, cast.alice, complaint_body(), key="race")
    real_replay = idempotency.replay
    calls = []

    def first_lookup_misses(**kwargs):
        calls.append(1)
        return None if len(calls) == 1 else real_replay(**kwargs)

    monkeypatch.setattr(idempotency, "replay", first_lookup_misses)
    response = post(api, cast.alice, complaint_body(facts="另一件事。"), key="race")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_mismatch"
    assert Case.objects.count() == 1


def test_a_web_form_token_makes_a_double_submit_one_case(cast):
    token = issue_form_token()
    assert token != issue_form_token()

    first = submit_case(
        kind="complaint", by=cast.alice, payload=complaint_body(), idempotency_key=token
    )
    second = submit_case(
        kind="complaint", by=cast.alice, payload=complaint_body(), idempotency_key=token
    )

    assert first.pk == second.pk
    assert Case.objects.count() == 1

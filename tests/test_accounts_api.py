"""Tokens, /me, and the login lockout."""

from __future__ import annotations

from tests.conftest import PASSWORD


def test_a_staff_member_gets_a_token_and_sees_their_profile(api, cast):
    response = api.post_json("/api/v1/auth/token", {"username": "ken", "password": PASSWORD})
    assert response.status_code == 200
    token = response.json()["token"]

    me = api.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert me.status_code == 200
    body = me.json()
    assert body["username"] == "ken"
    assert body["roles"] == ["handler", "intake"]
    assert body["department"] == "330106"
    assert body["memberships"] == [{"department": "330106", "roles": ["intake", "handler"]}]
    assert body["business"] is None


def test_a_consumer_sees_masked_id_number_and_phone(api, cast):
    body = api.as_user(cast.alice).get("/api/v1/me").json()
    assert body["id_number"] == "1101**********0011"
    assert body["phone"] == "138****0001"
    assert body["roles"] == []
    assert body["department"] is None


def test_me_without_a_valid_token_is_401_json(api, cast):
    response = api.get("/api/v1/me", HTTP_AUTHORIZATION="Bearer nonsense")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert api.get("/api/v1/me").status_code == 401


def test_a_wrong_password_is_401(api, cast):
    response = api.post_json("/api/v1/auth/token", {"username": "ken", "password": "nope"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"


def test_five_failures_lock_the_username_even_with_the_right_password(api, cast):
    for _ in range(5):
        api.post_json("/api/v1/auth/token", {"username": "ken", "password": "wrong"})

    response = api.post_json("/api/v1/auth/token", {"username": "ken", "password": PASSWORD})

    assert response.status_code == 429
    assert int(response["Retry-After"]) == 900
    assert response.json()["error"]["code"] == "locked"


def test_the_lock_is_per_username_so_others_still_sign_in(api, cast):
    for _ in range(5):
        api.post_json("/api/v1/auth/token", {"username": "ken", "password": "wrong"})
    response = api.post_json("/api/v1/auth/token", {"username": "sam", "password": PASSWORD})
    assert response.status_code == 200


def test_malformed_json_is_a_400_in_the_error_shape(api, cast):
    response = api.post("/api/v1/auth/token", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed"


def test_missing_fields_are_a_422_with_field_messages(api, cast):
    response = api.post_json("/api/v1/auth/token", {"username": "ken"})
    assert response.status_code == 422
    assert "password" in response.json()["error"]["fields"]


def test_deleting_the_token_signs_the_app_out(api, cast):
    token = api.post_json("/api/v1/auth/token", {"username": "ken", "password": PASSWORD}).json()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token['token']}"}
    assert api.get("/api/v1/me", **auth).status_code == 200

    assert api.delete("/api/v1/auth/token", **auth).status_code == 204

    assert api.get("/api/v1/me", **auth).status_code == 401


def test_a_token_unused_for_longer_than_the_idle_limit_stops_working(api, cast):
    import datetime as dt

    from django.utils import timezone

    from accounts.models import ApiToken

    token = api.post_json("/api/v1/auth/token", {"username": "ken", "password": PASSWORD}).json()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token['token']}"}
    assert api.get("/api/v1/me", **auth).status_code == 200
    ApiToken.objects.update(last_used_at=timezone.now() - dt.timedelta(days=31))

    assert api.get("/api/v1/me", **auth).status_code == 401
    assert not ApiToken.objects.exists()


def test_a_token_records_its_use_at_most_every_five_minutes(api, cast):
    import datetime as dt

    from django.utils import timezone

    from accounts.models import ApiToken

    client = api.as_user(cast.alice)
    assert client.get("/api/v1/me").status_code == 200
    first_use = ApiToken.objects.get().last_used_at
    assert first_use is not None

    recently = timezone.now() - dt.timedelta(minutes=4)
    ApiToken.objects.update(last_used_at=recently)
    assert client.get("/api/v1/me").status_code == 200
    assert ApiToken.objects.get().last_used_at == recently

    ApiToken.objects.update(last_used_at=timezone.now() - dt.timedelta(minutes=6))
    assert client.get("/api/v1/me").status_code == 200
    last_used = ApiToken.objects.get().last_used_at
    assert last_used is not None and last_used > recently


def test_a_token_never_used_stops_working_an_idle_limit_after_it_was_issued(api, cast):
    import datetime as dt

    from django.utils import timezone

    from accounts.models import ApiToken

    client = api.as_user(cast.alice)
    ApiToken.objects.update(created_at=timezone.now() - dt.timedelta(days=31))

    assert client.get("/api/v1/me").status_code == 401
    assert not ApiToken.objects.exists()


def test_a_token_in_daily_use_stops_working_at_the_end_of_its_lifetime(api, cast, settings):
    import datetime as dt

    from django.utils import timezone

    from accounts.models import ApiToken

    settings.API_TOKEN_MAX_DAYS = 180
    client = api.as_user(cast.alice)
    now = timezone.now()
    ApiToken.objects.update(created_at=now - dt.timedelta(days=179), last_used_at=now)
    assert client.get("/api/v1/me").status_code == 200

    ApiToken.objects.update(created_at=now - dt.timedelta(days=181), last_used_at=now)
    assert client.get("/api/v1/me").status_code == 401
    assert not ApiToken.objects.exists()


def test_a_deactivated_users_token_stops_working(api, cast):
    client = api.as_user(cast.alice)
    assert client.get("/api/v1/me").status_code == 200
    cast.alice.is_active = False
    cast.alice.save(update_fields=["is_active"])

    assert client.get("/api/v1/me").status_code == 401


def test_an_unknown_token_is_refused(api, cast):
    response = api.get("/api/v1/me", HTTP_AUTHORIZATION="Bearer not-a-token")
    assert response.status_code == 401

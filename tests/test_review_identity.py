"""Security review: resident ID numbers are encrypted at rest and masked everywhere they are shown
(API, pages, admin), and a number that can no longer be decrypted (the key derived from a rotated
SECRET_KEY, or a new FIELD_ENCRYPTION_KEY) is no reason for a 500."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from accounts.identity import decrypt_id_number, encrypt_id_number
from accounts.models import User
from cases.models import Case
from cases.services import perform
from tests.conftest import PASSWORD
from tests.test_intake_api import complaint_body

ALICE_ID = "110101199003070011"
ALICE_ID_MASKED = "1101**********0011"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def unreadable(cast) -> User:
    """Alice's ID number encrypted under a key the server no longer has."""
    foreign = "gAAAAABpAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
    User.objects.filter(pk=cast.alice.pk).update(id_number_encrypted=foreign)
    return User.objects.get(pk=cast.alice.pk)


def test_the_id_number_is_stored_encrypted(cast):
    stored = User.objects.get(pk=cast.alice.pk).id_number_encrypted

    assert ALICE_ID not in stored
    assert decrypt_id_number(stored) == ALICE_ID


def test_me_answers_with_an_empty_id_number_when_it_cannot_be_decrypted(api, unreadable):
    response = api.as_user(unreadable).get("/api/v1/me")

    assert response.status_code == 200
    assert response.json()["id_number"] == ""
    assert response.json()["phone"] == "138****0001"


def test_the_profile_page_shows_no_id_number_when_it_cannot_be_decrypted(unreadable):
    response = signed_in(unreadable).get("/accounts/profile/")

    assert response.status_code == 200
    assert "0307" not in response.content.decode()


def test_me_and_the_profile_page_show_a_readable_id_number_masked(api, cast):
    assert api.as_user(cast.alice).get("/api/v1/me").json()["id_number"] == ALICE_ID_MASKED
    html = signed_in(cast.alice).get("/accounts/profile/").content.decode()
    assert ALICE_ID_MASKED in html
    assert ALICE_ID not in html


def test_the_admin_shows_the_id_number_masked_in_the_list_and_the_form(cast):
    root = User.objects.create_superuser("root", password=PASSWORD)
    admin = signed_in(root)

    listing = admin.get("/admin/accounts/user/").content.decode()
    form = admin.get(f"/admin/accounts/user/{cast.alice.pk}/change/").content.decode()
    found = admin.get(f"/admin/accounts/user/?q={ALICE_ID}").content.decode()

    for html in (listing, form):
        assert ALICE_ID not in html
        assert encrypt_id_number(ALICE_ID)[:20] not in html
    assert ALICE_ID_MASKED in listing and ALICE_ID_MASKED in form
    # Found by the keyed hash of the number the admin typed (echoed in the search box), and
    # shown masked.
    assert "张爱丽" in found and ALICE_ID_MASKED in found


def test_no_case_page_or_payload_carries_the_id_number(api, cast):
    response = api.as_user(cast.alice).post_json("/api/v1/complaints", complaint_body())
    assert response.status_code == 201
    number = response.json()["number"]
    perform(Case.objects.get(number=number), "accept", by=cast.ken, handler_unit="330106001")

    bodies = [
        api.as_user(user).get(f"/api/v1/cases/{number}").content.decode()
        for user in (cast.alice, cast.betty, cast.ken, cast.sam, cast.cathy)
    ]
    bodies += [api.as_user(cast.ken).get("/api/v1/cases").content.decode()]
    bodies += [signed_in(cast.alice).get(f"/my/cases/{number}/").content.decode()]
    bodies += [signed_in(cast.ken).get(f"/staff/cases/{number}/").content.decode()]
    bodies += [signed_in(cast.ken).get("/staff/queue/in-hand/").content.decode()]

    for body in bodies:
        assert ALICE_ID not in body
        assert ALICE_ID_MASKED not in body  # not even masked: cases don't carry it
    assert number in bodies[-1]  # the twin: the queue does list the case

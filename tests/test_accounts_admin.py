"""The user and membership admin, scoped for department administrators.

Dora holds dept_admin at the province (330000). Every denial has its success twin.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from accounts.access import dept_admin_paths, users_managed_by
from accounts.models import Membership, User
from accounts.services import create_staff
from tests.conftest import PASSWORD

USERS = "/admin/accounts/user/"
MEMBERSHIPS = "/admin/accounts/membership/"


def grant_admin(user: User) -> User:
    user.is_staff = True
    user.save()
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="accounts",
            codename__in=[
                f"{action}_{model}"
                for action in ("view", "add", "change", "delete")
                for model in ("user", "membership")
            ],
        )
    )
    return User.objects.get(pk=user.pk)  # fresh, without the cached permissions


@pytest.fixture
def dora(cast) -> Client:
    client = Client()
    client.force_login(grant_admin(cast.dora))
    return client


@pytest.fixture
def root(cast) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root", password=PASSWORD))
    return client


@pytest.fixture
def dan(cast, tree) -> Client:
    """A department admin of the West Lake county bureau."""
    user = create_staff(
        username="dan", password=PASSWORD, department=tree.county, roles=["dept_admin"]
    )
    client = Client()
    client.force_login(grant_admin(user))
    return client


def listed(client: Client, url: str = USERS, **query) -> set[str]:
    response = client.get(url, query)
    assert response.status_code == 200
    return {str(getattr(obj, "username", obj)) for obj in response.context["cl"].result_list}


def form_data(response) -> dict:
    """What the browser would post back for the change form as shown (inlines included)."""
    data: dict = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
        forms.extend(inline.formset.forms)
    for form in forms:
        for field in form:
            value = field.value()
            if value is None or value is False or field.field.disabled:
                continue
            data[field.html_name] = "on" if value is True else value
    return data


def change_url(user: User) -> str:
    return f"{USERS}{user.pk}/change/"


# Who is visible


def test_a_province_admin_sees_the_staff_of_her_province(dora):
    assert listed(dora) == {"paul", "cathy", "ken", "helen", "sam", "nick", "hank", "dora"}


def test_a_province_admin_does_not_see_the_national_staff_consumers_or_business_users(dora):
    assert {"nora", "13800000001", "13800000002", "betty", "root"}.isdisjoint(listed(dora))


def test_a_superuser_sees_everyone(root, cast):
    assert {"nora", "13800000001", "betty", "ken", "dora"} <= listed(root)


def test_a_county_admin_sees_her_county_but_not_the_neighbouring_one(dan):
    assert listed(dan) == {"ken", "helen", "sam", "hank", "dan"}


def test_someone_who_also_sits_outside_the_subtree_is_out_of_reach(dora, cast, tree):
    Membership.objects.create(user=cast.ken, department=tree.national, roles=["analyst"])
    assert "ken" not in listed(dora)
    assert "helen" in listed(dora)


def test_staff_without_the_dept_admin_role_see_nobody(cast):
    client = Client()
    client.force_login(grant_admin(cast.paul))
    assert listed(client) == set()
    assert listed(client, MEMBERSHIPS) == set()


def test_opening_someone_out_of_reach_redirects_to_the_admin_index(dora, cast):
    for outsider in (cast.nora, cast.alice):
        response = dora.get(change_url(outsider))
        assert response.status_code == 302
        assert response["Location"] == "/admin/"
        assert dora.get(f"{USERS}{outsider.pk}/password/").status_code == 404


def test_opening_someone_in_reach_shows_the_form(dora, cast):
    assert dora.get(change_url(cast.ken)).status_code == 200
    assert dora.get(f"{USERS}{cast.ken.pk}/password/").status_code == 200


def test_the_membership_list_is_scoped_too(dora, cast):
    shown = {m.user.username for m in dora.get(MEMBERSHIPS).context["cl"].result_list}
    assert "ken" in shown and "nora" not in shown


# What a department admin may change


def test_a_dept_admin_moves_a_member_within_her_subtree(dora, cast, tree):
    url = change_url(cast.ken)
    data = form_data(dora.get(url))
    data["memberships-0-department"] = tree.station.code

    response = dora.post(url, data)

    assert response.status_code == 302, response.context["errors"]
    assert Membership.objects.get(user=cast.ken).department == tree.station


def test_a_dept_admin_cannot_assign_a_department_outside_her_subtree(dora, cast, tree):
    url = change_url(cast.ken)
    data = form_data(dora.get(url))
    data["memberships-0-department"] = tree.national.code

    response = dora.post(url, data)

    assert response.status_code == 200
    assert Membership.objects.get(user=cast.ken).department == tree.county


def test_a_dept_admin_cannot_make_anyone_a_superuser_or_hand_out_permissions(dora, cast):
    url = change_url(cast.ken)
    data = form_data(dora.get(url))
    assert "is_superuser" not in data and "user_permissions" not in data
    permission = Permission.objects.get(codename="delete_user")
    data.update(
        is_superuser="on", is_staff="on", user_permissions=[permission.pk], is_verified="on"
    )

    assert dora.post(url, data).status_code == 302

    ken = User.objects.get(pk=cast.ken.pk)
    assert ken.is_staff  # staff status, which she has herself, she may grant
    assert not ken.is_superuser
    assert not ken.user_permissions.exists()
    assert not ken.is_verified


def test_a_superuser_can_make_someone_a_superuser(root, cast):
    url = change_url(cast.ken)
    data = form_data(root.get(url))
    data["is_superuser"] = "on"

    assert root.post(url, data).status_code == 302
    assert User.objects.get(pk=cast.ken.pk).is_superuser


def test_a_dept_admin_changes_roles_with_checkboxes(dora, cast):
    url = change_url(cast.sam)
    data = form_data(dora.get(url))
    data["memberships-0-roles"] = ["handler", "head"]

    assert dora.post(url, data).status_code == 302
    assert Membership.objects.get(user=cast.sam).roles == ["handler", "head"]


def test_a_dept_admin_cannot_remove_the_last_membership_of_a_user(dora, cast):
    url = change_url(cast.sam)
    data = form_data(dora.get(url))
    data["memberships-0-DELETE"] = "on"

    assert dora.post(url, data).status_code == 200
    assert Membership.objects.filter(user=cast.sam).exists()


def add_user_data(department: str | None) -> dict:
    data = {
        "username": "newbie",
        "real_name": "新人",
        "usable_password": "true",
        "password1": PASSWORD,
        "password2": PASSWORD,
        "memberships-TOTAL_FORMS": "1" if department else "0",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "1",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    if department:
        data.update({"memberships-0-department": department, "memberships-0-roles": ["handler"]})
    return data


def test_a_dept_admin_adds_a_staff_member_in_her_subtree(dora, tree):
    response = dora.post(f"{USERS}add/", add_user_data(tree.station2.code))

    assert response.status_code == 302
    newbie = User.objects.get(username="newbie")
    assert [(m.department_id, m.roles) for m in newbie.memberships.all()] == [
        (tree.station2.code, ["handler"])
    ]


def test_a_dept_admin_cannot_add_a_user_outside_or_without_a_membership(dora, tree):
    assert dora.post(f"{USERS}add/", add_user_data(tree.national.code)).status_code == 200
    assert dora.post(f"{USERS}add/", add_user_data(None)).status_code == 200
    assert not User.objects.filter(username="newbie").exists()


def test_a_superuser_may_add_a_user_without_a_membership(root):
    assert root.post(f"{USERS}add/", add_user_data(None)).status_code == 302
    assert User.objects.filter(username="newbie").exists()


def test_a_dept_admin_cannot_give_a_consumer_a_membership(dora, cast, tree):
    data = {"user": cast.alice.pk, "department": tree.county.code, "roles": ["intake"]}

    assert dora.post(f"{MEMBERSHIPS}add/", data).status_code == 200
    assert not Membership.objects.filter(user=cast.alice).exists()


def test_a_dept_admin_gives_one_of_her_staff_a_second_membership(dora, cast, tree):
    data = {"user": cast.sam.pk, "department": tree.station2.code, "roles": ["handler"]}

    assert dora.post(f"{MEMBERSHIPS}add/", data).status_code == 302
    assert Membership.objects.filter(user=cast.sam, department=tree.station2).exists()


# What the admin shows


def test_the_id_number_is_shown_masked_and_never_editable(root, cast):
    changelist = root.get(USERS).content.decode()
    assert "1101**********0011" in changelist

    page = root.get(change_url(cast.alice))
    html = page.content.decode()
    assert "1101**********0011" in html
    assert cast.alice.id_number_encrypted not in html
    assert cast.alice.id_number_hash not in html
    form_fields = set(page.context["adminform"].form.fields)
    assert {"id_number_encrypted", "id_number_hash"}.isdisjoint(form_fields)


def test_a_full_id_number_finds_its_user(root, cast):
    assert listed(root, q="110101199003070011") == {"13800000001"}
    assert listed(root, q="张爱丽") == {"13800000001"}


# The access functions


def test_dept_admin_paths_are_where_the_role_is_held(cast, tree):
    assert dept_admin_paths(cast.dora) == ["100000/330000/"]
    assert dept_admin_paths(cast.ken) == []


def test_a_dept_admin_path_inside_another_adds_nothing(cast, tree):
    Membership.objects.create(user=cast.dora, department=tree.county, roles=["dept_admin"])
    assert dept_admin_paths(cast.dora) == ["100000/330000/"]


def test_an_inactive_dept_admin_manages_nobody(cast):
    cast.dora.is_active = False
    cast.dora.save()
    assert not users_managed_by(cast.dora).exists()

"""The case admin: read-only records scoped like every other list, and workflow actions that go
through `perform` (an event appended, the version bumped) with its refusals shown as messages.
Also the outbox admin, for superusers only."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from accounts.models import User
from cases.models import Case, CaseEvent, Status
from departments.models import Department
from notifications.models import Channel, Notification
from notifications.tasks import MAX_ATTEMPTS
from tests.test_workflow_factory import make_case

CHANGELIST = "/admin/cases/case/"
NOTIFICATIONS = "/admin/notifications/notification/"
ALICE_ID_NUMBER = "110101199003070011"


def change_url(case: Case) -> str:
    return f"/admin/cases/case/{case.pk}/change/"


def perform_url(case: Case) -> str:
    return f"/admin/cases/case/{case.pk}/perform/"


def let_into_admin(user: User) -> User:
    """Staff status and the view permission on cases: what a superuser grants a case admin."""
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.user_permissions.add(Permission.objects.get(codename="view_case"))
    return User.objects.get(pk=user.pk)  # fresh: no cached permissions


@pytest.fixture
def root(db) -> User:
    return User.objects.create(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def west_lake(cast, tree) -> Case:
    return make_case(department=tree.county, consumer=cast.alice, respondent=cast.shop)


@pytest.fixture
def shangcheng(cast, tree) -> Case:
    return make_case(department=tree.neighbour, consumer=cast.bob)


def as_user(client, user: User):
    client.force_login(user)
    return client


def numbers_listed(client) -> set[str]:
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    return {case.number for case in response.context["cl"].result_list}


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- Scope ------------------------------------------------------------------------------------


def test_a_county_officer_lists_the_cases_of_their_county_only(client, cast, west_lake, shangcheng):
    as_user(client, let_into_admin(cast.ken))

    assert numbers_listed(client) == {west_lake.number}


def test_the_neighbouring_officer_lists_none_of_west_lakes_cases(
    client, cast, west_lake, shangcheng
):
    as_user(client, let_into_admin(cast.nick))

    assert numbers_listed(client) == {shangcheng.number}


def test_a_superuser_lists_every_case(client, root, west_lake, shangcheng):
    as_user(client, root)

    assert numbers_listed(client) == {west_lake.number, shangcheng.number}


def test_a_case_outside_the_scope_does_not_open(client, cast, west_lake):
    as_user(client, let_into_admin(cast.nick))

    response = client.get(change_url(west_lake))

    assert response.status_code == 302  # the admin's "does not exist" redirect
    assert west_lake.number not in client.get(response.url).content.decode()


def test_a_case_inside_the_scope_opens_with_its_timeline_and_clocks(client, cast, west_lake):
    as_user(client, let_into_admin(cast.ken))

    response = client.get(change_url(west_lake))

    assert response.status_code == 200
    page = response.content.decode()
    assert west_lake.number in page
    assert "办理记录（时间线）" in page and "submit" in page
    assert "受理期限" in page


def test_staff_without_the_view_permission_are_kept_out(client, cast, west_lake):
    ken = cast.ken
    ken.is_staff = True
    ken.save(update_fields=["is_staff"])
    as_user(client, ken)

    assert client.get(CHANGELIST).status_code == 403


# --- Read-only --------------------------------------------------------------------------------


def test_nobody_may_add_or_delete_a_case_even_a_superuser(client, root, west_lake):
    as_user(client, root)

    assert client.get(CHANGELIST + "add/").status_code == 403
    assert client.get(f"/admin/cases/case/{west_lake.pk}/delete/").status_code == 403
    actions = client.get(CHANGELIST).context["action_form"].fields["action"].choices
    assert [name for name, _label in actions if name] == ["mark_major"]


def test_no_field_of_a_case_is_edited_in_the_admin(client, root, west_lake):
    as_user(client, root)

    response = client.post(change_url(west_lake), {"status": Status.CLOSED, "is_major": "on"})

    assert response.status_code == 403
    west_lake.refresh_from_db()
    assert (west_lake.status, west_lake.is_major, west_lake.version) == (Status.SUBMITTED, False, 1)


def test_the_page_never_shows_the_id_number_and_masks_the_phone_above_the_unit(
    client, cast, west_lake
):
    as_user(client, let_into_admin(cast.cathy))  # the city watches, it does not call

    page = client.get(change_url(west_lake)).content.decode()

    assert ALICE_ID_NUMBER not in page
    assert "138****0001" in page and "13800000001" not in page


def test_the_unit_holding_the_case_sees_the_phone_in_full(client, cast, west_lake):
    as_user(client, let_into_admin(cast.ken))

    page = client.get(change_url(west_lake)).content.decode()

    assert "13800000001" in page
    assert ALICE_ID_NUMBER not in page


# --- The bulk action: mark major --------------------------------------------------------------


def mark_major(client, *cases: Case):
    return client.post(
        CHANGELIST,
        {"action": "mark_major", "_selected_action": [str(case.pk) for case in cases]},
        follow=True,
    )


def test_marking_major_from_the_list_goes_through_perform(client, cast, west_lake):
    as_user(client, let_into_admin(cast.cathy))

    response = mark_major(client, west_lake)

    west_lake.refresh_from_db()
    assert west_lake.is_major is True
    assert west_lake.version == 2
    event = CaseEvent.objects.filter(case=west_lake).latest("seq")
    assert (event.action, event.actor, event.department_id) == ("mark_major", cast.cathy, "330100")
    assert any(west_lake.number in message for message in messages_of(response))


def test_marking_major_is_refused_with_the_workflow_message_for_who_may_not(
    client, cast, west_lake
):
    as_user(client, let_into_admin(cast.ken))  # the holding county: supervision is for above

    response = mark_major(client, west_lake)

    west_lake.refresh_from_db()
    assert (west_lake.is_major, west_lake.version) == (False, 1)
    assert not CaseEvent.objects.filter(case=west_lake, action="mark_major").exists()
    (message,) = messages_of(response)
    assert west_lake.number in message and "当前状态下您不能执行此操作" in message


def test_a_superuser_without_a_department_cannot_take_workflow_actions(client, root, west_lake):
    as_user(client, root)

    response = mark_major(client, west_lake)

    west_lake.refresh_from_db()
    assert west_lake.is_major is False
    assert "未能标记" in messages_of(response)[0]


# --- The case page: 执行操作 ------------------------------------------------------------------


def test_the_case_page_offers_the_actions_the_user_may_take_now(client, cast, west_lake):
    as_user(client, let_into_admin(cast.ken))

    response = client.get(change_url(west_lake))

    page = response.content.decode()
    assert "执行操作" in page
    choices = [
        value for value, _label in response.context["perform_form"].fields["action"].widget.choices
    ]
    assert choices == ["accept", "reject", "transfer", "escalate", "dispute"]
    assert "handler_unit（department，可选）" in page


def test_a_superuser_is_told_there_is_nothing_to_do(client, root, west_lake):
    as_user(client, root)

    page = client.get(change_url(west_lake)).content.decode()

    assert "没有可执行的操作" in page


def post_action(client, case: Case, action: str, params: str = "", version: int | None = None):
    data = {"action": action, "params": params, "version": version or case.version}
    return client.post(perform_url(case), data, follow=True)


def test_an_action_from_the_case_page_goes_through_perform(client, cast, west_lake):
    as_user(client, let_into_admin(cast.ken))

    response = post_action(client, west_lake, "accept", '{"handler_unit": "330106001"}')

    assert response.redirect_chain == [(change_url(west_lake), 302)]
    west_lake.refresh_from_db()
    assert (west_lake.status, west_lake.handler_unit_id) == (Status.ACCEPTED, "330106001")
    assert west_lake.version == 2
    event = CaseEvent.objects.filter(case=west_lake).latest("seq")
    assert (event.action, event.actor) == ("accept", cast.ken)
    assert Notification.objects.filter(case=west_lake, channel=Channel.SMS).exists()
    assert messages_of(response) == ["已执行：受理。"]


@pytest.mark.parametrize(
    ("action", "params", "expected"),
    [
        ("start_mediation", "", "当前状态下您不能执行此操作。 当前可执行的操作：accept、reject"),
        ("decide", "", "未知的操作。"),
        ("reject", '{"ground": "time_barred"}', "reason：此项为必填项。"),
        ("reject", '{"ground": "nope", "reason": "x"}', "可选值：out_of_scope"),
        ("accept", '{"handler_unit": "330102001"}', "承办单位应为本局或其下属市场监管所。"),
    ],
)
def test_a_refused_action_shows_the_workflow_message_and_changes_nothing(
    client, cast, west_lake, action, params, expected
):
    as_user(client, let_into_admin(cast.ken))

    response = post_action(client, west_lake, action, params)

    (message,) = messages_of(response)
    assert expected in message
    west_lake.refresh_from_db()
    assert (west_lake.status, west_lake.version) == (Status.SUBMITTED, 1)
    assert CaseEvent.objects.filter(case=west_lake).count() == 1


def test_an_action_on_a_page_gone_stale_is_refused(client, cast, west_lake):
    as_user(client, let_into_admin(cast.ken))
    Case.objects.filter(pk=west_lake.pk).update(version=2)  # someone acted meanwhile

    response = post_action(client, west_lake, "accept", version=1)

    assert "案件已被他人更新" in messages_of(response)[0]
    west_lake.refresh_from_db()
    assert west_lake.status == Status.SUBMITTED


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ("{not json", "参数不是有效的 JSON"),
        ("[" * 100_000 + "]" * 100_000, "参数不是有效的 JSON"),  # too deep to parse
        ('{"n": ' + "9" * 5000 + "}", "参数不是有效的 JSON"),  # an integer too long
        ('["a"]', "参数应为 JSON 对象"),
        ('{"by": 1}', "参数不能使用这些名称：by"),
    ],
    ids=["not-json", "too-deep", "long-integer", "not-an-object", "reserved-name"],
)
def test_malformed_parameters_are_refused_before_perform(client, cast, west_lake, params, expected):
    as_user(client, let_into_admin(cast.ken))

    response = post_action(client, west_lake, "accept", params)

    assert expected in messages_of(response)[0]
    west_lake.refresh_from_db()
    assert west_lake.version == 1


def test_the_action_url_takes_only_posts(client, cast, west_lake):
    as_user(client, let_into_admin(cast.ken))

    assert client.get(perform_url(west_lake)).status_code == 405


def test_an_action_on_a_case_outside_the_scope_is_not_found(client, cast, west_lake):
    as_user(client, let_into_admin(cast.nick))

    response = client.post(perform_url(west_lake), {"action": "accept", "version": 1})

    assert response.status_code == 404
    west_lake.refresh_from_db()
    assert west_lake.status == Status.SUBMITTED


# --- The outbox admin -------------------------------------------------------------------------


@pytest.fixture
def failed_row(west_lake, cast) -> Notification:
    return Notification.objects.create(
        case=west_lake,
        recipient=cast.alice,
        phone="13800000001",
        channel=Channel.SMS,
        subject="s",
        body="b",
        attempts=MAX_ATTEMPTS,
        last_error="gateway down",
    )


def test_a_superuser_reads_the_outbox_filtered_by_channel_and_delivery(client, root, failed_row):
    as_user(client, root)

    failed = client.get(NOTIFICATIONS, {"channel__exact": "sms", "sent": "given_up"})
    sent = client.get(NOTIFICATIONS, {"sent": "yes"})

    assert list(failed.context["cl"].result_list) == [failed_row]
    assert list(sent.context["cl"].result_list) == []
    assert "138****0001" in failed.content.decode()
    assert client.get(NOTIFICATIONS + "add/").status_code == 403


def test_a_superuser_gives_rows_that_gave_up_another_chance(client, root, failed_row):
    as_user(client, root)

    client.post(NOTIFICATIONS, {"action": "retry_delivery", "_selected_action": [failed_row.pk]})

    failed_row.refresh_from_db()
    assert (failed_row.attempts, failed_row.not_before) == (0, None)


def test_staff_who_are_not_superusers_do_not_see_the_outbox(client, cast, failed_row):
    ken = let_into_admin(cast.ken)
    ken.user_permissions.add(Permission.objects.get(codename="view_notification"))
    as_user(client, ken)

    assert client.get(NOTIFICATIONS).status_code == 403


def test_the_case_page_shows_an_open_authority_dispute(client, root, west_lake):
    named = Department.objects.filter(is_county_level=True).exclude(pk=west_lake.department_id)[0]
    Case.objects.filter(pk=west_lake.pk).update(disputed_with=named, dispute_refused=True)
    as_user(client, root)

    html = client.get(change_url(west_lake)).content.decode()

    assert "管辖争议对方部门" in html and named.name in html
    assert "对方不同意管辖" in html

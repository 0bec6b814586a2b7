"""The account pages: two-step registration without JavaScript, login with lockout, logout and
the profile."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts import sms
from accounts.models import User
from tests.conftest import PASSWORD

PHONE = "13900000001"
ID_NUMBER = "11010519491231002X"
NEW_PASSWORD = "Xihu-Longjing-2026"


@pytest.fixture(autouse=True)
def outbox(settings):
    settings.SMS_BACKEND = "locmem"
    sms.outbox.clear()
    yield sms.outbox
    sms.outbox.clear()


@pytest.fixture
def client() -> Client:
    return Client()


def details(code: str, **changes) -> dict[str, str]:
    values = {
        "real_name": "王小明",
        "id_number": ID_NUMBER,
        "sms_code": code,
        "password": NEW_PASSWORD,
        "password_again": NEW_PASSWORD,
    }
    values.update(changes)
    return values


def request_code(client: Client, phone: str = PHONE):
    return client.post("/accounts/register/send-code/", {"phone": phone})


# Registration


def test_step_one_asks_for_the_phone_with_a_label(client, db):
    page = client.get("/accounts/register/")

    assert page.status_code == 200
    html = page.content.decode()
    assert '<label for="id_phone">手机号:</label>' in html
    assert "发送验证码" in html
    assert 'name="sms_code"' not in html


def test_a_consumer_registers_in_two_steps_and_is_signed_in(client, db, outbox):
    sent = request_code(client)
    assert sent.status_code == 302 and sent["Location"] == "/accounts/register/"
    step_two = client.get("/accounts/register/")
    assert "验证码已发送至139****0001" in step_two.content.decode()
    assert 'name="sms_code"' in step_two.content.decode()

    done = client.post("/accounts/register/", details(outbox[-1].code))

    assert done.status_code == 302 and done["Location"] == "/"
    user = User.objects.get(username=PHONE)
    assert user.is_verified and user.real_name == "王小明"
    assert client.session["_auth_user_id"] == str(user.pk)


def test_errors_are_shown_in_chinese_next_to_their_fields(client, db):
    request_code(client)

    page = client.post(
        "/accounts/register/", details("000000", id_number="330106198805123450", real_name="王")
    )

    assert page.status_code == 200
    html = page.content.decode()
    assert '<p class="error field-error">身份证号码校验位错误，请核对。</p>' in html
    assert '<p class="error field-error">姓名应为2至30个字。</p>' in html
    assert 'value="330106198805123450"' in html  # what was typed is kept ...
    assert NEW_PASSWORD not in html  # ... except the password
    assert not User.objects.exists()


def test_one_submission_shows_every_problem(client, db):
    request_code(client)

    page = client.post(
        "/accounts/register/",
        details("", real_name="王", id_number="990106199003071239", password="123"),
    )

    html = page.content.decode()
    assert "这个字段是必填项。" in html  # the empty code, from the form
    assert "姓名应为2至30个字。" in html  # and the rest, from the service
    assert "身份证号码的地区码不存在。" in html
    assert "密码太短，至少需要8个字符。" in html
    assert not User.objects.exists()


def test_the_password_must_be_typed_twice_alike(client, db, outbox):
    request_code(client)

    page = client.post("/accounts/register/", details(outbox[-1].code, password_again="other"))

    assert '<p class="error field-error">两次输入的密码不一致。</p>' in page.content.decode()
    assert not User.objects.exists()


def test_a_wrong_code_is_shown_on_the_code_field(client, db, outbox):
    request_code(client)
    wrong = f"{(int(outbox[-1].code) + 1) % 10**6:06d}"

    page = client.post("/accounts/register/", details(wrong))

    assert '<p class="error field-error">验证码错误。</p>' in page.content.decode()
    assert not User.objects.exists()


def test_a_registered_phone_is_reported_beside_the_phone(client, cast, outbox):
    request_code(client, cast.alice.phone)

    page = client.post("/accounts/register/", details(outbox[-1].code))

    assert '<p class="error field-error">该手机号已注册。</p>' in page.content.decode()


def test_a_bad_phone_is_refused_at_step_one(client, db, outbox):
    page = request_code(client, "12345")

    assert page.status_code == 200
    assert "请输入11位中国大陆手机号码。" in page.content.decode()
    assert outbox == []


def test_asking_again_too_soon_is_a_429_page_with_the_wait(client, db):
    request_code(client)

    page = request_code(client)

    assert page.status_code == 429
    assert 0 < int(page["Retry-After"]) <= 60
    assert "发送过于频繁" in page.content.decode()


def test_the_phone_can_be_changed_after_step_one(client, db):
    request_code(client)

    page = client.get("/accounts/register/?step=phone")

    assert 'value="13900000001"' in page.content.decode()
    assert 'name="sms_code"' not in page.content.decode()


def test_a_signed_in_user_is_sent_home_from_registration(client, cast):
    client.force_login(cast.alice)
    assert client.get("/accounts/register/")["Location"] == "/"


# Login and logout


def test_a_consumer_signs_in_with_phone_and_password(client, cast):
    page = client.get("/accounts/login/")
    assert '<label for="id_username">手机号或用户名:</label>' in page.content.decode()

    response = client.post("/accounts/login/", {"username": cast.alice.phone, "password": PASSWORD})

    assert response.status_code == 302 and response["Location"] == "/"
    assert client.session["_auth_user_id"] == str(cast.alice.pk)


def test_a_wrong_password_shows_the_form_again(client, cast):
    response = client.post("/accounts/login/", {"username": "ken", "password": "wrong"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_five_failed_logins_lock_the_login_page_with_429(client, cast):
    for _ in range(5):
        client.post("/accounts/login/", {"username": "ken", "password": "wrong"})

    response = client.post("/accounts/login/", {"username": "ken", "password": PASSWORD})

    assert response.status_code == 429
    assert int(response["Retry-After"]) == 900
    assert "请15分钟后再试" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_four_failed_logins_do_not_lock(client, cast):
    for _ in range(4):
        client.post("/accounts/login/", {"username": "ken", "password": "wrong"})

    response = client.post("/accounts/login/", {"username": "ken", "password": PASSWORD})

    assert response.status_code == 302


def test_logout_is_a_post(client, cast):
    client.force_login(cast.alice)
    assert client.get("/accounts/logout/").status_code == 405

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


# Profile


def test_the_profile_needs_a_signed_in_user(client, db):
    response = client.get("/accounts/profile/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/accounts/profile/")


def test_the_profile_shows_the_id_number_and_phone_masked(client, cast):
    client.force_login(cast.alice)

    html = client.get("/accounts/profile/").content.decode()

    assert "1101**********0011" in html
    assert "138****0001" in html
    assert "110101199003070011" not in html
    assert "张爱丽" in html and "已认证" in html


def test_sms_notifications_can_be_turned_off_and_on(client, cast):
    client.force_login(cast.alice)

    off = client.post("/accounts/profile/", {})
    cast.alice.refresh_from_db()
    assert off.status_code == 302 and cast.alice.notify_sms is False

    client.post("/accounts/profile/", {"notify_sms": "on"})
    cast.alice.refresh_from_db()
    assert cast.alice.notify_sms is True

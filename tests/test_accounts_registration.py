"""Consumer registration: POST /api/v1/auth/register and the register_consumer rules behind it."""

from __future__ import annotations

import pytest

from accounts import registration, sms
from accounts.identity import decrypt_id_number, id_number_hash
from accounts.models import User
from accounts.registration import PROVINCE_CODES

PHONE = "13900000001"
ID_NUMBER = "11010519491231002X"  # the GB 11643 specimen number
PASSWORD = "Xihu-Longjing-2026"


@pytest.fixture(autouse=True)
def outbox(settings):
    settings.SMS_BACKEND = "locmem"
    sms.outbox.clear()
    yield sms.outbox
    sms.outbox.clear()


def code_for(api, phone: str = PHONE) -> str:
    assert api.post_json("/api/v1/auth/sms-code", {"phone": phone}).status_code == 202
    return sms.outbox[-1].code


def body(api, **changes) -> dict[str, str]:
    values = {
        "real_name": "王小明",
        "id_number": ID_NUMBER,
        "phone": PHONE,
        "password": PASSWORD,
    }
    values.update(changes)
    if "sms_code" not in values:
        values["sms_code"] = code_for(api, values["phone"])
    return values


def register(api, data):
    return api.post_json("/api/v1/auth/register", data)


def field_errors(response) -> dict[str, list[str]]:
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid"
    return error["fields"]


def test_a_consumer_registers_with_an_sms_code_and_can_sign_in(api, db):
    response = register(api, body(api))

    assert response.status_code == 201
    user = User.objects.get(pk=response.json()["id"])
    assert response.json() == {"id": user.pk, "username": PHONE}
    assert (user.username, user.phone, user.real_name) == (PHONE, PHONE, "王小明")
    assert user.is_verified
    assert decrypt_id_number(user.id_number_encrypted) == ID_NUMBER
    assert user.id_number_hash == id_number_hash(ID_NUMBER)
    assert ID_NUMBER not in user.id_number_encrypted
    token = api.post_json("/api/v1/auth/token", {"username": PHONE, "password": PASSWORD})
    me = api.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token.json()['token']}").json()
    assert me["id_number"] == "1101**********002X"
    assert me["phone"] == "139****0001"


def test_a_lower_case_x_and_spaces_are_normalised(api, db):
    response = register(api, body(api, id_number=" 11010519491231002x "))
    assert response.status_code == 201
    assert decrypt_id_number(User.objects.get().id_number_encrypted) == ID_NUMBER


def test_an_ethnic_name_with_a_middle_dot_is_accepted(api, db):
    response = register(api, body(api, real_name="买买提.艾力"))
    assert response.status_code == 201
    assert User.objects.get().real_name == "买买提·艾力"


def test_a_latin_letter_name_is_accepted(api, db):
    assert register(api, body(api, real_name="Anna Schmidt")).status_code == 201


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("id_number", "330106198805123450", "身份证号码校验位错误，请核对。"),
        ("id_number", "330106199002301239", "身份证号码中的出生日期无效。"),
        ("id_number", "990106199003071239", "身份证号码的地区码不存在。"),
        ("id_number", "33010619900307", "身份证号码应为18位，最后一位可以是数字或X。"),
        ("real_name", "王", "姓名应为2至30个字。"),
        ("real_name", "王" * 31, "姓名应为2至30个字。"),
        ("real_name", "王小明2", "姓名只能包含汉字（少数民族姓名可用“·”分隔）或英文字母。"),
        ("real_name", "<b>王</b>", "姓名只能包含汉字（少数民族姓名可用“·”分隔）或英文字母。"),
    ],
)
def test_an_invalid_field_is_a_422_with_a_chinese_message(api, db, field, value, message):
    response = register(api, body(api, **{field: value}))

    assert field_errors(response) == {field: [message]}
    assert not User.objects.exists()


def test_a_nul_character_is_refused_before_anything_is_saved(api, db):
    response = register(api, body(api, real_name="王\x00明"))

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed"
    assert not User.objects.exists()


@pytest.mark.parametrize("phone", ["23900000001", "1390000000", "139-0000-0001"])
def test_a_bad_phone_is_a_422(api, db, phone):
    response = register(api, body(api, phone=phone, sms_code="123456"))
    assert field_errors(response) == {"phone": ["请输入11位中国大陆手机号码。"]}


@pytest.mark.parametrize(
    ("password", "fragment"),
    [("12345678", "数字"), ("password", "常见"), ("Ab3-x", "太短")],
)
def test_a_weak_password_is_a_422_with_djangos_reason(api, db, password, fragment):
    response = register(api, body(api, password=password))

    messages = field_errors(response)["password"]
    assert any(fragment in m for m in messages), messages


def test_all_bad_fields_are_reported_together(api, db):
    response = register(api, body(api, real_name="x", id_number="1", password="1"))
    assert set(field_errors(response)) == {"real_name", "id_number", "password"}


def test_a_wrong_code_is_a_422_on_sms_code(api, db):
    data = body(api)
    data["sms_code"] = f"{(int(data['sms_code']) + 1) % 10**6:06d}"

    assert field_errors(register(api, data)) == {"sms_code": ["验证码错误。"]}


def test_without_a_code_requested_the_code_is_refused(api, db):
    data = body(api, sms_code="123456")
    assert field_errors(register(api, data)) == {"sms_code": ["验证码已失效，请重新获取。"]}


def test_a_typo_in_a_field_does_not_use_up_the_code(api, db):
    data = body(api, id_number="330106198805123450")
    assert register(api, data).status_code == 422

    data["id_number"] = ID_NUMBER
    assert register(api, data).status_code == 201


def test_a_code_cannot_register_twice(api, db):
    data = body(api)
    assert register(api, data).status_code == 201

    assert field_errors(register(api, data)) == {"sms_code": ["验证码已失效，请重新获取。"]}


def test_an_id_number_already_registered_is_a_422(api, cast):
    response = register(api, body(api, id_number="110101199003070011"))
    assert field_errors(response) == {"id_number": ["该身份证号码已注册。"]}


def test_a_phone_already_registered_is_a_422(api, cast):
    response = register(api, body(api, phone=cast.alice.phone))
    assert field_errors(response) == {"phone": ["该手机号已注册。"]}


def test_a_phone_used_as_a_staff_username_is_taken_too(api, cast):
    User.objects.create_user(username=PHONE, password=PASSWORD)
    response = register(api, body(api))
    assert field_errors(response) == {"phone": ["该手机号已注册。"]}


def test_without_the_right_code_nobody_learns_whether_an_id_number_is_registered(api, cast):
    data = body(api, id_number="110101199003070011")
    data["sms_code"] = f"{(int(data['sms_code']) + 1) % 10**6:06d}"

    assert field_errors(register(api, data)) == {"sms_code": ["验证码错误。"]}


def test_malformed_json_is_a_400(api, db):
    response = api.post("/api/v1/auth/register", '{"phone": ', content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed"


def test_a_missing_or_mistyped_field_is_a_422(api, db):
    data = body(api)
    del data["password"]
    data["phone"] = 13900000001

    fields = field_errors(register(api, data))

    assert {"password", "phone"} <= set(fields)


def test_the_known_province_codes_are_the_34_of_gb_t_2260():
    assert len(PROVINCE_CODES) == 34
    assert {"11", "33", "65", "71", "81", "82"} <= PROVINCE_CODES
    assert not {"10", "16", "20", "24", "30", "38", "40", "47", "55", "60", "66", "72", "99"} & (
        PROVINCE_CODES
    )


# Idempotency-Key


def test_a_retry_with_the_same_key_and_body_gets_the_same_account(api, db):
    data = body(api)
    first = api.post_json("/api/v1/auth/register", data, HTTP_IDEMPOTENCY_KEY="k-1")

    retry = api.post_json("/api/v1/auth/register", data, HTTP_IDEMPOTENCY_KEY="k-1")

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert User.objects.count() == 1


def test_a_retry_without_the_key_is_refused_because_the_code_is_spent(api, db):
    data = body(api)
    assert (
        api.post_json("/api/v1/auth/register", data, HTTP_IDEMPOTENCY_KEY="k-1").status_code == 201
    )

    assert "sms_code" in field_errors(register(api, data))


def test_the_same_key_with_a_different_body_is_a_422(api, db):
    data = body(api)
    api.post_json("/api/v1/auth/register", data, HTTP_IDEMPOTENCY_KEY="k-1")

    response = api.post_json(
        "/api/v1/auth/register", {**data, "password": "Other-pass-2026"}, HTTP_IDEMPOTENCY_KEY="k-1"
    )

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_mismatch"


def test_a_failed_request_does_not_keep_its_key(api, db):
    data = body(api, id_number="330106198805123450")
    assert (
        api.post_json("/api/v1/auth/register", data, HTTP_IDEMPOTENCY_KEY="k-1").status_code == 422
    )

    data["id_number"] = ID_NUMBER
    response = api.post_json("/api/v1/auth/register", data, HTTP_IDEMPOTENCY_KEY="k-1")

    assert response.status_code == 201


def test_an_overlong_key_is_a_422(api, db):
    response = api.post_json("/api/v1/auth/register", body(api), HTTP_IDEMPOTENCY_KEY="k" * 101)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_key"
    assert not User.objects.exists()


def test_a_request_that_loses_the_race_to_its_twin_answers_with_the_twins_account(
    api, db, monkeypatch
):
    data = body(api)
    first = api.post_json("/api/v1/auth/register", data, HTTP_IDEMPOTENCY_KEY="k-1")
    # The twin looked for the key before the first request had recorded it ...
    real_replay = registration._replay
    calls = []

    def replay_too_early(**kwargs):
        calls.append(kwargs)
        return None if len(calls) == 1 else real_replay(**kwargs)

    monkeypatch.setattr(registration, "_replay", replay_too_early)

    # ... so it goes on, finds the code spent, and then answers as the winner did.
    twin = api.post_json("/api/v1/auth/register", data, HTTP_IDEMPOTENCY_KEY="k-1")

    assert len(calls) == 2
    assert twin.status_code == 201 and twin.json() == first.json()

"""One-time SMS codes: sending under rate limits, single use, expiry, wrong attempts; and
POST /api/v1/auth/sms-code."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accounts import sms
from accounts.models import SmsCode, SmsPurpose
from accounts.sms_codes import (
    InvalidPhone,
    InvalidSmsCode,
    RateLimited,
    send_sms_code,
    verify_sms_code,
)

PHONE = "13900000001"
T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
REGISTER = SmsPurpose.REGISTER


@pytest.fixture(autouse=True)
def outbox(settings):
    settings.SMS_BACKEND = "locmem"
    sms.outbox.clear()
    yield sms.outbox
    sms.outbox.clear()


def send(phone=PHONE, *, at=T0, ip="10.0.0.1", purpose=REGISTER) -> str:
    send_sms_code(phone=phone, purpose=purpose, ip=ip, now=at)
    return sms.outbox[-1].code


def later(**delta) -> dt.datetime:
    return T0 + dt.timedelta(**delta)


# Sending


def test_a_six_digit_code_is_sent_and_only_its_hash_is_stored(db, outbox):
    code = send()

    assert len(code) == 6 and code.isdigit()
    assert outbox[0].phone == PHONE
    assert code in outbox[0].text and "5分钟" in outbox[0].text
    row = SmsCode.objects.get()
    assert code not in row.code_hash
    assert row.expires_at == later(minutes=5)


def test_codes_differ_from_send_to_send(db):
    codes = {send(f"1390000{i:04d}") for i in range(5)}
    assert len(codes) > 1


@pytest.mark.parametrize("phone", ["12900000001", "1390000000", "139000000012", "+8613900000001"])
def test_a_number_that_is_not_a_mainland_mobile_is_refused(db, outbox, phone):
    with pytest.raises(InvalidPhone):
        send(phone)
    assert outbox == []


def test_a_number_with_surrounding_spaces_is_accepted(db, outbox):
    send(f" {PHONE} ")
    assert outbox[0].phone == PHONE


# Verifying


def test_the_right_code_is_accepted_once(db):
    code = send()

    verify_sms_code(phone=PHONE, purpose=REGISTER, code=code, now=later(minutes=1))

    with pytest.raises(InvalidSmsCode, match="失效"):
        verify_sms_code(phone=PHONE, purpose=REGISTER, code=code, now=later(minutes=1))


def test_a_code_works_until_five_minutes_have_passed(db):
    code = send()
    verify_sms_code(phone=PHONE, purpose=REGISTER, code=code, now=later(minutes=4, seconds=59))


def test_a_code_expires_after_five_minutes(db):
    code = send()
    with pytest.raises(InvalidSmsCode, match="失效"):
        verify_sms_code(phone=PHONE, purpose=REGISTER, code=code, now=later(minutes=5))


def test_expiry_uses_the_current_time_when_none_is_given(db, monkeypatch):
    code = send(at=timezone.now())
    monkeypatch.setattr(timezone, "now", lambda: later(days=365 * 10))
    with pytest.raises(InvalidSmsCode, match="失效"):
        verify_sms_code(phone=PHONE, purpose=REGISTER, code=code)


def test_a_wrong_code_is_refused(db):
    code = send()
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    with pytest.raises(InvalidSmsCode, match="验证码错误"):
        verify_sms_code(phone=PHONE, purpose=REGISTER, code=wrong, now=T0)


def test_after_five_wrong_tries_even_the_right_code_is_refused(db):
    code = send()
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(5):
        with pytest.raises(InvalidSmsCode, match="验证码错误"):
            verify_sms_code(phone=PHONE, purpose=REGISTER, code=wrong, now=T0)

    with pytest.raises(InvalidSmsCode, match="次数过多"):
        verify_sms_code(phone=PHONE, purpose=REGISTER, code=code, now=T0)


def test_after_four_wrong_tries_the_right_code_still_works(db):
    code = send()
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(4):
        with pytest.raises(InvalidSmsCode):
            verify_sms_code(phone=PHONE, purpose=REGISTER, code=wrong, now=T0)

    verify_sms_code(phone=PHONE, purpose=REGISTER, code=code, now=T0)


def test_a_new_code_retires_the_previous_one(db, monkeypatch):
    numbers = iter([111111, 222222])
    monkeypatch.setattr("accounts.sms_codes.secrets.randbelow", lambda _n: next(numbers))
    first = send()
    second = send(at=later(seconds=61))
    assert (first, second) == ("111111", "222222")

    with pytest.raises(InvalidSmsCode):
        verify_sms_code(phone=PHONE, purpose=REGISTER, code=first, now=later(seconds=62))
    verify_sms_code(phone=PHONE, purpose=REGISTER, code=second, now=later(seconds=62))


def test_a_code_is_valid_only_for_its_purpose_and_phone(db):
    code = send()
    with pytest.raises(InvalidSmsCode):
        verify_sms_code(phone=PHONE, purpose=SmsPurpose.LOGIN, code=code, now=T0)
    with pytest.raises(InvalidSmsCode):
        verify_sms_code(phone="13900000002", purpose=REGISTER, code=code, now=T0)
    verify_sms_code(phone=PHONE, purpose=REGISTER, code=code, now=T0)


# Rate limits


def test_a_phone_gets_one_code_a_minute(db):
    send()
    with pytest.raises(RateLimited) as limited:
        send(at=later(seconds=20))
    assert limited.value.retry_after == 40
    send(at=later(seconds=60))


def test_a_phone_gets_five_codes_an_hour(db):
    for minute in range(5):
        send(at=later(minutes=minute))

    with pytest.raises(RateLimited) as limited:
        send(at=later(minutes=10))

    assert limited.value.retry_after == 50 * 60
    send(at=later(minutes=60))


def test_an_address_gets_twenty_codes_an_hour(db):
    for i in range(20):
        send(f"1390000{i:04d}", at=later(seconds=i))

    with pytest.raises(RateLimited) as limited:
        send("13911111111", at=later(minutes=30))
    assert limited.value.retry_after == 30 * 60

    send("13911111111", at=later(minutes=30), ip="10.0.0.2")


def test_a_refused_send_is_not_counted(db):
    send()
    with pytest.raises(RateLimited):
        send(at=later(seconds=30))
    send(at=later(seconds=60))
    assert SmsCode.objects.count() == 2


def test_without_a_usable_address_only_the_phone_limits_apply(db):
    for i in range(25):
        send_sms_code(phone=f"1390000{i:04d}", purpose=REGISTER, ip="", now=T0)
    assert SmsCode.objects.filter(ip__isnull=True).count() == 25


# The API


def test_the_api_sends_a_code_and_answers_202(api, outbox):
    response = api.post_json("/api/v1/auth/sms-code", {"phone": PHONE})

    assert response.status_code == 202
    assert response.json() == {"sent": True}
    assert outbox[0].phone == PHONE


def test_the_api_answers_429_with_retry_after_when_asked_again_too_soon(api):
    api.post_json("/api/v1/auth/sms-code", {"phone": PHONE})

    response = api.post_json("/api/v1/auth/sms-code", {"phone": PHONE})

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"
    assert 0 < int(response["Retry-After"]) <= 60


def test_the_api_limits_per_address(api):
    for i in range(20):
        api.post_json("/api/v1/auth/sms-code", {"phone": f"1390000{i:04d}"})

    refused = api.post_json("/api/v1/auth/sms-code", {"phone": "13911111111"})
    other_address = api.post_json(
        "/api/v1/auth/sms-code", {"phone": "13911111111"}, REMOTE_ADDR="10.9.9.9"
    )

    assert refused.status_code == 429
    assert other_address.status_code == 202


def test_the_api_answers_422_for_a_bad_phone(api, outbox):
    response = api.post_json("/api/v1/auth/sms-code", {"phone": "12345"})

    assert response.status_code == 422
    assert response.json()["error"]["fields"]["phone"] == ["请输入11位中国大陆手机号码。"]
    assert outbox == []


def test_the_api_answers_400_for_malformed_json(api):
    response = api.post("/api/v1/auth/sms-code", "{phone", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed"


def test_the_api_answers_503_when_the_gateway_fails(api, settings, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE = str(blocker / "sms.jsonl")

    response = api.post_json("/api/v1/auth/sms-code", {"phone": PHONE})

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "sms_unavailable"
    assert SmsCode.objects.count() == 0

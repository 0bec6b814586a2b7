"""SMS backends: chosen by settings.SMS_BACKEND at call time."""

from __future__ import annotations

import json

import pytest
from django.utils.module_loading import import_string

from accounts import sms


@pytest.fixture(autouse=True)
def empty_outbox():
    sms.outbox.clear()
    yield
    sms.outbox.clear()


def test_the_file_backend_appends_one_json_object_per_line_in_utf8(settings, tmp_path):
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE = str(tmp_path / "out" / "sms.jsonl")

    sms.send_sms(phone="13900000001", text="【12315】您的验证码是123456", code="123456")
    sms.send_sms(phone="13900000002", text="您的投诉已受理")

    raw = (tmp_path / "out" / "sms.jsonl").read_text(encoding="utf-8")
    assert "您的验证码" in raw  # kept readable, not \\u escapes
    lines = [json.loads(line) for line in raw.splitlines()]
    assert lines == [
        {"phone": "13900000001", "text": "【12315】您的验证码是123456", "code": "123456"},
        {"phone": "13900000002", "text": "您的投诉已受理", "code": None},
    ]


def test_the_file_backend_reports_an_unwritable_file_as_a_delivery_error(settings, tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE = str(blocker / "sms.jsonl")

    with pytest.raises(sms.SmsDeliveryError):
        sms.send_sms(phone="13900000001", text="x", code=None)


def test_the_locmem_backend_records_messages_in_the_outbox(settings):
    settings.SMS_BACKEND = "locmem"

    sms.send_sms(phone="13900000001", text="hello", code="654321")

    assert sms.outbox == [sms.SmsMessage(phone="13900000001", text="hello", code="654321")]


def test_the_console_backend_prints_the_message(settings, capsys):
    settings.SMS_BACKEND = "console"

    sms.send_sms(phone="13900000001", text="您的验证码是111111", code="111111")

    assert "[SMS to 13900000001] 您的验证码是111111" in capsys.readouterr().out
    assert sms.outbox == []


class RecordingGateway:
    sent: list[tuple[str, str, str | None]] = []

    def send(self, phone: str, text: str, code: str | None) -> None:
        self.sent.append((phone, text, code))


def test_a_dotted_path_selects_a_gateway_class(settings):
    path = "tests.test_accounts_sms.RecordingGateway"
    settings.SMS_BACKEND = path
    gateway = import_string(path)  # the class as the backend loader sees it
    gateway.sent.clear()

    sms.send_sms(phone="13900000001", text="hi", code=None)

    assert gateway.sent == [("13900000001", "hi", None)]


def test_the_backend_is_read_at_call_time(settings):
    settings.SMS_BACKEND = "console"
    assert isinstance(sms.get_backend(), sms.ConsoleBackend)
    settings.SMS_BACKEND = "locmem"
    assert isinstance(sms.get_backend(), sms.LocmemBackend)

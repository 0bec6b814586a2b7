"""Sending text messages, through a backend chosen by `settings.SMS_BACKEND`.

The interface every backend implements (modelled on Django's e-mail backends)::

    class MyGateway:
        def send(self, phone: str, text: str, code: str | None) -> None: ...

- the class is constructed without arguments for each message, so it reads its own settings then;
- `phone` is a mainland mobile number (11 digits), `text` the full message in Chinese, `code` the
  one-time code inside `text` when there is one (fakes and logs record it; gateways that fill a
  template with the code use it instead of `text`);
- `send` returns once the gateway has accepted the message and raises `SmsDeliveryError` when it
  could not be handed over (callers answer 503: safe to retry).

`SMS_BACKEND` is one of the built-in names below or the dotted path of such a class:

- `console`: writes the message to standard output (development);
- `file`: appends one JSON object per line, `{"phone", "text", "code"}`, to `settings.SMS_FILE`
  (UTF-8, Chinese kept readable) - acceptance checks read the codes from there;
- `locmem`: appends to `outbox` in this module, like `django.core.mail.outbox` (tests).

Settings are read at call time, never at import time, so `override_settings` works.
"""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class SmsDeliveryError(Exception):
    """The gateway did not accept the message."""


class SmsBackend(Protocol):
    def send(self, phone: str, text: str, code: str | None) -> None: ...


@dataclass(frozen=True)
class SmsMessage:
    phone: str
    text: str
    code: str | None


outbox: list[SmsMessage] = []


class ConsoleBackend:
    """Prints each message, so a developer running `make run` can read the code."""

    def send(self, phone: str, text: str, code: str | None) -> None:
        sys.stdout.write(f"[SMS to {phone}] {text}\n")
        sys.stdout.flush()


class FileBackend:
    """Appends JSON lines to `settings.SMS_FILE`; one short write per message, so concurrent
    workers appending to the same file do not interleave."""

    def send(self, phone: str, text: str, code: str | None) -> None:
        path = Path(settings.SMS_FILE)
        line = json.dumps({"phone": phone, "text": text, "code": code}, ensure_ascii=False)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as file:
                file.write(line + "\n")
        except OSError as exc:
            raise SmsDeliveryError(str(exc)) from exc


class LocmemBackend:
    """Records messages in `accounts.sms.outbox` for tests; clear it between tests."""

    def send(self, phone: str, text: str, code: str | None) -> None:
        outbox.append(SmsMessage(phone=phone, text=text, code=code))


BUILT_IN: dict[str, type[SmsBackend]] = {
    "console": ConsoleBackend,
    "file": FileBackend,
    "locmem": LocmemBackend,
}


def get_backend() -> SmsBackend:
    name = settings.SMS_BACKEND
    backend_class = BUILT_IN.get(name) or import_string(name)
    return backend_class()


def send_sms(*, phone: str, text: str, code: str | None = None) -> None:
    """Send one message through the configured backend; raises SmsDeliveryError on failure."""
    get_backend().send(phone, text, code)
    logger.info("sms sent to %s****%s", phone[:3], phone[-4:])

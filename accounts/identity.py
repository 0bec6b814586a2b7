"""Resident ID numbers (GB 11643): validation, encryption at rest, keyed hash, masking."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
from functools import cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.utils.translation import gettext as _

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_PATTERN = re.compile(r"^\d{17}[\dX]$")


class InvalidIdNumber(ValueError):
    pass


def check_digit(first17: str) -> str:
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def normalize_id_number(value: str) -> str:
    return value.strip().upper()


def validate_id_number(value: str, *, known_province: frozenset[str] | None = None) -> str:
    """Return the normalised number or raise InvalidIdNumber with a Chinese message."""
    number = normalize_id_number(value)
    if not _PATTERN.match(number):
        raise InvalidIdNumber(_("身份证号码应为18位，最后一位可以是数字或X。"))
    if known_province is not None and number[:2] not in known_province:
        raise InvalidIdNumber(_("身份证号码的地区码不存在。"))
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidIdNumber(_("身份证号码中的出生日期无效。")) from None
    if born.year < 1900 or born > dt.date.today():  # noqa: DTZ011 - a calendar date, no zone
        raise InvalidIdNumber(_("身份证号码中的出生日期无效。"))
    if check_digit(number[:17]) != number[17]:
        raise InvalidIdNumber(_("身份证号码校验位错误，请核对。"))
    return number


@cache
def _key_material() -> bytes:
    secret = settings.FIELD_ENCRYPTION_KEY or settings.SECRET_KEY
    return hashlib.sha256(b"open12315-field-key:" + secret.encode()).digest()


def _fernet() -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_key_material()))


def encrypt_id_number(number: str) -> str:
    return _fernet().encrypt(number.encode()).decode()


def decrypt_id_number(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode() if token else ""


def id_number_hash(number: str) -> str:
    """Keyed hash for the uniqueness check: equal numbers collide, the table reveals nothing."""
    return hmac.new(_key_material(), normalize_id_number(number).encode(), "sha256").hexdigest()


def mask_id_number(number: str) -> str:
    return f"{number[:4]}{'*' * 10}{number[-4:]}" if len(number) == 18 else ""


def masked_id_number(token: str) -> str:
    """The stored (encrypted) number, masked for display; "" when it cannot be decrypted (the key
    changed: without FIELD_ENCRYPTION_KEY it derives from SECRET_KEY), rather than a 500."""
    try:
        return mask_id_number(decrypt_id_number(token))
    except InvalidToken:
        return ""


def mask_phone(phone: str | None) -> str:
    if not phone:
        return ""
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 11 else "*" * len(phone)

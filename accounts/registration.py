"""Consumer self-registration with real name, resident ID number and a phone proved by SMS.

The web form and the JSON API both call `register_consumer`; they check only the shape of what
they receive.
"""

from __future__ import annotations

import hmac
import json
import re

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from accounts.identity import (
    InvalidIdNumber,
    encrypt_id_number,
    id_number_hash,
    validate_id_number,
)
from accounts.models import RegistrationKey, SmsPurpose, User
from accounts.sms_codes import InvalidPhone, InvalidSmsCode, normalize_phone, verify_sms_code

# Province-level codes of GB/T 2260 (the first two digits of every resident ID number).
PROVINCE_CODES = frozenset(
    {
        *("11", "12", "13", "14", "15"),  # 北京 天津 河北 山西 内蒙古
        *("21", "22", "23"),  # 辽宁 吉林 黑龙江
        *("31", "32", "33", "34", "35", "36", "37"),  # 上海 江苏 浙江 安徽 福建 江西 山东
        *("41", "42", "43", "44", "45", "46"),  # 河南 湖北 湖南 广东 广西 海南
        *("50", "51", "52", "53", "54"),  # 重庆 四川 贵州 云南 西藏
        *("61", "62", "63", "64", "65"),  # 陕西 甘肃 青海 宁夏 新疆
        *("71", "81", "82"),  # 台湾 香港 澳门
    }
)

# Chinese names (rare characters of the CJK extensions included), with a middle dot between the
# parts of a transcribed ethnic name (买买提·艾力), or Latin letters with single spaces.
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0003134f"
_REAL_NAME = re.compile(rf"[{_HAN}]+(?:\u00b7[{_HAN}]+)*|[A-Za-z]+(?: [A-Za-z]+)*")
# Dots people type instead of U+00B7 MIDDLE DOT.
_DOT_VARIANTS = str.maketrans(dict.fromkeys(".\u2022\u2027\u30fb\uff0e\uff65", "\u00b7"))
REAL_NAME_LENGTH = (2, 30)
MAX_KEY_LENGTH = 100


class RegistrationError(ValueError):
    """Why registration failed, field by field, in Chinese."""

    def __init__(self, fields: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in fields.items()))
        self.fields = fields


class IdempotencyMismatch(Exception):
    """The Idempotency-Key was used before with a different body."""

    def __init__(self) -> None:
        super().__init__(_("该幂等键已用于内容不同的另一次提交。"))


class InvalidIdempotencyKey(ValueError):
    def __init__(self) -> None:
        super().__init__(_("幂等键应为1至%(max)d个字符。") % {"max": MAX_KEY_LENGTH})


def clean_real_name(value: str) -> str:
    name = value.strip().translate(_DOT_VARIANTS)
    low, high = REAL_NAME_LENGTH
    if not low <= len(name) <= high:
        raise ValidationError(_("姓名应为2至30个字。"))
    if not _REAL_NAME.fullmatch(name):
        raise ValidationError(_("姓名只能包含汉字（少数民族姓名可用“·”分隔）或英文字母。"))
    return name


def validate_registration(
    *, real_name: str, id_number: str, phone: str, password: str
) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Check each field on its own; return the cleaned values and the messages per field. Public
    so a form can show every problem at once, not one round trip per field."""
    values: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    try:
        values["real_name"] = clean_real_name(real_name)
    except ValidationError as exc:
        errors["real_name"] = list(exc.messages)
    try:
        values["id_number"] = validate_id_number(id_number, known_province=PROVINCE_CODES)
    except InvalidIdNumber as exc:
        errors["id_number"] = [str(exc)]
    try:
        values["phone"] = normalize_phone(phone)
    except InvalidPhone as exc:
        errors["phone"] = [str(exc)]
    candidate = User(username=values.get("phone", ""), real_name=values.get("real_name", ""))
    try:
        validate_password(password, user=candidate)
    except ValidationError as exc:
        errors["password"] = _password_messages(exc)
    return values, errors


def _password_messages(exc: ValidationError) -> list[str]:
    """Django's messages, except those its Chinese catalogue lacks (it has no translation of the
    current "too short" text), which are replaced by ours, by error code."""
    ours = {
        "password_too_short": _("密码太短，至少需要%(min_length)d个字符。"),
        "password_too_common": _("这个密码太常见了。"),
        "password_entirely_numeric": _("密码不能全部为数字。"),
    }
    messages = []
    for error in exc.error_list:
        template = ours.get(error.code or "")
        messages.extend([template % (error.params or {})] if template else error.messages)
    return messages


def _already_registered(*, id_number: str, phone: str) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if User.objects.filter(id_number_hash=id_number_hash(id_number)).exists():
        errors["id_number"] = [_("该身份证号码已注册。")]
    if User.objects.filter(Q(phone=phone) | Q(username=phone)).exists():
        errors["phone"] = [_("该手机号已注册。")]
    return errors


@transaction.atomic
def _create_consumer(*, values: dict[str, str], password: str, key: tuple[str, str] | None) -> User:
    user = User(
        username=values["phone"],
        phone=values["phone"],
        real_name=values["real_name"],
        id_number_encrypted=encrypt_id_number(values["id_number"]),
        id_number_hash=id_number_hash(values["id_number"]),
        is_verified=True,
    )
    user.set_password(password)
    user.save()
    if key is not None:
        RegistrationKey.objects.create(key=key[0], request_hash=key[1], user=user)
    return user


def _register(
    *,
    real_name: str,
    id_number: str,
    phone: str,
    sms_code: str,
    password: str,
    key: tuple[str, str] | None,
) -> User:
    """Order matters: the fields are checked before the code is spent (a typo costs no code); the
    code is checked before the duplicates, so nobody learns whether an ID number has an account
    without a code sent to a phone they hold; and the code is checked outside the transaction
    that creates the account, so a wrong guess stays counted though registration fails."""
    values, errors = validate_registration(
        real_name=real_name, id_number=id_number, phone=phone, password=password
    )
    if errors:
        raise RegistrationError(errors)
    try:
        verify_sms_code(phone=values["phone"], purpose=SmsPurpose.REGISTER, code=sms_code)
    except InvalidSmsCode as exc:
        raise RegistrationError({"sms_code": [str(exc)]}) from exc
    errors = _already_registered(id_number=values["id_number"], phone=values["phone"])
    if errors:
        raise RegistrationError(errors)
    try:
        return _create_consumer(values=values, password=password, key=key)
    except IntegrityError as exc:
        # Another request registered the same ID number or phone between the check and the insert.
        errors = _already_registered(id_number=values["id_number"], phone=values["phone"])
        raise RegistrationError(errors or {"phone": [_("该手机号已注册。")]}) from exc


def _request_hash(fields: dict[str, str]) -> str:
    canonical = json.dumps(fields, ensure_ascii=False, sort_keys=True)
    return salted_hmac("accounts.registration.idempotency", canonical).hexdigest()


def _replay(*, key: str, request_hash: str) -> User | None:
    """The account an earlier request with this key created, or None when the key is new."""
    row = RegistrationKey.objects.select_related("user").filter(key=key).first()
    if row is None:
        return None
    if not hmac.compare_digest(row.request_hash, request_hash):
        raise IdempotencyMismatch()
    return row.user


def register_consumer(
    *,
    real_name: str,
    id_number: str,
    phone: str,
    sms_code: str,
    password: str,
    idempotency_key: str | None = None,
) -> User:
    """Create a verified consumer account whose username is the phone, or raise
    RegistrationError. With an `idempotency_key`, a retry of the same request returns the account
    the first one created (IdempotencyMismatch when the body differs)."""
    fields = {
        "real_name": real_name,
        "id_number": id_number,
        "phone": phone,
        "sms_code": sms_code,
        "password": password,
    }
    if idempotency_key is None:
        return _register(**fields, key=None)
    key = idempotency_key.strip()
    if not 0 < len(key) <= MAX_KEY_LENGTH:
        raise InvalidIdempotencyKey()
    request_hash = _request_hash(fields)
    earlier = _replay(key=key, request_hash=request_hash)
    if earlier is not None:
        return earlier
    try:
        return _register(**fields, key=(key, request_hash))
    except RegistrationError:
        # A concurrent request with this key may have won (spending the code): answer as it did.
        earlier = _replay(key=key, request_hash=request_hash)
        if earlier is None:
            raise
        return earlier

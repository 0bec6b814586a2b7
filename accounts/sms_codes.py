"""One-time SMS codes: sending them under rate limits, and checking them once.

Limits are counted on the `SmsCode` rows themselves rather than in the cache: the rows exist anyway,
the count is the same in every worker process (the default cache is per process), and tests can
move time by passing `now`. Only the newest code for a phone and purpose counts, so asking for a
new code retires the old one; each code allows `MAX_ATTEMPTS` wrong guesses, and the rate limits
bound how many codes (so guesses) one can get.
"""

from __future__ import annotations

import datetime as dt
import hmac
import ipaddress
import re
import secrets

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from accounts.models import SmsCode, SmsPurpose
from accounts.sms import send_sms

CODE_TTL = dt.timedelta(minutes=5)
MAX_ATTEMPTS = 5
PHONE_INTERVAL = dt.timedelta(seconds=60)
HOUR = dt.timedelta(hours=1)
PHONE_PER_HOUR = 5
IP_PER_HOUR = 20

_PHONE = re.compile(r"1[3-9]\d{9}")
_CODE = re.compile(r"\d{6}")


class InvalidPhone(ValueError):
    """Not a mainland mobile number; the message is shown to the user."""


class InvalidSmsCode(ValueError):
    """Wrong, expired, used or exhausted code; the message is shown to the user."""


class RateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


def normalize_phone(value: str) -> str:
    """Return the 11-digit number or raise InvalidPhone."""
    phone = value.strip()
    if not _PHONE.fullmatch(phone):
        raise InvalidPhone(_("请输入11位中国大陆手机号码。"))
    return phone


def _clean_ip(ip: str | None) -> str | None:
    """The client address, or None when the server saw none (a Unix socket) or an odd value."""
    try:
        return str(ipaddress.ip_address(ip)) if ip else None
    except ValueError:
        return None


def _code_hash(*, phone: str, purpose: str, code: str) -> str:
    # Keyed with SECRET_KEY: six digits alone would be reversed by trying all million of them.
    return salted_hmac("accounts.sms_codes", f"{purpose}:{phone}:{code}").hexdigest()


def _seconds_until(moment: dt.datetime, now: dt.datetime) -> int:
    return max(1, int((moment - now).total_seconds() + 0.999))


def _retry_after(
    sent: QuerySet[SmsCode], *, limit: int, window: dt.timedelta, now: dt.datetime
) -> int:
    """Seconds until fewer than `limit` of `sent` fall in the window, or 0 when already so."""
    recent = list(sent.filter(created_at__gt=now - window).values_list("created_at", flat=True))
    if len(recent) < limit:
        return 0
    oldest_that_counts = sorted(recent, reverse=True)[limit - 1]
    return _seconds_until(oldest_that_counts + window, now)


def check_send_rate(*, phone: str, ip: str | None, now: dt.datetime) -> None:
    """Raise RateLimited when this phone or address has had too many codes lately."""
    by_phone = SmsCode.objects.filter(phone=phone)
    waits = [
        _retry_after(by_phone, limit=1, window=PHONE_INTERVAL, now=now),
        _retry_after(by_phone, limit=PHONE_PER_HOUR, window=HOUR, now=now),
    ]
    if ip:
        by_ip = SmsCode.objects.filter(ip=ip)
        waits.append(_retry_after(by_ip, limit=IP_PER_HOUR, window=HOUR, now=now))
    if max(waits) > 0:
        raise RateLimited(max(waits))


def _message(code: str) -> str:
    minutes = int(CODE_TTL.total_seconds() // 60)
    return _("【12315】您的验证码是%(code)s，%(minutes)d分钟内有效。请勿泄露给他人。") % {
        "code": code,
        "minutes": minutes,
    }


@transaction.atomic
def send_sms_code(
    *, phone: str, purpose: str, ip: str | None, now: dt.datetime | None = None
) -> SmsCode:
    """Create and send a 6-digit code. Raises InvalidPhone, RateLimited, or SmsDeliveryError (then
    the row is rolled back, so a failed send does not count against the limits)."""
    phone = normalize_phone(phone)
    ip = _clean_ip(ip)
    now = now or timezone.now()
    check_send_rate(phone=phone, ip=ip, now=now)
    code = f"{secrets.randbelow(10**6):06d}"
    row = SmsCode.objects.create(
        phone=phone,
        purpose=SmsPurpose(purpose),
        code_hash=_code_hash(phone=phone, purpose=purpose, code=code),
        ip=ip,
        created_at=now,
        expires_at=now + CODE_TTL,
    )
    send_sms(phone=phone, text=_message(code), code=code)
    return row


def _current_code(*, phone: str, purpose: str, now: dt.datetime) -> SmsCode:
    row = SmsCode.objects.filter(phone=phone, purpose=purpose).first()
    if row is None or row.used_at is not None or row.expires_at <= now:
        raise InvalidSmsCode(_("验证码已失效，请重新获取。"))
    return row


def _take_attempt(row: SmsCode) -> None:
    """Count this try before comparing: a conditional update, so parallel guesses cannot all slip
    in under the limit."""
    taken = SmsCode.objects.filter(pk=row.pk, attempts__lt=MAX_ATTEMPTS).update(
        attempts=F("attempts") + 1
    )
    if not taken:
        raise InvalidSmsCode(_("验证码错误次数过多，请重新获取。"))


def verify_sms_code(*, phone: str, purpose: str, code: str, now: dt.datetime | None = None) -> None:
    """Accept the newest unexpired code once, or raise InvalidSmsCode. Each try is counted at once
    (not inside the caller's transaction, which may roll back): call this outside one."""
    now = now or timezone.now()
    row = _current_code(phone=phone, purpose=purpose, now=now)
    _take_attempt(row)
    code = code.strip()
    expected = _code_hash(phone=phone, purpose=purpose, code=code)
    if not _CODE.fullmatch(code) or not hmac.compare_digest(expected, row.code_hash):
        raise InvalidSmsCode(_("验证码错误。"))
    # Conditional update: of two requests racing with the same code, only one wins.
    if not SmsCode.objects.filter(pk=row.pk, used_at__isnull=True).update(used_at=now):
        raise InvalidSmsCode(_("验证码已失效，请重新获取。"))

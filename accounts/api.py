"""Accounts API: SMS codes, consumer registration, tokens and the caller's own profile."""

from __future__ import annotations

from axes.helpers import get_client_ip_address
from django.contrib.auth import authenticate
from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema, Status

from accounts.identity import mask_phone, masked_id_number
from accounts.lockout import locked_api_response
from accounts.models import SmsPurpose, User
from accounts.registration import (
    IdempotencyMismatch,
    InvalidIdempotencyKey,
    RegistrationError,
    register_consumer,
)
from accounts.sms import SmsDeliveryError
from accounts.sms_codes import InvalidPhone, RateLimited, send_sms_code
from accounts.tokens import issue_token, revoke_token
from api.auth import bearer, signed_in
from api.errors import ApiError

router = Router(tags=["accounts"])


class TokenIn(Schema):
    username: str
    password: str


class TokenOut(Schema):
    token: str


class MembershipOut(Schema):
    department: str
    roles: list[str]


class MeOut(Schema):
    id: int
    username: str
    real_name: str
    id_number: str
    phone: str
    roles: list[str]
    department: str | None
    memberships: list[MembershipOut]
    business: int | None


class SmsCodeIn(Schema):
    phone: str


class SmsCodeOut(Schema):
    sent: bool


class RegisterIn(Schema):
    real_name: str
    id_number: str
    phone: str
    sms_code: str
    password: str


class RegisteredOut(Schema):
    id: int
    username: str


def rate_limited_error(exc: RateLimited) -> ApiError:
    return ApiError(
        429,
        "rate_limited",
        "操作过于频繁，请稍后再试。",
        headers={"Retry-After": str(exc.retry_after)},
    )


@router.post("/auth/sms-code", response={202: SmsCodeOut}, auth=None)
def request_sms_code(request: HttpRequest, payload: SmsCodeIn) -> Status[SmsCodeOut]:
    """Send a registration code; rate limited per phone and per client address."""
    try:
        send_sms_code(
            phone=payload.phone, purpose=SmsPurpose.REGISTER, ip=get_client_ip_address(request)
        )
    except InvalidPhone as exc:
        raise ApiError(422, "invalid", "手机号码无效。", fields={"phone": [str(exc)]}) from exc
    except RateLimited as exc:
        raise rate_limited_error(exc) from exc
    except SmsDeliveryError as exc:
        raise ApiError(503, "sms_unavailable", "短信暂时无法发送，请稍后重试。") from exc
    return Status(202, SmsCodeOut(sent=True))


@router.post("/auth/register", response={201: RegisteredOut}, auth=None)
def register(request: HttpRequest, payload: RegisterIn) -> Status[RegisteredOut]:
    """Accepts `Idempotency-Key`: a retry with the same key and body answers with the same id."""
    try:
        user = register_consumer(
            real_name=payload.real_name,
            id_number=payload.id_number,
            phone=payload.phone,
            sms_code=payload.sms_code,
            password=payload.password,
            idempotency_key=request.headers.get("Idempotency-Key"),
        )
    except RegistrationError as exc:
        raise ApiError(
            422, "invalid", "提交的数据有误，请按字段提示修改。", fields=exc.fields
        ) from exc
    except (IdempotencyMismatch, InvalidIdempotencyKey) as exc:
        code = "idempotency_mismatch" if isinstance(exc, IdempotencyMismatch) else "invalid_key"
        raise ApiError(422, code, str(exc)) from exc
    return Status(201, RegisteredOut(id=user.pk, username=user.username))


@router.post("/auth/token", response={200: TokenOut}, auth=None)
def create_token(request: HttpRequest, payload: TokenIn) -> TokenOut | HttpResponse:
    user = authenticate(request, username=payload.username, password=payload.password)
    if getattr(request, "axes_locked_out", False):
        return locked_api_response()
    if user is None:
        raise ApiError(401, "invalid_credentials", "用户名或密码错误。")
    assert isinstance(user, User)
    return TokenOut(token=issue_token(user=user))


@router.delete("/auth/token", response={204: None}, auth=bearer)
def delete_token(request: HttpRequest) -> Status:
    """Sign an app out: the bearer token of this request stops working."""
    revoke_token(request.headers["Authorization"].split(" ", 1)[1].strip())
    return Status(204, None)


def profile(user: User) -> MeOut:
    memberships = list(user.memberships.all())
    roles = sorted({role for m in memberships for role in m.roles})
    return MeOut(
        id=user.pk,
        username=user.username,
        real_name=user.real_name,
        id_number=masked_id_number(user.id_number_encrypted),
        phone=mask_phone(user.phone),
        roles=roles,
        department=memberships[0].department_id if memberships else None,
        memberships=[MembershipOut(department=m.department_id, roles=m.roles) for m in memberships],
        business=user.business_id,
    )


@router.get("/me", response=MeOut, auth=signed_in)
def me(request: HttpRequest) -> MeOut:
    assert isinstance(request.user, User)
    return profile(request.user)

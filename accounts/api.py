"""Accounts API: tokens and the caller's own profile."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema

from accounts.identity import decrypt_id_number, mask_id_number, mask_phone
from accounts.lockout import locked_api_response
from accounts.models import User
from accounts.tokens import issue_token
from api.auth import signed_in
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


@router.post("/auth/token", response={200: TokenOut}, auth=None)
def create_token(request: HttpRequest, payload: TokenIn) -> TokenOut | HttpResponse:
    user = authenticate(request, username=payload.username, password=payload.password)
    if getattr(request, "axes_locked_out", False):
        return locked_api_response()
    if user is None:
        raise ApiError(401, "invalid_credentials", "用户名或密码错误。")
    assert isinstance(user, User)
    return TokenOut(token=issue_token(user=user))


def profile(user: User) -> MeOut:
    memberships = list(user.memberships.all())
    roles = sorted({role for m in memberships for role in m.roles})
    return MeOut(
        id=user.pk,
        username=user.username,
        real_name=user.real_name,
        id_number=mask_id_number(decrypt_id_number(user.id_number_encrypted)),
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

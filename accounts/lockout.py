"""What a locked-out login gets: 429 with Retry-After (django-axes calls this)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from api.errors import error_response


def retry_after_seconds() -> int:
    return int(float(settings.AXES_COOLOFF_TIME) * 3600)


def lockout_response(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    if request.path.startswith("/api/"):
        return locked_api_response()
    minutes = retry_after_seconds() // 60
    response = render(request, "accounts/locked.html", {"minutes": minutes}, status=429)
    response["Retry-After"] = str(retry_after_seconds())
    return response


def locked_api_response() -> HttpResponse:
    return error_response(
        429,
        "locked",
        "登录失败次数过多，请15分钟后再试。",
        headers={"Retry-After": str(retry_after_seconds())},
    )

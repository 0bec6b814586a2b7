"""Every API error has one shape: {"error": {"code", "message", "fields"?}} (API.md)."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError


class ApiError(Exception):
    """Raised anywhere under the API to answer with a given status and error code."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        fields: dict[str, list[str]] | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields
        self.extra = extra or {}
        self.headers = headers or {}


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    fields: dict[str, list[str]] | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    body.update(extra or {})
    response = HttpResponse(
        json.dumps({"error": body}, ensure_ascii=False),
        status=status,
        content_type="application/json; charset=utf-8",
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _field_name(loc: list[Any]) -> str:
    # ninja locations look like ["body", "payload", "respondent", "name"] or ["query", "address"].
    parts = [str(p) for p in loc[1:] if p not in ("payload", "data")]
    return ".".join(parts) or str(loc[0] if loc else "body")


# pydantic's own messages are English ("Field required"): the common ones in the platform's
# language (Chinese first, English from the catalogue); the project's own validators already
# speak Chinese and keep their message.
_MOMENT = gettext_lazy("时间应为带时区的 ISO 8601 格式，例如 2026-11-20T09:30:00+08:00。")
_MESSAGES: dict[str, Promise] = {
    "missing": gettext_lazy("此项为必填项。"),
    "string_type": gettext_lazy("应为文本。"),
    "int_type": gettext_lazy("应为整数。"),
    "int_parsing": gettext_lazy("应为整数。"),
    "int_from_float": gettext_lazy("应为整数。"),
    "bool_type": gettext_lazy("应为 true 或 false。"),
    "bool_parsing": gettext_lazy("应为 true 或 false。"),
    "float_type": gettext_lazy("应为数字。"),
    "float_parsing": gettext_lazy("应为数字。"),
    "decimal_type": gettext_lazy("应为数字。"),
    "decimal_parsing": gettext_lazy("应为数字。"),
    "list_type": gettext_lazy("应为列表。"),
    "dict_type": gettext_lazy("应为 JSON 对象。"),
    "model_type": gettext_lazy("应为 JSON 对象。"),
    "model_attributes_type": gettext_lazy("应为 JSON 对象。"),
    "date_type": gettext_lazy("日期格式应为 YYYY-MM-DD。"),
    "date_parsing": gettext_lazy("日期格式应为 YYYY-MM-DD。"),
    "date_from_datetime_parsing": gettext_lazy("日期格式应为 YYYY-MM-DD。"),
    "date_from_datetime_inexact": gettext_lazy("日期格式应为 YYYY-MM-DD。"),
    "datetime_type": _MOMENT,
    "datetime_parsing": _MOMENT,
    "datetime_from_date_parsing": _MOMENT,
    "string_too_long": gettext_lazy("文本过长。"),
    "too_long": gettext_lazy("项目过多。"),
    "extra_forbidden": gettext_lazy("不接受该参数。"),
}


def _message(err: dict[str, Any]) -> str:
    known = _MESSAGES.get(str(err.get("type", "")))
    return str(known) if known is not None else str(err.get("msg"))


def validation_fields(errors: list[dict[str, Any]]) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for err in errors:
        fields.setdefault(_field_name(list(err.get("loc", []))), []).append(_message(err))
    return fields


def _is_missing_body(err: dict[str, Any]) -> bool:
    loc = list(err.get("loc", []))
    inner = [p for p in loc[1:] if p not in ("payload", "data")]
    return err.get("type") == "missing" and loc[:1] == ["body"] and not inner


def _is_malformed_body(errors: list[dict[str, Any]]) -> bool:
    if any(_is_missing_body(err) for err in errors):
        return True
    return any(
        err.get("type") in ("json_invalid", "model_attributes_type") for err in errors
    ) or any("Cannot parse request body" in str(err.get("msg", "")) for err in errors)


_FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def _is_json_but_no_object(request: HttpRequest, errors: list[dict[str, Any]]) -> bool:
    """A JSON array, string or number where an object is expected: ninja reads it as `{}` and
    reports every field missing; it is a malformed body (400), as on the case endpoints."""
    if request.content_type in _FORM_TYPES:
        return False
    if not any(list(err.get("loc", []))[:1] == ["body"] for err in errors):
        return False
    return request.body.lstrip()[:1] != b"{"


def install_error_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(ApiError)
    def on_api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
        return error_response(
            exc.status,
            exc.code,
            exc.message,
            fields=exc.fields,
            extra=exc.extra,
            headers=exc.headers,
        )

    @api.exception_handler(ValidationError)
    def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        errors = list(exc.errors)
        if _is_malformed_body(errors) or _is_json_but_no_object(request, errors):
            return error_response(400, "malformed", "请求体不是有效的 JSON 对象。")
        return error_response(
            422, "invalid", "提交的数据有误，请按字段提示修改。", fields=validation_fields(errors)
        )

    @api.exception_handler(AuthenticationError)
    def on_auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return error_response(401, "unauthorized", "请先登录或提供有效的令牌。")

    @api.exception_handler(HttpError)
    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if exc.status_code == 400:
            return error_response(400, "malformed", "请求体不是有效的 JSON 对象。")
        return error_response(exc.status_code, f"http_{exc.status_code}", str(exc))

    @api.exception_handler(Http404)
    def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return error_response(404, "not_found", "未找到。")

    @api.exception_handler(RequestDataTooBig)
    def on_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        return error_response(413, "too_large", "请求体过大。")

    @api.exception_handler(TooManyFieldsSent)
    def on_too_many_fields(request: HttpRequest, exc: TooManyFieldsSent) -> HttpResponse:
        return error_response(413, "too_large", "请求中的字段过多。")

    @api.exception_handler(TooManyFilesSent)
    def on_too_many_files(request: HttpRequest, exc: TooManyFilesSent) -> HttpResponse:
        return error_response(413, "too_large", "一次上传的文件过多。")

    @api.exception_handler(PermissionDenied)
    def on_forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return error_response(403, "forbidden", "无权执行此操作。")


def not_found_view(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's 404 handler: JSON under /api/, the normal page elsewhere."""
    if request.path.startswith("/api/"):
        return error_response(404, "not_found", "未找到。")
    from django.views.defaults import page_not_found

    return page_not_found(request, exception or Http404())


def server_error_view(request: HttpRequest) -> HttpResponse:
    """Django's 500 handler: even a bug answers in the API's error shape under /api/."""
    if request.path.startswith("/api/"):
        return error_response(500, "server_error", "服务器内部错误，请稍后重试。")
    from django.views.defaults import server_error

    return server_error(request)

"""Refuse NUL characters in API requests up front; answer a wrong method in the error shape.

PostgreSQL text cannot hold U+0000, so a NUL reaching a query or a row would be a 500 there
(and silently accepted on SQLite). Django's forms already refuse it on the web pages; this covers
the JSON API: the path, the query string and JSON bodies (raw or as a \\u0000 escape). Uploaded
files are binary and not looked at.

django-ninja answers a method a path does not take (PUT on a case) with a plain-text/HTML 405;
API.md wants every error as JSON, so that answer is rewritten here, keeping its `Allow` header.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse

from api.errors import error_response

_ESCAPED_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000", re.IGNORECASE)


def _has_nul(request: HttpRequest) -> bool:
    if "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", "").lower():
        return True
    if request.content_type != "application/json":
        return False
    body = request.body
    return b"\x00" in body or bool(_ESCAPED_NUL.search(body))


class RejectNulMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            try:
                refused = _has_nul(request)
            except RequestDataTooBig:
                return error_response(413, "too_large", "请求体过大。")
            if refused:
                return error_response(400, "malformed", "请求中含有不允许的空字符（NUL）。")
            return _json_not_allowed(self.get_response(request))
        return self.get_response(request)


def _json_not_allowed(response: HttpResponse) -> HttpResponse:
    if response.status_code != 405 or response.get("Content-Type", "").startswith(
        "application/json"
    ):
        return response
    return error_response(
        405,
        "method_not_allowed",
        "此地址不支持该请求方法。",
        headers={"Allow": response.get("Allow", "")},
    )

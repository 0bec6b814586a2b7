"""`POST /api/v1/cases/{number}/actions`: every workflow action through one endpoint.

The body is `{"action", "version"?, ...params}`: the parameters differ per action (API.md), so the
body is read as a plain JSON object and handed to `cases.services.perform`, which checks them
against the workflow table. Errors keep the API's one shape.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router

from api.auth import signed_in
from api.errors import ApiError
from cases.access import get_case_for
from cases.api import CaseOut
from cases.presenters import case_payload
from cases.services import InvalidParams, WorkflowError, perform

router = Router(tags=["cases"])

# Names perform keeps for itself: no action has a parameter called so.
RESERVED = ("by", "case")


ACTION_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["action"],
                "properties": {
                    "action": {"type": "string", "example": "accept"},
                    "version": {"type": "integer", "description": "the version last read"},
                },
                "additionalProperties": True,
                "description": "The action's parameters sit beside `action` (API.md).",
            }
        }
    },
}


@router.post(
    "/cases/{number}/actions",
    auth=signed_in,
    response=CaseOut,
    summary="Take a workflow action",
    openapi_extra={"requestBody": ACTION_BODY},
)
def take_action(request: HttpRequest, number: str) -> Any:
    """200 with the updated case; 404 when the caller may not see it; 409 `invalid_action` or
    `stale_version` with the caller's `allowed_actions`; 422 with `fields` (and `choices`)."""
    user = request.auth  # type: ignore[attr-defined]
    body = _json_object(request)
    case = get_case_for(user, number)
    action, version = body.pop("action", None), body.pop("version", None)
    _check_envelope(action, version, body)
    try:
        case = perform(case, action, by=user, version=version, **body)
    except WorkflowError as exc:
        raise _api_error(exc) from exc
    return case_payload(case, user)


def _json_object(request: HttpRequest) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: [[[[...]]]]
        body = None
    if not isinstance(body, dict):
        raise ApiError(400, "malformed", _("请求体不是有效的 JSON 对象。"))
    return body


def _check_envelope(action: Any, version: Any, params: dict[str, Any]) -> None:
    fields = {name: [_("此操作不接受该参数。")] for name in RESERVED if name in params}
    if not isinstance(action, str) or not action:
        fields["action"] = [_("此项为必填项。")]
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        fields["version"] = [_("应为整数。")]
    if fields:
        raise ApiError(422, "invalid", _("提交的数据有误，请按字段提示修改。"), fields=fields)


def _api_error(exc: WorkflowError) -> ApiError:
    if isinstance(exc, InvalidParams):
        extra = {"choices": exc.choices} if exc.choices else {}
        return ApiError(422, exc.code, exc.message, fields=exc.fields, extra=extra)
    return ApiError(409, exc.code, exc.message, extra={"allowed_actions": exc.allowed_actions})

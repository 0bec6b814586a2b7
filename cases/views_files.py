"""Evidence downloads: the only way a stored file leaves the server.

Files live under MEDIA_ROOT, which no URL serves. This view hands one out to a caller who may see
its case (`cases.access`), or to its owner while it is on no case yet; everyone else gets 404, as
if it did not exist. The file always downloads (`Content-Disposition: attachment`) with the
content type recorded when its bytes were checked and `nosniff`, so a browser never renders an
uploaded file as a page of this site.

The mediation agreement (调解书, `cases.documents`) leaves the same way: made on request for the
parties to a complaint closed by agreement and the staff who see it; 404 for everyone else.
"""

from __future__ import annotations

from urllib.parse import quote
from uuid import UUID

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from accounts.models import User
from accounts.tokens import user_for_token
from cases.access import cases_visible_to, get_case_for, may_see_parties, viewer_of
from cases.documents import agreement_filename, agreement_of, render_agreement
from cases.models import Attachment
from parties.models import Agent


def _caller(request: HttpRequest) -> User | None:
    """The session user (browser), or the bearer of an API token (apps)."""
    if request.user.is_authenticated:
        assert isinstance(request.user, User)
        return request.user
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return user_for_token(token.strip()) if scheme.lower() == "bearer" and token else None


def may_download(user: User, attachment: Attachment) -> bool:
    if attachment.case_id is None:
        return attachment.owner_id == user.pk
    case = cases_visible_to(user).filter(pk=attachment.case_id).first()
    if case is None:
        return False
    if Agent.objects.filter(power_of_attorney=attachment).exists():
        # An agent's power of attorney names the people behind the complaint.
        return may_see_parties(user, case, viewer_of(user, case))
    return True


@require_GET
def download(request: HttpRequest, attachment_id: UUID) -> FileResponse:
    user = _caller(request)
    attachment = Attachment.objects.filter(pk=attachment_id).first()
    if user is None or attachment is None or not may_download(user, attachment):
        raise Http404
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def agreement_pdf(request: HttpRequest, number: str) -> HttpResponse:
    """The 调解书 of a mediated complaint, for whoever may see the case: its consumer, the
    business complained about (a party to the agreement) and staff over it."""
    user = _caller(request)
    if user is None:
        raise Http404(number)
    agreement = agreement_of(get_case_for(user, number))
    if agreement is None:
        raise Http404(number)
    response = HttpResponse(render_agreement(agreement), content_type="application/pdf")
    response["Content-Disposition"] = attachment_header(
        agreement_filename(number), fallback=f"{number}.pdf"
    )
    # The same as for evidence: never rendered as a page of this site, never kept in a cache.
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


def attachment_header(filename: str, *, fallback: str) -> str:
    """`attachment` with an ASCII name for old clients and the real one in RFC 5987 form."""
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"

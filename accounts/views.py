"""Account pages: two-step registration (works without JavaScript), login, logout, profile.

Registration step 1 asks for the phone and sends the code; the phone is then kept in the session
and step 2 asks for everything else. Both steps call the same services as the JSON API.
"""

from __future__ import annotations

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from accounts.forms import NotificationForm, PhoneForm, RegisterForm
from accounts.identity import mask_phone, masked_id_number
from accounts.models import SmsPurpose, User
from accounts.registration import RegistrationError, register_consumer, validate_registration
from accounts.sms import SmsDeliveryError
from accounts.sms_codes import CODE_TTL, InvalidPhone, RateLimited, send_sms_code

SESSION_PHONE = "accounts.register_phone"
TEMPLATE = "accounts/register.html"


def _phone_step(request: HttpRequest, form: PhoneForm, *, status: int = 200) -> HttpResponse:
    return render(request, TEMPLATE, {"step": "phone", "form": form}, status=status)


def _details_step(
    request: HttpRequest, form: RegisterForm, *, phone: str, phone_errors: list[str]
) -> HttpResponse:
    context = {"step": "details", "form": form, "phone": phone, "phone_errors": phone_errors}
    return render(request, TEMPLATE, context)


@sensitive_post_parameters("id_number", "password", "password_again", "sms_code")
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    phone = request.session.get(SESSION_PHONE)
    if phone is None or request.GET.get("step") == "phone":
        return _phone_step(request, PhoneForm(initial={"phone": phone}))
    form = RegisterForm(request.POST if request.method == "POST" else None)
    phone_errors: list[str] = []
    if form.is_bound and not form.is_valid():
        phone_errors = _show_errors(form, _field_errors(form, phone=phone))
    elif form.is_bound:
        try:
            user = register_consumer(
                real_name=form.cleaned_data["real_name"],
                id_number=form.cleaned_data["id_number"],
                phone=phone,
                sms_code=form.cleaned_data["sms_code"],
                password=form.cleaned_data["password"],
            )
        except RegistrationError as exc:
            phone_errors = _show_errors(form, exc.fields)
        else:
            return _signed_in(request, user)
    return _details_step(request, form, phone=phone, phone_errors=phone_errors)


def _field_errors(form: RegisterForm, *, phone: str) -> dict[str, list[str]]:
    """The service's verdict on each field, so one submission shows every problem."""
    _values, errors = validate_registration(
        real_name=form.data.get("real_name", ""),
        id_number=form.data.get("id_number", ""),
        phone=phone,
        password=form.data.get("password", ""),
    )
    return errors


def _show_errors(form: RegisterForm, fields: dict[str, list[str]]) -> list[str]:
    """Put the service's messages next to their fields (unless the form already objects to
    one); return those about the phone, which step 2 shows as text."""
    for name, errors in fields.items():
        if name in form.fields and name not in form.errors:
            for error in errors:
                form.add_error(name, error)
    return fields.get("phone", [])


def _signed_in(request: HttpRequest, user: User) -> HttpResponse:
    request.session.pop(SESSION_PHONE, None)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    messages.success(request, _("注册成功，您已登录。"))
    return redirect(settings.LOGIN_REDIRECT_URL)


@require_POST
def register_send_code(request: HttpRequest) -> HttpResponse:
    form = PhoneForm(request.POST)
    if not form.is_valid():
        return _phone_step(request, form)
    try:
        sent = send_sms_code(
            phone=form.cleaned_data["phone"],
            purpose=SmsPurpose.REGISTER,
            ip=get_client_ip_address(request),
        )
    except InvalidPhone as exc:
        form.add_error("phone", str(exc))
        return _phone_step(request, form)
    except RateLimited as exc:
        message = _("发送过于频繁，请%(seconds)d秒后再试。") % {"seconds": exc.retry_after}
        form.add_error("phone", message)
        response = _phone_step(request, form, status=429)
        response["Retry-After"] = str(exc.retry_after)
        return response
    except SmsDeliveryError:
        form.add_error(None, _("短信暂时无法发送，请稍后重试。"))
        return _phone_step(request, form, status=503)
    request.session[SESSION_PHONE] = sent.phone
    minutes = int(CODE_TTL.total_seconds() // 60)
    messages.success(
        request,
        _("验证码已发送至%(phone)s，%(minutes)d分钟内有效。")
        % {"phone": mask_phone(sent.phone), "minutes": minutes},
    )
    return redirect("register")


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    form = NotificationForm(request.POST if request.method == "POST" else None, instance=user)
    if form.is_bound and form.is_valid():
        form.save()
        messages.success(request, _("通知设置已保存。"))
        return redirect("profile")
    context = {
        "form": form,
        "profile_user": user,
        "id_number": masked_id_number(user.id_number_encrypted),
        "phone": mask_phone(user.phone),
    }
    return render(request, "accounts/profile.html", context)

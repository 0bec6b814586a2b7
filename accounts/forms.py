"""Web forms for the account pages. They check shape only; the rules live in the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.password_validation import password_validators_help_text_html
from django.utils.translation import gettext_lazy as _

from accounts.models import User


class PhoneForm(forms.Form):
    """Step 1 of registration: the phone that receives the code."""

    phone = forms.CharField(
        label=_("手机号"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "tel"}),
    )


class RegisterForm(forms.Form):
    """Step 2 of registration; the phone comes from step 1 (kept in the session)."""

    real_name = forms.CharField(
        label=_("真实姓名"), max_length=60, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    id_number = forms.CharField(
        label=_("身份证号码"),
        max_length=30,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    sms_code = forms.CharField(
        label=_("短信验证码"),
        max_length=10,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )
    password = forms.CharField(
        label=_("密码"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_again = forms.CharField(
        label=_("确认密码"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["password"].help_text = password_validators_help_text_html()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("password") and cleaned.get("password_again") != cleaned["password"]:
            self.add_error("password_again", _("两次输入的密码不一致。"))
        return cleaned


class LoginForm(AuthenticationForm):
    """Django's login form with the labels a consumer expects: they sign in with their phone."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("手机号或用户名")
        self.fields["password"].label = _("密码")


class NotificationForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["notify_sms"]
        labels = {"notify_sms": _("案件有新进展时发短信通知我")}

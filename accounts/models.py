"""Users (consumers, staff, business users), their department memberships and API tokens."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    INTAKE = "intake", _("受理分送")
    HANDLER = "handler", _("承办人")
    HEAD = "head", _("负责人")
    SUPERVISOR = "supervisor", _("督办")
    ANALYST = "analyst", _("统计分析")
    HOTLINE = "hotline", _("12315坐席")
    DEPT_ADMIN = "dept_admin", _("部门管理员")


class User(AbstractUser):
    """One account per person. Consumers sign in with their phone as username; staff have
    memberships; business users point at their business."""

    real_name = models.CharField(_("真实姓名"), max_length=50, blank=True)
    phone = models.CharField(_("手机号"), max_length=20, null=True, blank=True, unique=True)
    # GB 11643 ID number: ciphertext (Fernet) for display/export, keyed hash for uniqueness.
    id_number_encrypted = models.TextField(blank=True, default="", editable=False)
    id_number_hash = models.CharField(
        max_length=64, null=True, blank=True, unique=True, editable=False
    )
    is_verified = models.BooleanField(_("已实名认证"), default=False)
    business = models.ForeignKey(
        "businesses.Business",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="users",
    )
    notify_sms = models.BooleanField(_("短信通知我"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    @property
    def display_name(self) -> str:
        return self.real_name or self.username

    @property
    def is_staff_member(self) -> bool:
        return self.memberships.exists()


class Membership(models.Model):
    """A user's place in a department, with the roles held there (API.md role names)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    department = models.ForeignKey(
        "departments.Department", on_delete=models.PROTECT, related_name="memberships"
    )
    roles = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user_id", "department_id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "department"], name="one_membership_per_dept")
        ]
        verbose_name = _("部门岗位")
        verbose_name_plural = _("部门岗位")

    def __str__(self) -> str:
        return f"{self.user} @ {self.department_id}: {','.join(self.roles)}"

    def has_role(self, role: str) -> bool:
        return role in self.roles


class ApiToken(models.Model):
    """A bearer token for the JSON API. Only its SHA-256 is stored; the token is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]


class SmsPurpose(models.TextChoices):
    REGISTER = "register", _("注册")
    LOGIN = "login", _("登录")


class SmsCode(models.Model):
    """A one-time code sent by SMS. Only a keyed hash of the code is kept, so a copy of the table
    cannot be used to sign up with someone else's phone. Rows also serve as the send log that the
    rate limits count."""

    phone = models.CharField(_("手机号"), max_length=11)
    purpose = models.CharField(_("用途"), max_length=10, choices=SmsPurpose.choices)
    code_hash = models.CharField(max_length=64, editable=False)
    ip = models.GenericIPAddressField(_("请求地址"), null=True, blank=True)
    created_at = models.DateTimeField(_("发送时间"), db_index=True)
    expires_at = models.DateTimeField(_("失效时间"))
    attempts = models.PositiveSmallIntegerField(_("错误次数"), default=0)
    used_at = models.DateTimeField(_("使用时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["phone", "created_at"], name="smscode_phone_sent"),
            models.Index(fields=["ip", "created_at"], name="smscode_ip_sent"),
        ]
        verbose_name = _("短信验证码")
        verbose_name_plural = _("短信验证码")

    def __str__(self) -> str:
        return f"{self.purpose} {self.phone} @ {self.created_at:%Y-%m-%d %H:%M:%S}"


class RegistrationKey(models.Model):
    """An `Idempotency-Key` of a registration request: a retry with the same key and body gets the
    account the first request created, though its SMS code is spent by then. `request_hash` is
    keyed (the body holds the password and the code)."""

    key = models.CharField(max_length=100, unique=True)
    request_hash = models.CharField(max_length=64)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

"""The outbox: notifications written in the same transaction as the change that caused them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    SMS = "sms", _("短信")
    INAPP = "inapp", _("站内消息")
    EMAIL = "email", _("电子邮件")


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
    )
    phone = models.CharField(max_length=20, blank=True)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    case = models.ForeignKey(
        "cases.Case", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    subject = models.CharField(max_length=200)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # A worker's claim on the row (a lease, so a crashed worker's row is retried) or, after a
    # failure, the earliest time of the next attempt.
    not_before = models.DateTimeField(null=True, blank=True)
    # The notice clock this message answers (e.g. telling the parties of a termination): met
    # once every message linked to it is delivered.
    deadline = models.ForeignKey(
        "cases.Deadline", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

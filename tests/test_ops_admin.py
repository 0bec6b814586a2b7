"""The admin start page says when the calendar falls back to Monday–Friday."""

from __future__ import annotations

import datetime as dt
from unittest import mock

from accounts.models import User


def test_admin_index_warns_about_a_year_without_a_holiday_notice(client, db):
    admin = User.objects.create_superuser(username="root", password="x-Root-12315")
    client.force_login(admin)
    with mock.patch("django.utils.timezone.localdate", return_value=dt.date(2031, 3, 1)):
        response = client.get("/admin/")
    assert response.status_code == 200
    assert "2031" in response.content.decode()


def test_admin_index_is_quiet_when_both_years_are_known(client, db):
    admin = User.objects.create_superuser(username="root", password="x-Root-12315")
    client.force_login(admin)
    with mock.patch("django.utils.timezone.localdate", return_value=dt.date(2025, 3, 1)):
        response = client.get("/admin/")
    assert response.status_code == 200
    assert "没有节假日安排数据" not in response.content.decode()

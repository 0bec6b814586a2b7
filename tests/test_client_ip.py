"""The client address behind reverse proxies (rate limits and the login lockout use it)."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from accounts.client_ip import client_ip
from accounts.models import SmsCode


def _request(remote: str = "10.0.0.1", forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_without_proxies_the_socket_address_counts_and_the_header_is_ignored(settings):
    settings.TRUSTED_PROXIES = 0
    assert client_ip(_request(forwarded="1.2.3.4")) == "10.0.0.1"


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (1, "203.0.113.7", "203.0.113.7"),
        # A client-written entry on the left is not trusted: the proxy appended the real one.
        (1, "6.6.6.6, 203.0.113.7", "203.0.113.7"),
        (2, "6.6.6.6, 203.0.113.7, 10.1.1.1", "203.0.113.7"),
        (1, "2001:db8::1", "2001:db8::1"),
        # Fewer hops than proxies, or garbage: fall back to the socket address.
        (2, "203.0.113.7", "10.0.0.1"),
        (1, "not-an-ip", "10.0.0.1"),
        (1, "", "10.0.0.1"),
    ],
)
def test_behind_proxies_the_trusted_hop_counts(settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXIES = proxies
    assert client_ip(_request(forwarded=forwarded)) == expected


@pytest.mark.django_db
def test_sms_code_limit_per_address_uses_the_forwarded_client(settings, api):
    """Two clients behind the same proxy are limited separately."""
    settings.TRUSTED_PROXIES = 1
    for n, client in enumerate(("203.0.113.7", "198.51.100.9")):
        response = api.post_json(
            "/api/v1/auth/sms-code",
            {"phone": f"1391111111{n}"},
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR=client,
        )
        assert response.status_code in (200, 201, 202), response.content
    assert set(SmsCode.objects.values_list("ip", flat=True)) == {"203.0.113.7", "198.51.100.9"}

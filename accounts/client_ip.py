"""The client's address as the rate limits and the login lockout see it.

Behind a reverse proxy (load balancer, TLS terminator) every request comes from the proxy's
address: the SMS-code limit per address and the login lockout would then treat the whole country
as one client. With `TRUSTED_PROXIES=N` (the number of proxies in front of the platform that
append to X-Forwarded-For) the client is the address the outermost trusted proxy saw, the N-th
entry from the right; anything further left was written by the client and is not trusted.
With N = 0 (the default, no proxy) only the socket's address counts.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _valid(address: str) -> str | None:
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    remote = request.META.get("REMOTE_ADDR")
    proxies = int(getattr(settings, "TRUSTED_PROXIES", 0))
    if proxies <= 0:
        return remote
    forwarded = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part]
    if len(forwarded) < proxies:
        # Fewer hops than proxies: the request did not come through all of them.
        return remote
    return _valid(forwarded[-proxies]) or remote

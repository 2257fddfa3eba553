"""Rate limits by tier: anonymous clients, users (session or API token), staff.

Fink has no rate limit; the portal throttles anonymous clients and lets an account go further.
The rates come from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` (scopes ``anon``, ``user``,
``staff``), which settings fill from ``API_THROTTLE_ANON`` / ``API_THROTTLE_USER`` /
``API_THROTTLE_STAFF``; a rate of ``None`` (env value ``none``) means unlimited. Counts live in
Django's cache: per process with the default local-memory cache, shared with Redis/Memcached.
"""
from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

TIERS: dict[str, str] = {
    "anon": "anonymous clients, counted by IP address",
    "user": "logged-in users and API tokens, counted by account",
    "staff": "staff accounts",
}


def tier_of(request: Request) -> str:
    """The tier of a request's client: ``anon``, ``user`` or ``staff``."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return "anon"
    return "staff" if user.is_staff else "user"


def rate_of(tier: str) -> str | None:
    """The rate of a tier (``"60/min"``), or None when it is unlimited.

    Read at each call rather than at import (as DRF's throttles do), so a changed setting
    (tests' ``override_settings``) applies at once.
    """
    rate = api_settings.DEFAULT_THROTTLE_RATES.get(tier)
    if rate is None or str(rate).strip().lower() in ("", "none", "unlimited"):
        return None
    return str(rate)


class TieredRateThrottle(SimpleRateThrottle):
    """One throttle for every tier: it picks the tier per request, then counts in that tier.

    Anonymous clients are counted by IP address (``NUM_PROXIES`` tells DRF how many proxies'
    ``X-Forwarded-For`` entries to trust), users and staff by account, so a user's token and
    browser session share one allowance.
    """

    cache_format = "throttle_%(scope)s_%(ident)s"

    def __init__(self) -> None:
        # SimpleRateThrottle reads its one scope's rate here; ours depends on the request.
        self.scope: str | None = None
        self.rate: str | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        self.scope = tier_of(request)
        self.rate = rate_of(self.scope)
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request: Request, view: Any) -> str:
        ident = self.get_ident(request) if self.scope == "anon" else request.user.pk
        return self.cache_format % {"scope": self.scope, "ident": ident}


def throttle_tiers() -> list[dict[str, str]]:
    """The published limits, for the API documentation page.

    Returns
    -------
    list of dict
        One entry per tier: ``tier`` (anon / user / staff), ``who`` (plain words) and ``rate``
        (such as ``"60/min"``, or ``"unlimited"``).
    """
    return [
        {"tier": tier, "who": who, "rate": rate_of(tier) or "unlimited"}
        for tier, who in TIERS.items()
    ]

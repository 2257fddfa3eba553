"""API authentication by :class:`accounts.models.ApiToken`: ``Authorization: Token <key>``.

Listed before DRF's ``TokenAuthentication`` in ``REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]``:
a key that is one of ours authenticates here; any other key is left to DRF's class (single
``authtoken`` keys, made in the admin), which answers 401 to a key it does not know either.
"""
from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from .selectors import api_token_of_key
from .services import api_token_mark_used


class ApiTokenAuthentication(BaseAuthentication):
    """``Authorization: Token <key>`` with a key made on the profile page (stored hashed)."""

    keyword = "Token"

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("Invalid token header: give one key after 'Token'."))
        try:
            key = parts[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed(_("Invalid token header: the key is not text.")) from None
        token = api_token_of_key(key=key)
        if token is None:
            if _drf_token_exists(key):
                return None  # a DRF authtoken key: DRF's TokenAuthentication takes it
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        api_token_mark_used(token=token)
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        # What makes DRF answer 401 (not 403) to a request without credentials.
        return self.keyword


def _drf_token_exists(key: str) -> bool:
    from django.apps import apps

    if not apps.is_installed("rest_framework.authtoken"):
        return False
    from rest_framework.authtoken.models import Token

    return Token.objects.filter(key=key).exists()

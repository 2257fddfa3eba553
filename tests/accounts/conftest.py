"""Fixtures of the accounts tests: users, logged-in clients, the accounts' token authentication
in the API, and the shared store of ingested alerts (tests/api/conftest.py)."""
from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from accounts.authentication import ApiTokenAuthentication
from tests.api.conftest import alert_facts, ingested_store, ingested_store_settings  # noqa: F401 -- shared fixtures

PASSWORD = "Nebula-sparrow-42"


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(username="vera", email="vera@example.org", password=PASSWORD)


@pytest.fixture
def other_user(django_user_model):
    return django_user_model.objects.create_user(username="edwin", email="edwin@example.org", password=PASSWORD)


@pytest.fixture
def logged_in(client, user) -> Client:
    client.force_login(user)
    return client


@pytest.fixture
def token_auth(monkeypatch):
    """The API views with :class:`ApiTokenAuthentication` first, as settings list it.

    Views read their authentication classes when they are defined, so settings alone cannot
    change them in a test; when settings already list the class this changes nothing.
    """
    if ApiTokenAuthentication not in api_settings.DEFAULT_AUTHENTICATION_CLASSES:
        monkeypatch.setattr(
            APIView,
            "authentication_classes",
            [ApiTokenAuthentication, TokenAuthentication, SessionAuthentication],
        )

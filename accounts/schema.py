"""OpenAPI description of the portal's API tokens (drf-spectacular extension, loaded by
:meth:`accounts.apps.AccountsConfig.ready`)."""
from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """``Authorization: Token <key>`` with a key made on the profile page.

    A scheme of its own: spectacular wants one component per authentication class, and DRF's
    ``TokenAuthentication`` (keys made in the admin) keeps its ``tokenAuth``.
    """

    target_class = "accounts.authentication.ApiTokenAuthentication"
    name = "apiTokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "An API token made on the profile page, sent as `Token <key>`.",
        }

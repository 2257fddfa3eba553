from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Sign-up and login, profile, API tokens, annotations pages, watchlists, saved searches."""

    name = "accounts"
    verbose_name = "Accounts and user data"

    def ready(self) -> None:
        from . import schema  # noqa: F401 -- registers the OpenAPI description of API tokens

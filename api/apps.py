from django.apps import AppConfig


class ApiConfig(AppConfig):
    """Django glue for the shared API plumbing (templates of the API docs pages live here)."""

    name = "api"

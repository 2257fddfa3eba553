from django.shortcuts import render

from store import StoreError, get_store

from .selectors import store_summary


def home(request):
    """The home page: what the store holds."""
    try:
        tables = store_summary()
        error = None
    except StoreError as exc:
        tables, error = [], str(exc)
    status = 503 if error else 200
    return render(
        request,
        "search/home.html",
        {"tables": tables, "error": error, "backend": get_store().name},
        status=status,
    )

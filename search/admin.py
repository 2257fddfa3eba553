"""Admin of the search app's own tables (annotations are administered with the user data, in
``accounts.admin``)."""
from django.contrib import admin

from .models import AsteroidName


@admin.register(AsteroidName)
class AsteroidNameAdmin(admin.ModelAdmin):
    """The names loaded by ``manage.py load_sso_names``; editable for a fix before the next load."""

    list_display = ("number", "name", "key")
    search_fields = ("=number", "name", "key")
    readonly_fields = ("key",)
    ordering = ("number",)

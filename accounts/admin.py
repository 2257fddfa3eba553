"""The admin of users and everything they keep: API tokens, annotations, watchlists, saved
searches, each listed on its own and inline on the user's page."""
from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from search.models import ObjectAnnotation

from .models import ApiToken, SavedSearch, WatchlistEntry


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    # Keys are stored hashed: the admin can see and revoke (delete) tokens, not read or make keys.
    list_display = ("name", "user", "prefix", "created", "last_used")
    list_filter = ("created", "last_used")
    search_fields = ("name", "prefix", "user__username", "user__email")
    readonly_fields = ("prefix", "created", "last_used")
    raw_id_fields = ("user",)
    date_hierarchy = "created"

    def has_add_permission(self, request) -> bool:
        return False  # a key is made on the profile page, where it is shown once


@admin.register(WatchlistEntry)
class WatchlistEntryAdmin(admin.ModelAdmin):
    list_display = ("__str__", "user", "kind", "object_id", "ra", "dec", "radius_arcsec", "seen_jd", "visited")
    list_filter = ("kind",)
    search_fields = ("object_id", "label", "user__username")
    raw_id_fields = ("user",)


@admin.register(SavedSearch)
class SavedSearchAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "query", "created")
    search_fields = ("name", "query", "user__username")
    raw_id_fields = ("user",)


# The annotation model belongs to the search app; it is administered here with the other user data
# unless the search app registers it itself.
if not admin.site.is_registered(ObjectAnnotation):

    @admin.register(ObjectAnnotation)
    class ObjectAnnotationAdmin(admin.ModelAdmin):
        list_display = ("object_id", "internal_name", "user", "updated")
        search_fields = ("object_id", "internal_name", "comments", "user__username")
        readonly_fields = ("internal_name_encoded", "created", "updated")
        raw_id_fields = ("user",)
        date_hierarchy = "updated"


class ApiTokenInline(admin.TabularInline):
    model = ApiToken
    extra = 0
    fields = ("name", "prefix", "created", "last_used")
    readonly_fields = ("prefix", "created", "last_used")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class WatchlistEntryInline(admin.TabularInline):
    model = WatchlistEntry
    extra = 0
    fields = ("kind", "object_id", "ra", "dec", "radius_arcsec", "label", "seen_jd", "visited")
    readonly_fields = ("visited",)


class SavedSearchInline(admin.TabularInline):
    model = SavedSearch
    extra = 0
    fields = ("name", "query")


class ObjectAnnotationInline(admin.TabularInline):
    model = ObjectAnnotation
    extra = 0
    fields = ("object_id", "internal_name", "comments", "updated")
    readonly_fields = ("updated",)


User = get_user_model()


class PortalUserAdmin(UserAdmin):
    """Django's user admin, with the user's tokens, watchlist, saved searches and annotations."""

    inlines = (ApiTokenInline, WatchlistEntryInline, SavedSearchInline, ObjectAnnotationInline)
    list_display = (*UserAdmin.list_display, "date_joined", "last_login")


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, PortalUserAdmin)

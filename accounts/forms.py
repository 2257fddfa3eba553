"""Forms of the accounts pages. Each rejects bad input with a message naming what is wrong; the
views pass the cleaned data to :mod:`accounts.services`."""
from __future__ import annotations

import math
import re
from urllib.parse import parse_qsl, urlencode, urlsplit

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm
from rest_framework.exceptions import ValidationError as ApiValidationError

from alerts.selectors.search import MAX_CONE_RADIUS_ARCSEC
from api.params import DeclinationField, RightAscensionField
from objects.urls import ZtfIdConverter
from search.models import ObjectAnnotation

from .models import ApiToken, SavedSearch, WatchlistEntry

OBJECT_ID = re.compile(rf"^{ZtfIdConverter.regex}$")


class SignUpForm(UserCreationForm):
    """Username, e-mail (needed to reset a forgotten password) and password, twice."""

    email = forms.EmailField(
        help_text="Used only to reset a forgotten password.",
        error_messages={"required": "Give an e-mail address: it is how you reset a forgotten password."},
    )

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        if get_user_model().objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("An account with this e-mail address exists already: log in, or reset its password.")
        return email


class ApiTokenForm(forms.Form):
    """A name for a new API token (what script or machine uses it)."""

    name = forms.CharField(
        max_length=64,
        help_text="What uses it, such as “laptop notebook” or “nightly cron”.",
        error_messages={"required": "Give the token a name, to tell your tokens apart."},
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if ApiToken.objects.filter(user=self.user, name=name).exists():
            raise forms.ValidationError(f"You already have a token named “{name}”: choose another name.")
        return name


class AnnotationForm(forms.Form):
    """Your name for an object and a comment (one annotation per object: a new one replaces it)."""

    internal_name = forms.CharField(
        label="Name",
        max_length=100,
        help_text="Your internal name for the object (as the metadata API route's internal_name).",
        error_messages={"required": "Give the object a name.", "max_length": "The name is too long (100 characters at most)."},
    )
    comments = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": "The comment is too long (2000 characters at most)."},
    )


def annotation_form_for(*, user, object_id: str) -> AnnotationForm | None:
    """The annotation form of an object for ``user``: filled with their annotation if they have
    one (a new one replaces it), empty otherwise; None for an anonymous visitor."""
    if not user.is_authenticated:
        return None
    own = ObjectAnnotation.objects.of_object(object_id).filter(user=user).first()
    return AnnotationForm(initial={"internal_name": own.internal_name, "comments": own.comments} if own else None)


def _object_id(value: str) -> str:
    value = value.strip()
    if not OBJECT_ID.match(value):
        raise forms.ValidationError(f"“{value}” is not a ZTF object id such as ZTF21abfmbix.")
    return value


class WatchObjectForm(forms.Form):
    """Watch an object by its ZTF id."""

    object_id = forms.CharField(label="Object", max_length=32, error_messages={"required": "Give a ZTF object id."})
    label = forms.CharField(max_length=100, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_object_id(self) -> str:
        object_id = _object_id(self.cleaned_data["object_id"])
        if WatchlistEntry.objects.filter(user=self.user, kind=WatchlistEntry.OBJECT, object_id=object_id).exists():
            raise forms.ValidationError(f"You already watch {object_id}.")
        return object_id


class WatchConeForm(forms.Form):
    """Watch a cone of the sky: centre (degrees or sexagesimal) and radius in arcseconds."""

    ra = forms.CharField(label="RA", help_text="degrees, or hh:mm:ss", error_messages={"required": "Give the right ascension of the centre."})
    dec = forms.CharField(label="Dec", help_text="degrees, or dd:mm:ss", error_messages={"required": "Give the declination of the centre."})
    radius = forms.FloatField(
        label="Radius (arcsec)",
        error_messages={"required": "Give the radius in arcseconds.", "invalid": "The radius must be a number of arcseconds."},
    )
    label = forms.CharField(max_length=100, required=False)

    # Angles are read as the API reads them (api.params), so the page and the API agree.
    def clean_ra(self) -> float:
        return _angle(RightAscensionField(), self.cleaned_data["ra"], "right ascension")

    def clean_dec(self) -> float:
        return _angle(DeclinationField(), self.cleaned_data["dec"], "declination")

    def clean_radius(self) -> float:
        radius = self.cleaned_data["radius"]
        if not math.isfinite(radius) or not 0 < radius <= MAX_CONE_RADIUS_ARCSEC:
            raise forms.ValidationError(f"The radius must be more than 0 and at most {MAX_CONE_RADIUS_ARCSEC:g} arcseconds (5 degrees).")
        return radius


def _angle(field, value: str, what: str) -> float:
    try:
        return field.run_validation(value)
    except ApiValidationError as exc:
        detail = exc.detail[0] if isinstance(exc.detail, list) else exc.detail
        raise forms.ValidationError(f"Bad {what}: {detail}") from None


class SavedSearchForm(forms.Form):
    """Save a search: a name, and the search's URL or its query string (``q=...``)."""

    name = forms.CharField(max_length=100, error_messages={"required": "Give the search a name."})
    query = forms.CharField(
        label="Search",
        max_length=2000,
        help_text="The search page's URL, or its query string such as q=class%3DSN+candidate",
        error_messages={"required": "Give the search to save: its URL or query string."},
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if SavedSearch.objects.filter(user=self.user, name=name).exists():
            raise forms.ValidationError(f"You already have a search named “{name}”.")
        return name

    def clean_query(self) -> str:
        return search_query_string(self.cleaned_data["query"])


def search_query_string(text: str) -> str:
    """The query string of a search, from a search URL (``/search?q=...``, absolute or not), a
    query string with or without ``?``, normalised (re-encoded, empty parameters dropped).

    Raises
    ------
    django.forms.ValidationError
        Nothing to search for, or a URL that is not the search page.
    """
    text = text.strip()
    if "?" in text or text.startswith(("/", "http://", "https://")):
        parts = urlsplit(text)
        if parts.path not in ("", "/search"):
            raise forms.ValidationError(f"“{parts.path}” is not the search page (/search?q=...).")
        text = parts.query
    pairs = [(k, v) for k, v in parse_qsl(text, keep_blank_values=True) if k and v.strip()]
    if not any(k == "q" for k, _ in pairs):
        raise forms.ValidationError("This is not a search: it has no q=... parameter (the text of the search bar).")
    return urlencode(pairs)

"""Forms of the statistics, gravitational-wave and cross-match pages.

The two upload forms parse what they receive with the API routes' own serializers
(:class:`search.serializers.SkymapParams`, :class:`search.serializers.XmatchParams`): a sky map or
a catalogue is read by one piece of code whichever way it arrives, and a page says what is wrong
in the API's words. The limits shown in the HTML inputs (min, max) are read from those
serializers too, so they are declared once.
"""
from __future__ import annotations

import re
from typing import Any, ClassVar

from django import forms
from rest_framework import serializers

from api.params import FinkParamsSerializer

from .serializers import SkymapParams, XmatchParams

#: Formats a page's results can be downloaded in (the API's renderers).
DOWNLOAD_FORMATS = ("csv", "json", "parquet", "votable")


def _limits(serializer: type[serializers.Serializer], name: str, **attrs: Any) -> dict[str, Any]:
    """HTML attributes of a number input: the serializer field's bounds, and ``attrs``."""
    field = serializer().fields[name]
    bounds = {"min": getattr(field, "min_value", None), "max": getattr(field, "max_value", None)}
    return {**{k: f"{v:g}" for k, v in bounds.items() if v is not None}, **attrs}


def _number(serializer: type[serializers.Serializer], name: str, label: str, help_text: str, **attrs: Any):
    """A text field shown as a number input; its value is checked by the serializer."""
    return forms.CharField(
        label=label,
        required=False,
        help_text=help_text,
        widget=forms.NumberInput(attrs=_limits(serializer, name, step="any", **attrs)),
    )


class ApiParamsForm(forms.Form):
    """A form whose values are checked, and turned into parameters, by an API serializer.

    After ``is_valid()``, :attr:`params` holds the serializer's validated data. A serializer
    error is added to the form field of the same name, or to the form as a whole (prefixed
    with ``param_labels``), so that each message names what is wrong.
    """

    serializer_class: ClassVar[type[FinkParamsSerializer]]
    #: Labels of serializer parameters that are no field of the form (their errors go to the form).
    param_labels: ClassVar[dict[str, str]] = {}

    params: dict[str, Any] | None = None

    def serializer_data(self) -> dict[str, Any]:
        """The serializer's input, from ``cleaned_data`` (blank values left out)."""
        return {name: value for name, value in self.cleaned_data.items() if value not in (None, "")}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        self.check(cleaned)
        if self.errors:  # a missing file, a missing column name: say that alone
            return cleaned
        serializer = self.serializer_class(data=self.serializer_data())
        if serializer.is_valid():
            self.params = dict(serializer.validated_data)
        else:
            for name, messages in _flat_errors(serializer.errors):
                field = name if name in self.fields else None
                label = self.param_labels.get(name, name) if field is None and name else ""
                for message in messages:
                    self.add_error(field, f"{label}: {message}" if label else message)
        return cleaned

    def check(self, cleaned: dict[str, Any]) -> None:
        """Checks worth saying in the page's words before the serializer runs (add errors)."""

    def problems(self) -> list[str]:
        """Every error message, each naming its field (for the page's error box)."""
        return form_problems(self)


def form_problems(form: forms.Form) -> list[str]:
    """A form's error messages, each starting with the label of its field."""
    out = [str(message) for message in form.non_field_errors()]
    for name, field in form.fields.items():
        label = field.label or name
        for message in form.errors.get(name, []):
            message = str(message)
            out.append(message if message.startswith(f"{label}:") else f"{label}: {message}")
    return out


def _flat_errors(errors: Any, name: str = "") -> list[tuple[str, list[str]]]:
    """``serializer.errors`` as (parameter, messages) pairs (``non_field_errors`` → '')."""
    if isinstance(errors, dict):
        out = []
        for key, value in errors.items():
            out.extend(_flat_errors(value, "" if key == "non_field_errors" else str(key)))
        return out
    if isinstance(errors, (list, tuple)):
        return [(name, [str(e) for e in errors])]
    return [(name, [str(errors)])]


# -- gravitational-wave page ---------------------------------------------------------------------
class SkyMapForm(ApiParamsForm):
    """A sky map upload, a credible level and a time window around the event."""

    serializer_class = SkymapParams

    bayestar = forms.FileField(
        label="Sky map",
        help_text="A BAYESTAR / LIGO-Virgo HEALPix FITS file (gzipped or not): flat (nested or ring) or multi-order.",
        error_messages={"required": "choose a FITS file to upload.", "empty": "the file is empty."},
        widget=forms.ClearableFileInput(attrs={"accept": ".fits,.fits.gz,.fit,.gz,application/fits"}),
    )
    credible_level = _number(
        SkymapParams, "credible_level", "Credible level",
        "Search the smallest region holding this probability, in (0, 1].", min="0",
    )
    n_day_before = _number(SkymapParams, "n_day_before", "Days before", "Objects first seen this many days before the event.")
    n_day_after = _number(SkymapParams, "n_day_after", "Days after", "…up to this many days after it.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        defaults = SkymapParams().fields
        for name in ("n_day_before", "n_day_after"):
            self.fields[name].initial = f"{defaults[name].default:g}"
            self.fields[name].widget.attrs["placeholder"] = f"{defaults[name].default:g}"
        self.fields["credible_level"].initial = "0.9"


# -- cross-match page ----------------------------------------------------------------------------
def _column_input(**attrs: str) -> forms.TextInput:
    """A column-name input; the page suggests the columns of a chosen CSV file (datalist)."""
    return forms.TextInput(attrs={"list": "catalog-columns", "autocomplete": "off", "spellcheck": "false", **attrs})


class CatalogForm(ApiParamsForm):
    """A catalogue upload, its ID / RA / Dec (/ time) columns, a radius and a time window."""

    serializer_class = XmatchParams
    param_labels: ClassVar[dict[str, str]] = {"header": "Columns"}

    catalog = forms.FileField(
        label="Catalogue",
        help_text="CSV, Parquet or VOTable, at most 100,000 rows; positions in degrees (ICRS).",
        error_messages={"required": "choose a file to upload.", "empty": "the file is empty."},
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.parquet,.pq,.xml,.vot,.votable"}),
    )
    id_column = forms.CharField(label="ID", initial="ID", max_length=200, widget=_column_input())
    ra_column = forms.CharField(label="RA [deg]", initial="RA", max_length=200, widget=_column_input())
    dec_column = forms.CharField(label="Dec [deg]", initial="Dec", max_length=200, widget=_column_input())
    time_column = forms.CharField(
        label="Time", required=False, max_length=200, widget=_column_input(placeholder="optional"),
        help_text="ISO dates, JD or MJD; needed for a time window.",
    )
    radius = _number(XmatchParams, "radius", "Radius [arcsec]", "Match radius around each row.", min="0")
    window = _number(
        XmatchParams, "window", "Time window [days]",
        "Optional: keep alerts within this many days, centred on each row's time.",
    )
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["radius"].initial = f"{XmatchParams().fields['radius'].default:g}"

    def check(self, cleaned: dict[str, Any]) -> None:
        if cleaned.get("window") and not cleaned.get("time_column", "").strip():
            self.add_error("time_column", "name the catalogue's time column to use a time window.")

    def serializer_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        names = [data.get(n, "").strip() for n in ("id_column", "ra_column", "dec_column", "time_column")]
        bad = [n for n in names if re.search(r"[,;]", n)]
        if bad:
            raise forms.ValidationError(f"Columns: a column name cannot hold a comma or a semicolon (got {', '.join(bad)}).")
        out = {"catalog": data["catalog"], "header": ",".join(n for n in names if n)}
        for name in ("radius", "window"):
            if data.get(name) not in (None, ""):
                out[name] = data[name]
        return out

    @property
    def header(self) -> list[str]:
        """The column names as given: ID, RA, Dec and (optionally) time."""
        data = self.cleaned_data
        return [data[n].strip() for n in ("id_column", "ra_column", "dec_column", "time_column") if data.get(n, "").strip()]


# -- statistics page -----------------------------------------------------------------------------
GROUPS = (("night", "night"), ("month", "month"), ("year", "year"))
MODES = (("stack", "stacked bars"), ("lines", "lines"))
_PERIOD = re.compile(r"^(\d{4})(?:-?(\d{2})(?:-?(\d{2}))?)?$")


class StatisticsForm(forms.Form):
    """The statistics page's GET parameters: a period, how to group nights, classes to plot."""

    date = forms.CharField(
        label="Period", required=False, max_length=10,
        help_text="A year (2025), a month (2025-09) or a night (2025-09-01); empty: every night.",
        widget=forms.TextInput(attrs={"placeholder": "every night", "size": 10}),
    )
    group = forms.ChoiceField(label="Per", choices=GROUPS, required=False, initial="night")
    mode = forms.ChoiceField(label="Classes as", choices=MODES, required=False, initial="stack")

    def clean_date(self) -> str:
        """The period as the API's ``date`` (YYYY, YYYYMM or YYYYMMDD)."""
        text = self.cleaned_data["date"].strip()
        if not text:
            return ""
        match = _PERIOD.match(text)
        if not match:
            raise forms.ValidationError(
                f"give a year (2025), a month (2025-09) or a night (2025-09-01), not {text!r}."
            )
        year, month, day = match.groups()
        if month and not 1 <= int(month) <= 12 or day and not 1 <= int(day) <= 31:
            raise forms.ValidationError(f"{text!r} is not a real month or night.")
        return "".join(part for part in (year, month, day) if part)

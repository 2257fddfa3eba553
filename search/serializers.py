"""Input serializers of the search API routes, and the readers of the two uploads they take
(a gravitational-wave sky map, a user catalogue).

Each route's parameters are declared once, here, with Fink's names and defaults
(``docs/FINK_API.md``); a field error names the parameter, so the 400 says what was wrong.
"""
from __future__ import annotations

import ast
import base64
import binascii
import gzip
import io
import math
import re
import warnings
import zlib
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from alerts.selectors.search import (
    MAX_CATALOG_ROWS,
    MAX_CONE_RADIUS_ARCSEC,
    MAX_RANDOM,
    RESOLVERS,
    alert_columns,
)
from api.params import (
    HYPHENATED_PARAMS,
    BlankIsMissing,
    ColumnsField,
    DeclinationField,
    FinkBooleanField,
    FinkDateField,
    FinkParamsSerializer,
    OutputFormatField,
    RightAscensionField,
)


# -- small fields -------------------------------------------------------------------------------
class OptionalFloat(BlankIsMissing, serializers.FloatField):
    """A float parameter; an empty value means "not given". NaN and infinities are refused."""

    default_error_messages: ClassVar[dict[str, str]] = {"finite": "must be a finite number (got {value!r})"}

    def to_internal_value(self, data: Any) -> float:
        value = super().to_internal_value(data)
        if not math.isfinite(value):
            self.fail("finite", value=data)
        return value


@extend_schema_field({"type": "number", "minimum": 0, "exclusiveMinimum": True})
class PositiveFloat(OptionalFloat):
    """A float above zero (a radius, a credible level): zero is refused, as in the schema."""

    default_error_messages: ClassVar[dict[str, str]] = {"positive": "must be a positive number (got {value!r})"}

    def to_internal_value(self, data: Any) -> float:
        value = super().to_internal_value(data)
        if value <= 0:
            self.fail("positive", value=data)
        return value


class OptionalInteger(BlankIsMissing, serializers.IntegerField):
    """An integer parameter; an empty value means "not given"."""


class OptionalText(BlankIsMissing, serializers.CharField):
    """A text parameter; an empty value means "not given"."""


def _columns_field(*extra: str) -> ColumnsField:
    return ColumnsField(allowed=lambda: alert_columns(*extra))


# -- conesearch, latests, anomaly, ... ----------------------------------------------------------
class ConeSearchParams(FinkParamsSerializer):
    ra = RightAscensionField(help_text="Right ascension: degrees or sexagesimal (12h55m17.218s, 12:55:17.2).")
    dec = DeclinationField(help_text="Declination: degrees or sexagesimal (+02d53m50.35s, 02:53:50.35).")
    radius = PositiveFloat(
        max_value=MAX_CONE_RADIUS_ARCSEC,
        help_text=f"Radius in arcseconds, at most {MAX_CONE_RADIUS_ARCSEC:g} (5 degrees).",
        error_messages={
            "max_value": f"must be at most {MAX_CONE_RADIUS_ARCSEC:g} arcseconds (5 degrees)",
            "positive": "must be a positive number of arcseconds",
        },
    )
    n = OptionalInteger(default=1000, min_value=1, help_text="Most objects returned (nearest first).")
    startdate = FinkDateField(required=False, help_text="Keep objects first detected at or after this date.")
    stopdate = FinkDateField(required=False, help_text="Keep objects first detected at or before this date.")
    window = OptionalFloat(
        required=False, min_value=0.0, help_text="Days after startdate (instead of stopdate)."
    )
    columns = _columns_field("v:separation_degree")
    output_format = OutputFormatField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "window" in attrs:
            if "startdate" not in attrs:
                raise serializers.ValidationError({"window": "needs startdate"})
            if "stopdate" in attrs:
                raise serializers.ValidationError({"window": "give either stopdate or window, not both"})
        return attrs


class LatestsParams(FinkParamsSerializer):
    hyphenated: ClassVar[dict[str, str]] = {**HYPHENATED_PARAMS, "class_name": "class"}

    class_name = serializers.CharField(
        help_text="A Fink class, '(SIMBAD) label' or '(TNS) type'; GET /api/v1/classes lists them."
    )
    n = OptionalInteger(default=10, min_value=1, help_text="Number of alerts, newest first.")
    startdate = FinkDateField(required=False, help_text="Oldest alert time (default: the first).")
    stopdate = FinkDateField(required=False, help_text="Newest alert time, excluded (default: now).")
    trend = serializers.ChoiceField(
        choices=["rising", "fading"], required=False, help_text="Keep rising or fading alerts (d:mag_rate)."
    )
    color = FinkBooleanField(default=False, help_text="Add the colour and rate v: columns.")
    columns = _columns_field()
    output_format = OutputFormatField()


class SsoParams(FinkParamsSerializer):
    n_or_d = serializers.CharField(
        help_text=(
            "Asteroid number, name or designation (8467, Benoitcarry, 2005 XM12), comet (10P), or a "
            "comma list; names need the MPC list loaded (manage.py load_sso_names)."
        )
    )
    withEphem = FinkBooleanField(default=False, help_text="Ephemerides from Miriade: not offered offline.")
    withResiduals = FinkBooleanField(default=False, help_text="Phase-curve residuals: not offered offline.")
    withcutouts = FinkBooleanField(default=False, help_text="Add the stamp of cutout-kind as a 2-D array.")
    cutout_kind = serializers.ChoiceField(choices=["Science", "Template", "Difference"], default="Science")
    columns = _columns_field("sso_name", "sso_number")
    output_format = OutputFormatField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        for name in ("withEphem", "withResiduals"):
            if attrs.get(name):
                raise serializers.ValidationError(
                    {name: "needs the SsODNet/Miriade ephemeris service, which this portal does not call"}
                )
        names = [part.strip() for part in attrs["n_or_d"].split(",") if part.strip()]
        if not names:
            raise serializers.ValidationError({"n_or_d": "give an asteroid number, name or designation"})
        attrs["names"] = names
        return attrs


class SsoCandParams(FinkParamsSerializer):
    kind = serializers.ChoiceField(choices=["orbParams", "lightcurves"], help_text="Orbits or trajectory points.")
    ssoCandId = OptionalText(required=False, help_text="Fink-FAT candidate id (default: all).")
    start_date = FinkDateField(required=False, help_text="First trajectory time (lightcurves).")
    stop_date = FinkDateField(required=False, help_text="Last trajectory time (lightcurves).")
    maxnumber = OptionalInteger(default=10_000, min_value=1, help_text="Most rows returned (at most 10,000).")
    output_format = OutputFormatField()


class TrackletParams(FinkParamsSerializer):
    id = OptionalText(required=False, help_text="TRCK_YYYYMMDD_HHMMSS_NN, or a prefix of it.")
    date = OptionalText(required=False, help_text="YYYY-MM-DD or YYYY-MM-DD hh:mm:ss.")
    columns = _columns_field()
    output_format = OutputFormatField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("id") and not attrs.get("date"):
            raise serializers.ValidationError({"id": "give a tracklet id (or a prefix), or a date"})
        return attrs


class StatisticsParams(FinkParamsSerializer):
    date = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="YYYYMMDD, YYYYMM, YYYY, or empty for every night."
    )
    columns = ColumnsField(require_family=False, help_text="Columns (key:key, basic:sci, class:<name>...).")
    output_format = OutputFormatField()

    def validate_columns(self, value: list[str]) -> list[str]:
        bad = [c for c in value if ":" not in c]
        if bad:
            raise serializers.ValidationError(f"column names are family:name, such as basic:sci (got {bad})")
        return value


class AnomalyParams(FinkParamsSerializer):
    n = OptionalInteger(default=10, min_value=1, help_text="Number of alerts, most anomalous first.")
    start_date = FinkDateField(required=False, help_text="First alert date.")
    stop_date = FinkDateField(required=False, help_text="Last alert date (that whole day included).")
    columns = _columns_field()
    output_format = OutputFormatField()


class ResolverParams(FinkParamsSerializer):
    resolver = serializers.ChoiceField(choices=list(RESOLVERS), help_text="ssodnet, tns or simbad.")
    name = serializers.CharField(help_text="The name to resolve (with reverse: a ZTF object id).")
    reverse = FinkBooleanField(default=False, help_text="From a ZTF object id to names.")
    nmax = OptionalInteger(default=10, min_value=1, help_text="Most matches returned.")
    output_format = OutputFormatField()


class RandomParams(FinkParamsSerializer):
    hyphenated: ClassVar[dict[str, str]] = {**HYPHENATED_PARAMS, "class_name": "class"}

    n = OptionalInteger(
        default=10, min_value=1, max_value=MAX_RANDOM, help_text=f"Number of objects, at most {MAX_RANDOM}."
    )
    class_name = OptionalText(required=False, help_text="Draw objects of this class.")
    seed = OptionalInteger(required=False, help_text="Seed: the same seed gives the same objects.")
    columns = _columns_field()
    output_format = OutputFormatField()


# -- skymap -------------------------------------------------------------------------------------
#: Largest sky map accepted once decompressed (a flat nside-1024 map with four columns is 400 MB).
MAX_SKYMAP_BYTES = 512 * 1024 * 1024


@dataclass
class SkyMap:
    """A HEALPix probability map as multi-order pixels, and the event's time."""

    uniq: np.ndarray  # NUNIQ pixel ids
    probability_density: np.ndarray  # per steradian
    event_jd: float


def _bytes_of_upload(value: Any) -> bytes:
    """The bytes of an uploaded file, or of text holding them (Fink clients send ``str(bytes)``,
    a Python bytes literal; base64 is taken too)."""
    if hasattr(value, "read"):
        return value.read()
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, str):
        text = value.strip()
        if text[:2] in ("b'", 'b"'):
            try:
                literal = ast.literal_eval(text)  # literals only: no code is run
            except (ValueError, SyntaxError):
                literal = None
            if isinstance(literal, bytes):
                return literal
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            pass
    raise serializers.ValidationError("must be a FITS file upload (multipart), its bytes as text, or base64")


def _gunzip(data: bytes, limit: int) -> bytes:
    if data[:2] != b"\x1f\x8b":
        return data
    chunks, size = [], 0
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            while chunk := stream.read(8 << 20):
                chunks.append(chunk)
                size += len(chunk)
                if size > limit:  # a gzip bomb stops here, not in memory
                    raise serializers.ValidationError(f"the map is larger than {limit >> 20} MB once decompressed")
    except (OSError, EOFError, zlib.error) as exc:
        raise serializers.ValidationError(f"not a readable gzip file: {exc}") from None
    return b"".join(chunks)


def read_sky_map(data: bytes) -> SkyMap:
    """Read a BAYESTAR / LIGO-Virgo HEALPix map: flat (nested or ring) or multi-order (NUNIQ).

    Raises
    ------
    rest_framework.serializers.ValidationError
        The bytes are not such a map, or it has no event time (DATE-OBS or MJD-OBS).
    """
    from astropy.io import fits
    from astropy.time import Time

    raw = _gunzip(data, MAX_SKYMAP_BYTES)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with fits.open(io.BytesIO(raw), memmap=False) as hdus:
                table = next((h for h in hdus if isinstance(h, fits.BinTableHDU)), None)
                if table is None:
                    raise serializers.ValidationError("the FITS file holds no HEALPix table")
                header = {**dict(hdus[0].header), **dict(table.header)}
                names = [n.upper() for n in table.columns.names]
                # Only the columns used: a BAYESTAR map also has three distance columns.
                wanted = {"UNIQ", "PROBDENSITY", "PROB", "PIXEL"} & set(names) or {names[0]}
                columns = {
                    name: np.asarray(table.data.field(i)) for i, name in enumerate(names) if name in wanted
                }
    except serializers.ValidationError:
        raise
    except Exception as exc:  # noqa: BLE001 -- astropy raises OSError, ValueError, TypeError... on bad bytes
        raise serializers.ValidationError(f"not a FITS sky map: {exc}") from None

    try:
        if "DATE-OBS" in header:
            event = Time(str(header["DATE-OBS"]).strip(), scale="utc")
        elif "MJD-OBS" in header:
            event = Time(float(header["MJD-OBS"]), format="mjd", scale="utc")
        else:
            raise serializers.ValidationError("the map has no event time (DATE-OBS or MJD-OBS in its header)")
    except (ValueError, TypeError):
        raise serializers.ValidationError(f"cannot read the event time {header.get('DATE-OBS')!r}") from None

    ordering = str(header.get("ORDERING", "")).strip().upper()
    if "UNIQ" in columns:
        density = columns.get("PROBDENSITY")
        if density is None:
            raise serializers.ValidationError("a multi-order map needs a PROBDENSITY column")
        uniq = columns["UNIQ"].astype(np.int64).ravel()
        return SkyMap(uniq, np.asarray(density, float).ravel(), float(event.jd))
    probability = columns.get("PROB", columns.get(names[0]))
    if probability is None or ordering not in ("NESTED", "RING"):
        raise serializers.ValidationError("a flat map needs a PROB column and ORDERING NESTED or RING")
    probability = np.asarray(probability, float).ravel()  # 1024-element rows in old maps
    if "PIXEL" in columns:  # explicit indexing: a partial map, NSIDE in the header
        index = np.asarray(columns["PIXEL"], np.int64).ravel()
        nside = int(header.get("NSIDE") or 0)
        npix = 12 * nside * nside
        if len(index) != len(probability) or (len(index) and not 0 <= index.min() <= index.max() < npix):
            raise serializers.ValidationError("PIXEL ids do not fit the map's NSIDE")
    else:
        npix = len(probability)
        nside = round(math.sqrt(npix / 12))
        index = np.arange(npix, dtype=np.int64)
    if nside < 1 or 12 * nside * nside != npix or nside & (nside - 1):
        raise serializers.ValidationError(f"{npix} pixels is not a HEALPix map")
    if ordering == "RING":
        from astropy_healpix.core import ring_to_nested

        index = np.asarray(ring_to_nested(index, nside), np.int64)
    order = nside.bit_length() - 1
    area = 4 * math.pi / npix
    return SkyMap(4 * 4**order + index, probability / area, float(event.jd))


@extend_schema_field(OpenApiTypes.BINARY)
class SkyMapField(serializers.Field):
    """``bayestar``: the map as a multipart file, or its bytes as text (Fink clients' ``str(bytes)``)."""

    def to_internal_value(self, data: Any) -> SkyMap:
        return read_sky_map(_bytes_of_upload(data))


class SkymapParams(FinkParamsSerializer):
    bayestar = SkyMapField(required=False, help_text="The sky map (FITS, gzipped or not; flat or multi-order).")
    event_name = OptionalText(required=False, help_text="A stored map's event name (none are stored yet).")
    credible_level = PositiveFloat(
        max_value=1.0,
        help_text="Credible level of the region searched, in (0, 1].",
        error_messages={"positive": "must be in (0, 1]"},
    )
    n_day_before = OptionalFloat(default=1.0, min_value=0.0, max_value=7.0, help_text="Days before the event (≤ 7).")
    n_day_after = OptionalFloat(default=6.0, min_value=0.0, max_value=14.0, help_text="Days after the event (≤ 14).")
    columns = _columns_field("v:jdstartgw")
    output_format = OutputFormatField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "bayestar" not in attrs:
            if attrs.get("event_name"):
                raise serializers.ValidationError(
                    {"event_name": "no sky map is stored under that name: upload the map as bayestar"}
                )
            raise serializers.ValidationError({"bayestar": "upload the sky map (FITS file) as bayestar"})
        return attrs


# -- xmatch ----------------------------------------------------------------------------------------
@dataclass
class Catalog:
    """An uploaded catalogue: its rows, and the position and time of each row."""

    rows: list[dict[str, Any]]
    ra: np.ndarray
    dec: np.ndarray
    jd: np.ndarray | None


def _read_table(data: bytes) -> Any:
    """A catalogue (Parquet, VOTable or CSV, told apart by content) as a pandas DataFrame."""
    import pandas as pd

    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    try:
        if data[:4] == b"PAR1":
            import pyarrow.parquet as pq

            parquet = pq.ParquetFile(io.BytesIO(data))
            if parquet.metadata.num_rows > MAX_CATALOG_ROWS:  # said before reading the rows
                raise serializers.ValidationError({"catalog": f"holds more than {MAX_CATALOG_ROWS} rows"})
            return parquet.read().to_pandas()
        if head.startswith(b"<?xml") or head[:8].upper().startswith(b"<VOTABLE"):
            from astropy.io.votable import parse_single_table

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return parse_single_table(io.BytesIO(data)).to_table().to_pandas()
        return pd.read_csv(io.BytesIO(data), nrows=MAX_CATALOG_ROWS + 1, skipinitialspace=True)
    except serializers.ValidationError:
        raise
    except Exception as exc:  # noqa: BLE001 -- each reader has its own errors; all mean "not a catalogue"
        raise serializers.ValidationError(f"cannot read the catalogue (CSV, Parquet or VOTable): {exc}") from None


def _angles(values: Any, name: str) -> np.ndarray:
    try:
        return np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise serializers.ValidationError({"header": f"column {name} must hold degrees"}) from None


def _times(values: Any, name: str) -> np.ndarray:
    """Julian dates of a time column: ISO text, JD or MJD numbers (empty cells are NaN)."""
    import pandas as pd
    from astropy.time import Time

    series = pd.Series(values)
    if pd.api.types.is_numeric_dtype(series):
        numbers = series.to_numpy(dtype=float)
        return np.where(numbers < 2_400_000, numbers + 2_400_000.5, numbers)
    if pd.api.types.is_datetime64_any_dtype(series):
        texts = series.dt.strftime("%Y-%m-%dT%H:%M:%S.%f")
    else:
        texts = series.astype("string")
    out = np.full(len(series), np.nan)
    present = texts.notna().to_numpy() & (texts.fillna("").str.strip() != "").to_numpy()
    if present.any():
        try:
            out[present] = Time([str(t).strip() for t in texts[present]], scale="utc").jd
        except ValueError:
            raise serializers.ValidationError(
                {"header": f"column {name} must hold ISO dates (YYYY-MM-DD hh:mm:ss), JD or MJD"}
            ) from None
    return out


def read_catalog(data: bytes, header: list[str]) -> Catalog:
    """Read a catalogue and take its ID, RA, Dec (and Time) columns named by ``header``."""
    frame = _read_table(data)
    if len(frame) > MAX_CATALOG_ROWS:
        raise serializers.ValidationError({"catalog": f"holds more than {MAX_CATALOG_ROWS} rows"})
    missing = [name for name in header if name not in frame.columns]
    if missing:
        raise serializers.ValidationError(
            {"header": f"column(s) {', '.join(missing)} not in the catalogue (its columns: {', '.join(map(str, frame.columns))})"}
        )
    frame = frame.astype(object).where(frame.notna(), None)
    ra = _angles(frame[header[1]].to_numpy(), header[1])
    dec = _angles(frame[header[2]].to_numpy(), header[2])
    jd = _times(frame[header[3]].to_numpy(), header[3]) if len(header) > 3 else None
    return Catalog(frame.to_dict("records"), ra, dec, jd)


@extend_schema_field(OpenApiTypes.BINARY)
class CatalogField(serializers.Field):
    """``catalog``: a file (CSV, Parquet or VOTable) or CSV text; read once ``header`` is known."""

    def to_internal_value(self, data: Any) -> bytes:
        if isinstance(data, str):
            return data.encode("utf-8")
        if hasattr(data, "read"):
            return data.read()
        raise serializers.ValidationError("must be a file upload or CSV text")


class XmatchParams(FinkParamsSerializer):
    catalog = CatalogField(help_text="The catalogue: a CSV, Parquet or VOTable file, or CSV text.")
    header = serializers.CharField(
        default="ID,RA,Dec,Time", help_text="Names of its ID, RA, Dec and Time columns, in that order."
    )
    radius = PositiveFloat(
        default=1.5,
        max_value=MAX_CONE_RADIUS_ARCSEC,
        help_text="Match radius [arcsec].",
        error_messages={"positive": "must be a positive number of arcseconds"},
    )
    window = OptionalFloat(required=False, min_value=0.0, help_text="Days around each row's time (centred).")
    columns = _columns_field("v:separation_degree")
    output_format = OutputFormatField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        header = [name.strip() for name in re.split(r"[,;]", attrs["header"]) if name.strip()]
        if len(header) not in (3, 4):
            raise serializers.ValidationError({"header": "name the ID, RA, Dec and (optional) Time columns"})
        if "window" in attrs and len(header) < 4:
            raise serializers.ValidationError({"window": "needs a Time column named in header"})
        attrs["catalog"] = read_catalog(attrs["catalog"], header)
        return attrs


# -- metadata --------------------------------------------------------------------------------------
OBJECT_ID = re.compile(r"^ZTF\d{2}[a-z]{7}$")


class MetadataQueryParams(FinkParamsSerializer):
    objectId = OptionalText(required=False, help_text="ZTF object id.")
    internal_name = OptionalText(required=False, help_text="A name users gave the object.")
    output_format = OutputFormatField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("objectId") and not attrs.get("internal_name"):
            raise serializers.ValidationError({"objectId": "give objectId or internal_name"})
        return attrs


class MetadataPostParams(FinkParamsSerializer):
    objectId = serializers.CharField(help_text="ZTF object id.")
    internal_name = serializers.CharField(max_length=100, help_text="Your name for the object.")
    comments = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)

    def validate_objectId(self, value: str) -> str:
        value = value.strip()
        if not OBJECT_ID.match(value):
            raise serializers.ValidationError(f"not a ZTF object id such as ZTF21abfmbix (got {value!r})")
        return value

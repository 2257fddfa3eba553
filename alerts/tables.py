"""The alert tables, each declared once (DESIGN.md "Tables"). Ingestion writes them; selectors,
the API and the pages read them through these declarations.

Main tables are keyed ``objectId_jd`` like Fink's. Index tables hold, besides their key, the few
columns a query needs to decide about a row (position, dates, classification) so that most
searches never touch the main table for rows they then drop. Index keys use ``|`` between parts
because class names, asteroid names and tracklet ids may hold ``_``.
"""
from __future__ import annotations

from store import Bool, Bytes, Field, Float, Int, RowKey, Str, Struct, Table

from .schema import CANDIDATE_FIELDS, FINK_FIELDS, PRV_CANDIDATE_FIELDS

_CODECS = {
    "int": Int,
    "float": Float,
    "bool": Bool,
    "str": Str,
    "bytes": Bytes,
    "list": Struct,
    "struct": Struct,
}

# HEALPix pixels of the sky index: nested scheme at order 16 (nside 65,536, pixels of 3.2″). In
# the nested scheme a pixel at a coarser order is a contiguous range of order-16 pixels, so a cone
# search picks the order that suits its radius and range-scans one key range per coarse pixel.
SKY_ORDER = 16
SKY_PIXEL_WIDTH = 11  # 12 * 4**16 = 51,539,607,552 pixels: 11 digits

# Anomaly scores are negative for the most anomalous alerts; keys must be non-negative and sort
# like the score, so the key holds score + ANOMALY_OFFSET.
ANOMALY_OFFSET = 1000.0


def _fields(prefix: str, columns) -> list[Field]:
    return [Field(f"{prefix}:{c.name}", _CODECS[c.kind](), c.doc) for c in columns.values()]


OBJECT_ID = Field("i:objectId", Str(), "ZTF object identifier (ZTFyyaaaaaaa)")
JD = Field("i:jd", Float(), "observation time of the alert [Julian date]")
CLASSIFICATION = Field(
    "d:classification", Str(), "Fink classification of the alert, derived at ingest from its scores"
)


class Alert(Table):
    """One row per alert: ``i:`` ZTF candidate fields, ``d:`` Fink fields."""

    name = "ztf"
    families = ("i", "d")
    # On HBase, each alert is one cell rather than ~136 (one per column it holds): cells are
    # HBase's unit of cost, and writing them one by one bounded ingestion at ~250 alerts/s.
    one_cell = True
    key = RowKey("i:objectId", "i:jd")
    fields = (
        [OBJECT_ID]
        + _fields("i", CANDIDATE_FIELDS)
        + [
            Field("i:schemavsn", Str(), "ZTF alert schema version"),
            Field("i:publisher", Str(), "alert publisher"),
        ]
        + _fields("d", FINK_FIELDS)
        + [CLASSIFICATION]
    )


class Cutout(Table):
    """The three gzipped FITS stamps of an alert (kept out of the main table, as Fink does)."""

    name = "cutouts"
    families = ("i", "b")
    key = RowKey("i:objectId", "i:jd")
    objectId = OBJECT_ID
    jd = JD
    candid = Field("i:candid", Int(), "alert identifier")
    science = Field("b:cutoutScience_stampData", Bytes(), "science stamp (gzipped FITS)")
    template = Field("b:cutoutTemplate_stampData", Bytes(), "template stamp (gzipped FITS)")
    difference = Field("b:cutoutDifference_stampData", Bytes(), "difference stamp (gzipped FITS)")


class UpperLimit(Table):
    """Non-detections from the alerts' histories (``prv_candidates`` without magpsf)."""

    name = "upper_limits"
    families = ("i",)
    one_cell = True  # 16 history points per alert: on HBase, one cell each rather than 17
    key = RowKey("i:objectId", "i:jd")
    fields = [OBJECT_ID] + _fields("i", PRV_CANDIDATE_FIELDS)


class BadQuality(Table):
    """History detections that are not alerts themselves (Fink's ``badquality`` points)."""

    name = "bad_quality"
    families = ("i",)
    one_cell = True  # on HBase, one cell per point rather than 55
    key = RowKey("i:objectId", "i:jd")
    fields = [OBJECT_ID] + _fields("i", PRV_CANDIDATE_FIELDS)


class ObjectSummary(Table):
    """One row per object, recomputed from its alerts after each ingest touching it."""

    name = "objects"
    families = ("i", "d")
    one_cell = True
    key = RowKey("i:objectId")
    objectId = OBJECT_ID
    ra = Field("i:ra", Float(), "right ascension of the latest alert [deg]")
    dec = Field("i:dec", Float(), "declination of the latest alert [deg]")
    firstjd = Field("i:firstjd", Float(), "time of the first alert held [JD]")
    lastjd = Field("i:lastjd", Float(), "time of the latest alert held [JD]")
    jdstarthist = Field("i:jdstarthist", Float(), "first detection of the object by ZTF [JD]")
    lastcandid = Field("i:lastcandid", Int(), "candid of the latest alert")
    nalerts = Field("d:nalerts", Int(), "number of alerts held")
    classification = CLASSIFICATION
    ssnamenr = Field("i:ssnamenr", Str(), "Solar System object name (MPC) of the latest alert")


# -- index tables ------------------------------------------------------------------------------
# Index rows are written once per alert and read whole: on HBase each is one cell (``one_cell``).
_INDEX_COLUMNS = [
    OBJECT_ID,
    JD,
    Field("i:candid", Int(), "alert identifier"),
    Field("i:ra", Float(), "right ascension [deg]"),
    Field("i:dec", Float(), "declination [deg]"),
    Field("i:jdstarthist", Float(), "first detection of the object by ZTF [JD]"),
    CLASSIFICATION,
]


class SkyIndex(Table):
    """HEALPix pixel (nested, order 16) of each alert, for cone searches."""

    name = "index_sky"
    families = ("i", "d")
    one_cell = True
    key = RowKey("d:pixel", "i:jd", "i:objectId", sep="|")
    fields = _INDEX_COLUMNS + [Field("d:pixel", Int(key_width=SKY_PIXEL_WIDTH), "HEALPix nested pixel")]


class ClassIndex(Table):
    """Alerts by class: the Fink classification, ``(SIMBAD) label`` and ``(TNS) type``."""

    name = "index_class"
    families = ("i", "d")
    one_cell = True
    key = RowKey("d:class", "i:jd", "i:objectId", sep="|")
    fields = _INDEX_COLUMNS + [Field("d:class", Str(), "class name the alert is listed under")]


class AsteroidIndex(Table):
    """Solar System alerts by MPC name or number (``ssnamenr``)."""

    name = "index_sso"
    families = ("i", "d")
    one_cell = True
    key = RowKey("i:ssnamenr", "i:jd", "i:objectId", sep="|")
    fields = _INDEX_COLUMNS + [Field("i:ssnamenr", Str(), "Solar System object name (MPC)")]


class TrackletIndex(Table):
    """Alerts on satellite / fast-mover tracklets (``TRCK_YYYYMMDD_HHMMSS_NN``)."""

    name = "index_tracklet"
    families = ("i", "d")
    one_cell = True
    key = RowKey("d:tracklet", "i:objectId", "i:jd", sep="|")
    fields = _INDEX_COLUMNS + [Field("d:tracklet", Str(), "tracklet identifier")]


class TimeIndex(Table):
    """Alerts by observation time."""

    name = "index_time"
    families = ("i", "d")
    one_cell = True
    key = RowKey("i:jd", "i:objectId", sep="|")
    fields = _INDEX_COLUMNS


class AnomalyIndex(Table):
    """Alerts by anomaly score, most anomalous (most negative) first."""

    name = "index_anomaly"
    families = ("i", "d")
    one_cell = True
    key = RowKey("d:anomaly_key", "i:jd", "i:objectId", sep="|")
    fields = _INDEX_COLUMNS + [
        Field("d:anomaly_key", Float(key_decimals=9, key_width=20), "anomaly_score + 1000"),
        Field("d:anomaly_score", Float(), "Fink anomaly score (lower is more anomalous)"),
    ]


class NightStatistics(Table):
    """Per-night counts, recomputed from the time index for each night an ingest touched."""

    name = "statistics"
    families = ("s",)
    key = RowKey("s:survey", "s:night")
    survey = Field("s:survey", Str(), "survey name (ztf)")
    night = Field("s:night", Str(), "night (YYYYMMDD, UTC)")
    alerts = Field("s:alerts", Int(), "alerts received that night")
    objects = Field("s:objects", Int(), "distinct objects with an alert that night")
    classes = Field("s:classes", Struct(), "{class: number of alerts}")


class SsoLightcurve(Table):
    """Fink's per-asteroid aggregated light curves with ephemerides (phase-curve fits)."""

    name = "sso_lightcurves"
    families = ("d",)
    key = RowKey("d:ssnamenr", sep="|")
    ssnamenr = Field("d:ssnamenr", Str(), "Solar System object name (MPC)")
    data = Field("d:data", Struct(), "{column: list of values} as in Fink's aggregated files")


class SsoCandidate(Table):
    """Fink-FAT candidate orbits and trajectory points (``ssocand``)."""

    name = "ssocand"
    families = ("d",)
    key = RowKey("d:kind", "d:ssoCandId", "d:rank", sep="|")
    kind = Field("d:kind", Str(), "orbParams or lightcurves")
    candidate = Field("d:ssoCandId", Str(), "Fink-FAT candidate identifier")
    rank = Field("d:rank", Int(key_width=9), "row number inside the candidate")
    jd = Field("d:jd", Float(), "time of the point (trajectories) or of the orbit's last point [JD]")
    data = Field("d:data", Struct(), "the row as in Fink-FAT's files")


ALERT_TABLES = [Alert, Cutout, UpperLimit, BadQuality, ObjectSummary]
INDEX_TABLES = [SkyIndex, ClassIndex, AsteroidIndex, TrackletIndex, TimeIndex, AnomalyIndex]
ALL_TABLES = ALERT_TABLES + INDEX_TABLES + [NightStatistics, SsoLightcurve, SsoCandidate]

"""The search bar's grammar: one typed string in, one typed query (or a clear error) out.

What the bar understands, as Fink's portal does::

    ZTF21abfmbix                        an object (an exact id)
    ZTF21abf                            objects whose id starts with it
    193.822 2.897 r=10s                 a cone: degrees, radius in arcsec (s/"), arcmin (m/'), deg (d)
    12:55:17.2 +02:54:29 r=1m           the same, sexagesimal (also "12h55m17s +2d54m29s", "12 55 17 +2 54 29")
    193.822 2.897 10                    a third number is the radius in arcsec (Fink's habit)
    class=Early SN Ia candidate last=20 after=2021-11-01 before=2021-12-01
    9016   sso=Benoitcarry   sso=2005 XM12    a Solar System object (number or name)
    TRCK_20240115_041545_00             a tracklet (an id or a prefix of one)
    2024-01-15                          the alerts of a date (UTC day)

The grammar reads only the string: it knows the class names the portal lists (for a class typed
without ``class=`` and for "did you mean"), but whether anything matches is the selectors' job.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from alerts.derived import FINK_CLASSES, SIMBAD_CLASSES, SIMBAD_OLD_TO_NEW, TNS_CLASSES

#: Cone radius when none is typed [arcsec] (Fink's search bar default).
DEFAULT_RADIUS_ARCSEC = 10.0
#: Largest cone radius [arcsec] (the conesearch route's limit).
MAX_RADIUS_ARCSEC = 18_000.0
#: Alerts a class search shows when ``last`` is not typed, and at most.
DEFAULT_LAST = 10
MAX_LAST = 1000

_JD_UNIX_EPOCH = 2440587.5

_OBJECT_ID = re.compile(r"^ZTF\d{2}[a-z]{7}$", re.IGNORECASE)
_OBJECT_PREFIX = re.compile(r"^ZTF\d{2}[a-z]{0,6}$", re.IGNORECASE)
_TRACKLET = re.compile(r"^TRCK_\d{1,8}(_\d{0,6}(_\d{0,3})?)?$", re.IGNORECASE)
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_KEY = re.compile(r"(?:^|\s)([A-Za-z_]+)\s*=\s*")
_KEYS = {
    "class": "class",
    "last": "last",
    "n": "last",
    "after": "after",
    "before": "before",
    "r": "radius",
    "radius": "radius",
    "sso": "sso",
    "asteroid": "sso",
    "comet": "sso",
    "tracklet": "tracklet",
    "trck": "tracklet",
    "ra": "ra",
    "dec": "dec",
    "date": "date",
    "id": "id",
    "objectid": "id",
}
_RADIUS = re.compile(rf"^({_NUMBER})\s*(arcsec|arcmin|deg|[s\"]|[m']|d|°)?$", re.IGNORECASE)
_RADIUS_UNITS = {
    None: 1.0,
    "s": 1.0,
    '"': 1.0,
    "arcsec": 1.0,
    "m": 60.0,
    "'": 60.0,
    "arcmin": 60.0,
    "d": 3600.0,
    "°": 3600.0,
    "deg": 3600.0,
}
#: An asteroid or comet designation as ZTF writes it (``2005 XM12``, ``10P``, ``C/2020 F3``).
_DESIGNATION = re.compile(r"^(\d{4}\s?[A-Z]{2}\d*|\d+[PCDI](-[A-Z]+)?|[PCDI]/\d{4}\s?[A-Z]+\d*)$")

EXAMPLES = [
    ("ZTF21abfmbix", "an object"),
    ("ZTF25abix", "objects whose id starts with it"),
    ("193.822 2.897 r=10s", "a cone search (degrees)"),
    ("12:55:17.2 +02:54:29 r=1m", "a cone search (sexagesimal)"),
    ("class=Early SN Ia candidate last=20", "the latest alerts of a class"),
    ("class=SN candidate after=2025-09-01 before=2025-09-30", "a class in a date window"),
    ("9016", "an asteroid by number (or sso=Benoitcarry)"),
    ("TRCK_20240115", "tracklets (an id or a prefix)"),
    ("2024-01-15", "the alerts of a night"),
]


class SearchSyntaxError(ValueError):
    """The string is not a search the bar understands; ``hints`` are strings to try instead."""

    def __init__(self, message: str, hints: list[str] | None = None):
        super().__init__(message)
        self.message = message
        self.hints = hints or []


@dataclass(frozen=True)
class DateBound:
    """A date typed in the bar: the text as typed, and the time it stands for [JD, UTC]."""

    text: str
    jd: float

    @property
    def iso(self) -> str:
        """``YYYY-MM-DD hh:mm:ss`` (what the API's startdate/stopdate take)."""
        moment = datetime(1970, 1, 1) + timedelta(days=self.jd - _JD_UNIX_EPOCH)
        return moment.strftime("%Y-%m-%d %H:%M:%S")


@dataclass(frozen=True)
class ObjectQuery:
    """An object id (``exact``) or the start of one."""

    object_id: str
    exact: bool = True
    kind: str = field(default="object", init=False)


@dataclass(frozen=True)
class ConeQuery:
    """A cone: centre [deg], radius [arcsec], optional window on the first detection."""

    ra: float
    dec: float
    radius_arcsec: float = DEFAULT_RADIUS_ARCSEC
    after: DateBound | None = None
    before: DateBound | None = None
    kind: str = field(default="cone", init=False)


@dataclass(frozen=True)
class ClassQuery:
    """The ``last`` newest alerts of a class, optionally in a window of alert times."""

    class_name: str
    last: int = DEFAULT_LAST
    after: DateBound | None = None
    before: DateBound | None = None
    kind: str = field(default="class", init=False)


@dataclass(frozen=True)
class SsoQuery:
    """A Solar System object: a number (``9016``), a designation or a name."""

    name: str
    kind: str = field(default="sso", init=False)


@dataclass(frozen=True)
class TrackletQuery:
    """Tracklets whose id starts with ``prefix`` (``TRCK_YYYYMMDD_HHMMSS_NN`` or a prefix)."""

    prefix: str
    kind: str = field(default="tracklet", init=False)


@dataclass(frozen=True)
class DateQuery:
    """The alerts of one UTC day."""

    day: date
    kind: str = field(default="date", init=False)

    @property
    def start(self) -> DateBound:
        return _bound(self.day.isoformat(), datetime(self.day.year, self.day.month, self.day.day))

    @property
    def stop(self) -> DateBound:
        end = datetime(self.day.year, self.day.month, self.day.day) + timedelta(days=1)
        return _bound(end.date().isoformat(), end)


Query = ObjectQuery | ConeQuery | ClassQuery | SsoQuery | TrackletQuery | DateQuery


# -- entry point ---------------------------------------------------------------------------------
def parse_search(text: str, *, is_asteroid_name: Callable[[str], bool] | None = None) -> Query:
    """The query a search-bar string stands for.

    Parameters
    ----------
    text : str
        What was typed: free text (an id, coordinates, a number, a date, a class name) and/or
        ``key=value`` pairs (``class``, ``last``, ``after``, ``before``, ``r``, ``sso``,
        ``tracklet``, ``ra``, ``dec``, ``date``, ``id``); a value runs to the next key.
    is_asteroid_name : callable, optional
        Tells whether free text that is nothing else is an asteroid name (``Benoitcarry``), which
        is then searched as ``sso=``: the grammar reads only the string, the caller knows the names.

    Returns
    -------
    ObjectQuery, ConeQuery, ClassQuery, SsoQuery, TrackletQuery or DateQuery

    Raises
    ------
    SearchSyntaxError
        Text the grammar does not understand, or a value out of range; the message says what
        was wrong and ``hints`` holds searches to try.
    """
    text = " ".join(str(text or "").split())
    if not text:
        raise SearchSyntaxError("Type an object id, coordinates, a class or an asteroid.", _example_hints())
    free, pairs = _split_pairs(text)
    if "class" in pairs:
        return _class_query(pairs["class"], pairs, free)
    if "sso" in pairs:
        _only(pairs, {"sso"}, "sso=")
        return _sso_query(pairs["sso"])
    if "tracklet" in pairs:
        _only(pairs, {"tracklet"}, "tracklet=")
        return _tracklet_query(pairs["tracklet"])
    if "id" in pairs:
        _only(pairs, {"id"}, "id=")
        return _object_query(pairs["id"]) or _fail_object(pairs["id"])
    if "date" in pairs:
        _only(pairs, {"date"}, "date=")
        return _date_query(pairs["date"])
    if "ra" in pairs or "dec" in pairs:
        if "ra" not in pairs or "dec" not in pairs:
            raise SearchSyntaxError("A cone search needs both ra= and dec=.", ["ra=193.822 dec=2.897 r=10"])
        return _cone_query(f"{pairs['ra']} {pairs['dec']}", pairs)
    if not free:
        raise SearchSyntaxError(f"Nothing to search for in {text!r}.", _example_hints())
    return _free_query(free, pairs, is_asteroid_name)


# -- pieces --------------------------------------------------------------------------------------
def _split_pairs(text: str) -> tuple[str, dict[str, str]]:
    """The free text before the first ``key=``, and ``{canonical key: value}``."""
    matches = list(_KEY.finditer(text))
    free = text[: matches[0].start()].strip() if matches else text
    pairs: dict[str, str] = {}
    for index, match in enumerate(matches):
        raw_key = match.group(1)
        key = _KEYS.get(raw_key.lower())
        if key is None:
            known = sorted({k for k in _KEYS if len(k) > 1})
            close = difflib.get_close_matches(raw_key.lower(), known, n=1)
            suggestion = f" Did you mean {close[0]}=?" if close else ""
            raise SearchSyntaxError(
                f"Unknown keyword {raw_key}=.{suggestion} Keywords: "
                + ", ".join(f"{k}=" for k in known)
                + ".",
                _example_hints(),
            )
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        value = text[match.end() : end].strip()
        if not value:
            raise SearchSyntaxError(f"{raw_key}= needs a value.", _example_hints())
        if key in pairs:
            raise SearchSyntaxError(f"{raw_key}= is given twice.")
        pairs[key] = value
    return free, pairs


def _only(pairs: dict[str, str], allowed: set[str], what: str) -> None:
    extra = sorted(set(pairs) - allowed)
    if extra:
        raise SearchSyntaxError(
            f"{what} cannot be combined with " + ", ".join(f"{k}=" for k in extra) + "."
        )


def _free_query(free: str, pairs: dict[str, str], is_asteroid_name: Callable[[str], bool] | None = None) -> Query:
    numbers = _coordinate_tokens(free)
    if numbers is not None:
        return _cone_query(free, pairs)
    if pairs.keys() - {"last", "after", "before"}:
        raise SearchSyntaxError(
            f"{', '.join(k + '=' for k in pairs)} cannot follow {free!r}.", _example_hints()
        )
    if pairs:
        # "SN candidate last=5": a class typed without class=.
        return _class_query(free, pairs, "")
    found = _object_query(free)
    if found is not None:
        return found
    if free.upper().startswith("ZTF"):
        return _fail_object(free)
    if _TRACKLET.match(free):
        return _tracklet_query(free)
    if _DATE.match(free):
        return _date_query(free)
    if free.isascii() and free.isdigit():
        return SsoQuery(str(int(free)))
    known = _known_class(free)
    if known:
        return ClassQuery(known)
    if _DESIGNATION.match(free):
        return SsoQuery(free)
    if is_asteroid_name is not None and is_asteroid_name(free):
        return SsoQuery(free)
    hints = [f"class={name}" for name in _close_classes(free)]
    hints += [f"sso={free}"] if free.replace(" ", "").isalnum() else []
    raise SearchSyntaxError(
        f"{free!r} is not an object id, coordinates, a class, an asteroid or a date.",
        hints + _example_hints(),
    )


def _object_query(text: str) -> ObjectQuery | None:
    text = text.strip()
    if _OBJECT_ID.match(text):
        return ObjectQuery("ZTF" + text[3:].lower(), exact=True)
    if _OBJECT_PREFIX.match(text):
        return ObjectQuery("ZTF" + text[3:].lower(), exact=False)
    return None


def _fail_object(text: str) -> ObjectQuery:
    raise SearchSyntaxError(
        f"{text!r} is not a ZTF object id: an id is ZTF, two digits of year and seven letters "
        "(ZTF21abfmbix), or a start of one (ZTF21abf).",
        ["ZTF21abfmbix", "ZTF25abix"],
    )


def _tracklet_query(text: str) -> TrackletQuery:
    text = text.strip()
    if not _TRACKLET.match(text):
        raise SearchSyntaxError(
            f"{text!r} is not a tracklet id: TRCK_YYYYMMDD_HHMMSS_NN, or a start of one.",
            ["TRCK_20240115", "tracklet=TRCK_20240115_04"],
        )
    return TrackletQuery("TRCK" + text[4:])


def is_designation(text: str) -> bool:
    """True for an asteroid or comet designation as ZTF writes them (``2005 XM12``, ``10P``)."""
    return bool(_DESIGNATION.match(" ".join(str(text).split())))


def _sso_query(text: str) -> SsoQuery:
    text = " ".join(text.split())
    return SsoQuery(str(int(text)) if text.isascii() and text.isdigit() else text)


def _date_query(text: str) -> DateQuery:
    match = _DATE.match(text.strip())
    try:
        if not match:
            raise ValueError
        return DateQuery(date(*(int(part) for part in match.groups())))
    except ValueError:
        raise SearchSyntaxError(f"{text!r} is not a date: YYYY-MM-DD.", ["2024-01-15"]) from None


def _class_query(name: str, pairs: dict[str, str], free: str) -> ClassQuery:
    if free:
        raise SearchSyntaxError(
            f"{free!r} cannot come before class=: put the class first.", [f"class={name}"]
        )
    extra = set(pairs) - {"class", "last", "after", "before"}
    if extra:
        raise SearchSyntaxError(
            "class= takes last=, after= and before=, not " + ", ".join(f"{k}=" for k in sorted(extra)) + "."
        )
    last = DEFAULT_LAST
    if "last" in pairs:
        try:
            last = int(pairs["last"])
        except ValueError:
            raise SearchSyntaxError(
                f"last= is a number of alerts (got {pairs['last']!r}).", ["class=SN candidate last=20"]
            ) from None
        if not 1 <= last <= MAX_LAST:
            raise SearchSyntaxError(f"last= must be between 1 and {MAX_LAST} (got {last}).")
    after, before = _window(pairs)
    return ClassQuery(_known_class(name) or name.strip(), last, after, before)


def _window(pairs: dict[str, str]) -> tuple[DateBound | None, DateBound | None]:
    after = parse_date_bound(pairs["after"], "after") if "after" in pairs else None
    before = parse_date_bound(pairs["before"], "before") if "before" in pairs else None
    if after and before and after.jd >= before.jd:
        raise SearchSyntaxError(f"after= ({after.text}) must be earlier than before= ({before.text}).")
    return after, before


def parse_date_bound(text: str, name: str = "date") -> DateBound:
    """A date typed as ``YYYY-MM-DD``, ``YYYY-MM-DD hh:mm[:ss]`` (UTC) or a Julian date."""
    text = text.strip()
    for pattern in (
        "%Y-%m-%d",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ):
        try:
            return _bound(text, datetime.strptime(text, pattern))
        except ValueError:
            continue
    try:
        jd = float(text)
    except ValueError:
        jd = math.nan
    if 2_400_000 < jd < 2_600_000:
        return DateBound(text, jd)
    raise SearchSyntaxError(
        f"{name}= is a date, YYYY-MM-DD or YYYY-MM-DD hh:mm:ss (UTC), or a Julian date (got {text!r}).",
        [f"class=SN candidate {name}=2025-09-01"],
    )


def _bound(text: str, moment: datetime) -> DateBound:
    seconds = (moment - datetime(1970, 1, 1)).total_seconds()
    return DateBound(text, _JD_UNIX_EPOCH + seconds / 86400.0)


# -- coordinates ---------------------------------------------------------------------------------
def _coordinate_tokens(free: str) -> list[str] | None:
    """The tokens of a coordinate string (2, 3, 6 or 7 parts), or None if it is not one."""
    tokens = free.replace(",", " ").split()
    number = re.compile(rf"^{_NUMBER}$")
    sexagesimal = re.compile(r"^[+-]?\d+(?:[:hd°]\d+(?:\.\d*)?[:m']?(?:\d+(?:\.\d*)?[s\"]?)?)$")
    if len(tokens) in (2, 3, 6, 7) and all(number.match(t) or sexagesimal.match(t) for t in tokens):
        return tokens
    return None


def _cone_query(free: str, pairs: dict[str, str]) -> ConeQuery:
    extra = set(pairs) - {"radius", "after", "before", "ra", "dec"}
    if extra:
        raise SearchSyntaxError(
            "Coordinates take r=, after= and before=, not "
            + ", ".join(f"{k}=" for k in sorted(extra))
            + "."
        )
    tokens = free.replace(",", " ").split()
    radius_text = pairs.get("radius")
    if len(tokens) in (3, 7):
        if radius_text is not None:
            raise SearchSyntaxError("The radius is given twice (a third number and r=).")
        radius_text = tokens.pop()
    ra, dec = parse_coordinates(" ".join(tokens))
    radius = DEFAULT_RADIUS_ARCSEC if radius_text is None else parse_radius(radius_text)
    after, before = _window(pairs)
    return ConeQuery(ra, dec, radius, after, before)


def parse_coordinates(text: str) -> tuple[float, float]:
    """(ra, dec) in degrees from degrees or sexagesimal text (RA in hours when sexagesimal).

    Raises
    ------
    SearchSyntaxError
        Text that is not a position, or one off the sky.
    """
    tokens = text.replace(",", " ").split()
    number = re.compile(rf"^{_NUMBER}$")
    try:
        if len(tokens) == 2 and all(number.match(t) for t in tokens):
            ra, dec = float(tokens[0]), float(tokens[1])
        else:
            if len(tokens) == 6:
                ra_text, dec_text = " ".join(tokens[:3]), " ".join(tokens[3:])
            elif len(tokens) == 2:
                ra_text, dec_text = tokens
            else:
                raise ValueError
            from astropy import units as u
            from astropy.coordinates import Angle

            ra_unit = u.deg if re.search(r"[d°]", ra_text) else u.hourangle
            ra = Angle(ra_text, unit=ra_unit).degree
            dec = Angle(dec_text.replace("°", "d"), unit=u.deg).degree
    except (ValueError, TypeError, ArithmeticError):
        raise SearchSyntaxError(
            f"{text!r} is not a sky position: give RA and Dec in degrees (193.822 2.897) or "
            "sexagesimal (12:55:17.2 +02:54:29).",
            ["193.822 2.897 r=10s", "12:55:17.2 +02:54:29 r=1m"],
        ) from None
    if not (math.isfinite(ra) and 0.0 <= ra < 360.0):
        raise SearchSyntaxError(f"RA must be in [0, 360) degrees (got {ra:g}).")
    if not (math.isfinite(dec) and -90.0 <= dec <= 90.0):
        raise SearchSyntaxError(f"Dec must be in [-90, 90] degrees (got {dec:g}).")
    return float(ra), float(dec)


def parse_radius(text: str) -> float:
    """A radius in arcsec from ``10``, ``10s``, ``10"``, ``1m``, ``1'``, ``0.5d``, ``2arcmin``..."""
    match = _RADIUS.match(text.strip())
    if not match:
        raise SearchSyntaxError(
            f"r= is a radius: a number of arcsec, or with a unit s, m or d (got {text!r}).",
            ["193.822 2.897 r=10s", "193.822 2.897 r=1m"],
        )
    unit = match.group(2).lower() if match.group(2) else None
    radius = float(match.group(1)) * _RADIUS_UNITS[unit]
    if not 0.0 < radius <= MAX_RADIUS_ARCSEC:
        raise SearchSyntaxError(
            f"The radius must be above 0 and at most {MAX_RADIUS_ARCSEC:g} arcsec (5 deg); got {radius:g}."
        )
    return radius


# -- class names ---------------------------------------------------------------------------------
def known_class_names() -> list[str]:
    """Every class name the bar recognises, as the ``latests`` route spells them."""
    simbad = sorted({*SIMBAD_CLASSES, *SIMBAD_OLD_TO_NEW})
    return [
        *FINK_CLASSES,
        *(f"(TNS) {c}" for c in TNS_CLASSES),
        *(f"(SIMBAD) {c}" for c in simbad),
        *simbad,
    ]


def _known_class(text: str) -> str | None:
    lowered = " ".join(text.split()).lower()
    for name in known_class_names():
        if name.lower() == lowered:
            return name
    return None


def _close_classes(text: str, n: int = 3) -> list[str]:
    names = known_class_names()
    by_lower = {name.lower(): name for name in names}
    close = difflib.get_close_matches(text.lower(), list(by_lower), n=n, cutoff=0.6)
    return [by_lower[c] for c in close]


def close_class_names(text: str, n: int = 3) -> list[str]:
    """Class names spelled like ``text`` (for a "did you mean")."""
    return _close_classes(text, n)


def _example_hints() -> list[str]:
    return [example for example, _ in EXAMPLES[:6]]


__all__ = [
    "EXAMPLES",
    "ClassQuery",
    "ConeQuery",
    "DateBound",
    "DateQuery",
    "ObjectQuery",
    "Query",
    "SearchSyntaxError",
    "SsoQuery",
    "TrackletQuery",
    "close_class_names",
    "is_designation",
    "known_class_names",
    "parse_coordinates",
    "parse_date_bound",
    "parse_radius",
    "parse_search",
]

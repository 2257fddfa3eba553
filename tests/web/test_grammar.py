"""The search bar's grammar (search/grammar.py): each kind of search, and clear errors."""

from __future__ import annotations

import math
from datetime import date

import pytest

from search.grammar import (
    ClassQuery,
    ConeQuery,
    DateQuery,
    ObjectQuery,
    SearchSyntaxError,
    SsoQuery,
    TrackletQuery,
    parse_coordinates,
    parse_radius,
    parse_search,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ZTF21abfmbix", ObjectQuery("ZTF21abfmbix", exact=True)),
        ("  ztf21ABFMBIX ", ObjectQuery("ZTF21abfmbix", exact=True)),
        ("ZTF21abf", ObjectQuery("ZTF21abf", exact=False)),
        ("ZTF21", ObjectQuery("ZTF21", exact=False)),
        ("id=ZTF21abfmbix", ObjectQuery("ZTF21abfmbix", exact=True)),
        ("9016", SsoQuery("9016")),
        ("009016", SsoQuery("9016")),
        ("sso=Benoitcarry", SsoQuery("Benoitcarry")),
        ("sso=2005 XM12", SsoQuery("2005 XM12")),
        ("2005 XM12", SsoQuery("2005 XM12")),
        ("10P", SsoQuery("10P")),
        ("TRCK_20240115_041545_00", TrackletQuery("TRCK_20240115_041545_00")),
        ("trck_20240115", TrackletQuery("TRCK_20240115")),
        ("tracklet=TRCK_2024", TrackletQuery("TRCK_2024")),
        ("2024-01-15", DateQuery(date(2024, 1, 15))),
        ("date=2024-01-15", DateQuery(date(2024, 1, 15))),
    ],
)
def test_simple_searches(text, expected):
    assert parse_search(text) == expected


@pytest.mark.parametrize(
    ("text", "ra", "dec", "radius"),
    [
        ("193.822 2.897", 193.822, 2.897, 10.0),
        ("193.822 2.897 r=10s", 193.822, 2.897, 10.0),
        ("193.822, -2.897 r=1m", 193.822, -2.897, 60.0),
        ("193.822 2.897 30", 193.822, 2.897, 30.0),
        ("193.822 2.897 r=0.5d", 193.822, 2.897, 1800.0),
        ("ra=193.822 dec=2.897 r=2'", 193.822, 2.897, 120.0),
        ("12:55:17.28 +02:53:49.2 r=1m", 193.822, 2.897, 60.0),
        ("12h55m17.28s +2d53m49.2s", 193.822, 2.897, 10.0),
        ("12 55 17.28 +02 53 49.2", 193.822, 2.897, 10.0),
        ("12 55 17.28 -02 53 49.2 5", 193.822, -2.897, 5.0),
    ],
)
def test_cone_searches(text, ra, dec, radius):
    query = parse_search(text)
    assert isinstance(query, ConeQuery)
    assert math.isclose(query.ra, ra, abs_tol=1e-6)
    assert math.isclose(query.dec, dec, abs_tol=1e-6)
    assert query.radius_arcsec == pytest.approx(radius)


def test_class_search_with_window():
    query = parse_search("class=Early SN Ia candidate last=20 after=2021-11-01 before=2021-12-01 12:00")
    assert isinstance(query, ClassQuery)
    assert query.class_name == "Early SN Ia candidate"
    assert query.last == 20
    assert query.after.jd == pytest.approx(2459519.5)
    assert query.before.jd == pytest.approx(2459550.0)
    assert query.before.iso == "2021-12-01 12:00:00"


def test_class_names_are_recognised_without_the_keyword():
    assert parse_search("early sn ia candidate") == ClassQuery("Early SN Ia candidate")
    assert parse_search("SN candidate last=5") == ClassQuery("SN candidate", last=5)
    assert parse_search("class=(TNS) SN Ia").class_name == "(TNS) SN Ia"
    # A class the grammar does not list still goes to the class search (the store may hold it).
    assert parse_search("class=Something new").class_name == "Something new"


def test_cone_with_a_window_on_first_detection():
    query = parse_search("193.822 2.897 r=5 after=2458000.5")
    assert query.after.jd == 2458000.5 and query.before is None


@pytest.mark.parametrize(
    ("text", "in_message"),
    [
        ("", "Type an object id"),
        ("   ", "Type an object id"),
        ("ZTF1", "not a ZTF object id"),
        ("ZTF21abfmbixx", "not a ZTF object id"),
        ("foo=3", "Unknown keyword foo="),
        ("clas=SN candidate", "Did you mean class=?"),
        ("class=", "needs a value"),
        ("class=SN candidate last=many", "last= is a number"),
        ("class=SN candidate last=0", "between 1 and"),
        ("class=SN candidate after=yesterday", "after= is a date"),
        ("class=SN candidate after=2021-12-01 before=2021-11-01", "must be earlier"),
        ("class=SN candidate r=3", "class= takes"),
        ("400 2", "RA must be in [0, 360)"),
        ("10 95", "Dec must be in [-90, 90]"),
        ("10 20 30 r=10", "given twice"),
        ("10 20 r=wide", "r= is a radius"),
        ("10 20 r=6d", "at most 18000 arcsec"),
        ("ra=10", "needs both ra= and dec="),
        ("2024-13-45", "not a date"),
        ("TRCK_2024x", "not an object id, coordinates"),
        ("Supernva", "not an object id, coordinates"),
        ("sso=9016 class=SN candidate", "class= takes"),
        ("sso=9016 last=3", "cannot be combined"),
    ],
)
def test_errors_say_what_is_wrong(text, in_message):
    with pytest.raises(SearchSyntaxError) as caught:
        parse_search(text)
    assert in_message in caught.value.message


def test_errors_suggest_searches():
    with pytest.raises(SearchSyntaxError) as caught:
        parse_search("Supernva")
    assert "class=Supernova" in caught.value.hints
    with pytest.raises(SearchSyntaxError) as caught:
        parse_search("Benoitcarry")
    assert "sso=Benoitcarry" in caught.value.hints


def test_coordinate_and_radius_helpers():
    assert parse_coordinates("00:00:00 +00:00:00") == (0.0, 0.0)
    assert parse_coordinates("359.9 -89.5") == (359.9, -89.5)
    assert parse_radius('3"') == 3.0
    assert parse_radius("2arcmin") == 120.0
    with pytest.raises(SearchSyntaxError):
        parse_radius("0")


@pytest.mark.parametrize("text", ["²", "sso=²", "٣٤"])
def test_non_ascii_digits_are_a_clear_error_or_a_name(text):
    """str.isdigit() accepts '²' but int() refuses it: never a crash."""
    try:
        query = parse_search(text)
    except SearchSyntaxError:
        return
    assert query.kind == "sso"

"""Parameter fields of api.params: what each accepts, what each refuses, and how errors are named."""
import pytest
from astropy.time import Time
from rest_framework import serializers

from api.params import (
    ColumnsField,
    DeclinationField,
    FinkBooleanField,
    FinkDateField,
    FinkParamsSerializer,
    OutputFormatField,
    RightAscensionField,
    check_columns,
)


def parse(field, value):
    return field.run_validation(value)


@pytest.mark.parametrize(
    "value, expected",
    [(True, True), (False, False), ("True", True), ("False", False), ("true", True),
     ("false", False), ("1", True), ("0", False), (1, True), (0, False), (" TRUE ", True)],
)
def test_boolean_accepts_fink_spellings(value, expected):
    assert parse(FinkBooleanField(), value) is expected


@pytest.mark.parametrize("value", ["yes", "maybe", 2, [], "t", 1.5])
def test_boolean_refuses_other_values(value):
    with pytest.raises(serializers.ValidationError, match="must be true or false"):
        parse(FinkBooleanField(), value)


def test_output_format_is_case_insensitive_and_defaults_to_json():
    class Params(FinkParamsSerializer):
        output_format = OutputFormatField()

    params = Params(data={"output-format": "CSV"})
    assert params.is_valid(), params.errors
    assert params.validated_data == {"output_format": "csv"}
    for absent in ({}, {"output-format": ""}):
        params = Params(data=absent)
        assert params.is_valid(), params.errors
        assert params.validated_data == {"output_format": "json"}


def test_output_format_error_names_the_hyphenated_parameter():
    class Params(FinkParamsSerializer):
        output_format = OutputFormatField()

    params = Params(data={"output-format": "xml"})
    assert not params.is_valid()
    assert list(params.errors) == ["output-format"]
    assert "must be one of json, csv, parquet, votable" in params.errors["output-format"][0]


def test_underscore_spelling_is_an_alias_of_the_hyphenated_one():
    class Params(FinkParamsSerializer):
        output_format = OutputFormatField()
        cutout_kind = serializers.CharField(default="All")

    params = Params(data={"output_format": "parquet", "cutout_kind": "Science"})
    assert params.is_valid(), params.errors
    assert params.validated_data == {"output_format": "parquet", "cutout_kind": "Science"}
    assert set(Params().fields) == {"output-format", "cutout-kind"}


def test_required_error_says_parameter():
    class Params(FinkParamsSerializer):
        objectId = serializers.CharField()

    params = Params(data={})
    assert not params.is_valid()
    assert params.errors == {"objectId": ["this parameter is required"]}


def test_lone_surrogates_are_refused_naming_the_parameter():
    # A JSON body can escape one ("\ud800"); no store key or parser can encode it (found by fuzzing).
    class Params(FinkParamsSerializer):
        objectId = ColumnsField(require_family=False)
        output_format = OutputFormatField()

    for value in ("ZTF\ud800", ["ok", "\udfff"]):
        params = Params(data={"objectId": value, "ignored": "\ud800"})
        assert not params.is_valid()
        assert list(params.errors) == ["objectId"] and "surrogate" in params.errors["objectId"][0]


def test_columns_field():
    field = ColumnsField(allowed={"i:jd", "i:magpsf", "v:g-r"})
    assert parse(field, "i:jd, i:magpsf,,i:jd") == ["i:jd", "i:magpsf"]
    assert parse(field, ["v:g-r"]) == ["v:g-r"]
    with pytest.raises(serializers.ValidationError, match="unknown column.*i:nope"):
        parse(field, "i:jd,i:nope")
    with pytest.raises(serializers.ValidationError, match="family:qualifier"):
        parse(ColumnsField(), "jd")
    with pytest.raises(serializers.SkipField):
        parse(field, "*")
    with pytest.raises(serializers.SkipField):  # empty: not given, all columns
        parse(field, "")


def test_check_columns_names_the_parameter():
    check_columns(None, {"i:jd"})
    check_columns(["i:jd"], {"i:jd"})
    with pytest.raises(serializers.ValidationError) as caught:
        check_columns(["b:cutoutScience_stampData"], {"i:jd"})
    assert "columns" in caught.value.detail


RA_DEG = (12 + 55 / 60 + 17.218 / 3600) * 15


@pytest.mark.parametrize(
    "value, expected",
    [("12:55:17.218", RA_DEG), ("12 55 17.218", RA_DEG), ("12h55m17.218s", RA_DEG),
     ("193d49m18.267s", 193 + 49 / 60 + 18.267 / 3600), ("193.822", 193.822), (193.822, 193.822),
     (0, 0.0), ("360", 360.0)],
)
def test_right_ascension(value, expected):
    assert parse(RightAscensionField(), value) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize(
    "value, expected",
    [("-05:30:00", -5.5), ("+41 16 09", 41 + 16 / 60 + 9 / 3600), ("-5d30m00s", -5.5),
     ("12.5", 12.5), (-90, -90.0)],
)
def test_declination(value, expected):
    assert parse(DeclinationField(), value) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize(
    "field, value, message",
    [(RightAscensionField(), "400", "between 0 and 360"), (RightAscensionField(), "-1", "between"),
     (DeclinationField(), "95", "between -90 and 90"), (RightAscensionField(), "abc", "cannot read"),
     (DeclinationField(), True, "cannot read"), (RightAscensionField(), "nan", "between")],
)
def test_angles_refuse_bad_values(field, value, message):
    with pytest.raises(serializers.ValidationError, match=message):
        parse(field, value)


@pytest.mark.parametrize(
    "value, iso",
    [("2021-10-13", "2021-10-13 00:00:00.000"),
     ("2021-10-13 10:30:00", "2021-10-13 10:30:00.000"),
     ("2021-10-13T10:30:00", "2021-10-13 10:30:00.000"),
     ("2021-10-13T10:30:00Z", "2021-10-13 10:30:00.000"),
     ("2021-10-13T12:30:00+02:00", "2021-10-13 10:30:00.000"),
     (59500, "2021-10-13 00:00:00.000"),
     ("59500.4375", "2021-10-13 10:30:00.000"),
     (2459500.5, "2021-10-13 00:00:00.000"),
     ("2459500.9375", "2021-10-13 10:30:00.000")],
)
def test_date_field(value, iso):
    parsed = parse(FinkDateField(), value)
    assert isinstance(parsed, Time)
    assert parsed.utc.iso == iso


@pytest.mark.parametrize("value", ["yesterday", "2021-13-45", "-3", True, [2021]])
def test_date_field_refuses_bad_values(value):
    with pytest.raises(serializers.ValidationError, match="cannot read"):
        parse(FinkDateField(), value)

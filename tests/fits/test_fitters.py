"""Fitters on real light curves from ../shared/data (see its README for what each file is).

- Period: the long light curves of ``fink-parquet/sso-varstars-20240115`` (an alert's candidate
  plus its ``prv_candidates`` detections). Their sampling is what ZTF gives: the RR Lyrae have
  one 10-25 minute burst per night at the same hour, so frequencies f and k ± f (k cycles per
  day) are nearly indistinguishable; the W UMa binary has 498 of its 509 points in one night.
  "Stable" is checked up to what such sampling can tell, and says so where it matters.
- Microlensing: ZTF forced photometry of Gaia21dnc (ZTF18abktckv), credited in
  ``fits.fitters.microlensing``; pyLIMA's fit is checked against an independent scipy fit.
- Phase curves: Fink's aggregated asteroid light curves with ephemerides (33803, 8467), checked
  for physical ranges and against fink-utils' own fit when that module imports.

Files are read directly with pyarrow / numpy; the ``data_dir`` fixture (tests/conftest.py) skips
when the data folder is absent and fails under CI.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from scipy.optimize import least_squares

from fits.fitters import (
    FitError,
    FitParameterError,
    FitResult,
    LightCurve,
    available_fitters,
    get_fitter,
)
from fits.fitters.period import FrequencyGrid, fast_periodogram
from fits.fitters.phase_curve import reduced_magnitude

VARSTARS = "fink-parquet/sso-varstars-20240115"
GAIA21DNC = "microlensing/gaia21dnc"
SSO_WITH_EPHEMERIDES = "sso/aggregated-lightcurves/sso_ztf_lc_aggregated_202504_three_obj.parquet"

# objectId -> True when its sampling makes daily aliases (k ± f) indistinguishable.
PERIOD_OBJECTS = {
    "ZTF17aaaihfb": False,  # W UMa binary, one dense night of ~9.5 h plus 11 scattered points
    "ZTF18adbaezj": True,  # RR Lyrae, 41 points in 9 nightly bursts
    "ZTF18aakzqfg": True,  # RR Lyrae, 39 points in 7 nightly bursts
}


# ---------------------------------------------------------------------------------------------
# Data loading
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def varstar_lightcurves(data_dir: Path) -> dict[str, LightCurve]:
    """Light curve of each period test object: candidate + prv_candidates with a magpsf."""
    table = ds.dataset(data_dir / VARSTARS).to_table(
        columns=["objectId", "candidate", "prv_candidates"],
        filter=ds.field("objectId").isin(list(PERIOD_OBJECTS)),
    )
    curves = {}
    for alert in table.to_pylist():
        detections = [alert["candidate"]] + [
            p for p in (alert["prv_candidates"] or []) if p["magpsf"] is not None
        ]
        rows = [
            {f"i:{k}": v for k, v in d.items()} | {"i:objectId": alert["objectId"]}
            for d in detections
        ]
        curves[alert["objectId"]] = LightCurve.from_alert_rows(rows)
    assert set(curves) == set(PERIOD_OBJECTS)
    return curves


@pytest.fixture(scope="module")
def gaia21dnc(data_dir: Path) -> LightCurve:
    """ZTF forced photometry of Gaia21dnc in g, r, i (BJD, mag, mag_err, programid)."""
    parts = {b: np.loadtxt(data_dir / GAIA21DNC / f"ZTF18abktckv_{b}.dat") for b in "gri"}
    return LightCurve(
        jd=np.concatenate([p[:, 0] for p in parts.values()]),
        mag=np.concatenate([p[:, 1] for p in parts.values()]),
        magerr=np.concatenate([p[:, 2] for p in parts.values()]),
        band=np.concatenate([[b] * len(p) for b, p in parts.items()]),
        name="ZTF18abktckv",
    )


@pytest.fixture(scope="module")
def sso_records(data_dir: Path) -> dict[str, dict]:
    """Fink aggregated asteroid light curves, by ssnamenr."""
    return {r["ssnamenr"]: r for r in pq.read_table(data_dir / SSO_WITH_EPHEMERIDES).to_pylist()}


def _alias_distance(f1: float, f2: float) -> float:
    """How far apart two frequencies (1/day) are once daily aliases k ± f are identified."""
    return min(abs(d - round(d)) for d in (f1 - f2, f1 + f2))


# ---------------------------------------------------------------------------------------------
# Interface: light curves, options, registry, JSON
# ---------------------------------------------------------------------------------------------


def test_registry_lists_the_three_fitters():
    assert set(available_fitters()) == {"period", "microlensing", "phase_curve"}
    assert get_fitter("period").kind == "period"
    with pytest.raises(FitParameterError, match="kind: unknown fit kind 'spline'"):
        get_fitter("spline")
    with pytest.raises(ImportError, match="cannot import fitter"):
        get_fitter("period", paths=["fits.fitters.nowhere.Fitter"])


def test_lightcurve_from_alert_rows_uses_dc_magnitudes_for_variable_stars(
    varstar_lightcurves, data_dir
):
    lc = varstar_lightcurves["ZTF17aaaihfb"]
    assert len(lc) == 509
    assert lc.bands == ["g", "r"]
    # The difference magnitude flips around the reference flux (isdiffpos t/f); the DC
    # magnitude does not, so it spans much less than magpsf does.
    table = ds.dataset(data_dir / VARSTARS).to_table(filter=ds.field("objectId") == "ZTF17aaaihfb")
    alert = table.to_pylist()[0]
    rows = [
        {f"i:{k}": v for k, v in d.items()} for d in [alert["candidate"], *alert["prv_candidates"]]
    ]
    psf = LightCurve.from_alert_rows(rows, magnitude="psf")
    assert len(psf) == 509  # upper limits (magpsf null) are skipped
    assert np.ptp(lc.mag) < 0.6 < np.ptp(psf.mag)
    assert np.all(
        np.sign(psf.flux)
        == np.where(
            np.isin([r["i:isdiffpos"] for r in rows if r["i:magpsf"] is not None], ["t", "1"]),
            1,
            -1,
        )
    )
    with pytest.raises(FitParameterError, match="magnitude"):
        LightCurve.from_alert_rows(rows, magnitude="ab")


def test_lightcurve_rejects_columns_of_different_lengths():
    with pytest.raises(ValueError, match="magerr"):
        LightCurve(jd=[1.0, 2.0], mag=[1.0, 2.0], magerr=[0.1], band=[1, 2])


@pytest.mark.parametrize(
    ("options", "parameter", "message"),
    [
        ({"period": -1}, "period", "must be >= 0.001"),
        ({"period_min": "abc"}, "period_min", "expected float"),
        ({"period_min": 2.0, "period_max": 1.0}, "period_max", "larger than period_min"),
        ({"nterms": 2.5}, "nterms", "expected int"),
        ({"nterms": 9}, "nterms", "must be <= 6"),
        ({"frequency": 3}, "frequency", "unknown option"),
    ],
)
def test_period_fitter_rejects_bad_options(varstar_lightcurves, options, parameter, message):
    with pytest.raises(FitParameterError) as error:
        get_fitter("period").fit(varstar_lightcurves["ZTF18adbaezj"], **options)
    assert error.value.parameter == parameter
    assert message in str(error.value)
    assert str(error.value).startswith(f"{parameter}:")


def test_options_accept_form_strings():
    fitter = get_fitter("microlensing")
    options = fitter.validate_options({"method": "trf", "blend": "false", "tE": "20"})
    assert options == {"method": "TRF", "blend": False, "t0": None, "u0": None, "tE": 20.0}
    with pytest.raises(FitParameterError, match="blend: expected bool"):
        fitter.validate_options({"blend": "maybe"})


def test_too_few_points_is_a_parameter_error(varstar_lightcurves, gaia21dnc, sso_records):
    few = varstar_lightcurves["ZTF18adbaezj"].select(np.arange(5))
    with pytest.raises(
        FitParameterError, match="lightcurve: 5 usable points, the period fit needs at least 8"
    ):
        get_fitter("period").fit(few)
    with pytest.raises(FitParameterError, match="lightcurve: .* microlensing fit needs at least"):
        get_fitter("microlensing").fit(gaia21dnc.select(np.arange(0, 2078, 300)))
    asteroid = LightCurve.from_sso_aggregate(sso_records["8467"]).select(np.arange(6))
    with pytest.raises(FitParameterError, match="lightcurve: .* phase_curve fit needs at least"):
        get_fitter("phase_curve").fit(asteroid, model="SHG1G2")


def test_fits_refuse_light_curves_they_cannot_describe(varstar_lightcurves):
    """No event, no variation: a clear error instead of stored nonsense."""
    with pytest.raises(FitError, match="no microlensing event found"):
        get_fitter("microlensing").fit(varstar_lightcurves["ZTF18adbaezj"])
    flat = varstar_lightcurves["ZTF18adbaezj"].cleaned()
    flat.mag[:] = 16.0
    with pytest.raises(FitParameterError, match="lightcurve: the magnitudes do not vary"):
        get_fitter("period").fit(flat)


def test_result_json_is_plain_and_has_no_nan():
    result = FitResult(
        kind="period",
        params={"period": np.float64(0.5), "bad": float("nan")},
        errors={"period": np.inf},
        stats={"n_points": np.int64(3), "flags": np.array([True, False])},
        model={"curve": {"g": np.array([1.0, np.nan])}},
    )
    payload = result.to_json()
    assert payload["params"] == {"period": 0.5, "bad": None}
    assert payload["errors"] == {"period": None}
    assert payload["model"]["curve"]["g"] == [1.0, None]
    json.dumps(payload, allow_nan=False)


# ---------------------------------------------------------------------------------------------
# Period
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def period_results(varstar_lightcurves) -> dict[str, FitResult]:
    fitter = get_fitter("period")
    return {name: fitter.fit(lc) for name, lc in varstar_lightcurves.items()}


@pytest.mark.parametrize("object_id", list(PERIOD_OBJECTS))
def test_period_methods_agree(object_id, varstar_lightcurves, period_results):
    """gatspy multiband, gatspy LombScargleFast per band and nifty-ls find the same period."""
    lc = varstar_lightcurves[object_id].cleaned()
    result = period_results[object_id]
    resolution = 1.0 / np.ptp(lc.jd)  # width of a periodogram peak, in 1/day
    frequency = result.params["frequency"]
    fast = fast_periodogram(lc, FrequencyGrid.for_lightcurve(lc))
    candidates = {"nifty-ls": fast.best_frequency}
    candidates |= {f"LombScargleFast {b}": 1 / p for b, p in result.stats["band_periods"].items()}
    for method, other in candidates.items():
        if PERIOD_OBJECTS[object_id]:
            assert _alias_distance(frequency, other) < resolution / 2, method
        else:
            assert abs(frequency - other) < resolution / 2, method
    json.dumps(result.to_json(), allow_nan=False)


@pytest.mark.parametrize("object_id", ["ZTF18adbaezj", "ZTF18aakzqfg"])
def test_fast_periodogram_equals_gatspy_on_one_band(object_id, varstar_lightcurves):
    """On a single band, nifty-ls and gatspy's multiband model are the same periodogram."""
    from gatspy.periodic import LombScargleMultiband

    lc = varstar_lightcurves[object_id].cleaned()
    grid = FrequencyGrid.for_lightcurve(lc, period_min=0.1)
    t = lc.jd - lc.jd.min()
    gatspy_power = LombScargleMultiband(Nterms_base=1, Nterms_band=0).fit(
        t, lc.mag, lc.magerr, lc.band
    )
    reference = gatspy_power.periodogram(1 / grid.frequencies)
    np.testing.assert_allclose(fast_periodogram(lc, grid).power, reference, atol=2e-3)


@pytest.mark.parametrize("object_id", list(PERIOD_OBJECTS))
def test_period_is_stable_on_random_subsamples(object_id, varstar_lightcurves, period_results):
    """Ten random 80% subsamples find the full light curve's period (up to daily aliases for
    the RR Lyrae). For the W UMa a majority do (6 of 10 here): its alias choice rests on 11
    points outside its one dense night, and a subsample that drops some of them lands on
    another peak, always one that the full fit already lists among its alias candidates."""
    lc = varstar_lightcurves[object_id].cleaned()
    full = period_results[object_id]
    resolution = 1.0 / np.ptp(lc.jd)
    listed = [1 / p["period"] for p in full.stats["peaks"]]
    fitter = get_fitter("period")
    same = 0
    for seed in range(10):
        keep = np.sort(
            np.random.default_rng(seed).choice(len(lc), int(0.8 * len(lc)), replace=False)
        )
        frequency = fitter.fit(lc.select(keep)).params["frequency"]
        if PERIOD_OBJECTS[object_id]:
            assert _alias_distance(frequency, full.params["frequency"]) < resolution / 2
            same += 1
        else:
            assert min(abs(frequency - f) for f in listed) < resolution / 2
            same += abs(frequency - full.params["frequency"]) < resolution / 2
    assert same > 5


@pytest.mark.parametrize("object_id", list(PERIOD_OBJECTS))
def test_folded_light_curve_is_tight(object_id, period_results):
    result = period_results[object_id]
    stats = result.stats
    assert stats["rms_residual"] < 0.4 * stats["rms_raw"]
    for band, points in result.model["folded"].items():
        assert np.all((np.asarray(points["phase"]) >= 0) & (np.asarray(points["phase"]) < 1))
        assert len(result.model["curve"][band]["mag"]) == 200
    periodogram = result.model["periodogram"]
    assert len(periodogram["period"]) == len(periodogram["power"]) <= 2000
    assert max(periodogram["power"]) == pytest.approx(result.stats["peaks"][0]["power"], abs=0.01)


def test_typed_in_period_folds_without_a_search(varstar_lightcurves, period_results):
    found = period_results["ZTF17aaaihfb"]
    typed = get_fitter("period").fit(
        varstar_lightcurves["ZTF17aaaihfb"], period=found.params["period"]
    )
    assert typed.model["periodogram"] is None
    assert typed.params["period"] == found.params["period"]
    assert typed.stats["rms_residual"] == pytest.approx(found.stats["rms_residual"], rel=1e-6)
    assert typed.options["period"] == found.params["period"]


@pytest.mark.parametrize("object_id", list(PERIOD_OBJECTS))
def test_screened_search_finds_the_full_grid_period(
    object_id, varstar_lightcurves, period_results, monkeypatch
):
    """Long light curves are screened by nifty-ls before gatspy: same period as the full grid."""
    import fits.fitters.period as period_module

    monkeypatch.setattr(period_module, "FULL_GRID_LIMIT", 0)
    screened = get_fitter("period").fit(varstar_lightcurves[object_id])
    full = period_results[object_id]
    assert screened.stats["search"].startswith("nifty-ls screen")
    assert full.stats["search"] == "gatspy multiband on the full grid"
    assert screened.model["periodogram"]["source"] == "nifty-ls"
    assert screened.params["period"] == pytest.approx(full.params["period"], rel=1e-6)


def test_rr_lyrae_range_picks_an_rrab_alias(varstar_lightcurves):
    """With the period range of RRab stars the search returns a period inside it."""
    result = get_fitter("period").fit(
        varstar_lightcurves["ZTF18adbaezj"], period_min=0.4, period_max=1.0
    )
    assert 0.4 <= result.params["period"] <= 1.0
    assert result.params["amplitude_r"] > 0.3


# ---------------------------------------------------------------------------------------------
# Microlensing
# ---------------------------------------------------------------------------------------------


def _scipy_pspl(lc: LightCurve) -> dict[str, float]:
    """Independent PSPL fit: flux-space chi2, source and blend fluxes solved linearly per band."""
    flux = 10 ** (-0.4 * (lc.mag - 27.4))
    flux_err = lc.magerr * flux * np.log(10) / 2.5
    bands = sorted(set(lc.band))

    def residuals(p):
        t0, u0, te = p
        u2 = u0**2 + ((lc.jd - t0) / te) ** 2
        amplification = (u2 + 2) / np.sqrt(u2 * (u2 + 4))
        out = []
        for b in bands:
            m = lc.band == b
            design = np.column_stack([amplification[m], np.ones(m.sum())]) / flux_err[m, None]
            coef, *_ = np.linalg.lstsq(design, flux[m] / flux_err[m], rcond=None)
            out.append(flux[m] / flux_err[m] - design @ coef)
        return np.concatenate(out)

    brightest = lc.jd[np.argmin(lc.mag - np.median(lc.mag))]
    fit = least_squares(residuals, [brightest, 0.5, 20.0], x_scale=[1.0, 0.1, 1.0])
    return {"t0": fit.x[0], "u0": abs(fit.x[1]), "tE": fit.x[2], "chi2": float(np.sum(fit.fun**2))}


@pytest.fixture(scope="module")
def microlensing_result(gaia21dnc) -> FitResult:
    return get_fitter("microlensing").fit(gaia21dnc)


def test_pylima_pspl_agrees_with_independent_scipy_fit(gaia21dnc, microlensing_result):
    reference = _scipy_pspl(gaia21dnc)
    params, errors = microlensing_result.params, microlensing_result.errors
    assert abs(params["t0"] - reference["t0"]) < max(0.1 * errors["t0"], 1e-3)
    assert params["tE"] == pytest.approx(reference["tE"], rel=1e-3)
    assert params["u0"] == pytest.approx(reference["u0"], rel=1e-2)
    assert microlensing_result.stats["chi2"] == pytest.approx(reference["chi2"], rel=1e-4)
    # Gaia21dnc peaked in mid-2021 (JD 2459438 = 2021-08-14) and lasted about a month.
    assert 2459400 < params["t0"] < 2459480
    assert 10 < params["tE"] < 100


def test_microlensing_result_is_complete(microlensing_result):
    result = microlensing_result
    assert result.stats["n_bands"] == 3 and result.stats["n_points"] == 2078
    for band in "gri":
        assert result.params[f"fsource_{band}"] > 0
        assert 14 < result.params[f"baseline_mag_{band}"] < 17
        assert len(result.model["curve"][band]) == len(result.model["curve"]["jd"])
    # ZTF forced photometry errors are a few mmag: the residuals, not chi2, show the fit quality.
    assert result.stats["rms_residual_mag"] < 0.05
    json.dumps(result.to_json(), allow_nan=False)


def test_microlensing_trf_and_lm_agree(gaia21dnc, microlensing_result):
    trf = get_fitter("microlensing").fit(gaia21dnc, method="TRF")
    for key in ("t0", "u0", "tE"):
        assert trf.params[key] == pytest.approx(microlensing_result.params[key], rel=1e-5)


def test_microlensing_rejects_partial_starting_point_and_unknown_method(gaia21dnc):
    fitter = get_fitter("microlensing")
    with pytest.raises(FitParameterError, match="t0: give all of t0, u0 and tE"):
        fitter.fit(gaia21dnc, t0=2459438.0)
    with pytest.raises(FitParameterError, match="method: must be one of LM, TRF, got 'MCMC'"):
        fitter.fit(gaia21dnc, method="MCMC")


# ---------------------------------------------------------------------------------------------
# Phase curves
# ---------------------------------------------------------------------------------------------

ASTEROIDS = ["33803", "8467"]
MODELS = ["HG", "HG1G2", "SHG1G2"]


@pytest.fixture(scope="module")
def phase_results(sso_records) -> dict[tuple[str, str], FitResult]:
    fitter = get_fitter("phase_curve")
    return {
        (name, model): fitter.fit(LightCurve.from_sso_aggregate(sso_records[name]), model=model)
        for name in ASTEROIDS
        for model in MODELS
    }


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("name", ASTEROIDS)
def test_phase_curve_parameters_are_physical(name, model, phase_results):
    result = phase_results[(name, model)]
    params = result.params
    for band in ("g", "r"):
        assert 10 < params[f"H_{band}"] < 20
        if model == "HG":
            assert 0 <= params[f"G_{band}"] <= 1
        else:
            g1, g2 = params[f"G1_{band}"], params[f"G2_{band}"]
            assert g1 >= 0 and g2 >= 0 and g1 + g2 <= 1 + 1e-9
    # ZTF's g - r colour of an asteroid is about 0.4-0.8 mag.
    assert 0.2 < params["H_g"] - params["H_r"] < 1.0
    if model == "SHG1G2":
        assert 0.3 <= params["R"] <= 1
        assert 0 <= params["alpha0"] < 360 and 0 <= params["delta0"] <= 90
    assert result.stats["rms"] < 0.3
    assert set(result.model["curve"]) == {"g", "r"}
    json.dumps(result.to_json(), allow_nan=False)


def _fink_fit(lc: LightCurve, model: str) -> dict:
    spins = pytest.importorskip(
        "fink_utils.sso.spins",
        reason="fink-utils' sso.spins does not import (it needs sbpy and line_profiler)",
    )
    clean = lc.cleaned("phase", "dobs", "dhelio")
    kwargs = {
        "magpsf_red": reduced_magnitude(clean.mag, clean.extra["dobs"], clean.extra["dhelio"]),
        "sigmapsf": clean.magerr,
        "phase": np.deg2rad(clean.extra["phase"]),
        "filters": np.array([{"g": 1, "r": 2}[b] for b in clean.band]),
        "model": model,
    }
    if model == "SHG1G2":
        kwargs |= {"ra": np.deg2rad(clean.extra["ra"]), "dec": np.deg2rad(clean.extra["dec"])}
    return spins.estimate_sso_params(**kwargs)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("name", ASTEROIDS)
def test_phase_curve_agrees_with_fink_utils(name, model, sso_records, phase_results):
    fink = _fink_fit(LightCurve.from_sso_aggregate(sso_records[name]), model)
    ours = phase_results[(name, model)]
    assert fink["fit"] == 0
    names = {"HG": ["H", "G"], "HG1G2": ["H", "G1", "G2"], "SHG1G2": ["H", "G1", "G2"]}[model]
    if model != "SHG1G2":
        for band, fid in (("g", 1), ("r", 2)):
            for key in names:
                assert ours.params[f"{key}_{band}"] == pytest.approx(fink[f"{key}_{fid}"], abs=2e-3)
        return
    # sHG1G2 has local minima; fink-utils starts from one spin axis, this fitter from eight.
    # The fit must be at least as good, and H close; where both found the same minimum
    # (8467), the spin axis must agree up to the antipode that fits identically.
    assert ours.stats["rms"] <= fink["rms"] + 1e-4
    for band, fid in (("g", 1), ("r", 2)):
        assert ours.params[f"H_{band}"] == pytest.approx(fink[f"H_{fid}"], abs=0.15)
    if abs(ours.params["R"] - fink["R"]) < 0.05:
        pole = _unit(ours.params["alpha0"], ours.params["delta0"])
        fink_pole = _unit(fink["alpha0"], fink["delta0"])  # fink-utils reports degrees
        assert np.degrees(np.arccos(min(1.0, abs(pole @ fink_pole)))) < 10


def _unit(ra_deg: float, dec_deg: float) -> np.ndarray:
    ra, dec = np.radians(ra_deg), np.radians(dec_deg)
    return np.array([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)])


def test_phase_curve_needs_ephemerides_and_a_known_model(sso_records):
    fitter = get_fitter("phase_curve")
    no_ephemerides = LightCurve.from_sso_aggregate(sso_records["2005XM12"])
    with pytest.raises(
        FitParameterError, match="lightcurve: the HG1G2 fit needs ephemerides phase, dobs, dhelio"
    ):
        fitter.fit(no_ephemerides)
    with pytest.raises(
        FitParameterError, match="model: must be one of HG, HG1G2, SHG1G2, got 'HG12'"
    ):
        fitter.fit(LightCurve.from_sso_aggregate(sso_records["8467"]), model="HG12")
    assert fitter.validate_options({"model": "shg1g2"})["model"] == "SHG1G2"

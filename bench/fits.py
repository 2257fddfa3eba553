"""Fitters beside their floors: each fit timed next to the least work that does the same job.

    .venv/bin/python bench/fits.py [--sizes 50,200,1500] [--repeat 5]

Each fitter beside its floor (same points, same run):

- period: ``fast_periodogram`` (the interactive path) against nifty-ls on each band's points,
  the least work giving a multiband periodogram (target), and against one nifty-ls call on all
  points; ``PeriodFitter.fit`` (gatspy multiband, the background path) against that one call.
  Beyond 3e6 frequencies x points the fitter lets nifty-ls screen the grid and gatspy refine its
  best peaks, and gatspy on the full grid is timed beside it.
- microlensing: ``MicrolensingFitter.fit`` (pyLIMA PSPL, LM) against a bare scipy
  ``least_squares`` PSPL (t0, u0, tE and two fluxes per band).
- phase curve: ``PhaseCurveFitter.fit`` with HG, HG1G2 and sHG1G2 against a bare scipy
  ``least_squares`` HG fit.

Light curves are real: the W UMa binary ZTF17aaaihfb (509 points; for more, copies shifted by a
whole number of its period, so the signal stays coherent), Gaia21dnc's ZTF forced photometry
(2,078 points; subsamples keep 40% of their points within 2 tE of the peak, so that even 50
points see the event) and asteroid 8467's aggregated light curve (216 points; for more, its
points repeated). Target (docs/PERFORMANCE.md): fast period path p50 <= 2x nifty-ls; the others
are reported. Writes bench/results/fits.json and fits.md. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, sys.path[0] is bench/, where this file would shadow the ``fits`` package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

import nifty_ls
import numpy as np
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from scipy.optimize import least_squares

import fits.fitters.period as period_module
from alerts.datadir import find_data_dir
from bench.common import (
    Result,
    measure_interleaved,
    measure_pair,
    print_table,
    write_results,
)
from fits.fitters import LightCurve, get_fitter
from fits.fitters.period import FrequencyGrid, fast_periodogram
from fits.fitters.phase_curve import reduced_magnitude

FAST_PERIOD_TARGET = 2.0
# Operations of a few ms get this many times --repeat samples: on a shared machine their p50
# needs more samples to settle than a fit of seconds does.
CHEAP_FACTOR = 5


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- data ------------------------------------------------------------------------------------
def load_wuma(data: Path) -> LightCurve:
    table = ds.dataset(data / "fink-parquet/sso-varstars-20240115").to_table(
        columns=["objectId", "candidate", "prv_candidates"],
        filter=ds.field("objectId") == "ZTF17aaaihfb",
    )
    alert = table.to_pylist()[0]
    detections = [alert["candidate"]] + [
        p for p in alert["prv_candidates"] if p["magpsf"] is not None
    ]
    return LightCurve.from_alert_rows(
        [{f"i:{k}": v for k, v in d.items()} for d in detections]
    ).cleaned()


def load_gaia21dnc(data: Path) -> LightCurve:
    parts = {
        b: np.loadtxt(data / "microlensing/gaia21dnc" / f"ZTF18abktckv_{b}.dat") for b in "gri"
    }
    return LightCurve(
        jd=np.concatenate([p[:, 0] for p in parts.values()]),
        mag=np.concatenate([p[:, 1] for p in parts.values()]),
        magerr=np.concatenate([p[:, 2] for p in parts.values()]),
        band=np.concatenate([[b] * len(p) for b, p in parts.items()]),
    )


def load_asteroid(data: Path) -> LightCurve:
    path = data / "sso/aggregated-lightcurves/sso_ztf_lc_aggregated_202504_three_obj.parquet"
    record = next(r for r in pq.read_table(path).to_pylist() if r["ssnamenr"] == "8467")
    return LightCurve.from_sso_aggregate(record).cleaned("phase", "dobs", "dhelio")


def concatenate(curves: list[LightCurve]) -> LightCurve:
    return LightCurve(
        jd=np.concatenate([c.jd for c in curves]),
        mag=np.concatenate([c.mag for c in curves]),
        magerr=np.concatenate([c.magerr for c in curves]),
        band=np.concatenate([c.band for c in curves]),
        extra={k: np.concatenate([c.extra[k] for c in curves]) for k in curves[0].extra},
    )


def resize(lc: LightCurve, n: int, rng: np.random.Generator, shift: float = 0.0) -> LightCurve:
    """`n` points: a random subsample, or copies shifted by `shift` days then subsampled."""
    if n > len(lc):
        lc = concatenate([_shifted(lc, k * shift) for k in range(-(-n // len(lc)))])
    keep = np.sort(rng.choice(len(lc), n, replace=False))
    return lc.select(keep[np.argsort(lc.jd[keep], kind="stable")])


def _shifted(lc: LightCurve, days: float) -> LightCurve:
    out = lc.select(np.arange(len(lc)))
    out.jd = out.jd + days
    return out


def event_subsample(
    lc: LightCurve, n: int, t0: float, te: float, rng: np.random.Generator
) -> LightCurve:
    """`n` points, 40% of them within 2 tE of the peak (or all there are), the rest elsewhere."""
    near = np.flatnonzero(np.abs(lc.jd - t0) < 2 * te)
    far = np.flatnonzero(np.abs(lc.jd - t0) >= 2 * te)
    n_near = min(len(near), int(0.4 * n))
    keep = np.concatenate(
        [rng.choice(near, n_near, replace=False), rng.choice(far, n - n_near, replace=False)]
    )
    return lc.select(keep[np.argsort(lc.jd[keep])])


# -- floors ----------------------------------------------------------------------------------
def nifty_floor(lc: LightCurve, grid: FrequencyGrid):
    """One nifty-ls periodogram of all points on the grid: the least a period search can do."""
    t = lc.jd - lc.jd.min()
    return lambda: nifty_ls.lombscargle(
        t, lc.mag, lc.magerr, fmin=grid.fmin, fmax=grid.fmax, Nf=grid.n
    )


def nifty_per_band_floor(lc: LightCurve, grid: FrequencyGrid):
    """nifty-ls on each band's points, same grid: the least work giving a multiband periodogram."""
    t = lc.jd - lc.jd.min()
    masks = [lc.band == b for b in lc.bands]
    return lambda: [
        nifty_ls.lombscargle(
            t[m], lc.mag[m], lc.magerr[m], fmin=grid.fmin, fmax=grid.fmax, Nf=grid.n
        )
        for m in masks
    ]


def pspl_floor(lc: LightCurve):
    """A bare scipy PSPL fit in flux: t0, u0, tE and (fs, fb) per band, one least_squares call."""
    flux = 10 ** (-0.4 * (lc.mag - 27.4))
    flux_err = lc.magerr * flux * np.log(10) / 2.5
    bands = sorted(set(lc.band))
    index = np.array([bands.index(b) for b in lc.band])
    baseline = [np.median(flux[index == i]) for i in range(len(bands))]
    x0 = [lc.jd[np.argmax(flux / np.array(baseline)[index])], 0.5, 20.0]
    x0 += [v for b in baseline for v in (b, 0.0)]

    def residuals(p):
        u2 = p[1] ** 2 + ((lc.jd - p[0]) / p[2]) ** 2
        amplification = (u2 + 2) / np.sqrt(u2 * (u2 + 4))
        fs, fb = p[3::2][index], p[4::2][index]
        return (flux - fs * amplification - fb) / flux_err

    return lambda: least_squares(residuals, x0, method="lm")


def hg_floor(lc: LightCurve):
    """A bare scipy HG fit (Bowell's exponential basis, H and G per band)."""
    y = reduced_magnitude(lc.mag, lc.extra["dobs"], lc.extra["dhelio"])
    tan_half = np.tan(np.deg2rad(lc.extra["phase"]) / 2)
    phi1, phi2 = np.exp(-3.33 * tan_half**0.63), np.exp(-1.87 * tan_half**1.22)
    bands = sorted(set(lc.band))
    index = np.array([bands.index(b) for b in lc.band])

    def residuals(p):
        h, g = p[0::2][index], p[1::2][index]
        return h - 2.5 * np.log10((1 - g) * phi1 + g * phi2) - y

    x0 = [v for _ in bands for v in (15.0, 0.15)]
    return lambda: least_squares(residuals, x0, bounds=([-3, 0] * len(bands), [30, 1] * len(bands)))


# -- benchmark -------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sizes", default="50,200,1500", help="points per light curve, comma-separated"
    )
    parser.add_argument(
        "--repeat", type=int, default=5, help="timed samples per fit (x5 for cheap operations)"
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    data = find_data_dir()
    if data is None:
        sys.exit("data folder not found: set PORTAL_DATA or put it at ../shared/data")
    warnings.simplefilter("ignore")

    period, microlensing, phase = (
        get_fitter("period"),
        get_fitter("microlensing"),
        get_fitter("phase_curve"),
    )
    wuma, event, asteroid = load_wuma(data), load_gaia21dnc(data), load_asteroid(data)
    wuma_period = period.fit(wuma).params["period"]
    full_event = microlensing.fit(event).params
    # Copies shifted by a whole number of periods keep the star's signal coherent.
    shift = np.ceil((np.ptp(wuma.jd) + 1) / wuma_period) * wuma_period
    rng = np.random.default_rng(2026)
    results: list[Result] = []
    for n in sizes:
        log(f"n = {n}")
        lc = resize(wuma, n, rng, shift)
        grid = FrequencyGrid.for_lightcurve(lc)
        floor = nifty_floor(lc, grid)
        cheap = CHEAP_FACTOR * args.repeat
        fast, per_band, f = measure_interleaved(
            [
                lambda lc=lc, grid=grid: fast_periodogram(lc, grid),
                nifty_per_band_floor(lc, grid),
                floor,
            ],
            cheap,
            warmup=3,
        )
        results.append(
            Result(
                "period: fast_periodogram",
                f"n={n}",
                fast,
                per_band,
                FAST_PERIOD_TARGET,
                note=f"{grid.n} frequencies, {len(lc.bands)} bands; floor: nifty-ls per band",
            )
        )
        results.append(
            Result(
                "period: fast_periodogram vs 1 call",
                f"n={n}",
                fast,
                f,
                note="floor: one nifty-ls call on all points (no multiband)",
            )
        )
        search = period.fit(lc).stats["search"]
        full, f = measure_pair(lambda lc=lc: period.fit(lc), floor, args.repeat, warmup=1)
        results.append(Result("period: PeriodFitter", f"n={n}", full, f, note=search))
        if not search.startswith("gatspy multiband on the full grid"):
            # What the screen saves: gatspy scoring every frequency of the same grid.
            limit, period_module.FULL_GRID_LIMIT = period_module.FULL_GRID_LIMIT, float("inf")
            try:
                full, f = measure_pair(lambda lc=lc: period.fit(lc), floor, args.repeat, warmup=0)
            finally:
                period_module.FULL_GRID_LIMIT = limit
            results.append(
                Result("period: gatspy full grid", f"n={n}", full, f, note="FULL_GRID_LIMIT lifted")
            )

        lc = event_subsample(event, min(n, len(event)), full_event["t0"], full_event["tE"], rng)
        fit, f = measure_pair(
            lambda lc=lc: microlensing.fit(lc), pspl_floor(lc), args.repeat, warmup=1
        )
        results.append(
            Result(
                "microlensing: pyLIMA PSPL (LM)", f"n={len(lc)}", fit, f, note="floor: scipy PSPL"
            )
        )

        lc = resize(asteroid, n, rng)
        floor = hg_floor(lc)
        for model in ("HG", "HG1G2", "SHG1G2"):
            repeat = args.repeat if model == "SHG1G2" else cheap
            fit, f = measure_pair(
                lambda lc=lc, model=model: phase.fit(lc, model=model), floor, repeat, warmup=1
            )
            results.append(
                Result(f"phase curve: {model}", f"n={n}", fit, f, note="floor: scipy HG")
            )

    print_table(results)
    command = "python bench/fits.py " + " ".join(sys.argv[1:])
    notes = [
        "backend column: points in the light curve.",
        (
            "period: W UMa ZTF17aaaihfb (g 7 points, r 502), tiled by whole periods beyond 509 "
            "points; floors: nifty-ls on the same grid, per band (target) and in one call."
        ),
        "microlensing: Gaia21dnc ZTF forced photometry, 40% of points within 2 tE of the peak.",
        "phase curve: asteroid 8467 (216 points, repeated beyond); sHG1G2 tries 8 spin axes.",
    ]
    paths = write_results(
        "fits",
        results,
        command=command.strip(),
        meta={"sizes": sizes, "repeat": args.repeat},
        notes=notes,
    )
    log(f"wrote {paths[0]} and {paths[1]}")


if __name__ == "__main__":
    main()

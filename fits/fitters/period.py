"""Period search: multiband Lomb-Scargle (gatspy) in the background, nifty-ls for the fast path.

`PeriodFitter` (kind ``'period'``) evaluates gatspy's `LombScargleMultiband` (VanderPlas &
Ivezic 2015) over all bands on one explicit frequency grid, refines the best peak, and returns
the period, its alias candidates, the folded light curve and the model. Per band it also
reports gatspy's `LombScargleFast` best period as a cross-check.

`fast_periodogram` is the interactive path: nifty-ls per band on the same kind of grid, the
bands combined by their chi2 weights (the ``Nterms_base=0`` multiband periodogram). It costs
little more than nifty-ls itself.

Sampling matters more than the method here: ZTF observes a field at about the same time each
night, so frequencies ``f`` and ``k ± f`` (k cycles per day) fit nearly equally well. The fit
reports the strongest distinct peaks (`stats['peaks']`) so that aliases are visible, not hidden.
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass
from typing import Any, ClassVar

import nifty_ls
import numpy as np
from gatspy.periodic import LombScargleFast, LombScargleMultiband

from fits.fitters.base import FitParameterError, FitResult, Fitter, LightCurve, Option

__all__ = ["FrequencyGrid", "PeriodFitter", "Periodogram", "fast_periodogram"]

#: Points kept in the plotted periodogram (max-pooled, so narrow peaks survive).
PLOT_POINTS = 2000
#: Phase points of the plotted model curve.
CURVE_POINTS = 200
#: Distinct periodogram peaks refined on a fine grid, and how many are reported as aliases.
N_CANDIDATES = 10
N_PEAKS = 5
#: Above this many frequencies x points, gatspy no longer scores the whole grid (it costs about
#: 0.3 us per frequency and point, so 3e6 is ~1 s): nifty-ls screens the grid and gatspy
#: refines its `N_SCREENED` best peaks. A multi-year ZTF light curve needs this path.
FULL_GRID_LIMIT = 3_000_000
N_SCREENED = 30
#: Above this many frequencies the background fit refuses: narrow the period range instead.
MAX_FREQUENCIES = 500_000


@dataclass(frozen=True)
class FrequencyGrid:
    """A regular grid ``fmin + df * arange(n)`` in cycles per day."""

    fmin: float
    df: float
    n: int

    @property
    def frequencies(self) -> np.ndarray:
        return self.fmin + self.df * np.arange(self.n)

    @property
    def fmax(self) -> float:
        return self.fmin + self.df * (self.n - 1)

    @classmethod
    def for_lightcurve(
        cls,
        lightcurve: LightCurve,
        period_min: float = 0.05,
        period_max: float | None = None,
        oversampling: int = 5,
    ) -> FrequencyGrid:
        """The grid from 1/period_max to 1/period_min with step 1/(oversampling × baseline).

        Parameters
        ----------
        lightcurve : LightCurve
            Gives the baseline T = max(jd) - min(jd).
        period_min, period_max : float
            Period range in days; period_max defaults to the baseline.
        oversampling : int
            Grid points per peak width (a peak is about 1/T wide).

        Raises
        ------
        FitParameterError
            For an empty range, or a grid over `MAX_FREQUENCIES` points.
        """
        baseline = float(np.ptp(lightcurve.jd)) if len(lightcurve) else 0.0
        if baseline <= 0:
            raise FitParameterError(
                "lightcurve", "all points share one date: no period can be searched"
            )
        period_max = baseline if period_max is None else period_max
        if period_max <= period_min:
            raise FitParameterError(
                "period_max", f"must be larger than period_min ({period_min}), got {period_max}"
            )
        fmin, fmax = 1.0 / period_max, 1.0 / period_min
        df = 1.0 / (oversampling * baseline)
        n = int(np.floor((fmax - fmin) / df)) + 1
        if n > MAX_FREQUENCIES:
            raise FitParameterError(
                "period_min",
                f"the search needs {n} frequencies (more than {MAX_FREQUENCIES}) over a "
                f"{baseline:.0f}-day baseline: raise period_min or lower period_max",
            )
        return cls(fmin=fmin, df=df, n=max(n, 2))


@dataclass
class Periodogram:
    """Power on a frequency grid, combined over bands and per band."""

    grid: FrequencyGrid
    power: np.ndarray
    power_by_band: dict[str, np.ndarray]

    @property
    def best_frequency(self) -> float:
        return float(self.grid.frequencies[int(np.argmax(self.power))])

    @property
    def best_period(self) -> float:
        return 1.0 / self.best_frequency


def _chi2_about_mean(mag: np.ndarray, magerr: np.ndarray) -> float:
    weights = magerr**-2
    mean = np.sum(weights * mag) / np.sum(weights)
    return float(np.sum(weights * (mag - mean) ** 2))


def fast_periodogram(
    lightcurve: LightCurve, grid: FrequencyGrid | None = None, *, nterms: int = 1
) -> Periodogram:
    """Multiband periodogram from nifty-ls, for the interactive path.

    Each band gets its own generalised Lomb-Scargle (floating mean, standard normalisation);
    the combined power is their average weighted by each band's chi2 about its mean, which is
    exactly the multiband periodogram where every band has its own sinusoid (gatspy's
    ``Nterms_base=0, Nterms_band=nterms``).

    All bands go through one batched nifty-ls call on the full time array, each band's series
    giving the other bands' points an error of 1e30: their weight (1e-60) vanishes from every
    sum, and the batch shares one NUFFT plan, so the cost stays that of a single periodogram.

    Parameters
    ----------
    lightcurve : LightCurve
        Cleaned light curve (finite values, positive errors, sorted in time).
    grid : FrequencyGrid, optional
        Default: `FrequencyGrid.for_lightcurve` with its defaults.
    nterms : int
        Fourier terms per band (nifty-ls' chi2 backend above 1).

    Returns
    -------
    Periodogram
    """
    grid = grid or FrequencyGrid.for_lightcurve(lightcurve)
    # A band needs more points than model parameters (mean + 2 per term) to say anything.
    bands = [b for b in lightcurve.bands if np.sum(lightcurve.band == b) > 2 * nterms + 1]
    if not bands:
        raise FitParameterError("lightcurve", f"no band has more than {2 * nterms + 1} points")
    masks = np.array([lightcurve.band == b for b in bands])
    y = np.broadcast_to(lightcurve.mag, masks.shape)
    dy = np.where(masks, lightcurve.magerr, 1e30)
    result = nifty_ls.lombscargle(
        lightcurve.jd - lightcurve.jd.min(),
        np.ascontiguousarray(y),
        dy,
        fmin=grid.fmin,
        fmax=grid.fmax,
        Nf=grid.n,
        nterms=nterms,
        backend="auto" if nterms == 1 else "finufft_chi2",
    )
    power = np.atleast_2d(result.power)
    weights = np.array([_chi2_about_mean(lightcurve.mag[m], lightcurve.magerr[m]) for m in masks])
    return Periodogram(
        grid=grid,
        power=weights @ power / weights.sum(),
        power_by_band=dict(zip(bands, power)),
    )


def _max_pool(x: np.ndarray, y: np.ndarray, points: int) -> tuple[np.ndarray, np.ndarray]:
    """Downsample a periodogram keeping each bin's maximum, so that narrow peaks are not lost."""
    if len(x) <= points:
        return x, y
    edges = np.linspace(0, len(x), points + 1).astype(int)
    index = np.array([lo + int(np.argmax(y[lo:hi])) for lo, hi in itertools.pairwise(edges)])
    return x[index], y[index]


def _peaks(
    frequencies: np.ndarray, power: np.ndarray, count: int, min_separation: float
) -> list[int]:
    """Indices of the `count` highest local maxima at least `min_separation` apart."""
    inner = np.flatnonzero((power[1:-1] > power[:-2]) & (power[1:-1] >= power[2:])) + 1
    chosen: list[int] = []
    for i in inner[np.argsort(power[inner])[::-1]]:
        if all(abs(frequencies[i] - frequencies[j]) >= min_separation for j in chosen):
            chosen.append(int(i))
        if len(chosen) == count:
            break
    return chosen


class PeriodFitter(Fitter):
    """Best period of a (multiband) light curve, or the fold at a typed-in period.

    Options: ``period_min``/``period_max`` (days; the maximum defaults to the baseline),
    ``nterms`` (Fourier terms shared by the bands) and ``nterms_band`` (extra terms per band;
    0 gives every band the same shape and its own offset, which suits sparse bands),
    ``oversampling`` (grid points per peak width), ``period`` (fold at this period, no search).

    Result: ``params`` period, frequency, epoch (JD of maximum light), amplitude_<band> and
    mean_mag_<band>; ``errors`` period/frequency (width of the chosen peak only); ``stats``
    chi2, dof, rms_raw, rms_residual, power, peaks (the best distinct peaks: alias candidates),
    band_periods (gatspy LombScargleFast per band), search; ``model`` periodogram (max-pooled
    to `PLOT_POINTS`), folded points and model curve per band.
    """

    kind = "period"
    options_schema: ClassVar[dict[str, Option]] = {
        "period_min": Option(float, 0.05, 1e-3, 1e4),
        "period_max": Option(float, None, 1e-3, 1e5),
        "nterms": Option(int, 1, 1, 6),
        "nterms_band": Option(int, 0, 0, 3),
        "oversampling": Option(int, 5, 1, 50),
        "period": Option(float, None, 1e-3, 1e5),
    }
    min_points = 8

    def _fit(self, lightcurve: LightCurve, options: dict[str, Any]) -> FitResult:
        lc = lightcurve.cleaned()
        # Mean + base terms + one offset (and band terms) per band must be fewer than the points.
        n_params = 1 + 2 * options["nterms"] + len(lc.bands) * (1 + 2 * options["nterms_band"])
        self.check_points(lc, max(self.min_points, n_params + 2))
        if all(np.ptp(lc.mag[lc.band == b]) == 0 for b in lc.bands):
            raise FitParameterError("lightcurve", "the magnitudes do not vary: there is no period")
        epoch0 = float(np.floor(lc.jd.min()))
        # Times relative to the first night: sin(omega * t) on raw JDs loses digits needlessly.
        t = lc.jd - epoch0
        model = LombScargleMultiband(
            Nterms_base=options["nterms"], Nterms_band=options["nterms_band"], fit_period=False
        ).fit(t, lc.mag, lc.magerr, lc.band)

        stats: dict[str, Any] = {}
        plot: dict[str, Any] = {}
        errors: dict[str, float] = {}
        if options["period"] is not None:
            frequency = 1.0 / options["period"]
            stats["power"] = float(model.score(options["period"]))
            plot["periodogram"] = None
        else:
            grid = FrequencyGrid.for_lightcurve(
                lc, options["period_min"], options["period_max"], options["oversampling"]
            )
            frequencies = grid.frequencies
            separation = 1.0 / np.ptp(lc.jd)
            if grid.n * len(lc) <= FULL_GRID_LIMIT:
                search = "gatspy multiband on the full grid"
                power = np.asarray(model.periodogram(1.0 / frequencies))
                candidates = _peaks(frequencies, power, N_CANDIDATES, separation)
            else:
                search = "nifty-ls screen, gatspy multiband on its best peaks"
                power = fast_periodogram(lc, grid, nterms=options["nterms"]).power
                candidates = _peaks(frequencies, power, N_SCREENED, separation)
            peaks = self._refined_peaks(model, frequencies, power, candidates, grid.df)
            frequency, best_power = peaks[0]
            sigma_f = self._frequency_error(model, frequency, best_power, grid.df / 20.0, n_params)
            stats.update(
                power=best_power,
                n_frequencies=grid.n,
                search=search,
                peaks=[{"period": 1.0 / f, "power": p} for f, p in peaks],
                band_periods=self._band_periods(lc, t, grid),
            )
            if np.isfinite(sigma_f):
                errors["period"] = sigma_f / frequency**2
                errors["frequency"] = sigma_f
            periods_plot, power_plot = _max_pool(1.0 / frequencies[::-1], power[::-1], PLOT_POINTS)
            plot["periodogram"] = {
                "period": periods_plot,
                "power": power_plot,
                "source": "gatspy" if search.startswith("gatspy") else "nifty-ls",
            }

        period = 1.0 / frequency
        fitted = model.predict(t, filts=lc.band, period=period)
        residuals = lc.mag - fitted
        params, curve, folded, epoch = self._fold(model, lc, t, period)
        params.update(period=period, frequency=frequency, epoch=epoch0 + epoch)

        chi2 = float(np.sum((residuals / lc.magerr) ** 2))
        dof = len(lc) - n_params - (0 if options["period"] is not None else 1)
        raw = np.concatenate(
            [lc.mag[lc.band == b] - np.mean(lc.mag[lc.band == b]) for b in lc.bands]
        )
        stats.update(
            chi2=chi2,
            dof=dof,
            chi2_red=chi2 / dof if dof > 0 else None,
            n_points=len(lc),
            n_bands=len(lc.bands),
            baseline_days=float(np.ptp(lc.jd)),
            rms_raw=float(np.sqrt(np.mean(raw**2))),
            rms_residual=float(np.sqrt(np.mean(residuals**2))),
        )
        plot.update(folded=folded, curve=curve)
        return FitResult(kind=self.kind, params=params, errors=errors, stats=stats, model=plot)

    @staticmethod
    def _refined_peaks(
        model: LombScargleMultiband,
        frequencies: np.ndarray,
        power: np.ndarray,
        candidates: list[int],
        df: float,
    ) -> list[tuple[float, float]]:
        """The `N_PEAKS` best `candidates` peaks once gatspy scores each on a 20x finer grid.

        Refining several peaks, not just the grid's best, matters with ZTF's nightly sampling:
        daily aliases differ in power by less than the loss from sampling a peak off its top,
        so the coarse grid alone would pick among them by chance.
        """
        refined = []
        for i in candidates:
            fine = np.linspace(frequencies[i] - df, frequencies[i] + df, 41)
            fine = fine[fine > 0]
            fine_power = np.asarray(model.periodogram(1.0 / fine))
            k = int(np.argmax(fine_power))
            refined.append((float(fine[k]), float(fine_power[k])))
        if not refined:  # a monotonic periodogram: the best is at an edge of the range
            i = int(np.argmax(power))
            refined.append(
                (float(frequencies[i]), float(np.asarray(model.periodogram(1.0 / frequencies[i]))))
            )
        return sorted(refined, key=lambda fp: -fp[1])[:N_PEAKS]

    @staticmethod
    def _frequency_error(
        model: LombScargleMultiband, frequency: float, power: float, h: float, n_params: int
    ) -> float:
        """1-sigma error of the best frequency, from the curvature of its peak.

        chi2(f) = chi2_ref (1 - P(f)) for gatspy's centred multiband model, and
        sigma_f = sqrt(2 chi2_red / chi2''), scaled by the reduced chi2 since ZTF errors are
        often misestimated. It is the width of the chosen peak only: aliases are in `peaks`.
        """
        p_minus, p_plus = np.asarray(
            model.periodogram(1.0 / np.array([frequency - h, frequency + h]))
        )
        chi2_ref = float(np.sum(model.yw_**2))
        curvature = -chi2_ref * (p_plus - 2.0 * power + p_minus) / h**2
        dof = len(model.yw_) - n_params - 1
        chi2_red = chi2_ref * (1.0 - power) / dof if dof > 0 else np.nan
        if not (curvature > 0 and chi2_red > 0):
            return float("nan")
        return float(np.sqrt(2.0 * chi2_red / curvature))

    @staticmethod
    def _band_periods(lc: LightCurve, t: np.ndarray, grid: FrequencyGrid) -> dict[str, float]:
        """Best single-band period from gatspy's LombScargleFast, per band with enough points."""
        periods: dict[str, float] = {}
        for band in lc.bands:
            mask = lc.band == band
            if mask.sum() < 8:
                continue
            fast = LombScargleFast(fit_period=False, silence_warnings=True)
            fast.fit(t[mask], lc.mag[mask], lc.magerr[mask])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                power = fast.score_frequency_grid(grid.fmin, grid.df, grid.n)
            periods[band] = float(1.0 / grid.frequencies[int(np.argmax(power))])
        return periods

    @staticmethod
    def _fold(
        model: LombScargleMultiband, lc: LightCurve, t: np.ndarray, period: float
    ) -> tuple[dict[str, float], dict[str, Any], dict[str, Any], float]:
        """Fold on the model's maximum brightness; per-band amplitudes, curves and points."""
        phase_grid = np.linspace(0.0, 1.0, CURVE_POINTS, endpoint=False)
        reference = max(lc.bands, key=lambda b: int(np.sum(lc.band == b)))
        ref_curve = model.predict(
            phase_grid * period, filts=np.full(CURVE_POINTS, reference, dtype=object), period=period
        )
        # Phase 0 at maximum light (minimum magnitude), as variable-star folds are drawn.
        epoch = float(phase_grid[int(np.argmin(ref_curve))] * period)
        params: dict[str, float] = {}
        curve: dict[str, Any] = {}
        folded: dict[str, Any] = {}
        for band in lc.bands:
            mags = model.predict(
                epoch + phase_grid * period,
                filts=np.full(CURVE_POINTS, band, dtype=object),
                period=period,
            )
            params[f"amplitude_{band}"] = float(np.ptp(mags))
            params[f"mean_mag_{band}"] = float(np.mean(mags))
            curve[band] = {"phase": phase_grid, "mag": mags}
            mask = lc.band == band
            folded[band] = {
                "phase": ((t[mask] - epoch) / period) % 1.0,
                "mag": lc.mag[mask],
                "magerr": lc.magerr[mask],
                "jd": lc.jd[mask],
            }
        return params, curve, folded, epoch

"""Point-source point-lens (PSPL) microlensing fit with pyLIMA.

`MicrolensingFitter` (kind ``'microlensing'``) gives each band its own pyLIMA telescope (so
each band has its own source and blend flux) and fits the Paczynski parameters t0, u0, tE with
pyLIMA's Levenberg-Marquardt or Trust Region Reflective fit: seconds at most, where an MCMC
would take minutes and belongs to a later, explicit option.

pyLIMA works in flux with the zero point 27.4 (``flux = 10**((27.4 - mag) / 2.5)``); the
source and blend fluxes reported here use that convention, and the baseline magnitudes are
given beside them.

Test and benchmark data: the microlensing event Gaia21dnc (ZTF18abktckv). Credit: ZTF forced
photometry service (Masci et al. 2019), Gaia Science Alerts (ESA/Gaia/DPAC, Hodgkin et al.
2021) and ASAS-SN (Shappee et al. 2014; Kochanek et al. 2017), as gathered in Fink's tutorials.
"""

from __future__ import annotations

import contextlib
import io
import threading
from typing import Any, ClassVar

import numpy as np

from fits.fitters.base import (
    FitError,
    FitParameterError,
    FitResult,
    Fitter,
    LightCurve,
    Option,
)

__all__ = ["MicrolensingFitter", "pspl_magnification"]

#: pyLIMA's magnitude zero point for fluxes.
PYLIMA_ZERO_POINT = 27.4
#: Points in the plotted model curve (half over the data span, half around the peak).
CURVE_POINTS = 1000

_MANAGER_LOCK = threading.Lock()


def pspl_magnification(jd: np.ndarray, t0: float, u0: float, te: float) -> np.ndarray:
    """Paczynski magnification A = (u^2 + 2) / (u sqrt(u^2 + 4)), u^2 = u0^2 + ((t - t0) / tE)^2."""
    u2 = u0**2 + ((np.asarray(jd, dtype=float) - t0) / te) ** 2
    return (u2 + 2.0) / np.sqrt(u2 * (u2 + 4.0))


class _PlainManager:
    """Stands in for multiprocessing.Manager while pyLIMA builds a fit object.

    pyLIMA's MLfit keeps its trial lists in ``Manager().list()``, which starts a server process:
    0.15 s per fit (more than the LM fit itself) and an AssertionError inside daemonic worker
    processes. The LM and TRF fits never touch those lists, so plain lists do.
    """

    @staticmethod
    def list() -> list:
        return []


@contextlib.contextmanager
def _quiet_pylima():
    """Build and run pyLIMA fits without a Manager process and without its prints on stdout."""
    from pyLIMA.fits import ML_fit

    with _MANAGER_LOCK:
        original = ML_fit.Manager
        ML_fit.Manager = lambda: _PlainManager()
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                yield
        finally:
            ML_fit.Manager = original


class MicrolensingFitter(Fitter):
    """PSPL fit of a multiband light curve: one pyLIMA telescope per band.

    Options: ``method`` (LM or TRF), ``blend`` (fit a blend flux per band), and optionally a
    starting point ``t0``, ``u0``, ``tE`` (all three) when pyLIMA's own guess fails.

    Result: ``params`` t0, u0, tE, A_max and, per band, fsource, fblend, blend_ratio and
    baseline_mag; ``errors`` from pyLIMA's covariance; ``stats`` chi2 (in flux, pyLIMA's),
    dof, rms_residual_mag; ``model`` the model curve per band on ``curve['jd']`` and the
    residuals per band.
    """

    kind = "microlensing"
    options_schema: ClassVar[dict[str, Option]] = {
        "method": Option(str, "LM", choices=("LM", "TRF")),
        "blend": Option(bool, True),
        "t0": Option(float, None),
        "u0": Option(float, None, 1e-6, 10.0),
        "tE": Option(float, None, 0.01, 5000.0),
    }
    min_points = 10

    def _fit(self, lightcurve: LightCurve, options: dict[str, Any]) -> FitResult:
        from pyLIMA import event, telescopes
        from pyLIMA.fits import LM_fit, TRF_fit
        from pyLIMA.models import PSPL_model

        lc = lightcurve.cleaned()
        bands = [b for b in lc.bands if np.sum(lc.band == b) >= 3]
        lc = lc.select(np.isin(lc.band, bands))
        n_params = 3 + len(bands) * (2 if options["blend"] else 1)
        self.check_points(lc, max(self.min_points, n_params + 2))
        guesses = [options[k] for k in ("t0", "u0", "tE")]
        if any(g is not None for g in guesses) and any(g is None for g in guesses):
            raise FitParameterError("t0", "give all of t0, u0 and tE as a starting point, or none")

        with _quiet_pylima():
            lensing_event = event.Event(**self._coordinates(lc))
            lensing_event.name = str(lc.name or "event")
            for band in bands:
                mask = lc.band == band
                lensing_event.telescopes.append(
                    telescopes.Telescope(
                        name=f"ZTF_{band}",
                        camera_filter=band,
                        lightcurve=np.column_stack([lc.jd[mask], lc.mag[mask], lc.magerr[mask]]),
                        lightcurve_names=["time", "mag", "err_mag"],
                        lightcurve_units=["JD", "mag", "mag"],
                    )
                )
            lensing_event.check_event()
            model = PSPL_model.PSPLmodel(
                lensing_event, blend_flux_parameter="fblend" if options["blend"] else "noblend"
            )
            fit_class = LM_fit.LMfit if options["method"] == "LM" else TRF_fit.TRFfit
            fit = fit_class(model)
            if guesses[0] is not None:
                fit.model_parameters_guess = guesses
            try:
                fit.fit()
            except (ValueError, ArithmeticError, np.linalg.LinAlgError, RuntimeError) as exc:
                # pyLIMA's starting-point search divides by the light curve's variation.
                raise FitError(f"pyLIMA {options['method']} fit failed: {exc!r}") from exc
        if not fit.fit_results:
            raise FitError("pyLIMA found no starting point: give t0, u0 and tE")

        names = list(fit.fit_parameters.keys())
        best = np.asarray(fit.fit_results["best_model"], dtype=float)
        sigma = np.sqrt(np.clip(np.diag(fit.fit_results["covariance_matrix"]), 0, None))
        values = dict(zip(names, best))
        errors = dict(zip(names, sigma))
        # PSPL depends on |u0| only; LM, being unbounded, may land on the negative twin.
        values["u0"] = abs(values["u0"])
        self._check_event(lc, values)

        params: dict[str, float] = {"t0": values["t0"], "u0": values["u0"], "tE": values["tE"]}
        params["A_max"] = float(
            pspl_magnification(values["t0"], values["t0"], values["u0"], values["tE"])
        )
        residuals: dict[str, Any] = {}
        curve_jd = self._curve_times(lc, values["t0"], values["tE"])
        curve: dict[str, Any] = {"jd": curve_jd}
        for band in bands:
            fs = values[f"fsource_ZTF_{band}"]
            fb = values.get(f"fblend_ZTF_{band}", 0.0)
            params[f"fsource_{band}"] = fs
            params[f"fblend_{band}"] = fb
            params[f"blend_ratio_{band}"] = fb / fs if fs else float("nan")
            params[f"baseline_mag_{band}"] = self._mag(fs + fb)
            for key in ("fsource", "fblend"):
                if f"{key}_ZTF_{band}" in errors:
                    errors[f"{key}_{band}"] = errors.pop(f"{key}_ZTF_{band}")
            mask = lc.band == band
            model_mag = self._mag(
                fs * pspl_magnification(lc.jd[mask], values["t0"], values["u0"], values["tE"]) + fb
            )
            residuals[band] = {"jd": lc.jd[mask], "residual": lc.mag[mask] - model_mag}
            curve[band] = self._mag(
                fs * pspl_magnification(curve_jd, values["t0"], values["u0"], values["tE"]) + fb
            )
        errors = {k: float(v) for k, v in errors.items()}

        chi2 = float(fit.fit_results["chi2"])
        dof = len(lc) - len(names)
        all_residuals = np.concatenate([r["residual"] for r in residuals.values()])
        stats = {
            "chi2": chi2,
            "dof": dof,
            "chi2_red": chi2 / dof if dof > 0 else None,
            "n_points": len(lc),
            "n_bands": len(bands),
            "method": options["method"],
            "pylima_fit_time_s": float(fit.fit_results["fit_time"]),
            "rms_residual_mag": float(np.sqrt(np.mean(all_residuals**2))),
        }
        return FitResult(
            kind=self.kind,
            params=params,
            errors=errors,
            stats=stats,
            model={"curve": curve, "residuals": residuals},
        )

    @staticmethod
    def _check_event(lc: LightCurve, values: dict[str, float]) -> None:
        """Refuse a "best" PSPL that describes no event, rather than store nonsense.

        On a light curve without a lensing event the least squares still ends somewhere: a
        peak years away from the data, or u0 so large that the magnification stays below 0.5%.
        """
        span = float(np.ptp(lc.jd))
        if not (lc.jd.min() - span <= values["t0"] <= lc.jd.max() + span):
            raise FitError(
                f"no microlensing event found: the best PSPL peaks at t0={values['t0']:.1f}, "
                "far outside the observations"
            )
        if values["u0"] > 10 or values["tE"] > 10 * max(span, 1.0):
            raise FitError(
                f"no microlensing event found: the best PSPL (u0={values['u0']:.3g}, "
                f"tE={values['tE']:.3g} d) barely magnifies the source"
            )

    @staticmethod
    def _coordinates(lc: LightCurve) -> dict[str, float]:
        """Median ra/dec when known (pyLIMA needs them only for parallax, unused here)."""
        if "ra" in lc.extra and "dec" in lc.extra and np.isfinite(lc.extra["ra"]).any():
            return {
                "ra": float(np.nanmedian(lc.extra["ra"])),
                "dec": float(np.nanmedian(lc.extra["dec"])),
            }
        return {}

    @staticmethod
    def _mag(flux: Any) -> Any:
        with np.errstate(invalid="ignore", divide="ignore"):
            return PYLIMA_ZERO_POINT - 2.5 * np.log10(flux)

    @staticmethod
    def _curve_times(lc: LightCurve, t0: float, te: float) -> np.ndarray:
        """Times for the plotted model: the whole data span, denser within 3 tE of the peak."""
        half = CURVE_POINTS // 2
        span = np.linspace(lc.jd.min(), lc.jd.max(), half)
        peak = np.linspace(t0 - 3 * te, t0 + 3 * te, CURVE_POINTS - half)
        return np.unique(np.concatenate([span, peak]))

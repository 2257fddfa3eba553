"""Asteroid phase curves: HG, HG1G2 and sHG1G2 fits of reduced magnitudes.

`PhaseCurveFitter` (kind ``'phase_curve'``) fits the reduced magnitude
``m - 5 log10(Dobs * Dhelio)`` against the phase angle with, per band:

- ``HG``: ``H - 2.5 log10((1 - G) phi1 + G phi2)`` (Bowell et al. 1989, the smoothed IAU form);
- ``HG1G2``: ``H - 2.5 log10(G1 phi1 + G2 phi2 + (1 - G1 - G2) phi3)`` (Muinonen et al. 2010);
- ``SHG1G2``: HG1G2 plus the aspect term ``2.5 log10(1 - (1 - R) |cos Lambda|)`` of Carry et al.
  2024, with Lambda the angle between the line of sight and a spin axis (alpha0, delta0) shared
  by all bands, and R the oblateness.

The basis functions are written here from the published node values (the same as sbpy's), so
the fit needs neither sbpy nor fink-utils; the tests compare it with fink-utils' fit when that
one imports. Like Fink's own fits, residuals are unweighted by default: an asteroid's rotation
(0.1-0.5 mag) scatters its points more than their photometric errors say, so 1/sigma^2 weights
would only favour the brightest epochs.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from scipy.interpolate import CubicSpline
from scipy.optimize import least_squares

from fits.fitters.base import (
    FitError,
    FitParameterError,
    FitResult,
    Fitter,
    LightCurve,
    Option,
)

__all__ = [
    "PhaseCurveFitter",
    "hg1g2_basis",
    "hg_basis",
    "reduced_magnitude",
    "spin_term",
]

MODELS = ("HG", "HG1G2", "SHG1G2")
#: Model curve sampling, in degrees of phase angle.
CURVE_POINTS = 200

# HG basis constants (Bowell et al. 1989, Eq. A4, as in sbpy).
_HG_A = (3.332, 1.862)
_HG_B = (0.631, 1.218)
_HG_C = (0.986, 0.238)


def hg_basis(alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """phi1, phi2 of the HG system at phase angles `alpha` (radians)."""
    alpha = np.asarray(alpha, dtype=float)
    sin_a = np.sin(alpha)
    tan_half = np.tan(alpha / 2.0)
    # Blend of the small-angle (S) and large-angle (L) forms, weight w -> 1 at opposition.
    w = np.exp(-90.56 * tan_half**2)
    out = []
    for a, b, c in zip(_HG_A, _HG_B, _HG_C):
        phi_s = 1.0 - c * sin_a / (0.119 + 1.341 * sin_a - 0.754 * sin_a**2)
        phi_l = np.exp(-a * tan_half**b)
        out.append(w * phi_s + (1.0 - w) * phi_l)
    return out[0], out[1]


class _ClampedSpline:
    """Cubic spline through nodes with given end slopes, linear beyond, clipped at zero.

    This is the construction of Muinonen et al. (2010) for the HG1G2 basis functions.
    """

    def __init__(self, nodes_deg: list[float], values: list[float], slopes: tuple[float, float]):
        self.x = np.deg2rad(nodes_deg)
        self.y = np.asarray(values, dtype=float)
        self.slopes = slopes
        self.spline = CubicSpline(self.x, self.y, bc_type=((1, slopes[0]), (1, slopes[1])))

    def __call__(self, alpha: np.ndarray) -> np.ndarray:
        alpha = np.asarray(alpha, dtype=float)
        out = self.spline(np.clip(alpha, self.x[0], self.x[-1]))
        below, above = alpha < self.x[0], alpha > self.x[-1]
        out[below] = self.y[0] + self.slopes[0] * (alpha[below] - self.x[0])
        out[above] = self.y[-1] + self.slopes[1] * (alpha[above] - self.x[-1])
        return np.clip(out, 0.0, None)


_PHI1 = _ClampedSpline(
    [7.5, 30.0, 60.0, 90.0, 120.0, 150.0],
    [7.5e-1, 3.3486016e-1, 1.3410560e-1, 5.1104756e-2, 2.1465687e-2, 3.6396989e-3],
    (-1.9098593, -9.1328612e-2),
)
_PHI2 = _ClampedSpline(
    [7.5, 30.0, 60.0, 90.0, 120.0, 150.0],
    [9.25e-1, 6.2884169e-1, 3.1755495e-1, 1.2716367e-1, 2.2373903e-2, 1.6505689e-4],
    (-5.7295780e-1, -8.6573138e-8),
)
_PHI3 = _ClampedSpline(
    [0.0, 0.3, 1.0, 2.0, 4.0, 8.0, 12.0, 20.0, 30.0],
    [
        1.0,
        8.3381185e-1,
        5.7735424e-1,
        4.2144772e-1,
        2.3174230e-1,
        1.0348178e-1,
        6.1733473e-2,
        1.6107006e-2,
        0.0,
    ],
    (-1.0630097, 0.0),
)


def hg1g2_basis(alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """phi1, phi2, phi3 of the HG1G2 system at phase angles `alpha` (radians)."""
    return _PHI1(alpha), _PHI2(alpha), _PHI3(alpha)


def reduced_magnitude(mag: np.ndarray, dobs: np.ndarray, dhelio: np.ndarray) -> np.ndarray:
    """Magnitude brought to 1 au from the Sun and the observer: m - 5 log10(Dobs Dhelio)."""
    return np.asarray(mag) - 5.0 * np.log10(np.asarray(dobs) * np.asarray(dhelio))


def spin_term(
    ra: np.ndarray, dec: np.ndarray, alpha0: float, delta0: float, oblateness: float
) -> np.ndarray:
    """sHG1G2 aspect correction 2.5 log10(1 - (1 - R)|cos Lambda|), all angles in radians."""
    cos_aspect = np.sin(dec) * np.sin(delta0) + np.cos(dec) * np.cos(delta0) * np.cos(ra - alpha0)
    return 2.5 * np.log10(1.0 - (1.0 - oblateness) * np.abs(cos_aspect))


def _g1_g2(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Map the unit square onto the physical triangle G1, G2 >= 0, G1 + G2 <= 1."""
    return a, b * (1.0 - a)


class PhaseCurveFitter(Fitter):
    """HG, HG1G2 or sHG1G2 fit of an asteroid's multiband phase curve.

    Needs ``extra`` ephemerides ``phase`` (deg), ``dobs`` and ``dhelio`` (au), and ``ra``/``dec``
    (deg) for sHG1G2. Options: ``model`` and ``weighted`` (1/sigma residuals; off, as in Fink).
    G1 and G2 are kept in their physical triangle (G1, G2 >= 0, G1 + G2 <= 1); sHG1G2's R is in
    [0.3, 1] and its spin axis is reported in the northern hemisphere (its antipode fits alike).

    Result: ``params`` H_<band> with G_<band> or G1_<band>/G2_<band>, plus R, alpha0, delta0
    (deg) for sHG1G2; ``errors`` from the Jacobian; ``stats`` rms and rms_<band> (mag), chi2,
    dof, phase range, dropped_bands; ``model`` the phase-function curve and the points (reduced
    magnitudes, aspect-corrected for sHG1G2) per band.
    """

    kind = "phase_curve"
    options_schema: ClassVar[dict[str, Option]] = {
        "model": Option(str, "HG1G2", choices=MODELS),
        "weighted": Option(bool, False),
    }
    min_points = 5

    #: Free parameters per band, and shared ones.
    _PER_BAND: ClassVar[dict[str, int]] = {"HG": 2, "HG1G2": 3, "SHG1G2": 3}
    _SHARED: ClassVar[dict[str, int]] = {"HG": 0, "HG1G2": 0, "SHG1G2": 3}

    def _fit(self, lightcurve: LightCurve, options: dict[str, Any]) -> FitResult:
        model_name = options["model"]
        required = ["phase", "dobs", "dhelio"] + (["ra", "dec"] if model_name == "SHG1G2" else [])
        missing = [k for k in required if k not in lightcurve.extra]
        if missing:
            raise FitParameterError(
                "lightcurve",
                f"the {model_name} fit needs ephemerides {', '.join(missing)} for every point",
            )
        lc = lightcurve.cleaned(*required)
        # A band with fewer points than its own parameters cannot constrain them: drop it.
        per_band = self._PER_BAND[model_name]
        kept = [b for b in lc.bands if np.sum(lc.band == b) > per_band]
        dropped = [b for b in lc.bands if b not in kept]
        lc = lc.select(np.isin(lc.band, kept))
        n_params = per_band * len(kept) + self._SHARED[model_name]
        self.check_points(lc, max(self.min_points, n_params + 2))

        alpha = np.deg2rad(lc.extra["phase"])
        y = reduced_magnitude(lc.mag, lc.extra["dobs"], lc.extra["dhelio"])
        band_index = np.array([kept.index(b) for b in lc.band])
        ra = np.deg2rad(lc.extra["ra"]) if model_name == "SHG1G2" else None
        dec = np.deg2rad(lc.extra["dec"]) if model_name == "SHG1G2" else None
        basis = hg_basis(alpha) if model_name == "HG" else hg1g2_basis(alpha)
        weights = 1.0 / lc.magerr if options["weighted"] else np.ones(len(lc))

        def predict(x: np.ndarray) -> np.ndarray:
            blocks = x[: per_band * len(kept)].reshape(len(kept), per_band)[band_index]
            return self._magnitude(model_name, blocks, basis, ra, dec, x[per_band * len(kept) :])

        def residuals(x: np.ndarray) -> np.ndarray:
            return (predict(x) - y) * weights

        best = None
        for x0, lower, upper in self._starts(model_name, kept, y, band_index):
            fit = least_squares(residuals, x0, bounds=(lower, upper), loss="soft_l1", x_scale="jac")
            if best is None or fit.cost < best.cost:
                best = fit
        if best is None or not best.success:
            raise FitError(
                f"{model_name} least-squares fit did not converge: {best.message if best else ''}"
            )

        params, errors = self._physical(model_name, kept, best)
        model_values = predict(best.x)
        resid = y - model_values
        chi2 = float(np.sum((resid / lc.magerr) ** 2))
        dof = len(lc) - n_params
        stats: dict[str, Any] = {
            "chi2": chi2,
            "dof": dof,
            "chi2_red": chi2 / dof if dof > 0 else None,
            "rms": float(np.sqrt(np.mean(resid**2))),
            "n_points": len(lc),
            "phase_min_deg": float(np.min(lc.extra["phase"])),
            "phase_max_deg": float(np.max(lc.extra["phase"])),
            "status": int(best.status),
            "dropped_bands": dropped,
        }
        for band in kept:
            mask = lc.band == band
            stats[f"rms_{band}"] = float(np.sqrt(np.mean(resid[mask] ** 2)))
            stats[f"n_points_{band}"] = int(mask.sum())
        return FitResult(
            kind=self.kind,
            params=params,
            errors=errors,
            stats=stats,
            model=self._plot(model_name, kept, lc, y, resid, best.x, per_band, ra, dec),
        )

    @staticmethod
    def _magnitude(
        model_name: str,
        blocks: np.ndarray,
        basis: tuple[np.ndarray, ...],
        ra: np.ndarray | None,
        dec: np.ndarray | None,
        shared: np.ndarray,
    ) -> np.ndarray:
        """Reduced magnitude of each point; `blocks` holds its band's parameters row by row."""
        h = blocks[:, 0]
        if model_name == "HG":
            g = blocks[:, 1]
            flux = (1.0 - g) * basis[0] + g * basis[1]
        else:
            g1, g2 = _g1_g2(blocks[:, 1], blocks[:, 2])
            flux = g1 * basis[0] + g2 * basis[1] + (1.0 - g1 - g2) * basis[2]
        mag = h - 2.5 * np.log10(np.clip(flux, 1e-12, None))
        if model_name == "SHG1G2":
            oblateness, alpha0, delta0 = shared
            mag = mag + spin_term(ra, dec, alpha0, delta0, oblateness)
        return mag

    @staticmethod
    def _starts(model_name: str, bands: list[str], y: np.ndarray, band_index: np.ndarray):
        """Starting points and bounds; several spin axes for sHG1G2, whose fit has local minima."""
        per_band_start, per_band_lower, per_band_upper = [], [], []
        for i in range(len(bands)):
            # H starts at the band's faintest-phase-free level: its median reduced magnitude.
            h0 = float(np.median(y[band_index == i]))
            if model_name == "HG":
                per_band_start += [h0, 0.15]
                per_band_lower += [-3.0, 0.0]
                per_band_upper += [30.0, 1.0]
            else:
                # (a, b) on the unit square map to G1 = a, G2 = b (1 - a): start at G1 = G2 = 0.3.
                per_band_start += [h0, 0.3, 0.3 / 0.7]
                per_band_lower += [-3.0, 0.0, 0.0]
                per_band_upper += [30.0, 1.0, 1.0]
        if model_name != "SHG1G2":
            yield np.array(per_band_start), np.array(per_band_lower), np.array(per_band_upper)
            return
        lower = np.array(per_band_lower + [0.3, 0.0, -np.pi / 2])
        upper = np.array(per_band_upper + [1.0, 2 * np.pi, np.pi / 2])
        # (alpha0, delta0) and its antipode give the same |cos Lambda|: one hemisphere of starts.
        for alpha0 in np.deg2rad([0.0, 90.0, 180.0, 270.0]):
            for delta0 in np.deg2rad([20.0, 60.0]):
                yield np.array(per_band_start + [0.8, alpha0, delta0]), lower, upper

    @staticmethod
    def _physical(
        model_name: str, bands: list[str], fit: Any
    ) -> tuple[dict[str, float], dict[str, float]]:
        """Named physical parameters and 1-sigma errors from the fit's Jacobian.

        The covariance is (J^T J)^-1 scaled by the residual variance (as Fink does), carried
        through the (a, b) -> (G1, G2) map with its own Jacobian.
        """
        x = fit.x
        per_band = PhaseCurveFitter._PER_BAND[model_name]
        dof = max(len(fit.fun) - len(x), 1)
        try:
            cov = np.linalg.pinv(fit.jac.T @ fit.jac) * (np.sum(fit.fun**2) / dof)
        except np.linalg.LinAlgError:
            cov = np.full((len(x), len(x)), np.nan)
        # Jacobian of physical parameters with respect to fitted ones.
        jac = np.eye(len(x))
        names: list[str] = []
        for i, band in enumerate(bands):
            k = i * per_band
            if model_name == "HG":
                names += [f"H_{band}", f"G_{band}"]
            else:
                a, b = x[k + 1], x[k + 2]
                jac[k + 2, k + 1], jac[k + 2, k + 2] = -b, 1.0 - a
                names += [f"H_{band}", f"G1_{band}", f"G2_{band}"]
        values = x.copy()
        for i in range(len(bands)):
            if model_name != "HG":
                k = i * per_band
                values[k + 1], values[k + 2] = _g1_g2(x[k + 1], x[k + 2])
        if model_name == "SHG1G2":
            names += ["R", "alpha0", "delta0"]
        sigma = np.sqrt(np.clip(np.diag(jac @ cov @ jac.T), 0.0, None))
        params = dict(zip(names, (float(v) for v in values)))
        errors = dict(zip(names, (float(s) for s in sigma)))
        if model_name == "SHG1G2":
            alpha0, delta0 = params["alpha0"], params["delta0"]
            # Report the pole in the northern hemisphere: the antipode fits identically.
            if delta0 < 0:
                alpha0, delta0 = alpha0 + np.pi, -delta0
            params["alpha0"] = float(np.degrees(alpha0 % (2 * np.pi)))
            params["delta0"] = float(np.degrees(delta0))
            errors["alpha0"] = float(np.degrees(errors["alpha0"]))
            errors["delta0"] = float(np.degrees(errors["delta0"]))
        return params, errors

    def _plot(
        self,
        model_name: str,
        bands: list[str],
        lc: LightCurve,
        y: np.ndarray,
        resid: np.ndarray,
        x: np.ndarray,
        per_band: int,
        ra: np.ndarray | None,
        dec: np.ndarray | None,
    ) -> dict[str, Any]:
        """Per band: the phase function curve, and the points (aspect-corrected for sHG1G2)."""
        phase_deg = np.linspace(
            0.0, max(float(np.max(lc.extra["phase"])) * 1.05, 1.0), CURVE_POINTS
        )
        alpha = np.deg2rad(phase_deg)
        basis = hg_basis(alpha) if model_name == "HG" else hg1g2_basis(alpha)
        aspect = np.zeros(len(lc))
        if model_name == "SHG1G2":
            oblateness, alpha0, delta0 = x[-3:]
            aspect = spin_term(ra, dec, alpha0, delta0, oblateness)
        out: dict[str, Any] = {"curve": {}, "points": {}}
        for i, band in enumerate(bands):
            block = np.tile(x[i * per_band : (i + 1) * per_band], (CURVE_POINTS, 1))
            # The curve is the phase function alone; points lose their aspect term to match it.
            curve = self._magnitude(
                "HG" if model_name == "HG" else "HG1G2", block, basis, None, None, np.array([])
            )
            out["curve"][band] = {"phase": phase_deg, "mag_red": curve}
            mask = lc.band == band
            out["points"][band] = {
                "jd": lc.jd[mask],
                "phase": lc.extra["phase"][mask],
                "mag_red": y[mask] - aspect[mask],
                "magerr": lc.magerr[mask],
                "residual": resid[mask],
            }
        return out

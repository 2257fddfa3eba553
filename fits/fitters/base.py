"""The fitter interface: light curves in, JSON-safe fit results out.

Django-free on purpose: a fitter is a plain class that a Celery task, a view, a benchmark or a
notebook can call the same way::

    fitter = get_fitter("period")
    result = fitter.fit(LightCurve.from_alert_rows(rows), period_max=2.0)
    payload = result.to_json()

A new fitter is one new module with one `Fitter` subclass, listed by dotted path in
`DEFAULT_FITTERS` (or in the ``FITTERS`` setting that the Django app passes to `get_fitter`).
"""

from __future__ import annotations

import importlib
import math
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, NamedTuple

import numpy as np
from threadpoolctl import ThreadpoolController

from alerts.derived import dc_mag, mag_to_flux

#: Fitters known without any setting; the Django settings may pass another list (``FITTERS``).
DEFAULT_FITTERS: tuple[str, ...] = (
    "fits.fitters.period.PeriodFitter",
    "fits.fitters.microlensing.MicrolensingFitter",
    "fits.fitters.phase_curve.PhaseCurveFitter",
)

#: ZTF filter ids.
FID_TO_BAND: dict[int, str] = {1: "g", 2: "r", 3: "i"}

# Ephemeris columns as Fink's SSO API (``withEphem``) and its aggregated files name them,
# mapped to the LightCurve.extra keys the phase-curve fitter reads.
_EPHEMERIS_COLUMNS: dict[str, str] = {
    "Phase": "phase",
    "Dobs": "dobs",
    "Dhelio": "dhelio",
    "RA": "ra_ephem",
    "DEC": "dec_ephem",
    "Elong": "elong",
}

# Beyond this distance (arcsec) the nearest reference source is not the object itself, so a DC
# magnitude would add an unrelated star's flux (Fink's portal uses the same 1.5" rule).
_DC_MAX_DISTNR = 1.5


class FitParameterError(ValueError):
    """A user-supplied option or light curve cannot be fitted; the message names the culprit.

    Attributes
    ----------
    parameter : str
        Name of the offending option (``"period_min"``, ``"model"``) or ``"lightcurve"``.
    """

    def __init__(self, parameter: str, message: str) -> None:
        self.parameter = parameter
        super().__init__(f"{parameter}: {message}")


class FitError(RuntimeError):
    """A fit was attempted with valid input but did not produce a usable result."""


class Option(NamedTuple):
    """One user option of a fitter: ``(type, default, min, max)``, plus allowed choices.

    ``min``/``max`` are inclusive bounds for numbers (None: unbounded). A default of None
    means the option is optional and None is accepted.
    """

    type: type
    default: Any
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] | None = None


# --------------------------------------------------------------------------------------------
# Light curves
# --------------------------------------------------------------------------------------------


def _band_names(band: Any) -> np.ndarray:
    """Normalise bands given as fid ints (1/2/3) or names to an array of 'g'/'r'/'i' strings."""
    values = np.asarray(band)
    if values.dtype.kind in "iuf":
        return np.array([FID_TO_BAND.get(int(v), str(int(v))) for v in values], dtype=object)
    out = []
    for v in values:
        text = str(v).strip()
        out.append(FID_TO_BAND.get(int(text), text) if text.isdigit() else text)
    return np.array(out, dtype=object)


def _column(row: Mapping[str, Any], name: str) -> Any:
    """A field of a portal row, whether named ``i:jd`` or plain ``jd``."""
    if name in row:
        return row[name]
    plain = name.split(":", 1)[-1]
    return row.get(plain)


def _floats(values: Iterable[Any]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


@dataclass
class LightCurve:
    """Photometric points of one object, as numpy arrays of equal length.

    Attributes
    ----------
    jd : ndarray
        Julian dates of the observations.
    mag, magerr : ndarray
        Magnitudes and their 1-sigma errors.
    band : ndarray of str
        'g', 'r' or 'i' (fid ints 1/2/3 are accepted and converted).
    flux, fluxerr : ndarray, optional
        Signed difference fluxes (uJy) where known.
    extra : dict of str to ndarray
        Further per-point columns, e.g. ephemerides ``phase`` (deg), ``dobs`` and ``dhelio``
        (au), ``ra``/``dec`` (deg).
    name : str, optional
        objectId or asteroid name, for messages and results.
    """

    jd: np.ndarray
    mag: np.ndarray
    magerr: np.ndarray
    band: np.ndarray
    flux: np.ndarray | None = None
    fluxerr: np.ndarray | None = None
    extra: dict[str, np.ndarray] = field(default_factory=dict)
    name: str | None = None

    def __post_init__(self) -> None:
        self.jd = np.asarray(self.jd, dtype=float)
        self.mag = np.asarray(self.mag, dtype=float)
        self.magerr = np.asarray(self.magerr, dtype=float)
        self.band = _band_names(self.band)
        if self.flux is not None:
            self.flux = np.asarray(self.flux, dtype=float)
        if self.fluxerr is not None:
            self.fluxerr = np.asarray(self.fluxerr, dtype=float)
        self.extra = {k: np.asarray(v, dtype=float) for k, v in self.extra.items()}
        n = self.jd.shape[0]
        columns = {"mag": self.mag, "magerr": self.magerr, "band": self.band}
        columns.update(
            {k: v for k, v in (("flux", self.flux), ("fluxerr", self.fluxerr)) if v is not None}
        )
        columns.update(self.extra)
        for key, values in columns.items():
            if values.shape != (n,):
                raise ValueError(f"LightCurve.{key} has shape {values.shape}, expected ({n},)")

    def __len__(self) -> int:
        return int(self.jd.shape[0])

    @property
    def bands(self) -> list[str]:
        """The distinct bands, in g, r, i order."""
        order = {"g": 0, "r": 1, "i": 2}
        return sorted(set(self.band.tolist()), key=lambda b: (order.get(b, 9), b))

    def select(self, mask: np.ndarray) -> LightCurve:
        """A new light curve with the points where `mask` (boolean or index array) selects."""
        return LightCurve(
            jd=self.jd[mask],
            mag=self.mag[mask],
            magerr=self.magerr[mask],
            band=self.band[mask],
            flux=None if self.flux is None else self.flux[mask],
            fluxerr=None if self.fluxerr is None else self.fluxerr[mask],
            extra={k: v[mask] for k, v in self.extra.items()},
            name=self.name,
        )

    def cleaned(self, *required_extra: str) -> LightCurve:
        """Time-sorted copy without points whose jd, mag, magerr or a required extra is not finite.

        Errors that are zero or negative are dropped too: they would get infinite weight.
        """
        keep = np.isfinite(self.jd) & np.isfinite(self.mag) & np.isfinite(self.magerr)
        keep &= self.magerr > 0
        for key in required_extra:
            keep &= np.isfinite(self.extra[key])
        index = np.flatnonzero(keep)
        return self.select(index[np.argsort(self.jd[index], kind="stable")])

    @classmethod
    def from_alert_rows(
        cls,
        rows: Sequence[Mapping[str, Any]],
        *,
        magnitude: str = "auto",
        name: str | None = None,
    ) -> LightCurve:
        """Build a light curve from alert rows in the portal's column naming.

        Parameters
        ----------
        rows : sequence of mappings
            One mapping per detection with ``i:jd``, ``i:magpsf``, ``i:sigmapsf``, ``i:fid``
            (plain names ``jd``... are accepted too) and, for DC magnitudes, ``i:magnr``,
            ``i:sigmagnr``, ``i:isdiffpos``, ``i:distnr``. Rows without ``magpsf`` (upper
            limits) are skipped. Ephemeris columns (``Phase``, ``Dobs``, ``Dhelio``, ``RA``,
            ``DEC``) and ``i:ra``/``i:dec`` go to `extra`.
        magnitude : {'auto', 'dc', 'psf'}
            'psf' keeps the difference magnitude ``magpsf``. 'dc' gives the apparent magnitude
            of the source (reference flux plus signed difference flux): the right one for a
            variable star, whose difference flux changes sign around the reference level.
            'auto' uses DC when the object sits on a reference source (median ``distnr`` below
            1.5 arcsec with ``magnr`` known), else PSF.
        name : str, optional
            Defaults to the rows' ``i:objectId``.

        Returns
        -------
        LightCurve
        """
        if magnitude not in ("auto", "dc", "psf"):
            raise FitParameterError(
                "magnitude", f"must be 'auto', 'dc' or 'psf', got {magnitude!r}"
            )
        rows = [r for r in rows if _column(r, "i:magpsf") is not None]

        def col(key: str) -> np.ndarray:
            return _floats(_column(r, key) for r in rows)

        jd, magpsf, sigmapsf = col("i:jd"), col("i:magpsf"), col("i:sigmapsf")
        fid = np.array([_column(r, "i:fid") or 0 for r in rows], dtype=int)
        isdiffpos = [_column(r, "i:isdiffpos") or "t" for r in rows]
        flux, fluxerr = mag_to_flux(magpsf, sigmapsf, isdiffpos)
        mag, magerr = magpsf, sigmapsf
        if magnitude != "psf" and rows:
            magnr, distnr = col("i:magnr"), col("i:distnr")
            on_source = np.isfinite(magnr) & (magnr > 0)
            if magnitude == "auto":
                use_dc = (
                    bool(on_source.any())
                    and np.nanmedian(np.where(on_source, distnr, np.nan)) < _DC_MAX_DISTNR
                )
            else:
                use_dc = True
            if use_dc:
                mag, magerr = dc_mag(
                    fid, magpsf, sigmapsf, magnr, col("i:sigmagnr"), None, isdiffpos
                )
        extra: dict[str, np.ndarray] = {}
        if rows:
            for source, key in (("i:ra", "ra"), ("i:dec", "dec"), *_EPHEMERIS_COLUMNS.items()):
                if any(_column(r, source) is not None for r in rows):
                    extra[key] = col(source)
        if name is None and rows:
            name = _column(rows[0], "i:objectId") or _column(rows[0], "i:ssnamenr")
        return cls(
            jd=jd,
            mag=np.atleast_1d(mag),
            magerr=np.atleast_1d(magerr),
            band=fid,
            flux=np.atleast_1d(flux),
            fluxerr=np.atleast_1d(fluxerr),
            extra=extra,
            name=name,
        )

    @classmethod
    def from_sso_aggregate(cls, record: Mapping[str, Any]) -> LightCurve:
        """Build a light curve from one row of Fink's aggregated asteroid light curves.

        Parameters
        ----------
        record : mapping
            ``ssnamenr`` and list columns ``cjd``, ``cmagpsf``, ``csigmapsf``, ``cfid``,
            ``cra``, ``cdec`` and, when ephemerides were added, ``Phase``, ``Dobs``,
            ``Dhelio``, ``RA``, ``DEC``, ``Elong`` (None when absent).

        Returns
        -------
        LightCurve
        """
        extra = {"ra": record["cra"], "dec": record["cdec"]}
        for source, key in _EPHEMERIS_COLUMNS.items():
            if record.get(source) is not None:
                extra[key] = record[source]
        return cls(
            jd=record["cjd"],
            mag=record["cmagpsf"],
            magerr=record["csigmapsf"],
            band=np.asarray(record["cfid"], dtype=int),
            extra=extra,
            name=record.get("ssnamenr"),
        )


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


def _json_safe(value: Any) -> Any:
    """Plain Python values for JSON: lists for arrays, None for NaN/inf and missing values."""
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return [_json_safe(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, str):
        return value
    return str(value)


@dataclass
class FitResult:
    """What a fit gives back, ready to be stored and plotted.

    Attributes
    ----------
    kind : str
        The fitter's kind ('period', 'microlensing', 'phase_curve').
    params : dict of str to float
        Best-fit parameters.
    errors : dict of str to float
        1-sigma uncertainties, keyed like `params` (only those that are estimated).
    stats : dict
        Goodness of fit and bookkeeping: chi2, dof, n_points, duration_s, ...
    model : dict
        Arrays for plotting (model curve, folded light curve, periodogram, residuals...).
    options : dict
        The validated options the fit ran with, defaults included.
    """

    kind: str
    params: dict[str, float] = field(default_factory=dict)
    errors: dict[str, float] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    model: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The result as plain JSON-safe dicts and lists; NaN and infinities become None."""
        return _json_safe(
            {
                "kind": self.kind,
                "params": self.params,
                "errors": self.errors,
                "stats": self.stats,
                "model": self.model,
                "options": self.options,
            }
        )


# --------------------------------------------------------------------------------------------
# Fitters
# --------------------------------------------------------------------------------------------

_BLAS: ThreadpoolController | None = None


def _one_blas_thread() -> Any:
    """Context that keeps BLAS to one thread while a fit runs.

    Fits solve many small systems (a 1,500 x 9 SVD per step): BLAS threads bring nothing there,
    and on a busy machine their spin-waits made an sHG1G2 fit 10x slower (11 s against 1.1 s
    measured here). The controller is built once, as scanning the loaded libraries costs ~1 ms.
    """
    global _BLAS
    if _BLAS is None:
        _BLAS = ThreadpoolController()
    return _BLAS.limit(limits=1, user_api="blas")


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _cast(name: str, option: Option, value: Any) -> Any:
    """Cast a user value (possibly a form string) to the option's type, or raise."""
    kind = option.type
    try:
        if kind is bool:
            if isinstance(value, str):
                text = value.strip().lower()
                if text not in _TRUE | _FALSE:
                    raise ValueError
                return text in _TRUE
            if isinstance(value, (bool, np.bool_, int, np.integer)) and value in (0, 1):
                return bool(value)
            raise ValueError
        if kind is int:
            if isinstance(value, (bool, np.bool_)):
                raise ValueError
            number = float(value)
            if not number.is_integer():
                raise ValueError
            return int(number)
        if kind is float:
            if isinstance(value, (bool, np.bool_)):
                raise ValueError
            number = float(value)
            if not math.isfinite(number):
                raise ValueError
            return number
        if kind is str:
            text = str(value).strip()
            if option.choices:
                lowered = {c.lower(): c for c in option.choices}
                if text.lower() not in lowered:
                    raise FitParameterError(
                        name, f"must be one of {', '.join(option.choices)}, got {text!r}"
                    )
                return lowered[text.lower()]
            return text
        return kind(value)
    except (TypeError, ValueError) as exc:
        if isinstance(exc, FitParameterError):
            raise
        raise FitParameterError(name, f"expected {kind.__name__}, got {value!r}") from None


class Fitter(ABC):
    """Base class of every fitter.

    Subclasses set `kind`, `options_schema` and `min_points`, and implement `_fit`. Callers use
    `fit`, which validates the options and the light curve, times the fit and stamps the
    result with the options used.
    """

    kind: ClassVar[str]
    options_schema: ClassVar[dict[str, Option]] = {}
    #: Fewer usable points than this is a FitParameterError on ``lightcurve``.
    min_points: ClassVar[int] = 3

    def validate_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """Defaults filled in, values cast and range-checked.

        Raises
        ------
        FitParameterError
            For an unknown option, a value of the wrong type, out of range or not a choice.
        """
        unknown = sorted(set(options) - set(self.options_schema))
        if unknown:
            raise FitParameterError(
                unknown[0],
                f"unknown option for the {self.kind} fitter "
                f"(known: {', '.join(sorted(self.options_schema)) or 'none'})",
            )
        validated: dict[str, Any] = {}
        for name, option in self.options_schema.items():
            value = options.get(name, option.default)
            if value is None or (
                isinstance(value, str) and value.strip() == "" and option.default is None
            ):
                if option.default is not None:
                    raise FitParameterError(name, "must not be empty")
                validated[name] = None
                continue
            value = _cast(name, option, value)
            if option.min is not None and value < option.min:
                raise FitParameterError(name, f"must be >= {option.min}, got {value}")
            if option.max is not None and value > option.max:
                raise FitParameterError(name, f"must be <= {option.max}, got {value}")
            validated[name] = value
        return validated

    def check_points(self, lightcurve: LightCurve, minimum: int | None = None) -> None:
        """Raise FitParameterError when the light curve has too few points to fit."""
        minimum = self.min_points if minimum is None else minimum
        if len(lightcurve) < minimum:
            raise FitParameterError(
                "lightcurve",
                f"{len(lightcurve)} usable points, the {self.kind} fit needs at least {minimum}",
            )

    def fit(self, lightcurve: LightCurve, **options: Any) -> FitResult:
        """Fit `lightcurve` with `options` and return the result.

        Raises
        ------
        FitParameterError
            Bad options or an unusable light curve (too few points, missing columns).
        FitError
            The fit ran but failed.
        """
        validated = self.validate_options(options)
        start = time.perf_counter()
        try:
            with _one_blas_thread():
                result = self._fit(lightcurve, validated)
        except np.linalg.LinAlgError as exc:
            # A singular system means the data cannot constrain this model, not a bug to hide.
            raise FitError(f"{self.kind} fit failed on a singular system: {exc}") from exc
        result.stats["duration_s"] = time.perf_counter() - start
        result.options = validated
        return result

    @abstractmethod
    def _fit(self, lightcurve: LightCurve, options: dict[str, Any]) -> FitResult:
        """Do the fit with already validated options."""


def _import(path: str) -> type[Fitter]:
    module_name, _, attribute = path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise ImportError(f"cannot import fitter {path!r}: {exc}") from exc
    if not (isinstance(cls, type) and issubclass(cls, Fitter)):
        raise TypeError(f"{path!r} is not a Fitter subclass")
    return cls


def available_fitters(paths: Sequence[str] | None = None) -> dict[str, type[Fitter]]:
    """Fitter classes by kind, imported from dotted `paths` (default `DEFAULT_FITTERS`)."""
    classes = [_import(p) for p in (DEFAULT_FITTERS if paths is None else paths)]
    return {cls.kind: cls for cls in classes}


def get_fitter(kind: str, paths: Sequence[str] | None = None) -> Fitter:
    """A new instance of the fitter registered under `kind`.

    Parameters
    ----------
    kind : str
        'period', 'microlensing', 'phase_curve', or any kind among `paths`.
    paths : sequence of str, optional
        Dotted paths of Fitter classes (the ``FITTERS`` setting); default `DEFAULT_FITTERS`.

    Raises
    ------
    FitParameterError
        When no listed fitter has this kind.
    """
    known = []
    # Import in order and stop at the match: a period fit need not import pyLIMA.
    for path in DEFAULT_FITTERS if paths is None else paths:
        cls = _import(path)
        if cls.kind == kind:
            return cls()
        known.append(cls.kind)
    raise FitParameterError(
        "kind", f"unknown fit kind {kind!r} (known: {', '.join(sorted(known))})"
    )

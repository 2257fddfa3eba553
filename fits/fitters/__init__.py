"""Fitters: period search, microlensing (PSPL) and asteroid phase curves, free of Django.

`get_fitter(kind)` returns a fitter; `fitter.fit(LightCurve, **options)` returns a `FitResult`.
The names below are the package's public interface (``__all__``), defined in `fits.fitters.base`.
"""

from fits.fitters.base import (
    DEFAULT_FITTERS,
    FitError,
    FitParameterError,
    FitResult,
    Fitter,
    LightCurve,
    Option,
    available_fitters,
    get_fitter,
)

__all__ = [
    "DEFAULT_FITTERS",
    "FitError",
    "FitParameterError",
    "FitResult",
    "Fitter",
    "LightCurve",
    "Option",
    "available_fitters",
    "get_fitter",
]

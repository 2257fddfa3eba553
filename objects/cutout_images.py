"""A cutout stamp as a PNG: stretch, optional smoothing, colour map (the ``cutouts`` route).

Stretches follow Fink's ``cutouts`` route: ``sigmoid`` (the default) maps the image's
standardised values through a logistic function and ignores ``pmin``/``pmax``; ``linear``,
``sqrt``, ``power`` (exponent 2) and ``log`` map the pixel values between the ``pmin`` and
``pmax`` percentiles onto [0, 1] through that astropy stretch. Pixel rows are written in array
order (row 0 of the FITS image is the top row of the PNG), as Fink does.
"""
from __future__ import annotations

import io

import numpy as np

STRETCHES = ("sigmoid", "linear", "sqrt", "power", "log")
KERNELS = ("none", "gauss", "box")
DEFAULT_PMIN, DEFAULT_PMAX = 0.5, 99.5

# Smoothing kernels: a 1-pixel Gaussian (Fink's) and a 3-pixel box (a 1-pixel box, which Fink
# asks astropy for, leaves the image unchanged).
_GAUSS_STDDEV = 1.0
_BOX_WIDTH = 3


def colormap_names() -> list[str]:
    """The colour maps ``colormap`` may name (matplotlib's registry, reversed ``_r`` ones too)."""
    import matplotlib

    return sorted(matplotlib.colormaps)


def is_colormap(name: str) -> bool:
    import matplotlib

    return name in matplotlib.colormaps


def render_options_png(pixels: np.ndarray, options) -> bytes:
    """`render_png` with the options of a validated ``cutouts`` request (``CutoutsParams``):
    the API route and the page's stamp images draw alike."""
    return render_png(
        pixels,
        stretch=options["stretch"],
        colormap=options.get("colormap"),
        pmin=options["pmin"],
        pmax=options["pmax"],
        convolution_kernel=options["convolution_kernel"],
    )


def render_png(
    pixels: np.ndarray,
    *,
    stretch: str = "sigmoid",
    colormap: str | None = None,
    pmin: float = DEFAULT_PMIN,
    pmax: float = DEFAULT_PMAX,
    convolution_kernel: str = "none",
) -> bytes:
    """PNG bytes of a 2-D image.

    Parameters
    ----------
    pixels : 2-D array
        The stamp (NaN allowed: such pixels take the median of the others).
    stretch : str
        One of :data:`STRETCHES`.
    colormap : str, optional
        A matplotlib colour map name: an RGBA PNG. None: a greyscale PNG.
    pmin, pmax : float
        Percentiles (0-100, pmin < pmax) of the cut levels of the non-sigmoid stretches.
    convolution_kernel : str
        ``none``, ``gauss`` or ``box``: smoothing applied before the stretch.

    Returns
    -------
    bytes
        A PNG as wide and high as the image.
    """
    image = _filled(np.asarray(pixels, dtype=np.float64))
    image = _smoothed(image, convolution_kernel)
    scaled = _stretched(image, stretch, pmin, pmax)
    if colormap:
        import matplotlib

        rgba = matplotlib.colormaps[colormap](scaled, bytes=True)  # uint8, shape (h, w, 4)
        mode_image = _pil_image(rgba, "RGBA")
    else:
        mode_image = _pil_image(np.round(scaled * 255).astype(np.uint8), "L")
    sink = io.BytesIO()
    mode_image.save(sink, format="PNG")
    return sink.getvalue()


def _pil_image(array: np.ndarray, mode: str):
    from PIL import Image

    return Image.fromarray(np.ascontiguousarray(array), mode=mode)


def _filled(image: np.ndarray) -> np.ndarray:
    finite = np.isfinite(image)
    if finite.all():
        return image
    fill = float(np.median(image[finite])) if finite.any() else 0.0
    return np.where(finite, image, fill)


def _smoothed(image: np.ndarray, kernel: str) -> np.ndarray:
    if kernel == "none":
        return image
    from astropy.convolution import Box2DKernel, Gaussian2DKernel, convolve

    if kernel == "gauss":
        weights = Gaussian2DKernel(_GAUSS_STDDEV)
    elif kernel == "box":
        weights = Box2DKernel(_BOX_WIDTH)
    else:
        raise ValueError(f"unknown convolution kernel {kernel!r}")
    return convolve(image, weights, boundary="extend")


def _stretched(image: np.ndarray, stretch: str, pmin: float, pmax: float) -> np.ndarray:
    """The image mapped onto [0, 1]."""
    if stretch == "sigmoid":
        std = image.std()
        standard = (image - image.mean()) / std if std > 0 else np.zeros_like(image)
        return 1.0 / (1.0 + np.exp(-standard))
    from astropy.visualization import (
        AsymmetricPercentileInterval,
        ImageNormalize,
        LinearStretch,
        LogStretch,
        PowerStretch,
        SqrtStretch,
    )

    stretches = {
        "linear": LinearStretch(),
        "sqrt": SqrtStretch(),
        "power": PowerStretch(2),
        "log": LogStretch(),
    }
    if stretch not in stretches:
        raise ValueError(f"unknown stretch {stretch!r}")
    low, high = AsymmetricPercentileInterval(pmin, pmax).get_limits(image)
    if not high > low:  # a flat image: everything mid-grey rather than a division by zero
        return np.full(image.shape, 0.5)
    norm = ImageNormalize(vmin=low, vmax=high, stretch=stretches[stretch], clip=True)
    return np.nan_to_num(np.asarray(norm(image).filled(0.0), dtype=np.float64))

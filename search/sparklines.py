"""Small light curves drawn on the server: one inline SVG per result card.

A sparkline is the object's detections (``i:magpsf`` against ``i:jd``), one polyline and its dots
per band, magnitudes inverted (brighter is higher). It is read with only the three columns it
needs, so a page of cards costs one light scan per object and no JavaScript.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from alerts.selectors.objects import alerts_of_object

#: The columns a sparkline reads.
SPARKLINE_COLUMNS = ("i:jd", "i:magpsf", "i:fid")
BAND_NAMES = {1: "g", 2: "r", 3: "i"}


@dataclass
class BandLine:
    """The points of one band, in SVG coordinates."""

    band: str
    points: list[tuple[float, float]]

    @property
    def polyline(self) -> str:
        return " ".join(f"{x:.1f},{y:.1f}" for x, y in self.points)


@dataclass
class Sparkline:
    """What the template draws: the box, a line per band, the magnitude range shown."""

    width: int
    height: int
    bands: list[BandLine] = field(default_factory=list)
    mag_bright: float | None = None
    mag_faint: float | None = None

    @property
    def count(self) -> int:
        return sum(len(line.points) for line in self.bands)


def sparkline_of_object(*, object_id: str, width: int = 180, height: int = 56) -> Sparkline:
    """The sparkline of an object's detections (upper limits left out).

    Parameters
    ----------
    object_id : str
        A ZTF object id; an unknown one gives an empty sparkline.
    width, height : int
        The SVG box, in pixels.
    """
    rows = alerts_of_object(object_ids=[object_id], columns=list(SPARKLINE_COLUMNS), padded=False)
    return sparkline_of_rows(rows, width=width, height=height)


def sparkline_of_rows(rows: list[dict[str, Any]], *, width: int = 180, height: int = 56) -> Sparkline:
    """The sparkline of rows holding ``i:jd``, ``i:magpsf`` and ``i:fid`` (any order)."""
    points = [
        (row["i:jd"], row["i:magpsf"], BAND_NAMES.get(row.get("i:fid"), "other"))
        for row in rows
        if _finite(row.get("i:jd")) and _finite(row.get("i:magpsf"))
    ]
    line = Sparkline(width, height)
    if not points:
        return line
    pad = 4.0
    jds = [p[0] for p in points]
    mags = [p[1] for p in points]
    jd_min, jd_span = min(jds), (max(jds) - min(jds)) or 1.0
    line.mag_bright, line.mag_faint = min(mags), max(mags)
    mag_span = (line.mag_faint - line.mag_bright) or 1.0
    single_time = max(jds) == min(jds)
    by_band: dict[str, list[tuple[float, float, float]]] = {}
    for jd, mag, band in points:
        x = width / 2 if single_time else pad + (jd - jd_min) / jd_span * (width - 2 * pad)
        y = pad + (mag - line.mag_bright) / mag_span * (height - 2 * pad)  # faint is low
        by_band.setdefault(band, []).append((jd, x, y))
    for band in sorted(by_band, key=lambda b: "gri".find(b) % 4):
        ordered = sorted(by_band[band])
        line.bands.append(BandLine(band, [(x, y) for _, x, y in ordered]))
    return line


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)

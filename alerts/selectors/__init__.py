"""Reads the views call: plain, typed, keyword-only functions over the alert tables.

One module per subject: ``objects`` (an object's alerts, cutouts and summary), ``search``
(cone, class, asteroid, time and other index searches). Views import from those modules.
"""

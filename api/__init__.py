"""Shared plumbing of the REST API: parameter parsing, tabular renderers, errors, throttles, schema.

A route is one :class:`api.views.FinkView` subclass with an input serializer built from the fields
in :mod:`api.params`; what it returns is rendered by :mod:`api.renderers` according to
``output-format``. Nothing here knows about alerts: the apps bring the routes.
"""

"""Values derived from alert fields: Fink classification, DC magnitudes, fluxes, `v:` columns.

Pure functions over plain Python values and numpy arrays: no Django, no store.

A *row* below is one alert, given in any of the shapes the portal passes around:

- a normalized alert, ``{"candidate": {...ZTF fields...}, "fink": {...Fink fields...}, ...}``;
- a flat mapping with plain names (``jd``, ``cdsxmatch``) or family-prefixed names
  (``i:jd``, ``d:cdsxmatch``), as store rows and API rows are.

Missing values are ``None`` (or NaN); every rule treats a comparison with a missing value as
false, so an alert from an old file without some score is simply not flagged by that rule.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .schema import SIMBAD_RENAMES as _SCHEMA_RENAMES

__all__ = [
    "CLASS_DECIDERS",
    "COLOR_TOLERANCE_DAYS",
    "FINK_CLASSES",
    "SIMBAD_CLASSES",
    "SIMBAD_OLD_TO_NEW",
    "TNS_CLASSES",
    "VALUE_COLUMNS",
    "classification_reason",
    "constellations",
    "dc_mag",
    "fink_classification",
    "fink_classification_many",
    "jd_to_iso",
    "mag_to_flux",
    "value_columns",
    "value_columns_of_object",
]

# --------------------------------------------------------------------------------------------
# Class names (the API's `classes` route)
# --------------------------------------------------------------------------------------------

#: Labels `fink_classification` can return besides a SIMBAD label. Fink's own list
#: (fink-object-api assets/fink_types.csv) also has "SLSN candidate" and two "(CTA) Blazar"
#: states, which come from other Fink modules than this rule set, so they are not listed here.
FINK_CLASSES = [
    "Early SN Ia candidate",
    "SN candidate",
    "Kilonova candidate",
    "Microlensing candidate",
    "Solar System MPC",
    "Solar System candidate",
    "Tracklet",
    "Ambiguous",
    "Unknown",
]

#: TNS object types (as listed by the Fink portal's assets/tns_types.csv).
# fmt: off
TNS_CLASSES = [
    "AGN", "Afterglow", "CV", "FRB", "Galaxy", "ILRT", "Impostor-SN", "Kilonova", "LBV",
    "LRN", "Light-Echo", "M dwarf", "Nova", "Other", "QSO", "SLSN-I", "SLSN-II", "SN", "SN I",
    "SN II", "SN II-pec", "SN IIL", "SN IIP", "SN IIb", "SN IIn", "SN IIn-pec", "SN Ia",
    "SN Ia-91T-like", "SN Ia-91bg-like", "SN Ia-CSM", "SN Ia-pec", "SN Iax[02cx-like]", "SN Ib",
    "SN Ib-Ca-rich", "SN Ib-pec", "SN Ib/c", "SN Ibn", "SN Ic", "SN Ic-BL", "SN Ic-pec",
    "SN Icn", "TDE", "Varstar",
]
# fmt: on

# SIMBAD object types, from SIMBAD's otypes table (the copy fink-utils ships): each token is
# `old_label:new_label`, or a single label where the 2023 renaming kept it. Alerts written
# before 2023 carry the old labels, later ones the new labels.
_SIMBAD_LABELS = """
Irregular_V*:IrregularV* LMXB:LowMassXBin Nova EllipVar HH:HerbigHaroObj Mira
pulsV*SX:SXPheV* deltaCep:ClassicalCep PulsV*bCep:bCepV* RRLyr:RRLyrae Pulsar
RotV*alf2CVn:alf2CVnV* Orion_V*:OrionV* Be* WR*:WolfRayet* RGB* brownD*:BrownD* RedSG*:RedSG
HMXB:HighMassXBin EB*:EclBin Eruptive* Erupt*RCrB:RCrBV* Star TTau*:TTauri* HotSubdwarf
BlueStraggler SG*:Supergiant YellowSG*:YellowSG YSO BlueSG*:BlueSG Neutron* RotV* SB*
HB*:HorBranch* gammaDor:gammaDorV* Ae* PulsV*WVir:Type2Cep PulsV* Outflow PulsV*delSct:delSctV*
BYDra:BYDraV* RSCVn:RSCVnV* Cepheid C* Symbiotic* Pec*:ChemPec* S* XB:XrayBin CataclyV*
LPV*:LongPeriodV* ** AGB* SN:Supernova OH/IR:OH/IR* low-mass*:Low-Mass* Planet post-AGB*
PulsV*RVTau:RVTauV* V*:Variable* PN:PlanetaryNeb Em*:EmLine* PM*:HighPM* WD*:WhiteDwarf
HV*:HighVel* GlCl:GlobCluster Stream*:Stream OpCl:OpenCluster MouvGroup Cl*:Cluster*
Assoc*:Association RfNeb:RefNeb SFregion:StarFormingReg GalNeb HII:HIIReg MolCld Cloud
DkNeb:DarkNeb Globule denseCore Bubble ComGlob SNR:SNRemnant HVCld ISM HIshell
Seyfert_1:Seyfert1 BLLac LSB_G:LowSurfBrghtG Blazar BClG:BrightestCG Seyfert RadioG
BlueCompG:BlueCompactG Seyfert_2:Seyfert2 StarburstG LINER QSO HII_G:HIIG EmG:EmissionG AGN
Galaxy GinPair GinGroup:GtowardsGroup GinCl:GtowardsCl Compact_Gr_G IG:InteractingG PairG
GroupG ClG SuperClG Void GravLens LensedG LensingEv LensedQ LensedImage GravLensSystem
GravWaveEvent Gravitation Radio(m):metricRad gammaBurst ULX IR>30um:FarIR EmObj Blue:blue
Radio(cm):cmRad Radio(mm):mmRad IR<10um:NearIR Radio(sub-mm):smmRad HI radioBurst Maser
Transient Radio IR:Infrared UV X gamma multiple_object:Blend Inexistent PartofCloud PartofG
Region QSO_Candidate Blazar_Candidate BLLac_Candidate Candidate_Hsd:Hsd_Candidate
GlCl?:GlCl_Candidate Possible_G:G_Candidate Candidate_brownD*:brownD*_Candidate
Candidate_low-mass*:low-mass*_Candidate Candidate_SN*:SN*_Candidate Candidate_BH:BH_Candidate
Candidate_NS:NS_Candidate SNR?:SNR_Candidate Candidate_WD*:WD*_Candidate
outflow?:outflow_Candidate Candidate_BSS:BSS_Candidate Candidate_post-AGB*:post-AGB*_Candidate
Candidate_Mi*:Mi*_Candidate V*?:V*_Candidate Candidate_LP*:LP*_Candidate
Candidate_AGB*:AGB*_Candidate Candidate_BSG*:BSG*_Candidate Candidate_YSG*:YSG*_Candidate
Candidate_RSG*:RSG*_Candidate Candidate_SG*:SG*_Candidate Candidate_RGB*:RGB*_Candidate
Candidate_Cepheid:Cepheid_Candidate Candidate_RRLyr:RRLyr_Candidate Candidate_HB*:HB*_Candidate
Candidate_Ae*:Ae*_Candidate Candidate_Be*:Be*_Candidate Candidate_WR*:WR*_Candidate
Candidate_OH:OH_Candidate Candidate_S*:S*_Candidate Candidate_C*:C*_Candidate
Candidate_TTau*:TTau*_Candidate Candidate_YSO:YSO_Candidate Candidate_HMXB:HMXB_Candidate
Candidate_LMXB:LMXB_Candidate Candidate_XB*:XB*_Candidate Candidate_Nova:Nova_Candidate
Candidate_CV*:CV*_Candidate Candidate_Symb*:Symb*_Candidate Candidate_EB*:EB*_Candidate
Candidate_**:**_Candidate Possible_GrG:GrG_Candidate Possible_ClG:ClG_Candidate
Possible_SClG:SClG_Candidate PN?:PN_Candidate RCrB_Candidate Possible_lensImage:lensImage_Candidate
Candidate_Lens:Lens_Candidate Candidate_LensSystem:LensSystem_Candidate ULX?:ULX_Candidate
Planet?:Planet_Candidate AGN_Candidate
"""


def _parse_simbad_labels(text: str) -> dict[str, str]:
    pairs = {}
    for token in text.split():
        old, _, new = token.partition(":")
        pairs[old] = new or old
    return pairs


#: Old (pre-2023) SIMBAD label -> 2023 label, for every SIMBAD object type.
SIMBAD_OLD_TO_NEW: dict[str, str] = _parse_simbad_labels(_SIMBAD_LABELS)

#: SIMBAD object types with their 2023 labels (198 types; "Unknown" is not a SIMBAD type).
SIMBAD_CLASSES: list[str] = list(SIMBAD_OLD_TO_NEW.values())

# --------------------------------------------------------------------------------------------
# Fink classification
# --------------------------------------------------------------------------------------------
# The rules follow fink-filters 7.45 (fink_filters/ztf/classification.py,
# extract_fink_classification_, and the livestream filters it calls), with the list of
# "possible SN host" SIMBAD labels of fink-utils 0.79 (xmatch/simbad.py,
# return_list_of_eg_host). Fink writes this value into its `finkclass` column and computes
# the API's `v:classification` with the same function.

# SIMBAD labels under which a transient may still be a SN or a kilonova: no match, failed
# match, or an extragalactic host. (Fink keeps the old labels here; "Supernova", the 2023
# label of "SN", is absent in Fink too, and it ends as the SIMBAD label anyway.)
# fmt: off
_POSSIBLE_HOST_LABELS = frozenset(
    [
        "Unknown", "Candidate_SN*", "SN", "Transient", "Fail", "Fail 504", "SN*_Candidate",
        "galaxy", "Galaxy", "EmG", "Seyfert", "Seyfert_1", "Seyfert_2", "BlueCompG",
        "StarburstG", "LSB_G", "HII_G", "High_z_G", "GinPair", "GinGroup", "BClG", "GinCl",
        "PartofG", "Compact_Gr_G", "IG", "PairG", "GroupG", "ClG", "SuperClG", "Void", "LINER",
        "Possible_ClG", "Possible_SClG", "GravLens_Candidate",
    ]
)
# fmt: on
# The readers store 2023 SIMBAD labels (schema.SIMBAD_RENAMES): the renamed form of each label
# above must count too, or an alert matched to e.g. "Seyfert1" would stop being a host.
_POSSIBLE_HOST_LABELS = _POSSIBLE_HOST_LABELS | frozenset(
    _SCHEMA_RENAMES.get(label, label) for label in _POSSIBLE_HOST_LABELS
)

# Thresholds of the Fink rules.
_SCORE_CUT = 0.5  # SuperNNova, random forest and kilonova scores
_DRB_CUT = 0.5  # deep real/bogus score
_CLASSTAR_CUT = 0.4  # SExtractor star/galaxy score
_EARLY_SN_MAX_NDETHIST = 20  # early SN Ia: ndethist <= 20
_SN_MAX_LAPSE = 90.0  # SN candidate: jd - jdstarthist <= 90 days
_KN_MAX_LAPSE = 5.0  # kilonova: jd - jdstarthist < 5 days
_KN_MAX_NDETHIST = 20  # kilonova: ndethist < 20

_CLASSIFICATION_INPUTS = {
    "candidate": ("ndethist", "drb", "classtar", "jd", "jdstarthist"),
    "fink": (
        "cdsxmatch",
        "roid",
        "mulens",
        "snn_snia_vs_nonia",
        "snn_sn_vs_all",
        "rf_snia_vs_nonia",
        "rf_kn_vs_nonkn",
        "tracklet",
    ),
}
# Fink's 2019-2021 files name two scores differently.
_OLD_NAMES = {"rf_snia_vs_nonia": "rfscore", "rf_kn_vs_nonkn": "knscore"}


def _float_or_nan(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):  # None, pandas.NA, a non-numeric string
        return math.nan


def _floats(values: Sequence[Any]) -> np.ndarray:
    """Float array with missing values (None, NA) as NaN."""
    return np.array([_float_or_nan(v) for v in values], dtype=float)


def _lookup(mapping: Mapping[str, Any] | None, name: str, family: str) -> Any:
    """Value of field `name` in a plain or family-prefixed (`i:`/`d:`) mapping, else None."""
    if not mapping:
        return None
    value = mapping.get(name)
    if value is None:
        value = mapping.get(f"{family}:{name}")
    return value


def _split_row(row: Mapping[str, Any]) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    """(candidate fields, Fink fields) of a normalized alert or of a flat row."""
    candidate = row.get("candidate")
    if isinstance(candidate, Mapping):
        return candidate, row.get("fink") or {}
    return row, row


def _mulens_score(value: Any) -> Any:
    """Fink's microlensing score; pre-2022 files hold a struct of two per-band LIA classes.

    The struct becomes what the score later meant: the mean of the per-band probabilities,
    non-zero only when both bands favour microlensing.
    """
    if isinstance(value, Mapping):
        if value.get("class_1") == "ML" and value.get("class_2") == "ML":
            return (
                _float_or_nan(value.get("ml_score_1")) + _float_or_nan(value.get("ml_score_2"))
            ) / 2
        return 0.0
    return value


def _classification_columns(
    candidates: Sequence[Mapping[str, Any]], finks: Sequence[Mapping[str, Any]]
) -> dict[str, list[Any]]:
    columns: dict[str, list[Any]] = {}
    for name in _CLASSIFICATION_INPUTS["candidate"]:
        columns[name] = [_lookup(c, name, "i") for c in candidates]
    for name in _CLASSIFICATION_INPUTS["fink"]:
        values = [_lookup(f, name, "d") for f in finks]
        if name in _OLD_NAMES:
            old = _OLD_NAMES[name]
            values = [_lookup(f, old, "d") if v is None else v for v, f in zip(values, finks)]
        columns[name] = values
    columns["mulens"] = [_mulens_score(v) for v in columns["mulens"]]
    return columns


def fink_classification_many(
    candidates: Sequence[Mapping[str, Any]], finks: Sequence[Mapping[str, Any]]
) -> list[str]:
    """Fink's classification of many alerts at once.

    Parameters
    ----------
    candidates : sequence of mappings
        ZTF candidate fields of each alert (`ndethist`, `drb`, `classtar`, `jd`,
        `jdstarthist`), plain or `i:`-prefixed.
    finks : sequence of mappings
        Fink fields of each alert (`cdsxmatch`, `roid`, `mulens`, `snn_snia_vs_nonia`,
        `snn_sn_vs_all`, `rf_snia_vs_nonia`, `rf_kn_vs_nonkn`, `tracklet`), plain or
        `d:`-prefixed; the same mapping as `candidates` is fine for flat rows.

    Returns
    -------
    list of str
        One label per alert: a Fink class (see `FINK_CLASSES`) or the SIMBAD label.
    """
    if len(candidates) != len(finks):
        raise ValueError(f"{len(candidates)} candidates but {len(finks)} Fink rows")
    if not candidates:
        return []
    return _classify(_classification_columns(candidates, finks), len(candidates))


def fink_classification_columns(columns: Mapping[str, Any], n: int) -> list[str]:
    """Fink's classification of many alerts given column by column (what ingestion has).

    Parameters
    ----------
    columns : mapping of str to array-like
        The inputs of `fink_classification_many` under their plain names (`ndethist`, `drb`,
        `classtar`, `jd`, `jdstarthist`, `cdsxmatch`, `roid`, `mulens`, `snn_snia_vs_nonia`,
        `snn_sn_vs_all`, `rf_snia_vs_nonia`, `rf_kn_vs_nonkn`, `tracklet`), normalized as
        `readers.read_alert_columns` gives them: pyarrow arrays, numpy arrays or lists of
        ``n`` values each; a missing name is all null.
    n : int
        Number of alerts.

    Returns
    -------
    list of str
        One label per alert, as `fink_classification_many`.
    """
    if not n:
        return []
    names = _CLASSIFICATION_INPUTS["candidate"] + _CLASSIFICATION_INPUTS["fink"]
    return _classify({name: columns.get(name) for name in names}, n)


def _float_column(values: Any, n: int) -> np.ndarray:
    """Floats of a column (list, numpy or pyarrow array; None: all missing), missing as NaN."""
    if values is None:
        return np.full(n, np.nan)
    if hasattr(values, "to_numpy") and hasattr(values, "cast"):  # a pyarrow array
        import pyarrow as pa

        if pa.types.is_integer(values.type) or pa.types.is_floating(values.type) or pa.types.is_null(values.type):
            return np.asarray(values.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=float)
        values = values.to_pylist()
    if isinstance(values, np.ndarray) and values.dtype.kind in "iuf":
        return values.astype(float)
    return _floats(values)


def _object_column(values: Any, n: int) -> list:
    if values is None:
        return [None] * n
    if hasattr(values, "to_pylist"):
        return values.to_pylist()
    return list(values)


def _classify(cols: Mapping[str, Any], n: int) -> list[str]:
    with np.errstate(invalid="ignore"):
        ndethist = _float_column(cols["ndethist"], n)
        drb = _float_column(cols["drb"], n)
        classtar = _float_column(cols["classtar"], n)
        lapse = _float_column(cols["jd"], n) - _float_column(cols["jdstarthist"], n)
        roid = _float_column(cols["roid"], n)
        mulens = _float_column(cols["mulens"], n)
        snn_snia = _float_column(cols["snn_snia_vs_nonia"], n)
        snn_sn = _float_column(cols["snn_sn_vs_all"], n)
        rf_snia = _float_column(cols["rf_snia_vs_nonia"], n)
        rf_kn = _float_column(cols["rf_kn_vs_nonkn"], n)
        # A missing cross-match is what Fink writes when nothing matched.
        cdsxmatch = np.array(
            [v if isinstance(v, str) else "Unknown" for v in _object_column(cols["cdsxmatch"], n)],
            dtype=object,
        )
        tracklet = np.array(
            [isinstance(v, str) and v.startswith("TRCK_") for v in _object_column(cols["tracklet"], n)],
            dtype=bool,
        )

        possible_host = np.array([c in _POSSIBLE_HOST_LABELS for c in cdsxmatch])
        real_pointlike = (drb > _DRB_CUT) & (classtar > _CLASSTAR_CUT)
        sn_like = ((snn_snia > _SCORE_CUT) | (snn_sn > _SCORE_CUT)) & possible_host
        not_mpc = roid != 3  # a missing roid is not an MPC match

        f_early_sn = (
            sn_like & real_pointlike & (ndethist <= _EARLY_SN_MAX_NDETHIST) & (rf_snia > _SCORE_CUT)
        )
        f_sn = sn_like & real_pointlike & (lapse <= _SN_MAX_LAPSE) & (ndethist > 1) & not_mpc
        f_kn = (
            (rf_kn > _SCORE_CUT)
            & real_pointlike
            & (lapse < _KN_MAX_LAPSE)
            & (ndethist < _KN_MAX_NDETHIST)
            & possible_host
            & not_mpc
        )
        f_mulens = mulens > 0.0
        f_sso_candidate = roid == 2
        f_sso_mpc = roid == 3

    # Later flags win, in Fink's order; only four flags count towards ambiguity.
    labels = np.full(len(cdsxmatch), "Unknown", dtype=object)
    labels[f_mulens] = "Microlensing candidate"
    labels[f_sn] = "SN candidate"
    labels[f_early_sn] = "Early SN Ia candidate"
    labels[f_kn] = "Kilonova candidate"
    labels[f_sso_candidate] = "Solar System candidate"
    labels[tracklet] = "Tracklet"
    labels[f_sso_mpc] = "Solar System MPC"
    flags_up = (
        f_mulens.astype(int)
        + f_sn.astype(int)
        + f_sso_candidate.astype(int)
        + f_sso_mpc.astype(int)
    )
    labels[flags_up > 1] = "Ambiguous"

    # A SIMBAD counterpart overrides everything, except "no/failed match" and galaxies
    # (static hosts, see fink-filters issue 120).
    in_simbad = np.array(
        [
            c not in ("Unknown", "Transient") and not c.startswith(("Fail", "Galaxy"))
            for c in cdsxmatch
        ]
    )
    labels[in_simbad] = cdsxmatch[in_simbad]
    return labels.tolist()


#: Fink's own classes (the labels `_classify` sets from scores and flags) and what decides each:
#: the module named to the reader and the columns whose values it used.
CLASS_DECIDERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "Early SN Ia candidate": (
        "SuperNNova + random forest",
        ("snn_snia_vs_nonia", "snn_sn_vs_all", "rf_snia_vs_nonia"),
    ),
    "SN candidate": ("SuperNNova", ("snn_snia_vs_nonia", "snn_sn_vs_all")),
    "Kilonova candidate": ("kilonova classifier", ("rf_kn_vs_nonkn",)),
    "Microlensing candidate": ("LIA microlensing", ("mulens",)),
    "Solar System MPC": ("asteroid module, known MPC object", ("roid",)),
    "Solar System candidate": ("asteroid module, new candidate", ("roid",)),
}


def classification_reason(label: str, row: Mapping[str, Any]) -> str:
    """What gave an alert its Fink class ``label``, under the rules of `_classify`.

    Parameters
    ----------
    label : str
        The alert's classification (``d:classification``).
    row : mapping
        The alert's Fink fields, ``d:``-prefixed (``d:snn_snia_vs_nonia``, ``d:roid``,
        ``d:tracklet``, ``d:cdsxmatch``, ...).

    Returns
    -------
    str
        The module (with the scores it read) or cross-match that decided, e.g.
        ``"SuperNNova (snn_snia_vs_nonia 0.91, snn_sn_vs_all 0.97)"`` or ``"SIMBAD cross-match"``;
        empty when the label is none of these.
    """
    if label in CLASS_DECIDERS:
        module, names = CLASS_DECIDERS[label]
        values = ", ".join(
            _reason_value(name, row.get(f"d:{name}")) for name in names if row.get(f"d:{name}") is not None
        )
        return f"{module} ({values})" if values else module
    if label == "Tracklet":
        return f"satellite-glint tracklet {_text_or_blank(row.get('d:tracklet'))}".strip()
    if label == "Ambiguous":
        return "several modules agree on different classes"
    if label == "Unknown":
        return "no module or cross-match"
    if _text_or_blank(row.get("d:cdsxmatch")) == label:
        return "SIMBAD cross-match"
    return ""


def _reason_value(name: str, value: Any) -> str:
    # Scores read with two decimals; integer flags (roid) as they are.
    if isinstance(value, float) and math.isfinite(value):
        return f"{name} {value:.2f}"
    return f"{name} {value}"


def _text_or_blank(value: Any) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return ""
    return "" if value is None or str(value).strip() in ("", "null", "None", "nan", "NaN") else str(value)


def fink_classification(candidate: Mapping[str, Any], fink: Mapping[str, Any]) -> str:
    """Fink's classification of one alert (the API's `v:classification`).

    Parameters
    ----------
    candidate : mapping
        ZTF candidate fields of the alert (plain or `i:`-prefixed names).
    fink : mapping
        Fink fields of the alert (plain or `d:`-prefixed names).

    Returns
    -------
    str
        "Early SN Ia candidate", "SN candidate", "Kilonova candidate", "Microlensing
        candidate", "Solar System MPC", "Solar System candidate", "Tracklet", "Ambiguous",
        the SIMBAD label of the counterpart, or "Unknown".
    """
    return fink_classification_many([candidate], [fink])[0]


# --------------------------------------------------------------------------------------------
# Photometry
# --------------------------------------------------------------------------------------------

# 2.5 / ln(10): converts a relative flux error into a magnitude error (ZTF's 1.0857).
_MAG_PER_LN_FLUX = 1.0857
# AB magnitude of 1 microjansky (3631 Jy * 10**(-0.4 * 23.9) = 1 uJy).
_AB_ZP_MICROJANSKY = 23.9


def _positive_subtraction(isdiffpos: Any) -> np.ndarray:
    """True where the candidate comes from science minus reference ('t', '1', True, 1)."""
    values = np.asarray(isdiffpos, dtype=object)
    return np.vectorize(lambda v: str(v).lower() in ("t", "1", "true"), otypes=[bool])(values)


def _unwrap(value: np.ndarray) -> np.ndarray | float:
    return float(value) if np.ndim(value) == 0 else value


def dc_mag(
    fid: Any,
    magpsf: Any,
    sigmapsf: Any,
    magnr: Any,
    sigmagnr: Any,
    magzpsci: Any,
    isdiffpos: Any,
) -> tuple[np.ndarray | float, np.ndarray | float]:
    """Apparent (DC) magnitude of a ZTF detection and its error, vectorised.

    Fink's formula (fink-utils 0.79, photometry ``vect_dc_mag``; ZTF Science Data System
    Explanatory Supplement p.107): the reference source's flux plus (or minus, for a negative
    subtraction) the difference flux, both from calibrated magnitudes::

        f_ref  = 10**(-0.4 * magnr)          f_diff = 10**(-0.4 * magpsf)
        f      = f_ref + f_diff  (isdiffpos 't')   or   f_ref - f_diff  (isdiffpos 'f')
        mag    = -2.5 * log10(f)
        err    = sqrt((sigmapsf * f_diff)**2 + (sigmagnr * f_ref)**2) / f

    Parameters
    ----------
    fid, magzpsci : scalar or array
        Accepted for the signature of Fink's older portal helper; current Fink does not use
        them, since `magpsf` and `magnr` are already calibrated magnitudes.
    magpsf, sigmapsf : scalar or array
        PSF-fit difference magnitude and its 1-sigma error.
    magnr, sigmagnr : scalar or array
        Magnitude of the nearest reference-image source and its error; negative means no
        source, and gives NaN.
    isdiffpos : scalar or array
        't'/'1' for a positive subtraction (science minus reference), 'f'/'0' otherwise.

    Returns
    -------
    (mag, err)
        Floats for scalar input, arrays otherwise; NaN where undefined (no reference
        source, missing value, or a negative total flux).
    """
    del fid, magzpsci  # see the docstring
    magpsf = np.asarray(magpsf, dtype=float)
    sigmapsf = np.asarray(sigmapsf, dtype=float)
    magnr = np.asarray(magnr, dtype=float)
    sigmagnr = np.asarray(sigmagnr, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        magnr = np.where(magnr < 0.0, np.nan, magnr)
        diff_flux = 10 ** (-0.4 * magpsf)
        ref_flux = 10 ** (-0.4 * magnr)
        diff_sigflux = sigmapsf / _MAG_PER_LN_FLUX * diff_flux
        ref_sigflux = sigmagnr / _MAG_PER_LN_FLUX * ref_flux
        flux = np.where(
            _positive_subtraction(isdiffpos), ref_flux + diff_flux, ref_flux - diff_flux
        )
        sigflux = np.hypot(diff_sigflux, ref_sigflux)
        flux = np.where(flux > 0, flux, np.nan)
        mag = -2.5 * np.log10(flux)
        err = sigflux / flux * _MAG_PER_LN_FLUX
    return _unwrap(mag), _unwrap(err)


def mag_to_flux(
    magpsf: Any, sigmapsf: Any, isdiffpos: Any = None
) -> tuple[np.ndarray | float, np.ndarray | float]:
    """Difference flux in microjansky (uJy) from a ZTF PSF magnitude, and its error.

    ZTF magnitudes are AB magnitudes, so ``flux = 10**(-0.4 * (magpsf - 23.9))`` uJy and
    ``err = flux * sigmapsf * ln(10) / 2.5``.

    Parameters
    ----------
    magpsf, sigmapsf : scalar or array
        PSF-fit difference magnitude and its 1-sigma error.
    isdiffpos : scalar or array, optional
        When given, the flux is negative for a negative subtraction ('f'/'0'), so that it is
        the signed difference flux.

    Returns
    -------
    (flux, err)
        In uJy; floats for scalar input, arrays otherwise; NaN where the magnitude is missing.
    """
    magpsf = np.asarray(magpsf, dtype=float)
    sigmapsf = np.asarray(sigmapsf, dtype=float)
    flux = 10 ** (-0.4 * (magpsf - _AB_ZP_MICROJANSKY))
    err = flux * sigmapsf / _MAG_PER_LN_FLUX
    if isdiffpos is not None:
        flux = np.where(_positive_subtraction(isdiffpos), flux, -flux)
    return _unwrap(flux), _unwrap(err)


# --------------------------------------------------------------------------------------------
# Dates and sky
# --------------------------------------------------------------------------------------------


def jd_to_iso(jd: Sequence[Any]) -> list[str | None]:
    """Julian dates (UTC) to Fink's ISO strings, ``'2021-11-22 05:21:53.999'``; None stays None.

    numpy's datetime64 does this in a few µs per value, where astropy's ``Time(...).iso`` costs a
    millisecond per call (it dominated the ``objects`` route for small objects). Leap seconds do
    not matter here: the input is already a UTC Julian date.
    """
    values = _floats(jd)
    known = ~np.isnan(values)
    out: list[str | None] = [None] * len(values)
    if known.any():
        ms = np.rint((values[known] - 2440587.5) * 86_400_000.0).astype("int64")
        texts = np.datetime_as_string(ms.astype("datetime64[ms]"), unit="ms")
        for i, text in zip(np.flatnonzero(known), texts):
            out[i] = str(text).replace("T", " ")
    return out


_CONSTELLATION_CACHE: dict[tuple[float, float], str] = {}
_CONSTELLATION_CACHE_SIZE = 100_000


def constellations(ra: Sequence[Any], dec: Sequence[Any]) -> list[str | None]:
    """Constellation names (astropy `get_constellation`) of positions in degrees.

    Astropy costs a few milliseconds a call, nearly all of it overhead: positions missing
    from a process-wide cache are computed in one vectorised call.
    """
    ras, decs = _floats(ra), _floats(dec)
    keys = [(float(r), float(d)) for r, d in zip(ras, decs)]
    # Each key is read from the cache once: another thread may clear it meanwhile.
    names = [_CONSTELLATION_CACHE.get(k) for k in keys]
    todo = sorted(
        {k for k, n in zip(keys, names) if n is None and not (math.isnan(k[0]) or math.isnan(k[1]))}
    )
    if todo:
        from astropy.coordinates import SkyCoord, get_constellation

        coords = SkyCoord([k[0] for k in todo], [k[1] for k in todo], unit="deg")
        computed = dict(zip(todo, (str(n) for n in np.atleast_1d(get_constellation(coords)))))
        if len(_CONSTELLATION_CACHE) + len(computed) > _CONSTELLATION_CACHE_SIZE:
            _CONSTELLATION_CACHE.clear()
        _CONSTELLATION_CACHE.update(computed)
        names = [computed.get(k, n) for k, n in zip(keys, names)]
    return names


# --------------------------------------------------------------------------------------------
# The API's `v:` columns
# --------------------------------------------------------------------------------------------
# Names and meanings follow the Fink object API (fink-object-api apps/utils/decoding.py,
# format_hbase_output and extract_rate_and_color): rates use the PSF (difference) magnitudes,
# in mag/day; a colour pairs each g point with the nearest r point at most 0.3 day away.

#: Longest delay between a g and an r point paired for a colour, in days (Fink's tolerance).
COLOR_TOLERANCE_DAYS = 0.3

VALUE_COLUMNS = (
    "v:classification",
    "v:lastdate",
    "v:firstdate",
    "v:lapse",
    "v:constellation",
    "v:rate",
    "v:sigma(rate)",
    "v:g-r",
    "v:sigma(g-r)",
    "v:rate(g-r)",
    "v:sigma(rate(g-r))",
)


def _nearest_within(query: np.ndarray, ref: np.ndarray, tolerance: float) -> np.ndarray:
    """For each query time, the index of the nearest `ref` time (sorted) within `tolerance`.

    -1 where none. On a tie the earlier one wins, as in pandas' `merge_asof(direction=
    "nearest")`, which Fink uses.
    """
    out = np.full(len(query), -1)
    if len(ref) == 0 or len(query) == 0:
        return out
    before = np.searchsorted(ref, query, side="right") - 1  # last ref <= query
    after = np.searchsorted(ref, query, side="left")  # first ref >= query
    d_before = np.where(before >= 0, query - ref[np.clip(before, 0, None)], np.inf)
    d_after = np.where(after < len(ref), ref[np.clip(after, None, len(ref) - 1)] - query, np.inf)
    best = np.where(d_after < d_before, after, before)
    distance = np.minimum(d_before, d_after)
    return np.where(distance <= tolerance, best, out)


def _rates(jd: np.ndarray, fid: np.ndarray, mag: np.ndarray, err: np.ndarray):
    """Per-band rate (and its error) from the previous point of the same band; time-sorted input."""
    rate = np.full(len(jd), np.nan)
    sigma = np.full(len(jd), np.nan)
    for band in (1, 2):
        idx = np.flatnonzero(fid == band)
        if len(idx) < 2:
            continue
        dt = np.diff(jd[idx])
        rate[idx[1:]] = np.diff(mag[idx]) / dt
        sigma[idx[1:]] = np.hypot(err[idx[1:]], err[idx[:-1]]) / dt
    return rate, sigma


def _colors(jd: np.ndarray, fid: np.ndarray, mag: np.ndarray, err: np.ndarray):
    """g-r, its error, its rate and the rate's error for every point; time-sorted input."""
    n = len(jd)
    columns = [np.full(n, np.nan) for _ in range(4)]
    g, r = np.flatnonzero(fid == 1), np.flatnonzero(fid == 2)
    match = _nearest_within(jd[g], jd[r], COLOR_TOLERANCE_DAYS)
    g, r = g[match >= 0], r[match[match >= 0]]
    if len(g) == 0:
        return columns
    color = mag[g] - mag[r]
    color_err = np.hypot(err[g], err[r])
    color_rate = np.full(len(g), np.nan)
    color_rate_err = np.full(len(g), np.nan)
    dt = np.diff(jd[g])
    color_rate[1:] = np.diff(color) / dt
    color_rate_err[1:] = np.hypot(color_err[1:], color_err[:-1]) / dt
    # Every point (g, r or i) takes the values of the nearest paired g point, if close enough.
    nearest = _nearest_within(jd, jd[g], COLOR_TOLERANCE_DAYS)
    has = nearest >= 0
    for column, values in zip(columns, (color, color_err, color_rate, color_rate_err)):
        column[has] = values[nearest[has]]
    return columns


def _none_if_nan(value: float) -> float | None:
    # inf (two points at the same time) is as undefined as NaN, and JSON has neither.
    return float(value) if math.isfinite(value) else None


def value_columns_of_object(
    rows: Sequence[Mapping[str, Any]], *, with_constellation: bool = True
) -> list[dict[str, Any]]:
    """The `v:` columns of every alert of one object, computed together.

    Parameters
    ----------
    rows : sequence of mappings
        The object's alerts, in any order: normalized alerts or flat rows (see the module
        docstring). Colours and rates only see these rows, as in Fink, which computes them on
        the alerts a request returns.
    with_constellation : bool
        Compute `v:constellation` (Fink leaves it out of some routes for speed).

    Returns
    -------
    list of dict
        One dict per input row, in the input order, keyed by `VALUE_COLUMNS`; None where a
        value cannot be computed (first point of a band, no g/r pair, missing input).
    """
    if not rows:
        return []
    parts = [_split_row(row) for row in rows]
    candidates = [c for c, _ in parts]

    def column(name: str) -> np.ndarray:
        return _floats([_lookup(c, name, "i") for c in candidates])

    jd, jdstarthist = column("jd"), column("jdstarthist")
    fid, mag, err = column("fid"), column("magpsf"), column("sigmapsf")

    order = np.argsort(jd, kind="stable")
    with np.errstate(invalid="ignore", divide="ignore"):
        rate, rate_err = _rates(jd[order], fid[order], mag[order], err[order])
        colors = _colors(jd[order], fid[order], mag[order], err[order])
        lapse = jd - jdstarthist
    sorted_values = (rate, rate_err, *colors)
    # Back to input order.
    values = [np.empty(len(order)) for _ in sorted_values]
    for target, source in zip(values, sorted_values):
        target[order] = source

    classes = fink_classification_many(candidates, [f for _, f in parts])
    lastdates, firstdates = jd_to_iso(jd), jd_to_iso(jdstarthist)
    if with_constellation:
        places = constellations(column("ra"), column("dec"))
    else:
        places = [None] * len(rows)

    out = []
    for i in range(len(rows)):
        out.append(
            {
                "v:classification": classes[i],
                "v:lastdate": lastdates[i],
                "v:firstdate": firstdates[i],
                "v:lapse": _none_if_nan(lapse[i]),
                "v:constellation": places[i],
                "v:rate": _none_if_nan(values[0][i]),
                "v:sigma(rate)": _none_if_nan(values[1][i]),
                "v:g-r": _none_if_nan(values[2][i]),
                "v:sigma(g-r)": _none_if_nan(values[3][i]),
                "v:rate(g-r)": _none_if_nan(values[4][i]),
                "v:sigma(rate(g-r))": _none_if_nan(values[5][i]),
            }
        )
    return out


def value_columns(
    candidate: Mapping[str, Any], history_rows: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """The `v:` columns of one alert, given the object's alerts.

    Parameters
    ----------
    candidate : mapping
        The alert (normalized alert or flat row, see the module docstring).
    history_rows : sequence of mappings
        The object's alerts; the alert itself may be among them (matched on `jd`) or not.

    Returns
    -------
    dict
        Keyed by `VALUE_COLUMNS`. Prefer `value_columns_of_object` for all alerts at once.
    """
    jd = _lookup(_split_row(candidate)[0], "jd", "i")
    others = [row for row in history_rows if _lookup(_split_row(row)[0], "jd", "i") != jd]
    return value_columns_of_object([candidate, *others])[0]

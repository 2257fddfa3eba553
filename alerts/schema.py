"""The canonical alert columns, declared once.

Every reader, row builder, API `schema` route and page takes column names, kinds and descriptions
from here. The field sets are unions over everything the portal has to read: ZTF alert schemas
3.1 to 4.02 and the Fink-added columns from 2019 to 2026 (see /work/shared/data/README.md).
A reader fills a missing field with None rather than leaving the key out, so downstream code can
rely on every key existing.

Kinds are the portal's value types, not Avro or Arrow types: ZTF's float/double both become
'float', int/long both 'int'; 'struct' is a str-keyed dict (Arrow struct or map), 'list' a list.
"""

from dataclasses import dataclass

KINDS = frozenset({"int", "float", "bool", "str", "bytes", "list", "struct"})


@dataclass(frozen=True)
class Column:
    """One alert column: its name, its value kind and a one-line description."""

    name: str
    kind: str
    doc: str

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"{self.name}: unknown kind {self.kind!r}")


def _table(text: str) -> dict[str, Column]:
    """Parse a `name kind description` table into an ordered dict of columns.

    One column a line; an indented line continues the description above it.
    """
    rows: list[list[str]] = []
    for line in text.strip("\n").splitlines():
        if line[:1].isspace():
            rows[-1][2] += " " + line.strip()
        else:
            rows.append(line.split(maxsplit=2))
    columns = {}
    for name, kind, doc in rows:
        if name in columns:
            raise ValueError(f"column {name} declared twice")
        columns[name] = Column(name, kind, doc)
    return columns


# The ZTF `candidate` record: the detection that triggered the alert. Descriptions follow the
# docs in ZTF's own Avro schemas (ZwickyTransientFacility/ztf-avro-alert), shortened to a line.
# drb/drbversion appeared in 3.3; everything else is present from 3.1 to 4.02.
CANDIDATE_FIELDS: dict[str, Column] = _table("""
jd              float  observation Julian date at start of exposure [days]
fid             int    filter ID (1=g, 2=r, 3=i)
pid             int    processing ID of the science image, for archive retrieval
diffmaglim      float  expected 5-sigma magnitude limit of the difference image [mag]
pdiffimfilename str    file name of the positive (sci minus ref) difference image
programpi       str    principal investigator attached to the program ID
programid       int    program ID: 1 public, 2 collaboration, 3 Caltech
candid          int    candidate ID from the ZTF operations database
isdiffpos       str    't' or '1' if from the positive (sci minus ref) subtraction, 'f' or '0' if
                       negative
tblid           int    internal pipeline table extraction ID
nid             int    night ID
rcid            int    readout channel ID [0 .. 63]
field           int    ZTF field ID
xpos            float  x image position of the candidate [pixels]
ypos            float  y image position of the candidate [pixels]
ra              float  right ascension of the candidate, J2000 [deg]
dec             float  declination of the candidate, J2000 [deg]
magpsf          float  magnitude from PSF-fit photometry [mag]
sigmapsf        float  1-sigma uncertainty of magpsf [mag]
chipsf          float  reduced chi-square of the PSF fit
magap           float  aperture magnitude in a 14-pixel-diameter aperture [mag]
sigmagap        float  1-sigma uncertainty of magap [mag]
distnr          float  distance to the nearest source in the reference image PSF catalogue [pixels]
magnr           float  magnitude of the nearest source in the reference image PSF catalogue [mag]
sigmagnr        float  1-sigma uncertainty of magnr [mag]
chinr           float  DAOPhot chi of the nearest source in the reference image PSF catalogue
sharpnr         float  DAOPhot sharp of the nearest source in the reference image PSF catalogue
sky             float  local sky background estimate [DN]
magdiff         float  difference magap - magpsf [mag]
fwhm            float  full width at half maximum assuming a Gaussian core, from SExtractor [pixels]
classtar        float  star/galaxy classification score from SExtractor
mindtoedge      float  distance to the nearest image edge [pixels]
magfromlim      float  difference diffmaglim - magap [mag]
seeratio        float  ratio of the difference-image FWHM to fwhm
aimage          float  windowed RMS of the major axis of the profile, from SExtractor [pixels]
bimage          float  windowed RMS of the minor axis of the profile, from SExtractor [pixels]
aimagerat       float  ratio aimage / fwhm
bimagerat       float  ratio bimage / fwhm
elong           float  elongation, ratio aimage / bimage
nneg            int    number of negative pixels in a 5x5 pixel stamp
nbad            int    number of prior-tagged bad pixels in a 5x5 pixel stamp
rb              float  RealBogus score from the random-forest classifier (0 bogus .. 1 real)
ssdistnr        float  distance to the nearest known Solar System object within 30 arcsec [arcsec]
ssmagnr         float  magnitude of that Solar System object, usually V from the MPC [mag]
ssnamenr        str    MPC name of the nearest known Solar System object within 30 arcsec
sumrat          float  ratio sum(pixels) / sum(|pixels|) in a median-filtered 5x5 pixel stamp
magapbig        float  aperture magnitude in an 18-pixel-diameter aperture [mag]
sigmagapbig     float  1-sigma uncertainty of magapbig [mag]
ranr            float  right ascension of the nearest source in the reference image, J2000 [deg]
decnr           float  declination of the nearest source in the reference image, J2000 [deg]
sgmag1          float  g-band PSF magnitude of the closest PS1 source within 30 arcsec [mag]
srmag1          float  r-band PSF magnitude of the closest PS1 source within 30 arcsec [mag]
simag1          float  i-band PSF magnitude of the closest PS1 source within 30 arcsec [mag]
szmag1          float  z-band PSF magnitude of the closest PS1 source within 30 arcsec [mag]
sgscore1        float  star/galaxy score of the closest PS1 source (0 galaxy .. 1 star)
distpsnr1       float  distance to the closest PS1 source within 30 arcsec [arcsec]
ndethist        int    number of detections within 1.5 arcsec since survey start, same field and
                       channel
ncovhist        int    number of times the position fell on any field and channel since survey start
jdstarthist     float  earliest Julian date of the detections counted in ndethist [days]
jdendhist       float  latest Julian date of the detections counted in ndethist [days]
scorr           float  peak-pixel signal-to-noise ratio in the matched-filtered detection image
tooflag         int    1 if from a target-of-opportunity exposure, 0 otherwise
objectidps1     int    object ID of the closest PS1 source within 30 arcsec
objectidps2     int    object ID of the second closest PS1 source within 30 arcsec
sgmag2          float  g-band PSF magnitude of the second closest PS1 source [mag]
srmag2          float  r-band PSF magnitude of the second closest PS1 source [mag]
simag2          float  i-band PSF magnitude of the second closest PS1 source [mag]
szmag2          float  z-band PSF magnitude of the second closest PS1 source [mag]
sgscore2        float  star/galaxy score of the second closest PS1 source (0 galaxy .. 1 star)
distpsnr2       float  distance to the second closest PS1 source within 30 arcsec [arcsec]
objectidps3     int    object ID of the third closest PS1 source within 30 arcsec
sgmag3          float  g-band PSF magnitude of the third closest PS1 source [mag]
srmag3          float  r-band PSF magnitude of the third closest PS1 source [mag]
simag3          float  i-band PSF magnitude of the third closest PS1 source [mag]
szmag3          float  z-band PSF magnitude of the third closest PS1 source [mag]
sgscore3        float  star/galaxy score of the third closest PS1 source (0 galaxy .. 1 star)
distpsnr3       float  distance to the third closest PS1 source within 30 arcsec [arcsec]
nmtchps         int    number of PS1 sources within 30 arcsec
rfid            int    processing ID of the reference image, for archive retrieval
jdstartref      float  Julian date of the earliest exposure in the reference image [days]
jdendref        float  Julian date of the latest exposure in the reference image [days]
nframesref      int    number of frames (epochal images) stacked into the reference image
rbversion       str    version of the random-forest RealBogus model that gave rb
dsnrms          float  ratio D / stddev(D) at the event position, D the difference image
ssnrms          float  ratio S / stddev(S) at the event position, S = D convolved with PSF(D)
dsdiff          float  difference of statistics dsnrms - ssnrms
magzpsci        float  magnitude zero point of the science image [mag]
magzpsciunc     float  uncertainty of magzpsci [mag]
magzpscirms     float  RMS of the differences between instrumental and calibrator photometry [mag]
nmatches        int    number of PS1 photometric calibrators used for the science image
clrcoeff        float  colour coefficient of the photometric calibration of the science image
clrcounc        float  uncertainty of clrcoeff
zpclrcov        float  covariance of magzpsci and clrcoeff [mag^2]
zpmed           float  zero point from the median of calibrator differences [mag]
clrmed          float  median colour of the PS1 calibrators (g-r for fid 1 and 2, r-i for fid 3)
                       [mag]
clrrms          float  RMS colour of the PS1 calibrators [mag]
neargaia        float  distance to the closest Gaia DR1 source within 90 arcsec [arcsec]
neargaiabright  float  distance to the closest Gaia DR1 source brighter than G=14 within 90 arcsec
                       [arcsec]
maggaia         float  Gaia G magnitude of the closest Gaia DR1 source within 90 arcsec [mag]
maggaiabright   float  Gaia G magnitude of the closest Gaia DR1 source brighter than G=14 [mag]
exptime         float  integration time of the camera exposure [s]
drb             float  RealBogus score from the deep-learning classifier (0 bogus .. 1 real)
drbversion      str    version of the deep-learning RealBogus model that gave drb
""")

# Fields a `prv_candidates` entry may have beyond the shared ones: the forced-photometry test
# schema 3.5 (ZTF's forcedphot_test sample) put these into the history records.
_PRV_ONLY = _table("""
sciinpseeing       float  effective FWHM of the science image [pixels]
scibckgnd          float  background level of the science image [DN]
scisigpix          float  robust sigma per pixel of the science image [DN]
adpctdif1          float  astrometric RMS of the science image along RA with respect to Gaia
                          [arcsec]
adpctdif2          float  astrometric RMS of the science image along Dec with respect to Gaia
                          [arcsec]
forcediffimflux    float  forced PSF-fit flux on the difference image [DN]
forcediffimfluxunc float  1-sigma uncertainty of forcediffimflux [DN]
procstatus         str    forced-photometry processing status codes ('0' means no warning)
""")

# The history records (`prv_candidates`): earlier detections and non-detections (upper limits,
# where candid and the photometry are null) at the same position, up to 30 days (ZTF) back.
_PRV_SHARED = [
    "jd", "fid", "pid", "diffmaglim", "pdiffimfilename", "programpi", "programid", "candid",
    "isdiffpos", "tblid", "nid", "rcid", "field", "xpos", "ypos", "ra", "dec", "magpsf",
    "sigmapsf", "chipsf", "magap", "sigmagap", "distnr", "magnr", "sigmagnr", "chinr",
    "sharpnr", "sky", "magdiff", "fwhm", "classtar", "mindtoedge", "magfromlim", "seeratio",
    "aimage", "bimage", "aimagerat", "bimagerat", "elong", "nneg", "nbad", "rb", "ssdistnr",
    "ssmagnr", "ssnamenr", "sumrat", "magapbig", "sigmagapbig", "ranr", "decnr", "scorr",
    "magzpsci", "magzpsciunc", "magzpscirms", "clrcoeff", "clrcounc", "rbversion", "rfid",
    "exptime",
]
PRV_CANDIDATE_FIELDS: dict[str, Column] = {
    **{name: CANDIDATE_FIELDS[name] for name in _PRV_SHARED},
    **_PRV_ONLY,
}

# Columns Fink added next to the ZTF packet, union over every file in /work/shared/data
# (2019-2026). Broker timestamps are kept as float seconds since 1970-01-01 UTC whatever
# their storage (Arrow timestamp, Avro timestamp-micros or an ISO string).
FINK_FIELDS: dict[str, Column] = _table("""
cdsxmatch                   str     SIMBAD type of the counterpart within 1.5 arcsec (2023 labels),
                                    'Unknown', or 'Fail NNN' (CDS error)
DR3Name                     str     Gaia DR3 designation of the closest Gaia source within 1 arcsec
Plx                         float   Gaia DR3 parallax of that source [mas]
e_Plx                       float   standard error of Plx [mas]
gaiaVarFlag                 int     Gaia DR3 variability flag of the closest Gaia source (1
                                    variable)
gaiaClass                   str     Gaia DR3 variability class of the closest Gaia source
gcvs                        str     General Catalogue of Variable Stars type of the counterpart
                                    within 1.5 arcsec
vsx                         str     AAVSO VSX variability type of the counterpart within 1.5 arcsec
x3hsp                       str     3HSP blazar catalogue counterpart within 1 arcmin
x4lac                       str     Fermi 4LAC DR3 counterpart within 1 arcmin
mangrove                    struct  Mangrove host galaxy within 1 arcmin: HyperLEDA_name,
                                    2MASS_name, lum_dist, ang_dist
spicy_id                    int     SPICY young-stellar-object catalogue ID of the source within 1.2
                                    arcsec
spicy_class                 str     SPICY class of that source
tns                         str     Transient Name Server classification of the counterpart, '' if
                                    none
tnsclass                    str     Transient Name Server class used by Fink's classification,
                                    'Unknown' if none
manga                       str     MaNGA galaxy ID matched by Fink's dwarf-AGN filter
symbiotic                   str     'name,catalogue' of the symbiotic star / CV matched by Fink's
                                    symbiotic filter
roid                        int     Solar System flag: 0 none, 1 and 2 possible new moving object, 3
                                    known MPC object
rf_snia_vs_nonia            float   random-forest probability of an early SN Ia; named rfscore
                                    before fink-science 0.5
snn_snia_vs_nonia           float   SuperNNova probability of a SN Ia versus other SNe
snn_sn_vs_all               float   SuperNNova probability of a supernova versus anything else
snn                         float   SuperNNova score in the 2019-2020 Kafka stream (before the split
                                    into snn_* columns)
rf_kn_vs_nonkn              float   random-forest probability of a kilonova; named knscore before
                                    fink-science 0.5
mulens                      float   LIA probability of a microlensing event (a struct before fink-
                                    science 0.5: mulens_*)
mulens_class_1              str     LIA class in the first band, from the pre-0.5 mulens struct
mulens_ml_score_1           float   LIA microlensing score in the first band, from the pre-0.5
                                    mulens struct
mulens_class_2              str     LIA class in the second band, from the pre-0.5 mulens struct
mulens_ml_score_2           float   LIA microlensing score in the second band, from the pre-0.5
                                    mulens struct
t2                          struct  class probabilities from the T2 transformer classifier (class ->
                                    probability)
slsn_score                  float   probability of a superluminous supernova from Fink's SLSN
                                    classifier
is_transient                bool    whether the alert passed the transient preselection of Fink's
                                    SLSN module
nalerthist                  int     number of detections in the alert (current plus history, upper
                                    limits excluded)
anomaly_score               float   anomaly score from lc_features (lower is more anomalous)
anomaly_score_beta          float   anomaly score of the 'beta' active-learning model
anomaly_score_anais         float   anomaly score of the model trained with user anais
anomaly_score_emille        float   anomaly score of the model trained with user emille
anomaly_score_emille_30days float   anomaly score of the emille model on the last 30 days of light
                                    curve
anomaly_score_julien        float   anomaly score of the model trained with user julien
anomaly_score_maria         float   anomaly score of the model trained with user maria
anomaly_score_varvara       float   anomaly score of the model trained with user varvara
lc_features_g               struct  light-curve features (light-curve package) of the g band
lc_features_r               struct  light-curve features (light-curve package) of the r band
jd_first_real_det           float   Julian date of the first 5-sigma variation in the alert history
                                    [days]
jdstarthist_dt              float   jd_first_real_det - jdstarthist; above 30, jd_first_real_det is
                                    unreliable [days]
mag_rate                    float   magnitude rate between the last measurement and this alert
                                    [mag/day]
sigma_rate                  float   uncertainty of mag_rate [mag/day]
lower_rate                  float   5th percentile of the sampled mag_rate [mag/day]
upper_rate                  float   95th percentile of the sampled mag_rate [mag/day]
delta_time                  float   time between the two measurements behind mag_rate [days]
from_upper                  bool    whether mag_rate used an upper limit as the previous measurement
blazar_stats                struct  blazar flaring statistics m0, m1, m2 (-1 when not computed)
tracklet                    str     ID of the satellite / fast-mover tracklet
                                    (TRCK_YYYYMMDD_HHMMSS_NN), None if none
finkclass                   str     Fink's derived classification label stored in the file
hpix                        int     HEALPix pixel index written in some 2024 science files (nside
                                    not recorded)
topic                       str     Fink Kafka topic the alert was delivered on (2019-2021 streams)
cjd                         list    history Julian dates, current alert included (2019-2021 Kafka
                                    streams) [days]
cfid                        list    history filter IDs matching cjd
cmagpsf                     list    history PSF magnitudes matching cjd [mag]
csigmapsf                   list    history PSF magnitude uncertainties matching cjd [mag]
cmagnr                      list    history reference-source magnitudes matching cjd [mag]
csigmagnr                   list    history reference-source magnitude uncertainties matching cjd
                                    [mag]
cmagzpsci                   list    history zero points matching cjd [mag]
cisdiffpos                  list    history subtraction signs matching cjd
fink_broker_version         str     version of fink-broker that processed the alert
fink_science_version        str     version of fink-science that processed the alert
timestamp                   float   time the alert was emitted (Kafka timestamp) [s since 1970 UTC]
brokerIngestTimestamp       float   time Fink ingested the alert [s since 1970 UTC]
brokerStartProcessTimestamp float   time Fink started processing the alert [s since 1970 UTC]
brokerEndProcessTimestamp   float   time Fink finished processing the alert [s since 1970 UTC]
""")

# Broker timestamps, converted to float seconds by the readers (see FINK_FIELDS).
TIMESTAMP_FIELDS = frozenset(
    {
        "timestamp",
        "brokerIngestTimestamp",
        "brokerStartProcessTimestamp",
        "brokerEndProcessTimestamp",
    }
)

# Columns renamed by Fink itself (fink-science 0.5.0, documented in the Fink docs): the reader
# stores an old file's value under the new name, so one column holds the whole history.
FINK_RENAMES: dict[str, str] = {
    "rfscore": "rf_snia_vs_nonia",
    "knscore": "rf_kn_vs_nonkn",
}

# Before fink-science 0.5.0 `mulens` was a struct; Fink's database flattened it into these
# columns, and so does the reader (leaving `mulens` None: a struct is not a probability).
MULENS_STRUCT_FIELDS: dict[str, str] = {
    "class_1": "mulens_class_1",
    "ml_score_1": "mulens_ml_score_1",
    "class_2": "mulens_class_2",
    "ml_score_2": "mulens_ml_score_2",
}

# Top-level columns that carry no alert information: Spark/Hive partition keys and pandas
# index columns. Readers drop them without warning; any other unknown column is reported.
IGNORED_COLUMNS = frozenset({"year", "month", "day", "hour", "index", "__index_level_0__"})

# The ZTF packet's own top-level fields; everything else top-level is Fink's.
ZTF_TOP_LEVEL = frozenset(
    {
        "objectId", "candid", "schemavsn", "publisher", "candidate", "prv_candidates", "fp_hists",
        "cutoutScience", "cutoutTemplate", "cutoutDifference",
    }
)

# SIMBAD renamed its object-type labels in 2023: old_label -> new_label in
# https://simbad.cds.unistra.fr/guide/otypes.labels.txt (fink-utils ships it as xmatch/otypes.txt).
# Only the labels that changed are listed. No new label is also an old label, so mapping an
# already-renamed value again leaves it unchanged.
SIMBAD_RENAMES: dict[str, str] = {
    # stars and variables
    "Irregular_V*": "IrregularV*",
    "LMXB": "LowMassXBin",
    "HH": "HerbigHaroObj",
    "pulsV*SX": "SXPheV*",
    "deltaCep": "ClassicalCep",
    "PulsV*bCep": "bCepV*",
    "RRLyr": "RRLyrae",
    "RotV*alf2CVn": "alf2CVnV*",
    "Orion_V*": "OrionV*",
    "WR*": "WolfRayet*",
    "brownD*": "BrownD*",
    "RedSG*": "RedSG",
    "HMXB": "HighMassXBin",
    "EB*": "EclBin",
    "Erupt*RCrB": "RCrBV*",
    "TTau*": "TTauri*",
    "SG*": "Supergiant",
    "YellowSG*": "YellowSG",
    "BlueSG*": "BlueSG",
    "HB*": "HorBranch*",
    "gammaDor": "gammaDorV*",
    "PulsV*WVir": "Type2Cep",
    "PulsV*delSct": "delSctV*",
    "BYDra": "BYDraV*",
    "RSCVn": "RSCVnV*",
    "Pec*": "ChemPec*",
    "XB": "XrayBin",
    "LPV*": "LongPeriodV*",
    "SN": "Supernova",
    "OH/IR": "OH/IR*",
    "low-mass*": "Low-Mass*",
    "PulsV*RVTau": "RVTauV*",
    "V*": "Variable*",
    "PN": "PlanetaryNeb",
    "Em*": "EmLine*",
    "PM*": "HighPM*",
    "WD*": "WhiteDwarf",
    "HV*": "HighVel*",
    # clusters, nebulae, interstellar matter
    "GlCl": "GlobCluster",
    "Stream*": "Stream",
    "OpCl": "OpenCluster",
    "Cl*": "Cluster*",
    "Assoc*": "Association",
    "RfNeb": "RefNeb",
    "SFregion": "StarFormingReg",
    "HII": "HIIReg",
    "DkNeb": "DarkNeb",
    "SNR": "SNRemnant",
    # galaxies
    "Seyfert_1": "Seyfert1",
    "LSB_G": "LowSurfBrghtG",
    "BClG": "BrightestCG",
    "BlueCompG": "BlueCompactG",
    "Seyfert_2": "Seyfert2",
    "HII_G": "HIIG",
    "EmG": "EmissionG",
    "GinGroup": "GtowardsGroup",
    "GinCl": "GtowardsCl",
    "IG": "InteractingG",
    # by wavelength and other
    "Radio(m)": "metricRad",
    "IR>30um": "FarIR",
    "Blue": "blue",
    "Radio(cm)": "cmRad",
    "Radio(mm)": "mmRad",
    "IR<10um": "NearIR",
    "Radio(sub-mm)": "smmRad",
    "IR": "Infrared",
    "multiple_object": "Blend",
    # candidates: 'Candidate_X' became 'X_Candidate'
    "Candidate_Hsd": "Hsd_Candidate",
    "GlCl?": "GlCl_Candidate",
    "Possible_G": "G_Candidate",
    "Candidate_brownD*": "brownD*_Candidate",
    "Candidate_low-mass*": "low-mass*_Candidate",
    "Candidate_SN*": "SN*_Candidate",
    "Candidate_BH": "BH_Candidate",
    "Candidate_NS": "NS_Candidate",
    "SNR?": "SNR_Candidate",
    "Candidate_WD*": "WD*_Candidate",
    "outflow?": "outflow_Candidate",
    "Candidate_BSS": "BSS_Candidate",
    "Candidate_post-AGB*": "post-AGB*_Candidate",
    "Candidate_Mi*": "Mi*_Candidate",
    "V*?": "V*_Candidate",
    "Candidate_LP*": "LP*_Candidate",
    "Candidate_AGB*": "AGB*_Candidate",
    "Candidate_BSG*": "BSG*_Candidate",
    "Candidate_YSG*": "YSG*_Candidate",
    "Candidate_RSG*": "RSG*_Candidate",
    "Candidate_SG*": "SG*_Candidate",
    "Candidate_RGB*": "RGB*_Candidate",
    "Candidate_Cepheid": "Cepheid_Candidate",
    "Candidate_RRLyr": "RRLyr_Candidate",
    "Candidate_HB*": "HB*_Candidate",
    "Candidate_Ae*": "Ae*_Candidate",
    "Candidate_Be*": "Be*_Candidate",
    "Candidate_WR*": "WR*_Candidate",
    "Candidate_OH": "OH_Candidate",
    "Candidate_S*": "S*_Candidate",
    "Candidate_C*": "C*_Candidate",
    "Candidate_TTau*": "TTau*_Candidate",
    "Candidate_YSO": "YSO_Candidate",
    "Candidate_HMXB": "HMXB_Candidate",
    "Candidate_LMXB": "LMXB_Candidate",
    "Candidate_XB*": "XB*_Candidate",
    "Candidate_Nova": "Nova_Candidate",
    "Candidate_CV*": "CV*_Candidate",
    "Candidate_Symb*": "Symb*_Candidate",
    "Candidate_EB*": "EB*_Candidate",
    "Candidate_**": "**_Candidate",
    "Possible_GrG": "GrG_Candidate",
    "Possible_ClG": "ClG_Candidate",
    "Possible_SClG": "SClG_Candidate",
    "PN?": "PN_Candidate",
    "Possible_lensImage": "lensImage_Candidate",
    "Candidate_Lens": "Lens_Candidate",
    "Candidate_LensSystem": "LensSystem_Candidate",
    "ULX?": "ULX_Candidate",
    "Planet?": "Planet_Candidate",
}

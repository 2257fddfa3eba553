"""Settings of the portal, all read from the environment with working defaults.

With no variable set the portal runs on one machine: the embedded store under ``var/store``,
SQLite under ``var/``, and a Celery broker on local disk. Set ``STORE_BACKEND=hbase``,
``DATABASE_URL`` and ``CELERY_BROKER_URL`` to run on HBase, PostgreSQL and Redis.
"""
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
VAR_DIR = Path(env.str("PORTAL_VAR_DIR", default=str(BASE_DIR / "var")))

# --- Core ------------------------------------------------------------------------------------
# The default key is only for local runs; production sets SECRET_KEY (DEBUG off refuses the default).
DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key-change-me" if DEBUG else environ.Env.NOTSET)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI / ReDoc as local static files (no CDN)
    "api",
    "store",
    "alerts",
    "search",
    "objects",
    "django_plotly_dash.apps.DjangoPlotlyDashConfig",  # the object page's light curve (objects/dash_apps.py)
    "fits",
    "accounts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Databases -------------------------------------------------------------------------------
# User data (accounts, tokens, annotations, fit jobs) lives here; alert data lives in the store.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- The alert store -------------------------------------------------------------------------
STORE = {
    "BACKEND": env.str("STORE_BACKEND", default="embedded"),  # embedded | hbase
    "PATH": env.str("STORE_PATH", default=str(VAR_DIR / "store")),
    "HBASE_HOST": env.str("HBASE_HOST", default="127.0.0.1"),
    "HBASE_PORT": env.int("HBASE_PORT", default=9090),
    "HBASE_TABLE_PREFIX": env.str("HBASE_TABLE_PREFIX", default="portal"),
    "HBASE_TIMEOUT_MS": env.int("HBASE_TIMEOUT_MS", default=10000),
    "HBASE_POOL_SIZE": env.int("HBASE_POOL_SIZE", default=4),
}
# Where the demo data (real alert files) is looked for when the store is empty.
PORTAL_DATA = env.str("PORTAL_DATA", default="")

# --- Celery and fits (fits/ owns this section) ------------------------------------------------
# Fits run in Celery workers (`celery -A portal worker`). No CELERY_BROKER_URL: kombu's filesystem
# transport under var/celery, a broker that needs no server (one machine; DESIGN.md checked it
# with Celery 5.7). Set redis://host:6379/0 to run workers on other machines.
CELERY_DIR = VAR_DIR / "celery"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # One folder in and out: producers (web) and consumers (workers) share the queue.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_DIR / "queue"),
        "data_folder_out": str(CELERY_DIR / "queue"),
        "processed_folder": str(CELERY_DIR / "processed"),
        "control_folder": str(CELERY_DIR / "control"),  # kombu's default is ./control
        "store_processed": False,
    }
else:
    # A message unacknowledged this long is given to another worker: it must exceed the hard
    # time limit, or a long fit would run twice at once.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    }
# Job state and results live in FitJob rows; task results are kept only for inspection.
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=f"file://{CELERY_DIR / 'results'}")
CELERY_TASK_IGNORE_RESULT = True
# Deployments (or test runs) sharing one Redis keep apart by queue name.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="celery")
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
# A fit holds its message until it ends (acks late) and a worker takes one fit at a time: a
# worker that dies gives its fit back instead of losing it, or queued fits behind it.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Settle jobs left running by dead workers, when a `celery beat` runs (else `manage.py fits_reap`).
CELERY_BEAT_SCHEDULE = {
    "fits-reap": {"task": "fits.reap_fits", "schedule": env.float("FITS_REAP_EVERY", default=300.0)},
}
# A fit is stopped (and failed) after the soft limit; its process is killed at the hard limit.
FITS_SOFT_TIME_LIMIT = env.int("FITS_SOFT_TIME_LIMIT", default=600)
FITS_TIME_LIMIT = env.int("FITS_TIME_LIMIT", default=FITS_SOFT_TIME_LIMIT + 60)
# Starts of a job before a worker death fails it rather than trying again (a fit that kills its
# worker, e.g. out of memory, must not loop).
FITS_MAX_ATTEMPTS = env.int("FITS_MAX_ATTEMPTS", default=2)
# The reaper fails or requeues jobs running longer than FITS_TIME_LIMIT + this (seconds).
FITS_REAP_GRACE = env.int("FITS_REAP_GRACE", default=60)
# ... and sends again jobs queued this long (seconds) since their last send: a lost message.
FITS_REAP_QUEUED_AFTER = env.int("FITS_REAP_QUEUED_AFTER", default=3600)
# Fitters by dotted path (fits.fitters.base.Fitter subclasses); a new fitter is one more line.
FITTERS = env.list(
    "FITTERS",
    default=[
        "fits.fitters.period.PeriodFitter",
        "fits.fitters.microlensing.MicrolensingFitter",
        "fits.fitters.phase_curve.PhaseCurveFitter",
    ],
)
# --- end of the Celery and fits section ---------------------------------------------------------

# --- Accounts (accounts/ owns this section) ----------------------------------------------------
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:profile"
LOGOUT_REDIRECT_URL = "/"
# Checked by the sign-up, password change and reset forms (Django's usual four).
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Password-reset mail: printed on the console unless a real backend is set
# (django.core.mail.backends.smtp.EmailBackend with EMAIL_HOST, EMAIL_PORT, ...).
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="alert-portal@localhost")
# --- end of the Accounts section ----------------------------------------------------------------

# --- Internationalisation, static files ------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles"))

# --- Dash apps in pages (django-plotly-dash; objects/ owns this section) ----------------------
# Dash's and plotly's scripts are served as our own static files (the finders below): no CDN.
# Apps are shown in an iframe from this site, hence SAMEORIGIN rather than Django's DENY.
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "django_plotly_dash.finders.DashAssetFinder",
    "django_plotly_dash.finders.DashComponentFinder",
    "django_plotly_dash.finders.DashAppDirectoryFinder",
]
PLOTLY_COMPONENTS: list[str] = []  # dash's own components are built in to the finder
PLOTLY_DASH = {"serve_locally": True, "cache_arguments": False}
X_FRAME_OPTIONS = "SAMEORIGIN"

# --- REST framework and OpenAPI (api/ owns this section) -------------------------------------
# Rate limits by tier (api/throttles.py), published on the API page. "none" means unlimited.
# Counts live in Django's cache: per process with the default cache; share one (Redis) when
# several gunicorn workers must count together.
API_THROTTLE_RATES = {
    "anon": env.str("API_THROTTLE_ANON", default="60/min"),
    "user": env.str("API_THROTTLE_USER", default="600/min"),
    "staff": env.str("API_THROTTLE_STAFF", default="none"),
}
REST_FRAMEWORK = {
    # Token first: its header makes DRF answer 401 + "WWW-Authenticate: Token" (not 403) to a
    # request without credentials. Sessions serve the portal's own pages.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiTokenAuthentication",  # named, hashed tokens (profile page)
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttles.TieredRateThrottle"],
    "DEFAULT_THROTTLE_RATES": API_THROTTLE_RATES,
    # How many proxies' X-Forwarded-For entries to trust when counting anonymous clients by IP.
    "NUM_PROXIES": env.int("API_NUM_PROXIES", default=None),
    # orjson, NaN as null; the tabular formats are chosen per route by output-format.
    "DEFAULT_RENDERER_CLASSES": ["api.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Alert portal API",
    "VERSION": "1",
    "DESCRIPTION": (
        "REST API over ZTF alerts enriched by the Fink broker. Compatible with Fink's public API: "
        "same routes under /api/v1/, same parameter names, defaults and column names, so a "
        "script written for Fink works by changing only the base URL. Every route answers GET "
        "(query parameters) and POST (JSON body) alike; `output-format` chooses json, csv, "
        "parquet or votable. Errors are JSON `{\"status\": \"error\", \"text\": ...}` naming "
        "the parameter at fault. A result cut at a cap carries the headers "
        "`X-Result-Truncated: true` and `X-Result-Limit`. Anonymous clients are rate-limited; "
        "an API token (`Authorization: Token <key>`) raises the limit."
    ),
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "PREPROCESSING_HOOKS": ["api.schema.optional_slash_paths"],  # /api/v1/objects, no slash
    # One name per shared choice set, instead of spectacular's hashed names (Output-formatE02Enum).
    "ENUM_NAME_OVERRIDES": {
        "OutputFormatEnum": "api.renderers.TABULAR_FORMATS",
        "ErrorStatusEnum": ["error"],
        "PingStatusEnum": ["ok"],
        "CutoutKindEnum": "alerts.selectors.objects.CUTOUT_KINDS",  # sso's cutout-kind
        "CutoutKindOrAllEnum": ["Science", "Template", "Difference", "All"],  # objects, cutouts
        "CutoutFormatEnum": ["PNG", "FITS", "array"],
        "SsoCandKindEnum": ["orbParams", "lightcurves"],
        "FitStatusEnum": "fits.models.FitJob.Status",
    },
    # Served from the sidecar's static files: the machines have no internet.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # validatorUrl null: Swagger UI would otherwise call validator.swagger.io.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
}
# --- end of the REST framework and OpenAPI section --------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
}

"""One settings module, driven by the environment (see README "Configuration")."""

import datetime as dt
from pathlib import Path

import pghistory
from celery.schedules import crontab

from lims.env import (
    env_bool,
    env_choice,
    env_database,
    env_int,
    env_list,
    env_path,
    env_str,
    env_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = env_path("LIMS_VAR_DIR", BASE_DIR / "var")

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG and env_bool("LIMS_PRODUCTION", False):
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("SECRET_KEY: must be set when LIMS_PRODUCTION is on")
    SECRET_KEY = "insecure-development-key-set-SECRET_KEY-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_celery_beat",
    "django_celery_results",
    "pgtrigger",
    "pghistory",
    "pghistory.admin",
    "lims",
    "protocols",
    "batches",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "lims.api.middleware.ApiErrorsAsJsonMiddleware",
    "lims.middleware.RejectNulBytesMiddleware",
    "lims.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "lims.audit.AuditMiddleware",
]

ROOT_URLCONF = "lims.urls"
WSGI_APPLICATION = "lims.wsgi.application"

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

# --- Database: PostgreSQL only. Unset DATABASE_URL -> embedded server from the pgserver wheel.
# The application connects as DATABASE_URL's role; migrations run as DATABASE_OWNER_URL's (lims.db_roles).
_database = env_database("DATABASE_URL")
DATABASE_OWNER = env_database("DATABASE_OWNER_URL")
if _database is None:
    from lims.embedded_db import embedded_application_role, embedded_database_settings

    DATABASE_OWNER = embedded_database_settings(VAR_DIR / "pgdata")
    _database = embedded_application_role(DATABASE_OWNER)
_database.setdefault("CONN_MAX_AGE", env_int("DATABASE_CONN_MAX_AGE", 0, minimum=0))
_database["TEST"] = {"NAME": env_str("TEST_DATABASE_NAME", f"test_{_database['NAME']}")}
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"
# Every password check (browser, admin, API token) goes through the lockout backend (lims.auth).
AUTHENTICATION_BACKENDS = ["lims.auth.LockoutModelBackend"]
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOGIN_LOCKOUT_MINUTES = env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1)
# Page size of exported DOCX files (methods text, studies summary).
METHODS_DOCX_PAGE_SIZE = env_choice("METHODS_DOCX_PAGE_SIZE", "A4", ("A4", "Letter"))

LANGUAGE_CODE = "en-gb"
FORMAT_MODULE_PATH = ["lims.formats"]  # one date format (2025-03-01 10:00) on every page
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- Security flags for served deployments (LIMS_PRODUCTION=1 behind TLS).
_PRODUCTION = env_bool("LIMS_PRODUCTION", False)
SESSION_COOKIE_SECURE = _PRODUCTION
CSRF_COOKIE_SECURE = _PRODUCTION
SECURE_SSL_REDIRECT = _PRODUCTION and env_bool("SECURE_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if _PRODUCTION else None
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if _PRODUCTION else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _PRODUCTION
SECURE_HSTS_PRELOAD = _PRODUCTION
# Content-Security-Policy: scripts, styles, fonts and data only from this site; no inline script or style
# (templates load theirs from static files; htmx is told not to inject its indicator style), no eval,
# no framing. `data:` images are the QR codes and the empty favicon.
CONTENT_SECURITY_POLICY = (
    ("default-src", ("'self'",)),
    ("script-src", ("'self'",)),
    ("style-src", ("'self'",)),
    ("img-src", ("'self'", "data:")),
    ("font-src", ("'self'",)),
    ("connect-src", ("'self'",)),
    ("object-src", ("'none'",)),
    ("base-uri", ("'self'",)),
    ("form-action", ("'self'",)),
    ("frame-ancestors", ("'none'",)),
)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600, minimum=60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# --- Audit trail (django-pghistory): inserts, updates, deletes; event tables are append-only.
PGHISTORY_DEFAULT_TRACKERS = (
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
)
PGHISTORY_APPEND_ONLY = True
PGHISTORY_MIDDLEWARE_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

# --- Exports: the licence exported RO-Crates release their data under (an SPDX identifier).
LIMS_EXPORT_LICENSE = env_choice(
    "LIMS_EXPORT_LICENSE", "CC-BY-4.0", ("CC-BY-4.0", "CC-BY-SA-4.0", "CC-BY-NC-4.0", "CC0-1.0")
)

# --- REST API
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "lims.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "lims.api.schema.LabAutoSchema",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "lims.api.pagination.LabPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "lims.api.exceptions.api_exception_handler",
    "DEFAULT_THROTTLE_RATES": {"auth": env_str("API_TOKEN_RATE", "30/minute")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Secretome LIMS API",
    "DESCRIPTION": (
        "Batch tracking for MSC secretome (conditioned medium and extracellular vesicles). "
        "Authenticate with `POST /api/v1/auth/token/` and send `Authorization: Token <token>`. "
        "Every record belongs to a lab; you see the records of your labs only. Updates carry the `version` "
        "you read; a stale one answers 409. Invalid input answers 400 with `{field: [messages]}`. "
        f"Exported RO-Crates release their data under {LIMS_EXPORT_LICENSE} (setting `LIMS_EXPORT_LICENSE`)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI's scripts come from this project's static files, not a CDN (labs run offline too).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_GENERATE_CHOICE_DESCRIPTION": False,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "lims.api.schema.add_error_responses",
    ],
    # Choice sets whose field names repeat across models (status, kind, unit, method, role).
    "ENUM_NAME_OVERRIDES": {
        "BatchStatusEnum": "batches.choices.BatchStatus",
        "AliquotStatusEnum": "batches.choices.AliquotStatus",
        "QCStatusEnum": "batches.choices.QCStatus",
        "VersionStatusEnum": "protocols.models.VersionStatus",
        "DeviationStatusEnum": "protocols.models.DeviationStatus",
        "QCMethodEnum": "batches.choices.QCMethod",
        "DifferentiationMethodEnum": "batches.choices.DifferentiationMethod",
        "RoleEnum": "lims.models.Role",
        "GroupRoleEnum": "batches.choices.GroupRole",
        "QCUnitEnum": "batches.choices.QCUnit",
        "OutcomeUnitEnum": "batches.choices.OutcomeUnit",
        "PrimingKindEnum": "batches.choices.PrimingKind",
        "ProcessingKindEnum": "batches.choices.ProcessingKind",
        "StorageKindEnum": "batches.choices.StorageKind",
        "MediumEnum": "batches.choices.Medium",
        "ResultTextEnum": "batches.choices.ResultText",
    },
}
# API tokens are hashed at rest, expire, and can be revoked (POST /api/v1/auth/token/revoke/).
REST_KNOX = {"TOKEN_TTL": dt.timedelta(hours=env_int("API_TOKEN_TTL_HOURS", 10, minimum=1))}

# --- Imports of spreadsheets and instrument files (README "Imports").
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 50_000_000, minimum=1)
IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 20_000, minimum=1)
IMPORT_MAX_COLUMNS = env_int("IMPORT_MAX_COLUMNS", 300, minimum=1)
IMPORT_INLINE_MAX_ROWS = env_int("IMPORT_INLINE_MAX_ROWS", 500, minimum=0)
IMPORT_PREVIEW_LIMIT = 1000  # record changes kept for the preview; the counts cover every row
IMPORT_PROGRESS_EVERY = 50  # rows between two progress updates of a queued import
IMPORT_CHUNK_ROWS = env_int("IMPORT_CHUNK_ROWS", 500, minimum=1)  # rows read, checked and inserted together
IMPORT_MAX_ALIQUOTS_PER_ROW = 500

# --- Celery: unset CELERY_BROKER_URL -> tasks run eagerly in-process.
CELERY_BROKER_URL = env_url("CELERY_BROKER_URL", ("redis", "rediss"))
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL is None
CELERY_TASK_EAGER_PROPAGATES = True
if CELERY_BROKER_URL is None:
    CELERY_BROKER_URL = "memory://"
CELERY_RESULT_BACKEND = "django-db"

# --- Cache: shared by every server process in served mode, so the sign-in and token throttles count
# once for the installation, not once per gunicorn worker. CACHE_URL names the Redis; otherwise the
# broker's Redis is used when there is one; embedded mode (no broker) keeps a process-local cache.
_CACHE_URL = env_url("CACHE_URL", ("redis", "rediss")) or (None if CELERY_TASK_ALWAYS_EAGER else CELERY_BROKER_URL)
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _CACHE_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "lims"),
            "TIMEOUT": 300,
        }
        if _CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "lims"}
    )
}
CELERY_RESULT_EXTENDED = True
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 600, minimum=1)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 540, minimum=1)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Must exceed the longest task so a late-acknowledged task is not redelivered while it runs.
    "visibility_timeout": CELERY_TASK_TIME_LIMIT * 2,
}
CELERY_TASK_ACKS_LATE = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    # The checklist's safety net: every batch and study re-checked each night, in chunks workers share.
    "checklist-nightly-sweep": {
        "task": "batches.tasks.checklist_sweep",
        "schedule": crontab(hour=2, minute=30),
    },
    # Outbox rows nobody claimed after their commit (a process that died, a psql session).
    "checklist-outbox-drain": {"task": "batches.tasks.checklist_outbox_drain", "schedule": 60.0},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR"))},
    "loggers": {"pgserver": {"level": "WARNING"}},
}

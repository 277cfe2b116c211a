"""Settings of the TGB portal, read from the environment (a `.env` file may supply it).

Embedded defaults make a fresh clone run with no services at all: SQLite in `var/`, and a
filesystem Celery broker in `var/celery/` shared by the web server, the worker and beat. With
`DATABASE_URL` and `REDIS_URL` set, the same code runs on PostgreSQL and Redis.
"""

import os
import secrets
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import environ

from governance.local_files import write_once
from identity.config import apps_from_env, socialaccount_providers

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("TGB_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env")


def _local_secret_key() -> str:
    """A per-checkout secret kept in var/, so a local run needs no configuration.

    Production sets SECRET_KEY in the environment; this file is never committed.
    """
    path = VAR_DIR / "secret_key"
    if not path.exists():
        write_once(path, secrets.token_urlsafe(64))
    return path.read_text().strip()


DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="") or _local_secret_key()
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Behind TLS in production: secure cookies, HSTS and the redirect. Off for a plain local run
# on http://localhost, where they would lock the user out.
HTTPS = env.bool("HTTPS", default=False)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 8)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "django_celery_beat",
    "django_htmx",
    "csp",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "governance.apps.GovernanceConfig",
    "charters.apps.ChartersConfig",
    "compute.apps.ComputeConfig",
    "roadmap.apps.RoadmapConfig",
    # Single sign-on (OpenID Connect, one app per partner organization's issuer): only
    # allauth's OIDC login and callback URLs are mounted; see identity/config.py.
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "identity.apps.IdentityConfig",
]

MIDDLEWARE = [
    # First: a body past its allowance is refused (413) before anything reads it.
    "governance.limits.RequestSizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Optional TOTP for co-chairs and admins: marks a verified session, then holds an
    # enrolled person at the code page until they give one.
    "django_otp.middleware.OTPMiddleware",
    "governance.two_factor.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    # Inside everything that may refuse or hold a person: a page kept while nothing changed.
    "governance.page_cache.SignedInPageCacheMiddleware",
    # Last, as django-axes asks: it turns a lockout into the lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "governance.urls"
WSGI_APPLICATION = "governance.wsgi.application"

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
                "governance.context_processors.account",
                "governance.page_cache.csrf",
            ],
            # One number format everywhere: `|number` and `|credits` need no {% load %}.
            "builtins": ["governance.templatetags.numbers"],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take SQLite's write lock at BEGIN, so two concurrent
    # read-check-write services serialize instead of failing with "database is locked"
    # halfway; WAL lets readers go on meanwhile.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    # Reuse connections, and check them first so a PostgreSQL restart costs one reconnect,
    # not an error page.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "governance.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username/IP before the password is even checked.
    "axes.backends.AxesStandaloneBackend",
    # Django's password backend, refusing people who sign in through their identity provider
    # once single sign-on is configured (break-glass administrators keep their password).
    "identity.backends.PasswordBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
# Identity providers (OpenID Connect) from the environment: OIDC_ISSUER, OIDC_CLIENT_ID,
# OIDC_CLIENT_SECRET, claim names, and OIDC_PROVIDERS for several (identity/config.py).
SOCIALACCOUNT_PROVIDERS = socialaccount_providers(apps_from_env(os.environ))
SOCIALACCOUNT_ADAPTER = "identity.adapter.SocialAccountAdapter"
ACCOUNT_ADAPTER = "identity.adapter.AccountAdapter"
SOCIALACCOUNT_AUTO_SIGNUP = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False  # an e-mail address never links an account
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_LOGIN_ON_GET = False  # the sign-in button posts, with its CSRF token
ACCOUNT_EMAIL_VERIFICATION = "none"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Guardian's anonymous user is not needed: anonymous visitors get nothing object-level.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = True

# Login throttling: after AXES_FAILURE_LIMIT failures for one username from one address, that
# pair is locked out for AXES_COOLOFF_MINUTES (pages and the API token endpoint alike).
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "governance.views.errors.locked_out"
AXES_VERBOSE = False
# How many reverse proxies of the portal's own stand in front of it (0: clients connect
# directly). Only that many entries of X-Forwarded-For are believed; see governance/net.py.
TRUSTED_PROXY_HOPS = env.int("TRUSTED_PROXY_HOPS", default=0)
AXES_CLIENT_IP_CALLABLE = "governance.net.client_ip"

# A strict Content-Security-Policy: scripts only from this server (no inline code, no eval),
# nothing framed, nothing posted elsewhere. Plotly sets inline styles on the charts it draws,
# so styles allow 'unsafe-inline'; that cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [
    # plotly.js is vendored under static/vendor/plotly-basic/ (the basic partial bundle, the
    # same plotly.js version as the plotly package's; see its README): nothing loads from a CDN.
    BASE_DIR / "static",
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            # Production runs collectstatic and sets STATIC_MANIFEST=1 for hashed, cacheable names.
            if env.bool("STATIC_MANIFEST", default=False)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Serve straight from the finders when collectstatic has not run (local runs and tests).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = VAR_DIR / "media"

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="TGB portal <tgb-portal@localhost>")
# The portal's own address, for links in notification emails (sent by workers, outside a request).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

# Domain settings.
DUAL_CONTROL_LIMIT = Decimal(env.str("DUAL_CONTROL_LIMIT", default="10000"))
# Roadmap: a progress report is due this many days after its period ends, and its owner is
# reminded this many days before it is due.
ROADMAP_REPORT_DUE_DAYS = env.int("ROADMAP_REPORT_DUE_DAYS", default=10)
ROADMAP_REPORT_REMINDER_DAYS = env.int("ROADMAP_REPORT_REMINDER_DAYS", default=7)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "governance.api.auth.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "governance.api.base.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "governance.api.filters.PortalFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "governance.api.schema.PortalAutoSchema",
    "EXCEPTION_HANDLER": "governance.api.base.exception_handler",
    # JSON with the portal's depth limit; forms and files as DRF parses them.
    "DEFAULT_PARSER_CLASSES": [
        "governance.api.parsers.PortalJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "COERCE_DECIMAL_TO_STRING": True,
    # The throttles' client address: the same trusted-proxy rule as the login lockout.
    "NUM_PROXIES": TRUSTED_PROXY_HOPS,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "TGB portal API",
    "DESCRIPTION": "System of record of the Technical Governance Body.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "VotingMethodEnum": "governance.choices.VotingMethod",
        "SectorEnum": "governance.choices.Sector",
        "VoteChoiceEnum": "governance.choices.VoteChoice",
        "BallotOutcomeEnum": "governance.choices.Outcome",
        "DataClassificationEnum": "charters.choices.DataClassification",
        "RoadmapStatusEnum": "roadmap.choices.RoadmapStatus",
        "MilestoneStatusEnum": "roadmap.choices.MilestoneStatus",
        "RebaselineStatusEnum": "roadmap.choices.RebaselineStatus",
        "BaselineKindEnum": "roadmap.choices.BaselineKind",
        # Named here because several resources have a field called "kind".
        "ReviewKindEnum": "charters.choices.ReviewKind",
        # compute has five choice sets on fields called "kind".
        "ResourceKindEnum": "compute.choices.ResourceKind",
        "MetricSourceKindEnum": "compute.choices.MetricSourceKind",
        "ScanKindEnum": "compute.choices.ScanKind",
        "AccountKindEnum": "compute.choices.AccountKind",
        "TransactionKindEnum": "compute.choices.TransactionKind",
        "CreditRequestStatusEnum": "compute.choices.RequestStatus",
        # Refunds and ledger reversals are decided alike (requested, approved, rejected).
        "RefundStatusEnum": "compute.choices.RefundStatus",
    },
}

# A parallel test run (pytest-xdist) gives each worker process a Redis database of its own, so
# one worker's Celery never runs another's tasks against the wrong test database and their
# cache keys never meet. Outside the test suite the variable is never set.
# Done once, in the worker process: the processes a test starts inherit the result, and one
# given a Redis of its own by the test keeps the URL it was given.
_TEST_WORKER = env.str("PYTEST_XDIST_WORKER", default="")
if env.str("REDIS_URL", default="") and _TEST_WORKER.startswith("gw") and not env.str("TGB_REDIS_SPLIT", default=""):
    _redis = urlsplit(env.str("REDIS_URL"))
    os.environ["REDIS_URL"] = urlunsplit(_redis._replace(path=f"/{1 + int(_TEST_WORKER[2:])}"))
    os.environ["TGB_REDIS_SPLIT"] = _TEST_WORKER

# One cache for every process (throttle counters, cached pages): Redis when REDIS_URL is set,
# otherwise a table in the database (made by a migration), never per-process memory, so a
# client cannot multiply its allowance by reaching another worker.
if env.str("REDIS_URL", default=""):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env.str("REDIS_URL"),
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="tgb"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "tgb_cache"}}

# Celery: Redis when REDIS_URL is set; otherwise a filesystem broker in var/ that the web
# process, the worker and beat share without any service running.
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_DIR = VAR_DIR / "celery"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    # A task a worker took and never acknowledged (the worker died: acks_late below) goes
    # back to the queue after this many seconds; it must outlast the longest task.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
else:
    for sub in ("out", "processed", "control"):
        (CELERY_BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    # A host named (kombu ignores it for this transport) so no process warns "No hostname was supplied".
    CELERY_BROKER_URL = "filesystem://localhost//"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "out"),
        "data_folder_out": str(CELERY_BROKER_DIR / "out"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "store_processed": False,
        # Fanout (broadcast) exchange metadata; kombu's default is ./control in the cwd.
        "control_folder": str(CELERY_BROKER_DIR / "control"),
    }
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    "flush-outbox": {
        "task": "governance.tasks.flush_outbox",
        "schedule": timedelta(seconds=env.int("OUTBOX_FLUSH_SECONDS", default=30)),
    },
    # Roadmap: remind owners of progress reports falling due (claimed once per period, so hourly is cheap).
    "roadmap-report-reminders": {
        "task": "roadmap.tasks.send_report_reminders",
        "schedule": timedelta(hours=1),
    },
    "collect-metrics": {
        "task": "compute.tasks.collect_all_metrics",
        "schedule": timedelta(minutes=env.int("COLLECT_EVERY_MINUTES", default=1)),
    },
    # Ballots: close those whose time has come, and remind the voters who have not voted
    # 24 hours before a ballot closes. Both tasks are idempotent; running them often is cheap.
    "close-due-ballots": {
        "task": "governance.tasks.close_due_ballots",
        "schedule": timedelta(seconds=env.int("CLOSE_BALLOTS_EVERY_SECONDS", default=60)),
    },
    "send-ballot-reminders": {
        "task": "governance.tasks.send_ballot_reminders",
        "schedule": timedelta(minutes=10),
    },
    # Daily and weekly digests of the notifications without a deadline (claimed once per
    # person and period, so hourly is cheap and a missed hour is caught up by the next).
    "send-due-digests": {
        "task": "governance.tasks.send_due_digests",
        "schedule": timedelta(hours=1),
    },
    # charters: expired data use agreements suspend the data use of their charters.
    "flag-expired-agreements": {
        "task": "charters.tasks.flag_expired_agreements",
        "schedule": timedelta(hours=1),
    },
    # Credits: return unspent allocations of ended pools (idempotent).
    "expire-credit-pools": {
        "task": "compute.tasks.expire_credit_pools",
        "schedule": timedelta(hours=1),
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # WeasyPrint logs each step of every PDF at INFO; only its warnings are worth reading.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "weasyprint": {"level": "WARNING"}},
}

# Limits at the edge (governance/limits.py): a body larger than MAX_REQUEST_BYTES is refused
# with 413 before it is parsed, except on the URLs named in LARGE_BODY_URLS, which take the
# allowance of the setting named there. JSON nests at most JSON_MAX_DEPTH levels; a list in
# one request (ids of a multi-select or a filter, samples of a push) holds at most MAX_LIST_ITEMS.
MAX_REQUEST_BYTES = env.int("MAX_REQUEST_BYTES", default=2_500_000)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BYTES
DATA_UPLOAD_MAX_NUMBER_FIELDS = env.int("DATA_UPLOAD_MAX_NUMBER_FIELDS", default=2000)
LARGE_BODY_URLS = {
    "compute:security-upload": "SECURITY_REPORT_MAX_BYTES",
    "securityreport-list": "SECURITY_REPORT_MAX_BYTES",
    "metrics-ingest": "METRICS_PUSH_MAX_BYTES",
}
# The latest a ballot may close, counted from its opening.
BALLOT_MAX_VOTING_DAYS = env.int("BALLOT_MAX_VOTING_DAYS", default=730)
JSON_MAX_DEPTH = env.int("JSON_MAX_DEPTH", default=32)
MAX_LIST_ITEMS = env.int("MAX_LIST_ITEMS", default=1000)

# Metrics and security posture (compute app, DESIGN.md 2.4).
METRICS_RAW_RETENTION_DAYS = env.int("METRICS_RAW_RETENTION_DAYS", default=35)
METRICS_MAX_POINTS = env.int("METRICS_MAX_POINTS", default=1000)
METRICS_DEFAULT_POINTS = env.int("METRICS_DEFAULT_POINTS", default=300)
METRICS_PUSH_MAX_BYTES = env.int("METRICS_PUSH_MAX_BYTES", default=1_000_000)
METRICS_PUSH_MAX_SAMPLES = env.int("METRICS_PUSH_MAX_SAMPLES", default=10_000)
METRICS_INITIAL_BACKFILL_HOURS = env.int("METRICS_INITIAL_BACKFILL_HOURS", default=6)
METRICS_MAX_BACKFILL_HOURS = env.int("METRICS_MAX_BACKFILL_HOURS", default=72)
METRICS_HTTP_TIMEOUT = env.float("METRICS_HTTP_TIMEOUT", default=10.0)
SECURITY_SCAN_STALE_DAYS = env.int("SECURITY_SCAN_STALE_DAYS", default=7)
SECURITY_REPORT_MAX_BYTES = env.int("SECURITY_REPORT_MAX_BYTES", default=25_000_000)
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].update(
    {"MetricSourceKindEnum": "compute.choices.MetricSourceKind", "ScanKindEnum": "compute.choices.ScanKind"}
)
SECURITY_REPORTS_ROOT = Path(env.str("SECURITY_REPORTS_ROOT", default=str(VAR_DIR / "security-reports")))
CELERY_BEAT_SCHEDULE["ingest-security-reports"] = {
    "task": "compute.tasks.ingest_watched_reports",
    "schedule": timedelta(minutes=env.int("SECURITY_REPORTS_EVERY_MINUTES", default=10)),
}
# Attributed usage is posted to the ledger as it is collected; this sweeps up any hour whose
# posting failed (the ledger is idempotent per source, resource, charter and hour).
CELERY_BEAT_SCHEDULE["post-pending-usage"] = {
    "task": "compute.tasks.post_pending_usage",
    "schedule": timedelta(minutes=15),
}
# The public view's usage per resource and month (compute.models.UsageMonth) catches up with
# the posted usage this often.
CELERY_BEAT_SCHEDULE["refresh-usage-months"] = {
    "task": "compute.tasks.refresh_usage_months",
    "schedule": timedelta(minutes=env.int("USAGE_MONTHS_EVERY_MINUTES", default=15)),
}
CELERY_BEAT_SCHEDULE["purge-raw-metric-samples"] = {
    "task": "compute.tasks.purge_raw_samples",
    "schedule": timedelta(hours=6),
}

# The public view (governance.public): pages cached this long for anonymous visitors (each
# publication makes them stale at once), and at most this many pages per address.
PUBLIC_CACHE_SECONDS = env.int("PUBLIC_CACHE_SECONDS", default=300)
# A signed-in page is served again while the database has not been written since (PostgreSQL
# with Redis only; governance/page_cache.py), for at most this many seconds; 0 turns it off.
SIGNED_IN_PAGE_CACHE_SECONDS = env.int("SIGNED_IN_PAGE_CACHE_SECONDS", default=60)
PUBLIC_RATE_LIMIT = env.str("PUBLIC_RATE_LIMIT", default="300/min")
PUBLIC_DATA_LICENCE = env.str("PUBLIC_DATA_LICENCE", default="CC-BY-4.0")
PUBLIC_DATA_LICENCE_URL = env.str("PUBLIC_DATA_LICENCE_URL", default="https://creativecommons.org/licenses/by/4.0/")

# API tokens expire this many hours after they are issued (DELETE /api/auth/token/ revokes one
# sooner; "sign out everywhere" revokes them all).
API_TOKEN_HOURS = env.int("API_TOKEN_HOURS", default=8)

# Two-factor (django-otp): the issuer authenticator apps show beside the account name.
OTP_TOTP_ISSUER = "TGB portal"

# The verifiable record (DESIGN §2.6, governance.transparency). Keys live in files, never in the
# database; on a local run the log key is generated into var/ the first time it is needed.
LOG_SIGNING_KEY = env.str("LOG_SIGNING_KEY", default=str(VAR_DIR / "log_signing_key"))
LOG_ORIGIN = env.str("LOG_ORIGIN", default="")
# A file of lines `witness <sector> <url> <vkey>`; unset means no witnesses (nothing gets cosigned).
LOG_WITNESSES = env.str("LOG_WITNESSES", default="")
LOG_BATCH_SIZE = env.int("LOG_BATCH_SIZE", default=1000)
LOG_WITNESS_TIMEOUT = env.float("LOG_WITNESS_TIMEOUT", default=5.0)
CELERY_BEAT_SCHEDULE["integrate-audit-log"] = {
    "task": "governance.transparency.tasks.integrate_log",
    "schedule": timedelta(seconds=env.int("LOG_INTEGRATE_EVERY_SECONDS", default=2)),
}
CELERY_BEAT_SCHEDULE["push-audit-checkpoint"] = {
    "task": "governance.transparency.tasks.push_checkpoint",
    "schedule": timedelta(seconds=env.int("LOG_PUSH_EVERY_SECONDS", default=5)),
}

"""Settings, all read from the environment (see .env.example for every variable)."""

from pathlib import Path
from urllib.parse import urlsplit

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A .env file next to manage.py (``make demo`` writes one) fills in what the environment does not set.
if env.bool("READ_DOT_ENV", default=True):
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="" if not DEBUG else "dev-insecure-secret-key")
if not SECRET_KEY:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "apps.backoffice.admin_apps.PMSAdminConfig",  # django.contrib.admin with the back office's site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "django_celery_beat",
    "axes",
    "apps.core",
    "apps.properties",
    "apps.availability",
    "apps.bookings",
    "apps.payments",
    "apps.ledger",
    "apps.channels",
    "apps.sandbox",
    "apps.storefront",
    "apps.api",
    "apps.privacy",
    "apps.benchmarks",
    "apps.backoffice",
    "apps.integrations",
]

MIDDLEWARE = [
    "apps.core.observability.RequestContextMiddleware",  # correlation id + request metrics: keep first
    "apps.core.badinput.RejectNulMiddleware",  # a NUL in the path or query string is a 400 everywhere
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "apps.api.middleware.ApiJsonErrorsMiddleware",  # every /api/ error answer in the JSON error shape
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "apps.core.audit.AuditActorMiddleware",  # who acts, for the audit log's triggers
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Content-Security-Policy with a per-request nonce; frame-ancestors 'none' except the booking widget
    "apps.core.security.SecurityHeadersMiddleware",
    # admin login throttling (django-axes): keep last
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "pms.urls"
WSGI_APPLICATION = "pms.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/pms")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
# a persistent connection that died while idle (database restart, pg_terminate_backend) is replaced
# before the next request uses it, instead of failing that request
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"].setdefault("OPTIONS", {})
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": env.str("CACHE_URL", default=REDIS_URL),
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="pms"),
        # a Redis that hangs must not hang requests: fail fast, callers degrade (see README "Faults")
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            "SOCKET_CONNECT_TIMEOUT": 2,
            "SOCKET_TIMEOUT": 2,
        },
    }
}

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses a locked-out login before any password check
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": env.int("PASSWORD_MIN_LENGTH", default=12)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Login throttling (django-axes, attempts kept in PostgreSQL: visible and clearable in the admin under
# "Axes", or `manage.py axes_reset`). AXES_FAILURE_LIMIT failed logins for one username from one address
# lock that pair out for AXES_COOLOFF_HOURS; a stranger elsewhere cannot lock the real user out.
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=20)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=1.0)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False
AXES_CLIENT_IP_CALLABLE = "apps.core.security.client_ip"
# Behind a reverse proxy: the header that carries the caller's address (e.g. X-Real-IP). Set it only when
# the proxy always overwrites that header, else callers could forge it. Empty: the socket's address.
CLIENT_IP_HEADER = env.str("CLIENT_IP_HEADER", default="")
GUARDIAN_RAISE_403 = False
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user row; anonymous users see nothing

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("de", "Deutsch")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True
FORMS_URLFIELD_ASSUME_HTTPS = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # whitenoise serves /static/ from gunicorn (compressed copies made by collectstatic)
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")

# --- Celery -----------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="pms")
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Everything published from a request has a database backstop (outbox sweeper, deliveries due, payments
# sweep), so with the broker down a request gives up publishing quickly instead of retrying for seconds.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TIMEZONE = "UTC"

# --- Domain -----------------------------------------------------------------------------------
HOLD_MINUTES = env.int("HOLD_MINUTES", default=10)
BOOKING_REFERENCE_PREFIX = env.str("BOOKING_REFERENCE_PREFIX", default="PMS")
# Dotted paths of callables run for every outbox event once it is committed.
OUTBOX_HANDLERS = env.list(
    "OUTBOX_HANDLERS",
    default=[
        "apps.channels.outbox.handle_event",
        "apps.payments.outbox.handle_event",
        "apps.storefront.outbox.handle_event",
        "apps.backoffice.notifications.handle_event",
        "apps.integrations.outbox.handle_event",
    ],
)
# Limits at every entry (apps.core.limits): feeds, admin, API, guest pages and channel messages.
MAX_STAY_NIGHTS = env.int("MAX_STAY_NIGHTS", default=365)  # longest stay or block
MAX_DAYS_AHEAD = env.int("MAX_DAYS_AHEAD", default=1096)  # how far ahead a stay or block may reach
MAX_DAYS_PAST = env.int("MAX_DAYS_PAST", default=730)  # how far back a date may lie
MAX_GUESTS = env.int("MAX_GUESTS", default=100)
MAX_AMOUNT = env.int("MAX_AMOUNT", default=10_000_000)  # largest amount, in currency units
MAX_JSON_DEPTH = env.int("MAX_JSON_DEPTH", default=8)  # structured input: addresses, rule conditions
MAX_JSON_BYTES = env.int("MAX_JSON_BYTES", default=64 * 1024)
DB_RETRY_ATTEMPTS = env.int("DB_RETRY_ATTEMPTS", default=5)
LOCK_TIMEOUT_MS = env.int("LOCK_TIMEOUT_MS", default=10000)

# --- Email ------------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
# Guests see the storefront's brand as the sender.
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default=f"{env.str('STOREFRONT_NAME', default='Direct Stays')} <bookings@pms.localhost>"
)

# --- Sentry -----------------------------------------------------------------------------------
# OpenTelemetry tracing (apps.core.tracing): off unless an OTLP/HTTP collector endpoint is given.
OTEL_EXPORTER_OTLP_ENDPOINT = env.str("OTEL_EXPORTER_OTLP_ENDPOINT", default="")  # e.g. http://127.0.0.1:4318
OTEL_SERVICE_NAME = env.str("OTEL_SERVICE_NAME", default="pms")  # spans say pms-web / pms-worker
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    import sentry_sdk

    sentry_sdk.init(dsn=SENTRY_DSN, send_default_pii=False, include_local_variables=False, traces_sample_rate=0.0)

# Console logs with the request/task correlation id: one JSON object per line, or plain text.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "apps.core.observability.ContextFilter"}},
    "formatters": {
        "json": {"()": "apps.core.observability.JsonFormatter"},
        "plain": {"()": "apps.core.observability.PlainFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["context"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
if LOG_FORMAT not in LOGGING["formatters"]:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(f"LOG_FORMAT must be json or plain, not {LOG_FORMAT!r}")
# /metrics needs "Authorization: Bearer <METRICS_TOKEN>"; METRICS_ALLOW_LOOPBACK=1 also opens it to
# unproxied loopback callers (default only with DEBUG).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOW_LOOPBACK = env.bool("METRICS_ALLOW_LOOPBACK", default=DEBUG)

# --- Deployment security (README "Production") ------------------------------------------------------
# Behind a TLS-terminating proxy, name the header it sets, e.g. "X-Forwarded-Proto=https" (only if the
# proxy always overwrites it): Django then knows the request was HTTPS (HSTS, redirects, secure cookies).
_proxy_header = env.str("SECURE_PROXY_SSL_HEADER", default="")
if _proxy_header:
    _name, _sep, _value = _proxy_header.replace(":", "=", 1).partition("=")
    if not _sep or not _name.strip() or not _value.strip():
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("SECURE_PROXY_SSL_HEADER must look like 'X-Forwarded-Proto=https'")
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _name.strip().upper().replace("-", "_"), _value.strip())
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# the load balancer's probes and the metrics scraper may speak plain HTTP inside the network
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_REFERRER_POLICY = "same-origin"  # guest-link tokens never leave in a Referer
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=True) and not DEBUG
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
# Content-Security-Policy (apps.core.security): extra image sources (e.g. a media CDN), report-only mode.
CSP_EXTRA_IMG_SRC = env.list("CSP_EXTRA_IMG_SRC", default=[])
CSP_REPORT_ONLY = env.bool("CSP_REPORT_ONLY", default=False)

# --- Sandboxes (local platform simulators under /sandbox/) --------------------------------------
SANDBOX_ENABLED = env.bool("SANDBOX_ENABLED", default=DEBUG)
# SSRF guard (apps.core.net): owner-entered URLs (iCal feeds, platform base URLs) are fetched only
# from public addresses, checked on every redirect hop and on the address actually connected.
# ALLOW_PRIVATE_HOSTS lifts it entirely (tests); SSRF_ALLOWED_HOSTS lists exact "host:port"
# endpoints allowed although private: with the sandboxes on, the site's own (the simulators live
# under SITE_URL).
ALLOW_PRIVATE_HOSTS = env.bool("ALLOW_PRIVATE_HOSTS", default=False)
_site = urlsplit(SITE_URL)
SSRF_ALLOWED_HOSTS = env.list(
    "SSRF_ALLOWED_HOSTS",
    default=[f"{_site.hostname}:{_site.port or (443 if _site.scheme == 'https' else 80)}"] if SANDBOX_ENABLED else [],
)

# --- Channel manager ----------------------------------------------------------------------------
# AES-256-GCM keys for channel secrets: "kid1:<base64 32 bytes>,kid2:..."; the active one encrypts.
CHANNEL_ENCRYPTION_KEYS = env.str("CHANNEL_ENCRYPTION_KEYS", default="")
CHANNEL_ENCRYPTION_KEY_ID = env.str("CHANNEL_ENCRYPTION_KEY_ID", default="")
# With DEBUG off the keys are required: no silent fallback to a key derived from SECRET_KEY.
CHANNEL_ENCRYPTION_REQUIRE_KEYS = env.bool("CHANNEL_ENCRYPTION_REQUIRE_KEYS", default=not DEBUG)
if CHANNEL_ENCRYPTION_REQUIRE_KEYS and not CHANNEL_ENCRYPTION_KEYS:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        "CHANNEL_ENCRYPTION_KEYS must be set when DEBUG=0 (generate one with "
        "`python -c 'import base64,os; print(base64.b64encode(os.urandom(32)).decode())'` and set "
        "CHANNEL_ENCRYPTION_KEYS=k1:<that>), or CHANNEL_ENCRYPTION_REQUIRE_KEYS=0 for a throwaway run"
    )
CHANNEL_HTTP_TIMEOUT = env.float("CHANNEL_HTTP_TIMEOUT", default=10.0)
CHANNEL_PUSH_HORIZON_DAYS = env.int("CHANNEL_PUSH_HORIZON_DAYS", default=365)
CHANNEL_RECONCILE_DAYS = env.int("CHANNEL_RECONCILE_DAYS", default=365)  # how far ahead reconciliation compares
CHANNEL_DELIVERY_MAX_ATTEMPTS = env.int("CHANNEL_DELIVERY_MAX_ATTEMPTS", default=8)
CHANNEL_RETRY_BASE_SECONDS = env.float("CHANNEL_RETRY_BASE_SECONDS", default=5.0)
CHANNEL_RETRY_MAX_SECONDS = env.float("CHANNEL_RETRY_MAX_SECONDS", default=900.0)
CHANNEL_BREAKER_THRESHOLD = env.int("CHANNEL_BREAKER_THRESHOLD", default=5)
CHANNEL_BREAKER_COOLDOWN_SECONDS = env.float("CHANNEL_BREAKER_COOLDOWN_SECONDS", default=30.0)
# Token bucket per platform: "platform:rate_per_second:burst,..."
CHANNEL_RATE_LIMITS = env.str("CHANNEL_RATE_LIMITS", default="booking_com:5:10,google_vr:400:400,default:5:10")
CHANNEL_WEBHOOK_TOLERANCE_SECONDS = env.int("CHANNEL_WEBHOOK_TOLERANCE_SECONDS", default=300)
CHANNEL_REDIS_URL = env.str("CHANNEL_REDIS_URL", default=REDIS_URL)
CHANNEL_REDIS_PREFIX = env.str("CHANNEL_REDIS_PREFIX", default="pms:channels")
# Airbnb partner app (OAuth2 client of the PMS). Empty with the sandbox on: the simulator under SITE_URL
# and its public demo credentials (apps.channels.airbnb.app_config); notifications are refused without a secret.
AIRBNB_CLIENT_ID = env.str("AIRBNB_CLIENT_ID", default="")
AIRBNB_CLIENT_SECRET = env.str("AIRBNB_CLIENT_SECRET", default="")
AIRBNB_NOTIFICATION_SECRET = env.str("AIRBNB_NOTIFICATION_SECRET", default="")
AIRBNB_API_URL = env.str("AIRBNB_API_URL", default="")
AIRBNB_OAUTH_URL = env.str("AIRBNB_OAUTH_URL", default="")

# --- Outbound webhooks for integrators (apps.integrations) ------------------------------------------
WEBHOOK_TIMEOUT = env.float("WEBHOOK_TIMEOUT", default=10.0)  # seconds per attempt
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=10)  # then a dead letter
WEBHOOK_RETRY_BASE_SECONDS = env.float("WEBHOOK_RETRY_BASE_SECONDS", default=10.0)  # doubled per attempt, jittered
WEBHOOK_RETRY_MAX_SECONDS = env.float("WEBHOOK_RETRY_MAX_SECONDS", default=3600.0)
WEBHOOK_DISABLE_AFTER_HOURS = env.float("WEBHOOK_DISABLE_AFTER_HOURS", default=72.0)  # failing with no success
WEBHOOK_DISABLE_AFTER_FAILURES = env.int("WEBHOOK_DISABLE_AFTER_FAILURES", default=20)  # ...and at least this many
WEBHOOK_MAX_SUBSCRIPTIONS = env.int("WEBHOOK_MAX_SUBSCRIPTIONS", default=20)  # per account
WEBHOOK_ALLOW_HTTP = env.bool("WEBHOOK_ALLOW_HTTP", default=DEBUG)  # plain http endpoints (https always allowed)

# --- Payments (Stripe) ------------------------------------------------------------------------
# STRIPE_API_BASE empty = the real Stripe; set it to a local sandbox (manage.py stripe_sandbox).
# STRIPE_SANDBOX allows the plain card form that confirms payments server-side: only with a sandbox.
STRIPE_SANDBOX = env.bool("STRIPE_SANDBOX", default=False)
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="sk_test_sandbox" if STRIPE_SANDBOX else "")
STRIPE_PUBLISHABLE_KEY = env.str("STRIPE_PUBLISHABLE_KEY", default="pk_test_sandbox" if STRIPE_SANDBOX else "")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="whsec_sandbox" if STRIPE_SANDBOX else "")
STRIPE_TIMEOUT_SECONDS = env.float("STRIPE_TIMEOUT_SECONDS", default=20.0)
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=2)

# --- iCal (export feeds, import of platforms' feeds) --------------------------------------------
ICAL_FETCH_TIMEOUT = env.float("ICAL_FETCH_TIMEOUT", default=15.0)  # seconds per connect/read
ICAL_MAX_BYTES = env.int("ICAL_MAX_BYTES", default=5 * 1024 * 1024)  # larger feeds are refused
ICAL_FETCH_DEADLINE = env.float("ICAL_FETCH_DEADLINE", default=30.0)  # total wall-clock seconds per download
ICAL_MAX_EVENTS = env.int("ICAL_MAX_EVENTS", default=5000)  # events per feed after recurrences are expanded
# An empty feed releases the blocks it made only after this many consecutive empty fetches over
# at least this many hours (or when the owner confirms): see apps.channels.ical "Empty feeds".
ICAL_EMPTY_RELEASE_FETCHES = env.int("ICAL_EMPTY_RELEASE_FETCHES", default=4)
ICAL_EMPTY_RELEASE_HOURS = env.float("ICAL_EMPTY_RELEASE_HOURS", default=24.0)

# --- FeWo-direkt / Vrbo (feeds we host, booking requests; apps.channels.vrbo) --------------------
VRBO_FEED_DAYS = env.int("VRBO_FEED_DAYS", default=730)  # days the availability and rate documents cover (max 1096)
VRBO_STALE_MINUTES = env.int("VRBO_STALE_MINUTES", default=60)  # alert when a changed feed is unread this long
VRBO_SIM_CRAWL_SECONDS = env.int("VRBO_SIM_CRAWL_SECONDS", default=60)  # the simulator's crawl interval (demo)


# --- Integrator API (/api/v1, apps.api) -------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["apps.api.throttling.TokenRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "apps.api.pagination.StablePageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "apps.api.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "apps.api.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
# Requests per token (per user for session auth, per IP for anonymous doc reads).
API_THROTTLE_RATE = env.str("API_THROTTLE_RATE", default="1200/minute")
# Idempotency-Key ledger: rows kept this long; an in-progress row older than this is taken over.
IDEMPOTENCY_TTL_HOURS = env.int("IDEMPOTENCY_TTL_HOURS", default=24)
IDEMPOTENCY_LOCK_SECONDS = env.int("IDEMPOTENCY_LOCK_SECONDS", default=120)
SPECTACULAR_SETTINGS = {
    "TITLE": "PMS-Webapp Integrator API",
    "DESCRIPTION": (
        "Owner-scoped REST API for property managers' own tools. Authenticate with an API token created in "
        "the admin (`Authorization: Bearer <token>`). Errors always look like "
        '`{"error": {"code": "...", "message": "...", "details": {...}}}`. POSTs accept an `Idempotency-Key`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # A PaymentIntent's status and a booking's payment_status would otherwise both be named
    # PaymentStatusEnum in the schema, and one would silently replace the other.
    "ENUM_NAME_OVERRIDES": {"PaymentIntentStatusEnum": "apps.payments.models.Payment.Status"},
    "WEBHOOKS": "apps.integrations.schema.WEBHOOKS",  # one import string naming the whole list
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.api.schema.add_error_responses",
        "apps.integrations.schema.webhooks_as_extension",
    ],
}

# --- Privacy (GDPR, apps.privacy) ------------------------------------------------------------------
# Raw inbound channel message bodies (guest data) are purged this many days after the stay ended (or
# after receipt when no booking came of them); their metadata stays.
INBOUND_BODY_RETENTION_DAYS = env.int("INBOUND_BODY_RETENTION_DAYS", default=90)

# --- Guest pages (storefront) -------------------------------------------------------------------
STOREFRONT_NAME = env.str("STOREFRONT_NAME", default="Direct Stays")  # brand shown on guest pages and e-mails
# How long a guest-portal magic link works (seconds); confirmation links do not expire.
GUEST_PORTAL_LINK_MAX_AGE = env.int("GUEST_PORTAL_LINK_MAX_AGE", default=72 * 3600)

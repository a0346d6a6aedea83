"""Fieldline settings: every value comes from the environment.

With nothing set, the embedded default runs: SQLite file, in-memory channel layer, Celery tasks
run eagerly in process, console SMS provider. `DJANGO_ENV=production` refuses to start without
the secrets and hosts a real deployment needs.
"""

import warnings
from pathlib import Path

import environ
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

from backend.core.logging import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
PRODUCTION = DJANGO_ENV == "production"
DEBUG = env.bool("DEBUG", default=not PRODUCTION)

if PRODUCTION:
    SECRET_KEY = env.str("SECRET_KEY")  # raises ImproperlyConfigured when missing
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
else:
    SECRET_KEY = env.str("SECRET_KEY", default="")
    if not SECRET_KEY:
        warnings.warn("SECRET_KEY is not set: using an insecure development key.", stacklevel=1)
        SECRET_KEY = "dev-insecure-key-do-not-use-in-production-0123456789abcdefghijklmnop"
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])

CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "simple_history",
    "import_export",
    "django_prometheus",
    "backend.core",
    "audit",
    "backend.org",
    "backend.crm",
    "backend.sales",
    "backend.notifications",
    "backend.reports",
    "sms_gateway",
    "mobile_api",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "backend.core.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    # Innermost and sync-only, so the whole chain runs in the request's one thread: between two
    # middlewares that can run async, each request would hop between threads four times more.
    "audit.middleware.HistoryDoorMiddleware",
]

ROOT_URLCONF = "backend.urls"
ASGI_APPLICATION = "backend.asgi.application"
WSGI_APPLICATION = None

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

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'fieldline.sqlite3'}"),
}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=0))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web process, eager tasks and `manage.py sms` share the file.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"}
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Same backend, counting queries and their time for /metrics.
    DATABASES["default"]["ENGINE"] = "django_prometheus.db.backends.postgresql"
    # Parameters bound by the server, and a statement run five times on a connection prepared: the
    # batch's statements are then planned once per connection, not on every run. Behind a pooler
    # in transaction mode that cannot keep prepared statements, set DB_PREPARE_THRESHOLD=0 (off).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=env.bool("DB_SERVER_SIDE_BINDING", default=True),
        prepare_threshold=env.int("DB_PREPARE_THRESHOLD", default=5) or None,
    )
    if env.bool("DB_POOL", default=False):
        # psycopg's pool per process: a request borrows a live connection instead of opening one
        # (Django closes per-request connections under ASGI, and persistent ones do not mix with it).
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": env.int("DB_POOL_MIN_SIZE", default=2),
            "max_size": env.int("DB_POOL_MAX_SIZE", default=10),
            "timeout": env.int("DB_POOL_TIMEOUT", default=10),
        }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "org.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="en")
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True
PHONENUMBER_DEFAULT_REGION = env.str("PHONE_DEFAULT_REGION", default="CN")

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

# Redis: absent means the embedded default (in-memory channel layer, eager Celery).
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = False
# A worker killed mid-task gives the message back to the broker: sends are idempotent per row.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fix-up closes the connections after every task, and in a prefork child the whole
# connection pool: a new PostgreSQL connection per task, costlier than a text's send. It does so
# only every this many tasks; between, backend/celery.py hands connections back as a request does.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
# Redis gives a dead worker's unacknowledged task to another worker after this many seconds.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE: dict = {
    # Re-queues SMS left behind by a crash between commit and the hand-off to a worker.
    "sms-sweep": {"task": "sms_gateway.tasks.sweep", "schedule": 60.0},
    # The app's door: expired idempotent replies, old rate-limit counters, dead sign-in codes.
    "api-prune": {"task": "mobile_api.prune", "schedule": crontab(minute=40, hour=3)},
    # Reports (backend/reports/tasks.py): roll-ups, forecast snapshots, alerts, managers' digest.
    "reports-rollups": {"task": "reports.refresh_rollups", "schedule": 600.0},
    "reports-forecast-snapshot": {"task": "reports.snapshot_forecasts", "schedule": crontab(minute=5, hour=0)},
    "reports-falling-accounts": {"task": "reports.flag_falling_accounts", "schedule": crontab(minute=30, hour=6)},
    "reports-digest": {"task": "reports.send_digests", "schedule": crontab(minute=0, hour=7)},
    "reports-stalled-deals": {
        "task": "reports.flag_stalled_deals", "schedule": crontab(minute=0, hour=8, day_of_week="mon"),
    },
    "reports-stakeholder-gaps": {
        "task": "reports.flag_stakeholder_gaps", "schedule": crontab(minute=15, hour=8, day_of_week="mon"),
    },
}

# Reports: an open deal of at least this amount needs its decision maker met every 60 days.
STAKEHOLDER_GAP_MIN_AMOUNT = env.int("STAKEHOLDER_GAP_MIN_AMOUNT", default=500_000)

# SMS (see SMS_COMMANDS.md).
SMS_PROVIDER = env.str("SMS_PROVIDER", default="console")
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_FROM_NUMBER = env.str("TWILIO_FROM_NUMBER", default="")
TWILIO_MESSAGING_SERVICE_SID = env.str("TWILIO_MESSAGING_SERVICE_SID", default="")
TWILIO_API_BASE_URL = env.str("TWILIO_API_BASE_URL", default="")
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="")
# Most texts a second from one sending number, across all workers (backend/core/pacing.py); 0: no limit.
SMS_SENDER_RATE_PER_SECOND = env.float("SMS_SENDER_RATE_PER_SECOND", default=0)
# Most inbound texts a web process handles in one go (sms_gateway/batching.py); 1: each alone.
SMS_INBOUND_BATCH = env.int("SMS_INBOUND_BATCH", default=64)
# How long a webhook waits for a batch to take its text before storing it, handing it to the worker
# and answering empty (the reply is then queued).
SMS_INBOUND_WAIT_SECONDS = env.float("SMS_INBOUND_WAIT_SECONDS", default=5)
# Longest a batch waits for the senders the last batch answered and the texts that came in while it
# ran (bigger batches cost less per text); it starts as soon as they are there, and a text alone
# under light load waits for nothing.
SMS_INBOUND_LINGER_SECONDS = env.float("SMS_INBOUND_LINGER_SECONDS", default=0.05)
# Behind a proxy, the META key of the header with the caller's address (e.g. HTTP_X_REAL_IP, set by
# nginx): the app's sign-in is rate-limited per client address.
CLIENT_IP_HEADER = env.str("CLIENT_IP_HEADER", default="")

# Behind a proxy that terminates HTTPS (nginx in deploy/), trust its forwarded headers.
USE_X_FORWARDED_HOST = env.bool("USE_X_FORWARDED_HOST", default=PRODUCTION)
if env.bool("TRUST_X_FORWARDED_PROTO", default=PRODUCTION):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# LOG_FORMAT=json: one JSON object a line, each with the request id (backend/core/logging.py).
LOGGING = logging_config(log_format=env.str("LOG_FORMAT", default="plain"), level=env.str("LOG_LEVEL", default="INFO"))
# No secret reaches a log line: tokens, keys, the Twilio token and sign-in codes are blanked (SECURITY.md).
LOGGING["filters"]["redact_secrets"] = {"()": "backend.core.logging.RedactSecretsFilter"}
for _handler in LOGGING["handlers"].values():
    _handler.setdefault("filters", []).append("redact_secrets")
# Celery workers log through LOGGING too, so their lines carry the request id in the same format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# Prometheus: /metrics on the web processes; a Celery worker serves its own on this port when set.
WORKER_METRICS_PORT = env.int("WORKER_METRICS_PORT", default=0)
WORKER_METRICS_ADDR = env.str("WORKER_METRICS_ADDR", default="127.0.0.1")
# deploy/bench only: the floor endpoint of the inbound benchmark (backend/core/bench_views.py).
BENCH_FLOOR_ENDPOINT = env.bool("BENCH_FLOOR_ENDPOINT", default=False)

LOGIN_URL = "admin:login"

"""ShipBridge settings. Every value comes from the environment (django-environ) with a default
that runs on a fresh machine: SQLite, a file-system Celery broker, DEBUG on.
Production sets DEBUG=false, SECRET_KEY, SHIPBRIDGE_ENCRYPTION_KEYS, DATABASE_URL (PostgreSQL)
and CELERY_BROKER_URL (Redis)."""
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("SHIPBRIDGE_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env(
    DEBUG=(bool, True),
    ALLOWED_HOSTS=(list, ["127.0.0.1", "localhost"]),
)

DEBUG = env("DEBUG")
SECRET_KEY = env("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "shipbridge-development-only-secret-key-do-not-use-in-production"
ALLOWED_HOSTS = env("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_celery_beat",
    "stores",
    "orders",
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

ROOT_URLCONF = "shipbridge.urls"
WSGI_APPLICATION = "shipbridge.wsgi.application"

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
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'shipbridge.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes (web, worker, beat) share the embedded database: wait for locks.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
FORMS_URLFIELD_ASSUME_HTTPS = True  # Django 6 behaviour, silences the transition warning
AUTH_USER_MODEL = "stores.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="shipbridge@localhost")
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))  # EMAIL_HOST etc. when set

# --- Celery -------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue / "out"),
        "data_folder_out": str(_queue / "out"),
        "processed_folder": str(_queue / "processed"),
        "control_folder": str(_queue / "control"),
        "store_processed": False,
    }
    for _sub in ("out", "processed", "control"):
        (_queue / _sub).mkdir(parents=True, exist_ok=True)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# The periodic tasks. The DatabaseScheduler installs these entries in the database when beat
# starts (an entry edited in the admin keeps its schedule until the next start). Each tick
# expires before the next one (`expire_seconds`, sent as the task's `expires`): a tick no worker
# took in time is dropped, the next one covers it.
CELERY_BEAT_SCHEDULE = {
    "Refresh due stores": {
        "task": "orders.tasks.refresh_due_stores",
        "schedule": 60.0,
        "options": {"expire_seconds": 55},
    },
    "Re-queue stale store notifications": {
        "task": "orders.tasks.requeue_stale_notifications",
        "schedule": 300.0,
        "options": {"expire_seconds": 280},
    },
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- ShipBridge ---------------------------------------------------------------------------
# Comma-separated Fernet keys; the first encrypts, all decrypt (rotation: prepend a new key,
# run `manage.py rotate_encryption_keys`, then drop the old one).
SHIPBRIDGE_ENCRYPTION_KEYS = env.list("SHIPBRIDGE_ENCRYPTION_KEYS", default=[])
if not SHIPBRIDGE_ENCRYPTION_KEYS:
    if not DEBUG:
        raise ImproperlyConfigured("SHIPBRIDGE_ENCRYPTION_KEYS must be set when DEBUG is off.")
    # Development-only key (valid Fernet key, public): never used when DEBUG is off.
    SHIPBRIDGE_ENCRYPTION_KEYS = ["c2hpcGJyaWRnZS1kZXZlbG9wbWVudC1vbmx5LWtleSE="]

# Absolute address of this ShipBridge (e.g. https://ship.example.com): makes logo links in
# customer e-mails absolute. Empty: e-mails show the company name instead of the logo.
SHIPBRIDGE_SITE_URL = env.str("SHIPBRIDGE_SITE_URL", default="")
# Egress policy: stores are called on public addresses only. Comma-separated host names, IP
# addresses or CIDR networks listed here may be called although they are not public (a
# self-hosted store on the private network: "erp.lan,10.20.0.0/16"; the loopback sandboxes of
# the embedded run and the tests: "127.0.0.1"). Empty: no exception.
SHIPBRIDGE_EGRESS_ALLOW = env.list("SHIPBRIDGE_EGRESS_ALLOW", default=[])
SHIPBRIDGE_HTTP_TIMEOUT = env.float("SHIPBRIDGE_HTTP_TIMEOUT", default=30.0)
SHIPBRIDGE_MAX_REPLY_BYTES = env.int("SHIPBRIDGE_MAX_REPLY_BYTES", default=25 * 1024 * 1024)
SHIPBRIDGE_IMPORT_OVERLAP_MINUTES = env.int("SHIPBRIDGE_IMPORT_OVERLAP_MINUTES", default=15)
SHIPBRIDGE_FIRST_IMPORT_DAYS = env.int("SHIPBRIDGE_FIRST_IMPORT_DAYS", default=30)
SHIPBRIDGE_IMPORT_LEASE_SECONDS = env.int("SHIPBRIDGE_IMPORT_LEASE_SECONDS", default=15 * 60)
SHIPBRIDGE_RETRY_ATTEMPTS = env.int("SHIPBRIDGE_RETRY_ATTEMPTS", default=4)
SHIPBRIDGE_RETRY_BASE_SECONDS = env.float("SHIPBRIDGE_RETRY_BASE_SECONDS", default=1.0)
SHIPBRIDGE_RETRY_MAX_SECONDS = env.float("SHIPBRIDGE_RETRY_MAX_SECONDS", default=60.0)
# Store notifications: tries in all (transient failures retried with back-off) before "failed".
SHIPBRIDGE_NOTIFY_MAX_ATTEMPTS = env.int("SHIPBRIDGE_NOTIFY_MAX_ATTEMPTS", default=5)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        # no handler of its own: records go to the root's (ours, or the Celery worker's) once
        "shipbridge": {"level": env.str("LOG_LEVEL", default="INFO")},
        # urllib3 logs every request line at DEBUG, query string included (a Custom Store's
        # SS-Password): never let those reach a log, whatever the root level.
        "urllib3": {"level": "WARNING"},
    },
}


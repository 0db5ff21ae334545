"""ShipBridge settings. Every value comes from the environment (django-environ); the defaults
are safe: DEBUG off, no key of any kind (none ships with ShipBridge), SQLite and a file-system
Celery broker.

Keys: production sets SECRET_KEY and SHIPBRIDGE_ENCRYPTION_KEYS in the environment; the embedded
run (scripts/run, SHIPBRIDGE_EMBEDDED=1) makes its own in var/ on first start (shipbridge/keys.py).
Without them this module still imports, and the system checks (shipbridge/checks.py) refuse
to start, naming what is missing. Production also sets DATABASE_URL (PostgreSQL),
CELERY_BROKER_URL (Redis), ALLOWED_HOSTS and, behind HTTPS, SHIPBRIDGE_HTTPS=true."""
from datetime import timedelta
from pathlib import Path

import environ

from shipbridge import keys

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("SHIPBRIDGE_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env(
    DEBUG=(bool, False),
    ALLOWED_HOSTS=(list, ["127.0.0.1", "localhost"]),
)

DEBUG = env("DEBUG")
# The embedded run on this machine: keys of its own in var/, uploaded logos served by Django.
SHIPBRIDGE_EMBEDDED = env.bool("SHIPBRIDGE_EMBEDDED", default=False)

# Django's signing key. Empty when unset: the check shipbridge.E001 then refuses to start.
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY and SHIPBRIDGE_EMBEDDED:
    SECRET_KEY = keys.embedded_secret_key(VAR_DIR)
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
    "axes",
    "stores",
    "orders",
    "shipbridge",  # the system checks (checks.py) and axes' records in the admin (admin.py)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # last, as django-axes asks: turns a locked-out login into its "too many attempts" answer
    "axes.middleware.AxesMiddleware",
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
    # Several processes (web, worker, beat) share the embedded database: wait for locks. Write-ahead
    # log: readers do not wait for a writer, and a commit costs no disk flush (synchronous=NORMAL:
    # never corrupt; after a power cut, not a process crash, the last commits may be lost).
    DATABASES["default"].setdefault("OPTIONS", {}).update({
        "timeout": 20, "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    })
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
FORMS_URLFIELD_ASSUME_HTTPS = True  # Django 6 behaviour, silences the transition warning
AUTH_USER_MODEL = "stores.User"

# django-axes first: it refuses a locked-out username + address before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

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

# --- Security ------------------------------------------------------------------------------
# Always: no MIME sniffing, no framing, no referrer to other sites, HttpOnly session cookie.
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
# A login lasts SHIPBRIDGE_SESSION_HOURS (a working day), or until the browser closes when asked.
SHIPBRIDGE_SESSION_HOURS = env.float("SHIPBRIDGE_SESSION_HOURS", default=12)
SESSION_COOKIE_AGE = int(SHIPBRIDGE_SESSION_HOURS * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = env.bool("SHIPBRIDGE_SESSION_EXPIRE_AT_BROWSER_CLOSE", default=False)

# Served over HTTPS: a proxy in front terminates TLS and says so in X-Forwarded-Proto (it must
# set that header itself, never pass on the client's). Then plain HTTP is redirected, browsers
# are told to use HTTPS only (HSTS), and the session and CSRF cookies never travel over HTTP.
SHIPBRIDGE_HTTPS = env.bool("SHIPBRIDGE_HTTPS", default=False)
if SHIPBRIDGE_HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = env.int("SHIPBRIDGE_HSTS_SECONDS", default=365 * 24 * 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# Login throttling (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one username from
# one address, that username is refused from that address (even with the right password) until
# AXES_COOLOFF_MINUTES pass without another try. A superuser lifts a lockout early by deleting
# its access attempt in the admin (or `manage.py axes_reset_username USERNAME`).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True  # a successful login forgets the earlier typos
AXES_ENABLE_ADMIN = False  # shipbridge/admin.py shows its records, to superusers only
# The address of a login attempt: REMOTE_ADDR, or with SHIPBRIDGE_TRUSTED_PROXIES reverse proxies
# in front, the one they recorded in X-Forwarded-For (shipbridge/throttling.py).
SHIPBRIDGE_TRUSTED_PROXIES = env.int("SHIPBRIDGE_TRUSTED_PROXIES", default=0)
AXES_CLIENT_IP_CALLABLE = "shipbridge.throttling.client_ip"

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
# run `manage.py rotate_encryption_keys`, then drop the old one). Empty when unset: the check
# shipbridge.E002 then refuses to start.
SHIPBRIDGE_ENCRYPTION_KEYS = env.list("SHIPBRIDGE_ENCRYPTION_KEYS", default=[])
if not SHIPBRIDGE_ENCRYPTION_KEYS and SHIPBRIDGE_EMBEDDED:
    SHIPBRIDGE_ENCRYPTION_KEYS = keys.embedded_encryption_keys(VAR_DIR)
# Uploaded logos (MEDIA_URL) are served by Django itself only in development and in the
# embedded run; in production the proxy serves MEDIA_ROOT.
SHIPBRIDGE_SERVE_MEDIA = DEBUG or SHIPBRIDGE_EMBEDDED

# Absolute address of this ShipBridge (e.g. https://ship.example.com): makes logo links in
# customer e-mails absolute. Empty: e-mails show the company name instead of the logo.
SHIPBRIDGE_SITE_URL = env.str("SHIPBRIDGE_SITE_URL", default="")
# Egress policy: stores are called on public addresses only. Comma-separated host names, IP
# addresses or CIDR networks listed here may be called although they are not public (a
# self-hosted store on the private network: "erp.lan,10.20.0.0/16"; the loopback sandboxes of
# the embedded run and the tests: "127.0.0.1"). Empty: no exception.
# Secrets (store passwords) are hidden from every error report and debug page.
DEFAULT_EXCEPTION_REPORTER_FILTER = "stores.debug.SecretsFilter"
# The embedded run's sandbox stores listen on 127.0.0.1: allowed there (and for its commands)
# unless the variable says otherwise.
SHIPBRIDGE_EGRESS_ALLOW = env.list("SHIPBRIDGE_EGRESS_ALLOW", default=["127.0.0.1"] if SHIPBRIDGE_EMBEDDED else [])
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


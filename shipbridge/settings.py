"""ShipBridge settings. Every value comes from the environment (django-environ); the defaults
are safe: DEBUG off, no key of any kind (none ships with ShipBridge), SQLite and a file-system
Celery broker.

Keys: production sets SECRET_KEY and SHIPBRIDGE_ENCRYPTION_KEYS in the environment; the embedded
run (scripts/run, SHIPBRIDGE_EMBEDDED=1) makes its own in var/ on first start (shipbridge/keys.py).
Without them this module still imports, and the system checks (shipbridge/checks.py) refuse
to start, naming what is missing. Production also sets DATABASE_URL (PostgreSQL),
CELERY_BROKER_URL (Redis), ALLOWED_HOSTS and, behind HTTPS, SHIPBRIDGE_HTTPS=true.

ShipBridge runs from a checkout (manage.py beside the packages; `var/` and `templates/` there) or
installed by `pip install .` into a virtual environment (templates inside the shipbridge package;
`var/` wherever SHIPBRIDGE_VAR_DIR says, by default the user's data folder). deploy/ holds the
systemd units and the environment file of a production install (README, "Production")."""
import os
from datetime import timedelta
from pathlib import Path

import environ

from shipbridge import keys

BASE_DIR = Path(__file__).resolve().parent.parent
# From a checkout: BASE_DIR is the project folder. Installed: BASE_DIR is site-packages, which is
# no place for data, and the templates are installed as shipbridge/templates (pyproject.toml).
FROM_CHECKOUT = (BASE_DIR / "manage.py").is_file()
_DEFAULT_VAR_DIR = (BASE_DIR / "var" if FROM_CHECKOUT else
                    Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "shipbridge")
VAR_DIR = Path(environ.Env().str("SHIPBRIDGE_VAR_DIR", default=str(_DEFAULT_VAR_DIR)))
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
    "whitenoise.runserver_nostatic",  # runserver leaves static files to WhiteNoise, as in production
    "django.contrib.staticfiles",
    "django_celery_beat",
    "axes",
    # the ShipStation-compatible API (/api/v1/): Django REST framework, django-filter, and the
    # OpenAPI schema with its docs pages (Swagger UI and Redoc served from the sidecar's static files)
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "health_check",  # the health endpoints' page (shipbridge/health.py)
    "stores",
    "orders",
    "shipbridge",  # the system checks (checks.py) and axes' records in the admin (admin.py)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # static files (collectstatic's compressed, content-hashed copies in STATIC_ROOT), served by the app
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # the interface's language: the browser's (Accept-Language) or the one chosen on the login page
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # then the language a signed-in user chose in the header's switch, remembered on their account
    "shipbridge.language.UserLanguageMiddleware",
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
        "DIRS": [BASE_DIR / "templates" if FROM_CHECKOUT else Path(__file__).resolve().parent / "templates"],
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

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'shipbridge.sqlite3'}"),
}
# Several processes (web, worker, beat) share the embedded database: wait for locks. Write-ahead
# log: readers do not wait for a writer, and a commit costs no disk flush (synchronous=NORMAL:
# never corrupt; after a power cut, not a process crash, the last commits may be lost).
SQLITE_OPTIONS = {
    "timeout": 20, "transaction_mode": "IMMEDIATE",
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(SQLITE_OPTIONS)
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

# Languages: the interface follows the browser (LocaleMiddleware) unless the user chose one in the
# header's switch (stores.User.language); customer documents follow the store's language
# (stores.Store.language). ShipBridge's own catalogue is locale/<lang>/LC_MESSAGES/django.po,
# compiled by scripts/bootstrap (the .mo files are not committed). Each language is named in itself.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale" if FROM_CHECKOUT else Path(__file__).resolve().parent / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# Dates and numbers follow the active language (Django's formats, with ShipBridge's own date
# formats in shipbridge/formats/: "1 déc. 2026"). Numbers are not grouped everywhere (ids would
# read "1,234"): amounts are, through the `currency` and `grouped` template filters.
FORMAT_MODULE_PATH = ["shipbridge.formats"]

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
# `manage.py collectstatic` copies the static files to STATIC_ROOT with their content's hash in
# their names, gzipped beside them; WhiteNoise serves them (far-future caching for hashed names),
# so DEBUG off needs no proxy for them. Uploads (MEDIA_ROOT) stay on FileSystemStorage.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="shipbridge@localhost")
if env.str("EMAIL_URL", default=""):  # smtp://user:password@host:587 etc.: backend, host, port, TLS
    vars().update(env.email_url("EMAIL_URL"))
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=30.0)  # a mail server that hangs does not hold a worker
# For EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend: one file per message here.
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))

# Cache: the API's rate limit counts every web process's requests there. SHIPBRIDGE_CACHE_URL
# (django-environ: redis://host:6379/1, dbcache://table_name, locmemcache://); else Redis when
# the broker is Redis (the same server), else a table of the database (made by a migration).
SHIPBRIDGE_CACHE_URL = env.str("SHIPBRIDGE_CACHE_URL", default="")
if SHIPBRIDGE_CACHE_URL:
    CACHES = {"default": env.cache_url_config(SHIPBRIDGE_CACHE_URL)}
elif env.str("CELERY_BROKER_URL", default="").startswith(("redis://", "rediss://")):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": env.str("CELERY_BROKER_URL"), "KEY_PREFIX": "shipbridge"}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache",
                          "LOCATION": "shipbridge_cache"}}

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
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # A message a worker took and never acknowledged (the worker was killed) goes back to
        # its queue after this many seconds, instead of Redis's default hour. Longer than any
        # countdown ShipBridge queues with (SHIPBRIDGE_RETRY_MAX_SECONDS). A task still running
        # past it is delivered a second time: harmless, the import lease and the notification
        # claim turn the duplicate away.
        "visibility_timeout": env.int("SHIPBRIDGE_BROKER_VISIBILITY_SECONDS", default=300),
        # Notice a dead connection (a Redis restart) within seconds, and reconnect.
        "socket_keepalive": True,
        "socket_connect_timeout": 5,
        "health_check_interval": 10,
        "retry_on_timeout": True,
    }
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
# A task whose worker process died (kill -9, out of memory) goes back to the queue at once.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Two queues, so a slow store's import never delays a notification: "imports" (store
# refreshes, one at a time per store) and "notifications" (everything else: store
# notifications, customer e-mails, the beat's ticks and sweeps). Run workers for each
# (README, "Production"); the embedded run's one worker takes both.
CELERY_TASK_DEFAULT_QUEUE = "notifications"
CELERY_TASK_ROUTES = {
    "orders.tasks.refresh_store": {"queue": "imports"},
    "orders.tasks.import_store": {"queue": "imports"},
}
# Time limits: a task past its soft limit is stopped cleanly (an import ends failed, saying so;
# what it wrote stays), past the hard one its process is killed. Store calls time out long before.
CELERY_TASK_SOFT_TIME_LIMIT = env.int("SHIPBRIDGE_TASK_TIME_LIMIT_SECONDS", default=600)
CELERY_TASK_TIME_LIMIT = CELERY_TASK_SOFT_TIME_LIMIT + 60
_IMPORT_LIMIT = env.int("SHIPBRIDGE_IMPORT_TIME_LIMIT_SECONDS", default=3600)
CELERY_TASK_ANNOTATIONS = {
    name: {"soft_time_limit": _IMPORT_LIMIT, "time_limit": _IMPORT_LIMIT + 60}
    for name in ("orders.tasks.refresh_store", "orders.tasks.import_store")
}
# Reconnect to the broker for ever (a Redis restart): a worker waits for it, it does not exit.
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# On a lost broker connection, running tasks finish (their acknowledgement is then refused and
# the message delivered again, which the lease and the claim make harmless).
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
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
        "schedule": 30.0,
        "options": {"expire_seconds": 25},
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
# An import holds its store for this long, renewed every third of it while the run is alive
# (a heartbeat between and during pages): a dead worker's store is free again within it.
SHIPBRIDGE_IMPORT_LEASE_SECONDS = env.int("SHIPBRIDGE_IMPORT_LEASE_SECONDS", default=60)
# A delivery holds its store notification (or customer e-mail) for this long, renewed the same
# way while the store is being called: a lost delivery is settled by the next sweep after it.
SHIPBRIDGE_CLAIM_SECONDS = env.int("SHIPBRIDGE_CLAIM_SECONDS", default=60)
# The stale sweep (beat, every 30 s) queues again a pending notification or customer e-mail no
# delivery holds once it has waited this long (its task was lost: broker down, worker killed).
SHIPBRIDGE_SWEEP_GRACE_SECONDS = env.float("SHIPBRIDGE_SWEEP_GRACE_SECONDS", default=30.0)
# A run keeps this many skip reasons (the first ones); the count of the others is kept.
SHIPBRIDGE_SKIP_REASONS_KEPT = env.int("SHIPBRIDGE_SKIP_REASONS_KEPT", default=500)
SHIPBRIDGE_RETRY_ATTEMPTS = env.int("SHIPBRIDGE_RETRY_ATTEMPTS", default=4)
SHIPBRIDGE_RETRY_BASE_SECONDS = env.float("SHIPBRIDGE_RETRY_BASE_SECONDS", default=1.0)
SHIPBRIDGE_RETRY_MAX_SECONDS = env.float("SHIPBRIDGE_RETRY_MAX_SECONDS", default=60.0)
# Store notifications: tries in all (transient failures retried with back-off) before "failed".
SHIPBRIDGE_NOTIFY_MAX_ATTEMPTS = env.int("SHIPBRIDGE_NOTIFY_MAX_ATTEMPTS", default=5)

# --- The ShipStation-compatible API (/api/v1/) and its webhooks ---------------------------------
# Requests a minute per API key (ShipStation's 40); every reply says X-Rate-Limit-Limit,
# X-Rate-Limit-Remaining and X-Rate-Limit-Reset; past it, 429.
SHIPBRIDGE_API_RATE_LIMIT = env.int("SHIPBRIDGE_API_RATE_LIMIT", default=40)
# The zone of the API's dates, written and read without an offset like ShipStation's
# ("2015-06-29T08:46:27.0000000"). ShipStation's own are Pacific time (America/Los_Angeles).
SHIPBRIDGE_API_TIMEZONE = env.str("SHIPBRIDGE_API_TIMEZONE", default="UTC")
# Tries of a webhook delivery (transient failures: no answer, 5xx, 429) before it is marked failed.
SHIPBRIDGE_WEBHOOK_MAX_ATTEMPTS = env.int("SHIPBRIDGE_WEBHOOK_MAX_ATTEMPTS", default=6)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["orders.api.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "orders.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ShipBridge API (ShipStation API v1 compatible)",
    "DESCRIPTION": "ShipStation API v1's stores, orders, shipments and webhooks calls, answered by ShipBridge. "
                   "HTTP Basic: the API key as user name, its secret as password.",
    "VERSION": "1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",  # served from ShipBridge's static files, no CDN
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
}

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

# --- Production: queues, beat tick, health (README "Production", deploy/) -------------------
# The two queues (CELERY_TASK_DEFAULT_QUEUE and CELERY_TASK_ROUTES, in the Celery block above):
# deploy/systemd runs workers for each.
# How often beat's "Refresh due stores" tick runs (each store still refreshes by its own
# interval); each tick expires before the next one.
SHIPBRIDGE_REFRESH_TICK_SECONDS = env.float("SHIPBRIDGE_REFRESH_TICK_SECONDS", default=60.0)
CELERY_BEAT_SCHEDULE["Refresh due stores"].update(
    schedule=SHIPBRIDGE_REFRESH_TICK_SECONDS,
    options={"expire_seconds": max(1, int(SHIPBRIDGE_REFRESH_TICK_SECONDS * 11 / 12))},
)
# Readiness (/health/ready/) turns red when no worker has handled that tick for this long
# (default: three ticks, at least 3 minutes).
SHIPBRIDGE_HEALTH_BEAT_STALE_SECONDS = env.float(
    "SHIPBRIDGE_HEALTH_BEAT_STALE_SECONDS", default=max(180.0, 3 * SHIPBRIDGE_REFRESH_TICK_SECONDS))
# Health probes come over plain HTTP from the load balancer: never redirected to HTTPS.
SECURE_REDIRECT_EXEMPT = [r"^health/"]

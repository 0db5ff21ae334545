"""The settings of a test run (pyproject's DJANGO_SETTINGS_MODULE): ShipBridge's own, with keys
made for this run only. No key ships with ShipBridge, so a throw-away SECRET_KEY and Fernet key
are put in the environment here, before the settings read it, unless it already has them
(scripts/test and plain pytest alike). The processes the tests start (manage.py, the Celery
worker) inherit them."""
import os

from shipbridge.keys import new_fernet_key, new_secret_key

os.environ.setdefault("SECRET_KEY", new_secret_key())
os.environ.setdefault("SHIPBRIDGE_ENCRYPTION_KEYS", new_fernet_key())

from shipbridge.settings import *  # noqa: E402,F401,F403

# Static files as Django finds them, without collectstatic: the production storage (compressed,
# content-hashed names from collectstatic's manifest) is exercised for real by the production
# smoke test (tests/test_production.py). The empty STATIC_ROOT keeps WhiteNoise quiet.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405

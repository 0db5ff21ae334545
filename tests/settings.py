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

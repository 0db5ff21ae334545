import os

# The sandbox stores listen on 127.0.0.1, a loopback address the egress policy refuses unless
# SHIPBRIDGE_EGRESS_ALLOW lists it: allowed for the processes the tests start (manage.py, the
# Celery worker) and for this one, whose settings pytest-django loaded before reading this file.
os.environ.setdefault("SHIPBRIDGE_EGRESS_ALLOW", "127.0.0.1")


def _allow_the_sandboxes():
    from django.conf import settings

    if settings.configured:
        settings.SHIPBRIDGE_EGRESS_ALLOW = [entry.strip() for entry in os.environ["SHIPBRIDGE_EGRESS_ALLOW"].split(",")
                                            if entry.strip()]


_allow_the_sandboxes()

pytest_plugins = [
    "tests.fixtures.api",
    "tests.fixtures.celery",
    "tests.fixtures.i18n",
    "tests.fixtures.replay",
    "tests.fixtures.retries",
    "tests.fixtures.sandboxes",
    "tests.fixtures.stores",
    "tests.fixtures.users",
]

# Markers that preset the shared fixtures (see their modules).
MARKERS = [
    "retries(attempts=None, notify_attempts=None): attempt limits the fast_retries fixture sets",
    "sandbox(kind='custom_store', **options): what the sandbox fixture starts",
    "shop(preset='custom_store', **options): the sandbox behind the shop fixture",
]


def pytest_configure(config):
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)

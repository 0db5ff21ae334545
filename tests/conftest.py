pytest_plugins = [
    "tests.fixtures.celery",
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

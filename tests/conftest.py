import os

import pytest

from shipbridge.celery import app as celery_app

REQUIRE_SERVICES = os.environ.get("SHIPBRIDGE_REQUIRE_SERVICES") == "1"


@pytest.fixture
def redis_url():
    """The throw-away Redis started by scripts/test. Locally without it the test is skipped;
    under scripts/test (SHIPBRIDGE_REQUIRE_SERVICES=1) a missing Redis is a failure."""
    url = os.environ.get("SHIPBRIDGE_TEST_REDIS_URL")
    if not url:
        if REQUIRE_SERVICES:
            pytest.fail("SHIPBRIDGE_TEST_REDIS_URL is not set but services are required")
        pytest.skip("no Redis: run scripts/test for the Redis and Celery-worker tests")
    return url


@pytest.fixture
def fast_retries(settings):
    """Back-off in hundredths of a second and a short HTTP timeout, so retry paths run fast.
    Test modules add what they need (fewer attempts, notification limits) on top."""
    settings.SHIPBRIDGE_RETRY_BASE_SECONDS = 0.01
    settings.SHIPBRIDGE_RETRY_MAX_SECONDS = 0.05
    settings.SHIPBRIDGE_HTTP_TIMEOUT = 5.0
    return settings


@pytest.fixture
def eager_celery():
    """Run .delay()'d tasks in-process (for service-level tests)."""
    previous = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield celery_app
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = previous


@pytest.fixture
def merchant(db):
    from tests.factories import MerchantFactory

    return MerchantFactory(name="Acme Goods")


@pytest.fixture
def superuser(db):
    from stores.models import User

    return User.objects.create_superuser("root", "root@example.test", "pass-word-123")


@pytest.fixture
def admin_client_su(client, superuser):
    client.force_login(superuser)
    return client

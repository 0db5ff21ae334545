"""The health endpoints (shipbridge/health.py): liveness answers without login or database;
readiness checks the database, the broker and that a worker handled beat's tick recently."""
import datetime as dt

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from orders import heartbeats, tasks
from orders.models import Heartbeat
from shipbridge.celery import app as celery_app

pytestmark = pytest.mark.django_db


def readiness(client):
    reply = client.get("/health/ready/?format=json")
    return reply.status_code, reply.json()


def check(checks: dict, name: str) -> str:
    return next(value for key, value in checks.items() if key.startswith(name))


def test_liveness_answers_anyone_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        reply = client.get("/health/live/")
    assert reply.status_code == 200 and reply.content == b"ok\n"
    assert "no-cache" in reply["Cache-Control"]


def test_readiness_is_red_until_a_worker_has_handled_a_beat_tick(client):
    # Given a database and a broker, but no tick ever handled
    status, checks = readiness(client)
    # Then readiness is red and says what to start
    assert status == 500
    assert check(checks, "Database") == "OK" and check(checks, "Broker") == "OK"
    assert "no beat tick was ever handled" in check(checks, "BeatTick")
    assert "notifications" in check(checks, "BeatTick")

    # When beat's tick runs on a worker
    tasks.refresh_due_stores()

    # Then it left its heartbeat, and readiness is green
    assert Heartbeat.objects.get(name=heartbeats.REFRESH_TICK).beat_at > timezone.now() - dt.timedelta(minutes=1)
    status, checks = readiness(client)
    assert status == 200 and len(checks) == 3 and set(checks.values()) == {"OK"}, checks


def test_readiness_is_red_when_the_last_tick_is_too_old(client):
    stale = django_settings.SHIPBRIDGE_HEALTH_BEAT_STALE_SECONDS
    heartbeats.heartbeat_record(name=heartbeats.REFRESH_TICK,
                                at=timezone.now() - dt.timedelta(seconds=stale + 30))
    status, checks = readiness(client)
    assert status == 500
    assert f"more than {stale:.0f} s" in check(checks, "BeatTick") and "check beat" in check(checks, "BeatTick")
    # a fresh tick overwrites the heartbeat (one row per task)
    heartbeats.heartbeat_record(name=heartbeats.REFRESH_TICK)
    assert Heartbeat.objects.count() == 1
    assert readiness(client)[0] == 200


def test_readiness_is_red_when_the_broker_is_down_and_never_shows_its_address(client, monkeypatch):
    heartbeats.heartbeat_record(name=heartbeats.REFRESH_TICK)
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)  # Celery prefers it to its configuration
    monkeypatch.setattr(celery_app.conf, "broker_url", "redis://:s3cret-pass@127.0.0.1:1/0")
    reply = client.get("/health/ready/?format=json")
    assert reply.status_code == 500
    assert "the Celery broker (redis) refuses the connection" in check(reply.json(), "Broker")
    assert check(reply.json(), "Database") == "OK"
    assert b"s3cret" not in reply.content and b"127.0.0.1" not in reply.content
    for page in (client.get("/health/ready/"), client.get("/health/ready/?format=text")):
        assert page.status_code == 500 and b"s3cret" not in page.content and b"refuses the connection" in page.content


def test_health_probes_over_plain_http_are_not_redirected_to_https(client, settings):
    # Given the HTTPS hardening (SHIPBRIDGE_HTTPS) behind a proxy
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Then a load balancer's plain HTTP probe gets its answer, while the admin is redirected
    assert client.get("/health/live/").status_code == 200
    assert client.get("/health/ready/").status_code in (200, 500)
    assert client.get("/admin/login/").status_code == 301


def test_the_tick_interval_and_the_stale_limit_follow_the_settings():
    entry = django_settings.CELERY_BEAT_SCHEDULE["Refresh due stores"]
    assert entry["task"] == heartbeats.REFRESH_TICK
    assert entry["schedule"] == django_settings.SHIPBRIDGE_REFRESH_TICK_SECONDS
    assert 0 < entry["options"]["expire_seconds"] < entry["schedule"]
    assert django_settings.SHIPBRIDGE_HEALTH_BEAT_STALE_SECONDS >= 3 * entry["schedule"]

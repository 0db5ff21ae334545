"""Webhooks: ORDER_NOTIFY after an import run that brought new or changed orders, SHIP_NOTIFY
after shipments are made, each listing exactly its batch at its resource_url; deliveries signed,
retried with back-off, every try logged, refused by the egress policy where the target is not
allowed, resent from the admin; the admin pages of API keys and webhooks; create_api_key."""
import hashlib
import hmac
import json
import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from orders import webhooks
from orders.importing import store_refresh
from orders.models import (ApiKey, AttemptOutcome, DeliveryStatus, WebhookAttempt, WebhookBatch, WebhookDelivery,
                           WebhookSubscription)
from orders.shipping import orders_combine, shipment_create
from tests.factories import MerchantFactory, UserFactory
from tests.utils import SHIP_DAY, import_orders, order_lines, sandbox_store

pytestmark = pytest.mark.django_db


def subscribe(merchant, receiver, event, store=None):
    return webhooks.subscription_create(merchant=merchant, event=event, target_url=receiver.url, store=store)


def deliver_all():
    for delivery in WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).order_by("pk"):
        webhooks.delivery_attempt(delivery_id=delivery.pk)


def fetched(api_client, url, site_url):
    reply = api_client.get(url.replace(site_url, ""))
    assert reply.status_code == 200, reply.content
    return reply.json()


def test_order_notify_after_an_import_that_brought_new_or_changed_orders(
        sandboxes, merchant, webhook_receiver, api_client, site_url, django_capture_on_commit_callbacks):
    sandbox = sandboxes(orders=0)
    receiver = webhook_receiver()
    state = sandbox.state
    first = [state.add_order(lines=order_lines(f"A{i}"), when=state.now()) for i in range(2)]
    store = sandbox_store(sandbox, merchant=merchant)
    made = subscribe(merchant, receiver, "ORDER_NOTIFY")
    subscribe(merchant, receiver, "ITEM_ORDER_NOTIFY", store=store)

    with django_capture_on_commit_callbacks(execute=False):
        run = store_refresh(store_id=store.pk, trigger="command")
    assert run.imported == 2
    deliveries = list(WebhookDelivery.objects.order_by("pk"))
    assert [d.resource_type for d in deliveries] == ["ORDER_NOTIFY", "ITEM_ORDER_NOTIFY"]
    batch = WebhookBatch.objects.get(import_run=run)
    assert deliveries[0].resource_url == f"{site_url}/api/v1/orders?importBatch={batch.token}"
    deliver_all()

    assert len(receiver.requests) == 2
    post = receiver.requests[0]
    body = json.loads(post.body)
    assert body == {"resource_url": deliveries[0].resource_url, "resource_type": "ORDER_NOTIFY"}
    # the signature: HMAC-SHA256 of "<timestamp>.<body>" with the subscription's secret
    stamp = post.headers["X-ShipBridge-Timestamp"]
    expected = hmac.new(made.secret.encode(), f"{stamp}.".encode() + post.body, hashlib.sha256).hexdigest()
    assert post.headers["X-ShipBridge-Signature"] == f"sha256={expected}"
    listed = fetched(api_client, body["resource_url"], site_url)
    assert sorted(o["orderKey"] for o in listed["orders"]) == sorted(o.order_id for o in first)

    # a run that brings nothing new sends nothing; the next one lists only what it brought or changed
    with django_capture_on_commit_callbacks(execute=False):
        quiet = store_refresh(store_id=store.pk, trigger="command")
    assert quiet.unchanged == 2 and WebhookDelivery.objects.count() == 2
    newer = state.add_order(lines=order_lines("B0"), when=state.now(), ship_to=first[0].ship_to)
    state.update_order(first[0].order_id, customer_notes="leave at the door")
    with django_capture_on_commit_callbacks(execute=False):
        third = store_refresh(store_id=store.pk, trigger="command")
    assert third.imported == 1 and third.updated == 1
    (delivery, _item) = WebhookDelivery.objects.filter(batch__import_run=third).order_by("pk")
    listed = fetched(api_client, delivery.resource_url, site_url)
    assert sorted(o["orderKey"] for o in listed["orders"]) == sorted([newer.order_id, first[0].order_id])


def test_ship_notify_lists_the_shipments_of_one_action(shop, merchant, webhook_receiver, api_client, api_client_for,
                                                       site_url, settings):
    sandbox, store, order = shop
    store.merchant = merchant
    store.save()
    receiver = webhook_receiver()
    subscribe(merchant, receiver, "SHIP_NOTIFY")
    subscribe(merchant, receiver, "ITEM_SHIP_NOTIFY")

    shipment = shipment_create(order=order, carrier="ups", tracking_number="1Z9", ship_date=SHIP_DAY,
                               notify_store=False)

    ship, item = WebhookDelivery.objects.order_by("pk")
    batch = ship.batch
    assert list(batch.shipments.all()) == [shipment]
    assert ship.resource_url == f"{site_url}/api/v1/shipments?batchId={batch.pk}&includeShipmentItems=False"
    assert item.resource_url.endswith("includeShipmentItems=True")
    deliver_all()
    assert [json.loads(r.body)["resource_type"] for r in receiver.requests] == ["SHIP_NOTIFY", "ITEM_SHIP_NOTIFY"]
    listed = fetched(api_client, ship.resource_url, site_url)
    assert [s["shipmentId"] for s in listed["shipments"]] == [shipment.pk] and listed["shipments"][0][
        "shipmentItems"] is None
    with_items = fetched(api_client, item.resource_url, site_url)
    assert {i["sku"] for i in with_items["shipments"][0]["shipmentItems"]} == {"TEA-001", "MUG-BLU"}
    # the batch is the merchant's: another key's call lists nothing of it
    other = api_client_for(MerchantFactory(name="Other Goods"))
    assert other.get(ship.resource_url.replace(site_url, "")).json()["total"] == 0


def test_shipments_made_together_are_one_batch(sandboxes, merchant, webhook_receiver, site_url):
    sandbox = sandboxes(orders=0)
    store, orders = import_orders(sandbox, count=2, merchant=merchant)
    same = {f: getattr(orders[0], f) for f in ("ship_to_name", "ship_to_company", "ship_to_street1", "ship_to_street2",
                                               "ship_to_city", "ship_to_state", "ship_to_postal_code", "ship_to_country")}
    type(orders[1]).objects.filter(pk=orders[1].pk).update(**same)
    receiver = webhook_receiver()
    subscribe(merchant, receiver, "SHIP_NOTIFY")

    shipments = orders_combine(orders=orders, carrier="usps", tracking_number="9400", ship_date=SHIP_DAY,
                               notify_store=False)

    (delivery,) = WebhookDelivery.objects.all()
    assert set(delivery.batch.shipments.all()) == set(shipments)


def test_no_subscription_no_batch(shop, site_url):
    _sandbox, _store, order = shop

    shipment_create(order=order, carrier="ups", ship_date=SHIP_DAY, notify_store=False)

    assert not WebhookBatch.objects.exists() and not WebhookDelivery.objects.exists()


def test_a_store_subscription_hears_only_its_store(sandboxes, merchant, webhook_receiver, site_url):
    first, second = sandboxes(orders=0), sandboxes(orders=0)
    store_a, (order_a,) = import_orders(first, merchant=merchant)
    store_b, (order_b,) = import_orders(second, merchant=merchant, name="Second shop")
    subscribe(merchant, webhook_receiver(), "SHIP_NOTIFY", store=store_b)

    shipment_create(order=order_a, carrier="ups", ship_date=SHIP_DAY, notify_store=False)
    assert not WebhookDelivery.objects.exists()
    shipment_create(order=order_b, carrier="ups", ship_date=SHIP_DAY, notify_store=False)
    assert WebhookDelivery.objects.count() == 1


def test_deliveries_are_queued_after_the_commit(shop, merchant, webhook_receiver, site_url, monkeypatch,
                                                django_capture_on_commit_callbacks):
    _sandbox, store, order = shop
    store.merchant = merchant
    store.save()
    subscribe(merchant, webhook_receiver(), "SHIP_NOTIFY")
    queued = []
    monkeypatch.setattr("orders.tasks.deliver_webhook.apply_async", lambda args, kwargs, **o: queued.append(args))

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        shipment_create(order=order, carrier="ups", ship_date=SHIP_DAY, notify_store=False)
        assert queued == []  # nothing before the commit

    (delivery,) = WebhookDelivery.objects.all()
    assert queued == [(delivery.pk,)] and callbacks


def test_transient_failures_are_retried_with_back_off_and_every_try_is_logged(
        shop, merchant, webhook_receiver, site_url, settings, eager_celery, django_capture_on_commit_callbacks):
    settings.SHIPBRIDGE_WEBHOOK_MAX_ATTEMPTS = 3
    _sandbox, store, order = shop
    store.merchant = merchant
    store.save()
    receiver = webhook_receiver(503, 502)
    subscribe(merchant, receiver, "SHIP_NOTIFY")

    with django_capture_on_commit_callbacks(execute=True):
        shipment_create(order=order, carrier="ups", ship_date=SHIP_DAY, notify_store=False)

    (delivery,) = WebhookDelivery.objects.all()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 3)
    tries = list(WebhookAttempt.objects.filter(delivery=delivery).order_by("number"))
    assert [(t.outcome, t.response_code) for t in tries] == [
        (AttemptOutcome.RETRY, 503), (AttemptOutcome.RETRY, 502), (AttemptOutcome.SENT, 200)]
    assert tries[2].response_body == "thanks" and len(receiver.requests) == 3


def test_retries_stop_at_the_limit_and_a_refusal_is_not_retried(shop, merchant, webhook_receiver, site_url, settings):
    settings.SHIPBRIDGE_WEBHOOK_MAX_ATTEMPTS = 2
    _sandbox, store, order = shop
    store.merchant = merchant
    store.save()
    down = webhook_receiver(503, 503, 503)
    refusing = webhook_receiver(410)
    subscribe(merchant, down, "SHIP_NOTIFY")
    subscribe(merchant, refusing, "ITEM_SHIP_NOTIFY")
    shipment_create(order=order, carrier="ups", ship_date=SHIP_DAY, notify_store=False)
    first, second = WebhookDelivery.objects.order_by("pk")

    result = webhooks.delivery_attempt(delivery_id=first.pk)
    assert result.retry_in is not None and result.retry_in <= webhooks.RETRY_CAP_SECONDS
    webhooks.delivery_attempt(delivery_id=first.pk, expected_attempts=1)
    assert webhooks.delivery_attempt(delivery_id=first.pk, expected_attempts=1) is None  # a duplicate task: nothing
    webhooks.delivery_attempt(delivery_id=second.pk)

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.attempts) == (DeliveryStatus.FAILED, 2)
    assert "gave up after 2 tries" in first.error and len(down.requests) == 2
    assert (second.status, second.attempts, second.error) == (
        DeliveryStatus.FAILED, 1, "the webhook target answered HTTP 410")
    assert len(refusing.requests) == 1


def test_the_egress_policy_refuses_a_target_it_does_not_allow(shop, merchant, webhook_receiver, site_url, settings):
    _sandbox, store, order = shop
    store.merchant = merchant
    store.save()
    receiver = webhook_receiver()
    subscribe(merchant, receiver, "SHIP_NOTIFY")
    shipment_create(order=order, carrier="ups", ship_date=SHIP_DAY, notify_store=False)
    settings.SHIPBRIDGE_EGRESS_ALLOW = []  # the loopback receiver is no longer allowed

    deliver_all()

    (delivery,) = WebhookDelivery.objects.all()
    assert delivery.status == DeliveryStatus.FAILED and "a loopback address" in delivery.error
    assert receiver.requests == []


def test_resend_posts_again_and_stale_deliveries_are_queued_again(shop, merchant, webhook_receiver, site_url,
                                                                  monkeypatch, django_capture_on_commit_callbacks):
    _sandbox, store, order = shop
    store.merchant = merchant
    store.save()
    receiver = webhook_receiver(404)
    subscribe(merchant, receiver, "SHIP_NOTIFY")
    shipment_create(order=order, carrier="ups", ship_date=SHIP_DAY, notify_store=False)
    deliver_all()
    (delivery,) = WebhookDelivery.objects.all()
    assert delivery.status == DeliveryStatus.FAILED

    with django_capture_on_commit_callbacks(execute=False):
        webhooks.delivery_resend(delivery=delivery)
    with pytest.raises(webhooks.WebhookError):
        webhooks.delivery_resend(delivery=delivery)  # pending: left to its tries
    queued = []
    monkeypatch.setattr("orders.webhooks.delivery_queue", lambda **kw: queued.append(kw))
    WebhookDelivery.objects.filter(pk=delivery.pk).update(updated_at=delivery.created_at.replace(year=2000))
    assert webhooks.deliveries_requeue_stale() == 1
    assert queued == [{"delivery_id": delivery.pk, "attempt": 1}]

    webhooks.delivery_attempt(delivery_id=delivery.pk, expected_attempts=1)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, len(receiver.requests)) == (DeliveryStatus.SENT, 2, 2)


# --- admin -----------------------------------------------------------------------------------


@pytest.fixture
def merchant_admin(merchant, fast_passwords):
    return UserFactory(merchant=merchant, groups=["merchant admin"])


def test_admin_makes_a_key_shows_its_secret_once_and_revokes_it(client, merchant_admin, merchant):
    client.force_login(merchant_admin)

    page = client.post(reverse("admin:orders_apikey_add"), {"label": "Our ERP"})

    assert page.status_code == 200
    api_key = ApiKey.objects.get()
    assert api_key.merchant == merchant and api_key.label == "Our ERP" and api_key.created_by == merchant_admin
    html = page.content.decode()
    secret = html.split('id="api-secret">')[1].split("<")[0]
    assert len(secret) == 32 and api_key.key in html
    assert api_key.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    change = client.get(reverse("admin:orders_apikey_change", args=[api_key.pk])).content.decode()
    assert secret not in change and "Revoke" in change

    client.post(reverse("admin:orders_apikey_revoke", args=[api_key.pk]))

    api_key.refresh_from_db()
    assert api_key.revoked_at is not None and api_key.revoked_by == merchant_admin
    reply = client.get("/api/v1/stores", HTTP_AUTHORIZATION="Basic " + __import__("base64").b64encode(
        f"{api_key.key}:{secret}".encode()).decode())
    assert reply.status_code == 401


def test_admin_keys_and_webhooks_are_the_merchants_own(client, merchant_admin, merchant, site_url, shop,
                                                       webhook_receiver):
    other = MerchantFactory(name="Other Goods")
    from orders.apikeys import api_key_create

    theirs = api_key_create(merchant=other, label="theirs").api_key
    their_hook = subscribe(other, webhook_receiver(), "SHIP_NOTIFY").subscription
    client.force_login(merchant_admin)

    assert "theirs" not in client.get(reverse("admin:orders_apikey_changelist")).content.decode()
    assert client.get(reverse("admin:orders_apikey_change", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("admin:orders_apikey_revoke", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("admin:orders_webhooksubscription_change", args=[their_hook.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_admin_webhook_page_shows_deliveries_with_their_answers_and_resends(client, merchant_admin, merchant, shop,
                                                                            webhook_receiver, site_url,
                                                                            django_capture_on_commit_callbacks):
    _sandbox, store, order = shop
    store.merchant = merchant
    store.save()
    receiver = webhook_receiver(500, 500, 500, 500, 500, 500)
    client.force_login(merchant_admin)
    form = client.post(reverse("admin:orders_webhooksubscription_add"), {
        "event": "SHIP_NOTIFY", "target_url": receiver.url, "friendly_name": "Warehouse", "active": "on",
        "deliveries-TOTAL_FORMS": "0", "deliveries-INITIAL_FORMS": "0"})
    assert form.status_code == 302, form.content.decode()[:3000]
    subscription = WebhookSubscription.objects.get()
    assert subscription.merchant == merchant and webhooks.subscription_secret(subscription)
    shipment_create(order=order, carrier="ups", ship_date=SHIP_DAY, notify_store=False)
    (delivery,) = WebhookDelivery.objects.all()
    webhooks.delivery_attempt(delivery_id=delivery.pk)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED)

    page = client.get(reverse("admin:orders_webhooksubscription_change", args=[subscription.pk])).content.decode()
    assert delivery.resource_url.replace("&", "&amp;") in page
    detail = client.get(reverse("admin:orders_webhookdelivery_change", args=[delivery.pk])).content.decode()
    assert "not now" in detail and "500" in detail and "Resend" in detail

    receiver.replies.clear()
    with django_capture_on_commit_callbacks(execute=False):
        client.post(reverse("admin:orders_webhookdelivery_resend", args=[delivery.pk]))
    webhooks.delivery_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT


def test_admin_refuses_a_target_the_egress_policy_refuses(client, merchant_admin, settings, site_url):
    settings.SHIPBRIDGE_EGRESS_ALLOW = []
    client.force_login(merchant_admin)

    page = client.post(reverse("admin:orders_webhooksubscription_add"), {
        "event": "SHIP_NOTIFY", "target_url": "http://127.0.0.1:9/x", "active": "on",
        "deliveries-TOTAL_FORMS": "0", "deliveries-INITIAL_FORMS": "0"})

    assert page.status_code == 200 and "a loopback address" in page.content.decode()
    assert not WebhookSubscription.objects.exists()


# --- create_api_key --------------------------------------------------------------------------


def test_create_api_key_command(merchant):
    out = io.StringIO()
    call_command("create_api_key", "--merchant", "Acme Goods", "--label", "ERP", stdout=out)

    made = json.loads(out.getvalue().strip().splitlines()[-1])
    assert set(made) == {"key", "secret"}
    api_key = ApiKey.objects.get(key=made["key"])
    assert (api_key.merchant, api_key.label) == (merchant, "ERP")
    assert api_key.secret_hash == hashlib.sha256(made["secret"].encode()).hexdigest()
    with pytest.raises(CommandError, match="no merchant named 'Nobody'"):
        call_command("create_api_key", "--merchant", "Nobody", stdout=io.StringIO())

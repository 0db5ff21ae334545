"""Merchants kept apart: a staff user of merchant A never sees or changes merchant B's rows,
whatever the admin page, search, filter, autocomplete, action or URL; superusers see all."""
import datetime as dt
import json
import uuid

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from orders.models import (ApiKey, ImportRun, NotificationAttempt, Order, OrderItem, Product, ProductAlias, Shipment,
                           ShipmentChange, ShipmentItem, StoreNotification, WebhookBatch, WebhookDelivery,
                           WebhookSubscription)
from stores import crypto
from stores.models import Merchant, StatusMapping, Store, User
from stores.scoping import merchant_path_of
from tests.factories import MerchantFactory, OrderFactory, OrderItemFactory, StoreFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]

# Every string of merchant B's rows carries this token: it must appear nowhere merchant A looks.
B = "Bravoxq"
A = "Alphazw"


def world(token: str) -> dict:
    """One merchant with a row of every merchant-owned model."""
    now = timezone.now()
    merchant = MerchantFactory(name=f"{token} Merchant")
    user = UserFactory(merchant=merchant, username=f"{token.lower()}-staff", email=f"{token.lower()}@example.test")
    store = StoreFactory(merchant=merchant, name=f"{token} shop")
    mapping = StatusMapping.objects.create(store=store, store_status=f"{token}-paid", status="awaiting_shipment")
    order = OrderFactory(store=store, order_number=f"{token}-1001", external_id=f"{token}-E1",
                         ship_to_name=f"{token} Customer")
    item = OrderItemFactory(order=order, sku=f"{token}-SKU", name=f"{token} widget")
    product = Product.objects.create(merchant=merchant, sku=f"{token}-SKU", name=f"{token} widget")
    alias = ProductAlias.objects.create(product=product, sku=f"{token}-ALIAS", store=store)
    shipment = Shipment.objects.create(order=order, carrier=f"{token}Post", tracking_number=f"{token}-TRACK",
                                       ship_date=dt.date.today())
    shipment_item = ShipmentItem.objects.create(shipment=shipment, order_item=item, quantity=1)
    notification = StoreNotification.objects.create(shipment=shipment, status="failed", error=f"{token} refused")
    attempt = NotificationAttempt.objects.create(notification=notification, number=1, started_at=now,
                                                 outcome="failed", message=f"{token} message")
    run = ImportRun.objects.create(store=store, trigger="schedule", started_at=now, status="failed",
                                   error=f"{token} run error")
    change = ShipmentChange.objects.create(shipment=shipment, changed_at=now, changed_by=user, field="tracking_number",
                                           old_value=f"{token}-OLD", new_value=f"{token}-TRACK",
                                           store_correction="left_as_is", store_note=f"{token} note")
    api_key = ApiKey.objects.create(merchant=merchant, label=f"{token} key", key=f"{token.lower()}key",
                                    secret_hash="0" * 64)
    hook = WebhookSubscription.objects.create(merchant=merchant, event="SHIP_NOTIFY", friendly_name=f"{token} hook",
                                              target_url=f"https://{token.lower()}.example.test/hook",
                                              encrypted_secret=crypto.encrypt_json({"secret": f"{token}-secret"}))
    batch = WebhookBatch.objects.create(merchant=merchant, store=store, kind="shipments", token=uuid.uuid4())
    delivery = WebhookDelivery.objects.create(subscription=hook, batch=batch, resource_type="SHIP_NOTIFY",
                                              resource_url=f"https://ship.example.test/api/v1/shipments?batchId={batch.pk}",
                                              status="failed", attempts=1, error=f"{token} hook error")
    return {Merchant: merchant, User: user, Store: store, StatusMapping: mapping, Order: order, OrderItem: item,
            Product: product, ProductAlias: alias, Shipment: shipment, ShipmentItem: shipment_item,
            StoreNotification: notification, NotificationAttempt: attempt, ImportRun: run, ShipmentChange: change,
            ApiKey: api_key, WebhookSubscription: hook, WebhookBatch: batch, WebhookDelivery: delivery}


@pytest.fixture
def worlds():
    return world(A), world(B)


def all_shipbridge_permissions():
    return Permission.objects.filter(content_type__app_label__in=["stores", "orders"])


@pytest.fixture
def client_a(client, worlds):
    """Merchant A's staff user with every ShipBridge model permission (scoping, not permissions,
    is what keeps B's rows away)."""
    user = worlds[0][User]
    user.user_permissions.set(all_shipbridge_permissions())
    client.force_login(user)
    return client


def url(model, name, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{name}", args=args)


def test_every_admin_model_hides_merchant_b_from_merchant_a(client_a, worlds):
    a, b = worlds
    for model, model_admin in admin.site._registry.items():
        if merchant_path_of(model) is None:
            # not merchant data (groups, beat schedules): only platform superusers manage it
            assert client_a.get(url(model, "changelist")).status_code == 403, model
            continue
        assert model in b, f"{model.__name__} is merchant data: add a row of it to world()"
        b_obj, a_obj = b[model], a[model]
        for page in ("change", "delete", "history"):
            response = client_a.get(url(model, page, b_obj.pk))
            assert response.status_code == 404, (model.__name__, page, response.status_code)
            assert client_a.post(url(model, page, b_obj.pk), {"post": "yes"}).status_code == 404, (model, page)
        assert client_a.get(url(model, "change", a_obj.pk)).status_code == 200, model
        listing = client_a.get(url(model, "changelist"))
        assert listing.status_code == 200, model
        html = listing.content.decode()
        assert B not in html, (model.__name__, html[html.find(B) - 300: html.find(B) + 100])
        assert url(model, "change", b_obj.pk) not in html
        if model_admin.search_fields:
            # searching for B's words finds nothing; the same search for A's words finds A's row
            searched = client_a.get(url(model, "changelist"), {"q": B}).content.decode()
            assert url(model, "change", b_obj.pk) not in searched and "0 results" in searched, model
            searched = client_a.get(url(model, "changelist"), {"q": A}).content.decode()
            assert url(model, "change", a_obj.pk) in searched, model
    # the user's own password page of another merchant's user
    assert client_a.get(reverse("admin:auth_user_password_change", args=[b[User].pk])).status_code == 404
    assert B not in client_a.get(reverse("admin:index")).content.decode()


def test_superuser_sees_every_merchant(admin_client_su, worlds):
    a, b = worlds
    for model in (Store, Order, Shipment, ImportRun, Product, StoreNotification):
        html = admin_client_su.get(url(model, "changelist")).content.decode()
        assert url(model, "change", a[model].pk) in html and url(model, "change", b[model].pk) in html, model
        assert admin_client_su.get(url(model, "change", b[model].pk)).status_code == 200
    html = admin_client_su.get(reverse("shipbridge_dashboard")).content.decode()
    assert f"{A} shop" in html and f"{B} shop" in html


def test_autocomplete_and_filters_do_not_leak(client_a, worlds):
    response = client_a.get(reverse("admin:autocomplete"), {"app_label": "stores", "model_name": "statusmapping",
                                                             "field_name": "store", "term": "shop"})
    assert response.status_code == 200
    names = [r["text"] for r in json.loads(response.content)["results"]]
    assert names == [f"{A} shop"]
    # the store filter of the orders list offers A's stores only; no merchant filter at all
    html = client_a.get(url(Order, "changelist")).content.decode()
    assert f"{A} shop" in html and B not in html
    html = client_a.get(url(Product, "changelist")).content.decode()
    assert "By merchant" not in html


def test_custom_pages_answer_404_for_another_merchants_objects(client_a, worlds):
    a, b = worlds
    store, notification = b[Store], b[StoreNotification]
    for name in ("refresh", "test_connection"):
        assert client_a.post(reverse(f"admin:stores_store_{name}", args=[store.pk])).status_code == 404
    assert client_a.get(reverse("admin:stores_store_activity", args=[store.pk])).status_code == 404
    assert client_a.post(reverse("admin:stores_store_resend", args=[store.pk, notification.pk])).status_code == 404
    # A's store with B's notification id: still 404
    assert client_a.post(reverse("admin:stores_store_resend", args=[a[Store].pk, notification.pk])).status_code == 404
    assert client_a.get(reverse("shipbridge_packing_slip", args=[b[Order].pk])).status_code == 404
    assert client_a.get(reverse("shipbridge_packing_slip", args=[a[Order].pk])).status_code == 200
    html = client_a.get(reverse("shipbridge_dashboard")).content.decode()
    assert f"{A} shop" in html and B not in html
    notification.refresh_from_db()
    assert notification.status == "failed"
    # the Correct page of B's shipment: not found, and nothing corrected
    correct = reverse("admin:orders_shipment_correct", args=[b[Shipment].pk])
    assert client_a.get(correct).status_code == 404
    assert client_a.post(correct, {"carrier": "X", "tracking_number": "A-NEW", "ship_date": "2024-05-31"}
                         ).status_code == 404
    b[Shipment].refresh_from_db()
    assert b[Shipment].tracking_number == f"{B}-TRACK" and b[Shipment].changes.count() == 1


def test_actions_ignore_another_merchants_selected_rows(client_a, worlds, eager_celery,
                                                        django_capture_on_commit_callbacks):
    a, b = worlds
    with django_capture_on_commit_callbacks(execute=True):
        response = client_a.post(url(Store, "changelist"), {
            "action": "test_connection", "_selected_action": [b[Store].pk], "index": 0,
        })
    assert response.status_code in (200, 302)
    b[Store].refresh_from_db()
    assert b[Store].last_connection_test_at is None
    with django_capture_on_commit_callbacks(execute=True):
        client_a.post(url(Store, "changelist"), {"action": "refresh_now", "_selected_action": [b[Store].pk]})
    assert not ImportRun.objects.filter(store=b[Store], trigger="user").exists()


def test_new_rows_get_the_users_merchant_whatever_is_posted(client_a, worlds):
    a, b = worlds
    response = client_a.post(reverse("admin:stores_store_add") + "?connector=custom_store", {
        "merchant": b[Merchant].pk, "name": "New shop", "active": "on", "refresh_interval_minutes": "15",
        "timezone": "UTC", "conn_url": "http://127.0.0.1:9/x", "conn_username": "u", "conn_password": "p",
        "map_list_awaiting_shipment": "paid",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Store.objects.get(name="New shop").merchant == a[Merchant]
    response = client_a.post(url(Product, "add"), {"merchant": b[Merchant].pk, "sku": "NEW-1", "name": "New",
                                                   "aliases-TOTAL_FORMS": "0", "aliases-INITIAL_FORMS": "0"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Product.objects.get(sku="NEW-1").merchant == a[Merchant]
    # uniqueness per merchant is a form error, not a database error
    response = client_a.post(url(Product, "add"), {"sku": f"{A}-SKU", "aliases-TOTAL_FORMS": "0",
                                                   "aliases-INITIAL_FORMS": "0"})
    assert response.status_code == 200 and "already exists" in response.content.decode()
    response = client_a.post(reverse("admin:stores_store_add") + "?connector=custom_store", {
        "name": f"{A} shop", "active": "on", "refresh_interval_minutes": "15", "timezone": "UTC",
        "conn_url": "http://127.0.0.1:9/x", "conn_username": "u", "conn_password": "p",
        "map_list_awaiting_shipment": "paid",
    })
    assert response.status_code == 200 and "already has a store named" in response.content.decode()


def test_foreign_keys_of_forms_and_inlines_offer_own_rows_only(client_a, worlds):
    a, b = worlds
    # a product alias of A pointing at B's store is refused
    response = client_a.post(url(ProductAlias, "add"), {"product": a[Product].pk, "sku": "X-1",
                                                        "store": b[Store].pk})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    # the product page's alias inline does not offer B's store either
    html = client_a.get(url(Product, "change", a[Product].pk)).content.decode()
    assert f"{A} shop" in html and B not in html
    # a status mapping for B's store is refused
    response = client_a.post(url(StatusMapping, "add"), {"store": b[Store].pk, "store_status": "x",
                                                         "status": "shipped"})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert not StatusMapping.objects.filter(store_status="x").exists()


def foreign_keys(model):
    """The model's foreign keys (and one-to-ones) to merchant data."""
    return [f for f in model._meta.get_fields()
            if f.concrete and (f.many_to_one or f.one_to_one) and merchant_path_of(f.related_model) is not None]


def test_add_pages_prefilled_with_another_merchants_ids_show_nothing_of_them(client_a, worlds):
    # Given merchant A's user and every admin add page (Django pre-fills a form from ?<field>=<id>)
    a, b = worlds
    tried = []
    for model, model_admin in admin.site._registry.items():
        if merchant_path_of(model) is None:
            continue
        fields = {f.name for f in foreign_keys(model)} | set(model_admin.raw_id_fields)
        fields |= set(getattr(model_admin, "autocomplete_fields", ()))
        for name in sorted(fields):
            related = model._meta.get_field(name).related_model
            assert related in b, f"{related.__name__} is merchant data: add a row of it to world()"
            for extra in ({}, {"connector": "custom_store"}):
                # When the add page is opened with merchant B's object id in that field
                response = client_a.get(url(model, "add"), {name: b[related].pk, **extra})
                # Then it is refused, or it shows nothing of B (no label, no link, no choice)
                assert response.status_code in (200, 403), (model.__name__, name, response.status_code)
                html = response.content.decode()
                assert B not in html, (model.__name__, name, html[html.find(B) - 300: html.find(B) + 100])
                assert url(related, "change", b[related].pk) not in html, (model.__name__, name)
                tried.append((model.__name__, name, response.status_code))
    # (the loop really looked at the pages that have such fields)
    assert ("OrderItem", "order", 403) in tried and ("StatusMapping", "store", 200) in tried
    assert ("ProductAlias", "product", 200) in tried


def test_order_items_are_read_only_in_the_admin(client_a, worlds):
    a, b = worlds
    item = a[OrderItem]
    assert client_a.get(url(OrderItem, "add")).status_code == 403
    assert client_a.get(url(OrderItem, "add"), {"order": b[Order].pk}).status_code == 403
    html = client_a.get(url(OrderItem, "change", item.pk)).content.decode()
    assert f"{A}-SKU" in html and 'name="sku"' not in html  # shown, not editable
    assert client_a.post(url(OrderItem, "change", item.pk), {"sku": "X", "quantity": 9}).status_code == 403
    assert client_a.post(url(OrderItem, "delete", item.pk), {"post": "yes"}).status_code == 403
    item.refresh_from_db()
    assert item.sku == f"{A}-SKU" and item.quantity == 1


def test_shipment_lines_cannot_be_deleted_in_the_admin(client, worlds, superuser):
    # Given a merchant admin and a platform superuser, when they try to delete a shipment line,
    # then it is refused (void the shipment instead) and the line stays
    a, b = worlds
    line = a[ShipmentItem]
    for user in (member(a, "merchant admin", "boss-lines"), superuser):
        client.force_login(user)
        assert client.get(url(ShipmentItem, "delete", line.pk)).status_code == 403
        assert client.post(url(ShipmentItem, "delete", line.pk), {"post": "yes"}).status_code == 403
        html = client.get(url(ShipmentItem, "changelist")).content.decode()
        assert "delete_selected" not in html
        assert client.post(url(ShipmentItem, "changelist"), {"action": "delete_selected", "post": "yes",
                                                             "_selected_action": [line.pk]}).status_code in (200, 302)
    assert ShipmentItem.objects.filter(pk=line.pk).exists()


def test_a_scoped_raw_id_widget_shows_only_the_users_own_labels(worlds, rf):
    # Given a merchant-scoped admin with a raw-id field (none of ShipBridge's editable admins has
    # one today: this guards the next one)
    from stores.scoping import MerchantScopedAdmin, ScopedForeignKeyRawIdWidget

    a, b = worlds

    class ItemProbeAdmin(MerchantScopedAdmin):
        merchant_lookup = "order__store__merchant_id"
        raw_id_fields = ("order",)
        fields = ("order", "sku", "quantity")

    probe = ItemProbeAdmin(OrderItem, admin.site)
    request = rf.get("/")
    request.user = a[User]
    form_class = probe.get_form(request)
    assert isinstance(form_class.base_fields["order"].widget, ScopedForeignKeyRawIdWidget)
    # When its form shows merchant B's order id, then no label of it; A's own order is labelled
    assert B not in str(form_class(initial={"order": b[Order].pk})["order"])
    assert f"{A}-1001" in str(form_class(initial={"order": a[Order].pk})["order"])
    # and B's order id is not a valid choice either
    form = form_class(data={"order": b[Order].pk, "sku": "X", "quantity": 1})
    assert not form.is_valid() and "order" in form.errors


def test_imported_order_fields_are_read_only_the_ship_to_and_internal_notes_editable(client, worlds):
    # Given a merchant admin (who may change orders) on an order of their own
    a, b = worlds
    boss = member(a, "merchant admin", "boss-order")
    client.force_login(boss)
    order = a[Order]
    page = client.get(url(Order, "change", order.pk)).content.decode()
    for editable in ("ship_to_street1", "ship_to_city", "ship_to_postal_code", "internal_notes"):
        assert f'name="{editable}"' in page, editable
    for imported in ("status", "store_status", "external_id", "order_number", "order_date", "modified_at",
                     "order_total", "tax_amount", "shipping_amount", "raw", "customer_notes", "bill_to_name"):
        assert f'name="{imported}"' not in page and f'name="{imported}_0"' not in page, imported
    assert "A later change of the order in the store replaces it" in page  # the help says what lasts
    # When they post new values for everything, then only the ship-to and internal notes change
    data = {"ship_to_name": "Ada", "ship_to_street1": "2 New Street", "ship_to_city": "Leeds",
            "ship_to_postal_code": "LS1 1AA", "ship_to_country": "GB", "internal_notes": "call first",
            "status": "cancelled", "store_status": "hacked", "order_number": "X-1", "external_id": "X-E",
            "order_total": "0.01", "raw": "{}",
            "items-TOTAL_FORMS": "0", "items-INITIAL_FORMS": "0", "shipments-TOTAL_FORMS": "0",
            "shipments-INITIAL_FORMS": "0"}
    response = client.post(url(Order, "change", order.pk), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    order.refresh_from_db()
    assert (order.ship_to_street1, order.ship_to_city, order.internal_notes) == ("2 New Street", "Leeds",
                                                                                 "call first")
    assert (order.status, order.store_status, order.order_number, order.external_id) == (
        "awaiting_shipment", "paid", f"{A}-1001", f"{A}-E1")


# --- groups --------------------------------------------------------------------------------


def perms_of(group_name):
    group = Group.objects.get(name=group_name)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}


def test_migration_creates_the_two_groups_with_their_permissions():
    admin_perms, clerk_perms = perms_of("merchant admin"), perms_of("shipping clerk")
    assert {"stores.add_store", "stores.change_store", "stores.change_statusmapping", "orders.change_order",
            "orders.add_shipment", "orders.change_shipment", "orders.change_product", "orders.add_productalias",
            "orders.view_importrun", "orders.view_storenotification", "stores.add_user"} <= admin_perms
    assert not {"stores.delete_store", "orders.change_importrun", "orders.change_storenotification",
                "stores.change_merchant", "auth.change_group", "orders.delete_shipmentitem"} & admin_perms
    assert {"stores.view_store", "orders.view_order", "orders.add_shipment", "orders.change_shipment",
            "orders.view_storenotification", "orders.view_shipmentchange"} <= clerk_perms
    assert "orders.view_shipmentchange" in admin_perms
    assert not {f"orders.{action}_shipmentchange" for action in ("add", "change", "delete")} & (admin_perms | clerk_perms)
    assert not {"stores.change_store", "orders.change_order", "orders.view_importrun", "stores.view_user",
                "orders.view_product"} & clerk_perms


def member(token_world, group_name, username):
    return UserFactory(merchant=token_world[Merchant], username=username, groups=[group_name])


def test_shipping_clerk_views_but_cannot_change_stores(client, worlds):
    a, b = worlds
    clerk = member(b, "shipping clerk", "clerk-b")
    client.force_login(clerk)
    html = client.get(url(Store, "change", b[Store].pk)).content.decode()
    assert f"{B} shop" in html and 'name="conn_password"' not in html and "stored (encrypted, never shown)" in html
    assert 'id="refresh-now"' not in html and 'id="test-connection"' not in html
    assert client.post(reverse("admin:stores_store_refresh", args=[b[Store].pk])).status_code == 403
    assert client.post(url(Store, "change", b[Store].pk), {"name": "Renamed"}).status_code == 403
    assert client.get(url(User, "changelist")).status_code == 403
    assert client.get(url(ImportRun, "changelist")).status_code == 403
    assert client.get(url(Order, "changelist")).status_code == 200
    assert client.get(url(Order, "change", a[Order].pk)).status_code == 404


# --- users ---------------------------------------------------------------------------------


@pytest.fixture
def merchant_admin_a(client, worlds):
    user = member(worlds[0], "merchant admin", "boss-a")
    client.force_login(user)
    return client


def test_merchant_admin_sees_only_own_merchants_users_and_no_superuser(merchant_admin_a, worlds, superuser):
    a, b = worlds
    superuser.merchant = a[Merchant]  # even a superuser attached to merchant A stays out of reach
    superuser.save()
    html = merchant_admin_a.get(url(User, "changelist")).content.decode()
    assert a[User].username in html and "boss-a" in html
    assert b[User].username not in html and "root" not in html
    assert merchant_admin_a.get(url(User, "change", b[User].pk)).status_code == 404
    assert merchant_admin_a.get(url(User, "change", superuser.pk)).status_code == 404
    assert merchant_admin_a.get(reverse("admin:auth_user_password_change", args=[superuser.pk])).status_code == 404
    html = merchant_admin_a.get(url(User, "change", a[User].pk)).content.decode()
    assert 'name="is_superuser"' not in html and 'name="user_permissions"' not in html and 'name="merchant"' not in html


def test_merchant_admin_cannot_make_a_superuser_or_grant_other_groups(merchant_admin_a, worlds):
    a, b = worlds
    platform = Group.objects.create(name="platform operators")
    clerk_group = Group.objects.get(name="shipping clerk")
    response = merchant_admin_a.post(url(User, "add"), {
        "username": "new-clerk", "usable_password": "true", "password1": "a-Long-pass-123", "password2": "a-Long-pass-123",
        "is_staff": "on", "groups": [clerk_group.pk], "is_superuser": "on", "merchant": b[Merchant].pk,
        "user_permissions": [Permission.objects.get(codename="delete_store").pk],
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    new = User.objects.get(username="new-clerk")
    assert new.merchant == a[Merchant] and not new.is_superuser and new.is_staff
    assert list(new.groups.all()) == [clerk_group] and not new.user_permissions.exists()

    response = merchant_admin_a.post(url(User, "change", new.pk), {
        "username": "new-clerk", "is_active": "on", "is_staff": "on", "is_superuser": "on",
        "groups": [platform.pk],
    })
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    response = merchant_admin_a.post(url(User, "change", new.pk), {
        "username": "new-clerk", "is_active": "on", "is_staff": "on", "is_superuser": "on",
        "groups": [clerk_group.pk], "merchant": b[Merchant].pk,
    })
    assert response.status_code == 302
    new.refresh_from_db()
    assert not new.is_superuser and new.merchant == a[Merchant]
    html = merchant_admin_a.get(url(User, "add")).content.decode()
    assert "platform operators" not in html and "shipping clerk" in html


def test_the_users_group_filter_offers_a_merchant_admin_the_merchant_groups_only(merchant_admin_a, worlds,
                                                                                  superuser):
    # Given a platform group besides the ShipBridge merchant groups
    platform = Group.objects.create(name="Platform ops")
    # When a merchant admin opens the Users list
    html = merchant_admin_a.get(url(User, "changelist")).content.decode()
    # Then its groups filter offers the merchant groups, and no other group's name
    assert "By groups" in html and "?groups__id__exact=" in html
    assert "merchant admin" in html and "shipping clerk" in html
    assert "Platform ops" not in html and f"?groups__id__exact={platform.pk}" not in html
    # while a platform superuser's filter offers every group
    root = Client()
    root.force_login(superuser)
    html = root.get(url(User, "changelist")).content.decode()
    assert "Platform ops" in html and "merchant admin" in html


def test_merchant_admin_manages_own_stores_only(merchant_admin_a, worlds):
    a, b = worlds
    assert merchant_admin_a.get(reverse("admin:stores_store_add")).status_code == 200
    assert merchant_admin_a.get(url(Store, "change", b[Store].pk)).status_code == 404
    html = merchant_admin_a.get(url(Store, "change", a[Store].pk)).content.decode()
    assert 'name="conn_password"' in html and 'id="refresh-now"' in html and 'name="merchant"' not in html
    assert merchant_admin_a.get(url(Group, "changelist")).status_code == 403


def test_staff_without_a_merchant_sees_and_adds_nothing(client, worlds):
    loner = UserFactory(merchant=None, username="loner")
    loner.user_permissions.set(all_shipbridge_permissions())
    client.force_login(loner)
    for model in (Store, Order, Product):
        html = client.get(url(model, "changelist")).content.decode()
        assert A not in html and B not in html
    assert client.get(reverse("admin:stores_store_add")).status_code == 403
    assert client.post(url(Product, "add"), {"sku": "X"}).status_code == 403
    assert client.get(url(Store, "change", worlds[0][Store].pk)).status_code == 404

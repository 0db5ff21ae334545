"""The shipping desk's rough edges: a clerk made in one page with the role chosen, a shipment
line named by its quantity and SKU, a connection test reported once, a favicon."""
import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from orders.models import Shipment, ShipmentItem
from stores.models import User
from tests.factories import OrderFactory, OrderItemFactory, StoreFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]

USER_ADD = reverse("admin:stores_user_add")


@pytest.fixture
def boss(client):
    user = UserFactory(username="boss", groups=["merchant admin"])
    client.force_login(user)
    return user


def test_a_merchant_admin_makes_a_clerk_who_can_log_in_in_one_page(client, boss):
    # Given the "Add user" page of a merchant admin: the login, the role and the person
    html = client.get(USER_ADD).content.decode()
    assert 'name="groups" value=' in html and 'type="radio"' in html
    assert 'name="is_staff"' not in html and "Shipping clerk" in html and "Merchant admin" in html
    clerk = Group.objects.get(name="shipping clerk")
    # When it is filled in once
    response = client.post(USER_ADD, {"username": "pat", "usable_password": "true", "password1": "a-Long-pass-123",
                                      "password2": "a-Long-pass-123", "groups": clerk.pk, "first_name": "Pat",
                                      "email": "pat@example.test"})
    assert response.status_code == 302, response.content.decode()[:2000]
    # Then the clerk belongs to the merchant, with the role, and can log in at once
    pat = User.objects.get(username="pat")
    assert pat.merchant == boss.merchant and pat.is_staff and not pat.is_superuser
    assert list(pat.groups.all()) == [clerk] and pat.first_name == "Pat"
    other = Client()
    response = other.post(reverse("admin:login"), {"username": "pat", "password": "a-Long-pass-123",
                                                   "next": reverse("admin:orders_order_changelist")})
    assert response.status_code == 302
    assert other.get(reverse("admin:orders_order_changelist")).status_code == 200


def test_the_role_is_required_and_only_a_merchant_group(client, boss):
    platform = Group.objects.create(name="platform operators")
    for role in ("", platform.pk):
        response = client.post(USER_ADD, {"username": "pat", "usable_password": "true",
                                          "password1": "a-Long-pass-123", "password2": "a-Long-pass-123",
                                          "groups": role})
        assert response.status_code == 200
    assert not User.objects.filter(username="pat").exists()


def test_a_shipment_line_is_named_by_its_quantity_and_sku(admin_client_su):
    order = OrderFactory()
    item = OrderItemFactory(order=order, sku="TEA-1", quantity=3)
    shipment = Shipment.objects.create(order=order, carrier="UPS", ship_date=dt.date.today())
    line = ShipmentItem.objects.create(shipment=shipment, order_item=item, quantity=2)
    assert str(line) == "2 × TEA-1"
    html = admin_client_su.get(reverse("admin:orders_shipmentitem_change", args=[line.pk])).content.decode()
    assert "ShipmentItem object" not in html and "2 × TEA-1" in html


def test_a_connection_test_is_reported_once(admin_client_su):
    store = StoreFactory(name="Shop")  # points at a closed port: the test fails
    response = admin_client_su.post(reverse("admin:stores_store_test_connection", args=[store.pk]), follow=True)
    html = response.content.decode()
    store.refresh_from_db()
    assert store.last_connection_test_ok is False
    assert html.count(store.last_connection_test_message) == 1 and 'class="messagelist"' not in html


def test_every_page_has_a_favicon(admin_client_su, client):
    html = admin_client_su.get(reverse("admin:index")).content.decode()
    assert '<link rel="icon" type="image/svg+xml" href="/static/shipbridge/favicon.svg">' in html
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == "/static/shipbridge/favicon.svg"

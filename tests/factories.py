import datetime as dt
from decimal import Decimal

import factory
from django.contrib.auth.models import Group
from django.utils import timezone

from orders.models import Order, OrderItem
from stores.models import Merchant, OrderStatus, Store, User


class MerchantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Merchant
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Merchant {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.test")
    merchant = factory.SubFactory(MerchantFactory)
    is_staff = True
    password = factory.PostGenerationMethodCall("set_password", "pass-word-123")

    @factory.post_generation
    def save_after(obj, create, extracted, **kwargs):
        if create:
            obj.save()

    @factory.post_generation
    def groups(obj, create, extracted, **kwargs):
        """UserFactory(groups=["shipping clerk"]): the user joins these groups (made by a migration)."""
        if create and extracted:
            obj.groups.add(*[Group.objects.get(name=name) for name in extracted])


class StoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Store
        skip_postgeneration_save = True

    merchant = factory.SubFactory(MerchantFactory)
    connector = "custom_store"
    name = factory.Sequence(lambda n: f"Store {n}")
    settings = factory.LazyFunction(lambda: {"url": "http://127.0.0.1:9/store", "username": "shop"})

    @factory.post_generation
    def secrets(obj, create, extracted, **kwargs):
        obj.set_secrets(extracted if extracted is not None else {"password": "s3cret"})
        if create:
            obj.save()


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    store = factory.SubFactory(StoreFactory)
    external_id = factory.Sequence(lambda n: f"EXT-{n}")
    order_number = factory.Sequence(lambda n: f"100{n}")
    order_date = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(hours=2))
    modified_at = factory.LazyFunction(timezone.now)
    status = OrderStatus.AWAITING_SHIPMENT
    store_status = "paid"
    ship_to_name = "Ada Lovelace"
    ship_to_street1 = "1 Analytical Way"
    ship_to_city = "London"
    ship_to_postal_code = "N1 9GU"
    ship_to_country = "GB"


class OrderItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderItem

    order = factory.SubFactory(OrderFactory)
    line_item_id = factory.Sequence(lambda n: f"L{n}")
    sku = factory.Sequence(lambda n: f"SKU-{n}")
    name = "Widget"
    quantity = 1
    unit_price = Decimal("9.99")

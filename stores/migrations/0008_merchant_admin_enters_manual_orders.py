# Merchant admins enter orders by hand ("Add order": phone orders, replacement shipments) and may
# delete such an order while it has no shipment (imported orders never are: the admin says so):
# the "merchant admin" group gains add_order and delete_order.
from django.db import migrations

GROUP = "merchant admin"
CODENAMES = ("add_order", "delete_order")


def _permissions(apps):
    Permission = apps.get_model("auth", "Permission")
    return list(Permission.objects.filter(content_type__app_label="orders", content_type__model="order",
                                          codename__in=CODENAMES))


def add_permissions(apps, schema_editor):
    group = apps.get_model("auth", "Group").objects.filter(name=GROUP).first()
    if group is not None:
        group.permissions.add(*_permissions(apps))


def remove_permissions(apps, schema_editor):
    group = apps.get_model("auth", "Group").objects.filter(name=GROUP).first()
    if group is not None:
        group.permissions.remove(*_permissions(apps))


class Migration(migrations.Migration):

    dependencies = [
        ("stores", "0007_store_last_refresh_warning"),
    ]

    operations = [migrations.RunPython(add_permissions, remove_permissions)]

# Shipment lines are never deleted on their own (what the store was told must match what is
# recorded: void the shipment instead): the "merchant admin" group loses delete_shipmentitem.
from django.db import migrations

GROUP = "merchant admin"
CODENAME = "delete_shipmentitem"


def _permission(apps):
    Permission = apps.get_model("auth", "Permission")
    return Permission.objects.filter(content_type__app_label="orders", content_type__model="shipmentitem",
                                     codename=CODENAME).first()


def remove_permission(apps, schema_editor):
    group = apps.get_model("auth", "Group").objects.filter(name=GROUP).first()
    permission = _permission(apps)
    if group is not None and permission is not None:
        group.permissions.remove(permission)


def restore_permission(apps, schema_editor):
    group = apps.get_model("auth", "Group").objects.filter(name=GROUP).first()
    permission = _permission(apps)
    if group is not None and permission is not None:
        group.permissions.add(permission)


class Migration(migrations.Migration):

    dependencies = [
        ("stores", "0003_merchant_groups"),
    ]

    operations = [migrations.RunPython(remove_permission, restore_permission)]

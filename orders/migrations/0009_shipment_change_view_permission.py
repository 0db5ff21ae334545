# A shipment's correction history shows on its page to whoever may see the shipment: both
# ShipBridge groups (stores 0003) may view shipment changes. The rows are written by the
# correction service only, so nobody is given add, change or delete.
from django.db import migrations

GROUPS = ("merchant admin", "shipping clerk")
CODENAME = "view_shipmentchange"


def _permission(apps):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    content_type, _ = ContentType.objects.get_or_create(app_label="orders", model="shipmentchange")
    permission, _ = Permission.objects.get_or_create(content_type=content_type, codename=CODENAME,
                                                     defaults={"name": "Can view shipment change"})
    return permission


def grant(apps, schema_editor):
    permission = _permission(apps)
    for group in apps.get_model("auth", "Group").objects.filter(name__in=GROUPS):
        group.permissions.add(permission)


def revoke(apps, schema_editor):
    permission = _permission(apps)
    for group in apps.get_model("auth", "Group").objects.filter(name__in=GROUPS):
        group.permissions.remove(permission)


class Migration(migrations.Migration):

    dependencies = [
        ("orders", "0008_shipment_change_history"),
        ("stores", "0003_merchant_groups"),
    ]

    operations = [migrations.RunPython(grant, revoke)]

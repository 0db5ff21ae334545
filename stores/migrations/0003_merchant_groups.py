# The two ShipBridge groups and their model permissions. Staff users of a merchant get one of
# them; what they see is further limited to their merchant's rows by the admin (stores.scoping).
from django.db import migrations

GROUPS = {
    "merchant admin": {
        "stores.merchant": ("view",),
        "stores.user": ("view", "add", "change"),
        "stores.store": ("view", "add", "change"),
        "stores.statusmapping": ("view", "add", "change", "delete"),
        "orders.order": ("view", "change"),
        "orders.orderitem": ("view",),
        "orders.shipment": ("view", "add", "change"),
        "orders.shipmentitem": ("view", "add", "change", "delete"),
        "orders.product": ("view", "add", "change", "delete"),
        "orders.productalias": ("view", "add", "change", "delete"),
        "orders.importrun": ("view",),
        "orders.storenotification": ("view",),
        "orders.notificationattempt": ("view",),
    },
    "shipping clerk": {
        "stores.store": ("view",),
        "orders.order": ("view",),
        "orders.orderitem": ("view",),
        "orders.shipment": ("view", "add", "change"),
        "orders.shipmentitem": ("view", "add", "change"),
        "orders.storenotification": ("view",),
        "orders.notificationattempt": ("view",),
    },
}


def create_groups(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after migrate; make sure they exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group_name, models in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        permissions = []
        for label, actions in models.items():
            app_label, model = label.split(".")
            for action in actions:
                permissions.append(Permission.objects.get(
                    content_type__app_label=app_label, content_type__model=model, codename=f"{action}_{model}",
                ))
        group.permissions.set(permissions)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=list(GROUPS)).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("stores", "0002_dispatch_schedule"),
        ("orders", "0002_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]

# The API's admin pages for merchant admins, and the cache table of the embedded run.
#
# Merchant admins (stores 0003) make and revoke their merchant's API keys and manage its webhook
# subscriptions, and see the deliveries with their tries; shipping clerks see neither.
# The API's rate limit counts requests in Django's cache: where that is the database
# (dbcache, the embedded run's default) its table is made here, as `createcachetable` would.
from django.core.management import call_command
from django.db import migrations

MERCHANT_ADMIN = "merchant admin"
PERMISSIONS = {
    "apikey": ("view", "add", "change"),
    "webhooksubscription": ("view", "add", "change", "delete"),
    "webhookdelivery": ("view", "change"),
    "webhookattempt": ("view",),
    "webhookbatch": ("view",),
}


def _permissions(apps):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    found = []
    for model, actions in PERMISSIONS.items():
        content_type, _ = ContentType.objects.get_or_create(app_label="orders", model=model)
        for action in actions:
            permission, _ = Permission.objects.get_or_create(
                content_type=content_type, codename=f"{action}_{model}",
                defaults={"name": f"Can {action} {model}"})
            found.append(permission)
    return found


def grant(apps, schema_editor):
    permissions = _permissions(apps)
    for group in apps.get_model("auth", "Group").objects.filter(name=MERCHANT_ADMIN):
        group.permissions.add(*permissions)


def revoke(apps, schema_editor):
    permissions = _permissions(apps)
    for group in apps.get_model("auth", "Group").objects.filter(name=MERCHANT_ADMIN):
        group.permissions.remove(*permissions)


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):

    dependencies = [
        ("orders", "0014_api_keys_and_webhooks"),
        ("stores", "0003_merchant_groups"),
    ]

    operations = [
        migrations.RunPython(grant, revoke),
        migrations.RunPython(create_cache_table, migrations.RunPython.noop),
    ]

# One name for "notify the store": the store setting is called notify_store, like the shipment's.
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("stores", "0004_merchant_admin_no_shipmentitem_delete"),
    ]

    operations = [
        migrations.RenameField(model_name="store", old_name="notify_marketplace", new_name="notify_store"),
    ]

# One name for "notify the store": the store setting is called notify_store, like the shipment's.
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("stores", "0004_merchant_admin_no_shipmentitem_delete"),
    ]

    operations = [
        migrations.RenameField(model_name="store", old_name="notify_marketplace", new_name="notify_store"),
        migrations.AlterField(
            model_name="store",
            name="notify_store",
            field=models.BooleanField(default=True, verbose_name="notify the store when a shipment is created"),
        ),
    ]

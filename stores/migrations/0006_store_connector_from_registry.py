# A store's connector is checked against the connector registry (a validator), not model
# choices: adding a store type needs no migration.
from django.db import migrations, models

import stores.models


class Migration(migrations.Migration):

    dependencies = [
        ("stores", "0005_store_notify_store"),
    ]

    operations = [
        migrations.AlterField(
            model_name="store",
            name="connector",
            field=models.CharField(max_length=40, validators=[stores.models.validate_connector]),
        ),
    ]

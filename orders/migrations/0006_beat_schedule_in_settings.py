# The beat schedule moved to settings (CELERY_BEAT_SCHEDULE, installed by beat at start): the
# entries earlier migrations wrote are removed (one of them names a task that no longer exists).
# Also: attempt outcomes as choices, and ImportRun.failed (never written) removed.
from django.db import migrations, models

OLD_ENTRIES = ("Dispatch due store imports", "Re-queue stale store notifications")


def remove_entries(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=OLD_ENTRIES).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("orders", "0005_shipment_voided_by"),
        ("stores", "0002_dispatch_schedule"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.RunPython(remove_entries, migrations.RunPython.noop),
        migrations.RemoveField(model_name="importrun", name="failed"),
        migrations.AlterField(
            model_name="notificationattempt",
            name="outcome",
            field=models.CharField(
                choices=[("in_flight", "In flight"), ("sent", "Sent"), ("failed", "Failed"), ("retry", "Retry"),
                         ("skipped", "Skipped"), ("unknown", "Unknown")],
                max_length=20,
            ),
        ),
    ]

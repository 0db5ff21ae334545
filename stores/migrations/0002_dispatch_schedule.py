"""Create the beat entry that dispatches due store imports every minute (idempotent)."""
import json

from django.db import migrations

TASK_NAME = "stores.tasks.dispatch_due_stores"
ENTRY_NAME = "Dispatch due store imports"


def create_entry(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=60, period="seconds")
    PeriodicTask.objects.update_or_create(
        name=ENTRY_NAME,
        defaults={
            "task": TASK_NAME,
            "interval": every_minute,
            "enabled": True,
            "expire_seconds": 55,  # a tick not consumed within the minute is dropped, the next one covers it
            "kwargs": json.dumps({}),
        },
    )


def remove_entry(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=ENTRY_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("stores", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create_entry, remove_entry)]

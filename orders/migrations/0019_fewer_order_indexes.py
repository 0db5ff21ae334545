"""Fewer indexes on orders and their lines: each one costs every imported order a write.

Dropped: orders by store alone (the unique (store, external id) and the (store, status, order
date) indexes lead with the store), the status's pattern-matching twin, and the line SKU's
(only ever searched by substring, which no B-tree serves). The order number's two indexes
become one: on PostgreSQL its pattern operator class serves equality and the API's prefix
search alike (plain elsewhere). The status alone becomes (status, order date), which also
serves the desk's date order and drill-down. The new indexes are made before the old ones go."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('orders', '0018_heartbeat'),
        ('stores', '0010_languages_and_translated_labels'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='order',
            index=models.Index(fields=['order_number'], name='order_number', opclasses=['varchar_pattern_ops']),
        ),
        migrations.AddIndex(
            model_name='order',
            index=models.Index(fields=['status', 'order_date'], name='order_status_date'),
        ),
        migrations.AlterField(
            model_name='order',
            name='order_number',
            field=models.CharField(max_length=100, verbose_name='order number'),
        ),
        migrations.AlterField(
            model_name='order',
            name='status',
            field=models.CharField(choices=[('awaiting_payment', 'Awaiting payment'), ('awaiting_shipment', 'Awaiting shipment'), ('on_hold', 'On hold'), ('shipped', 'Shipped'), ('cancelled', 'Cancelled')], max_length=20, verbose_name='status'),
        ),
        migrations.AlterField(
            model_name='order',
            name='store',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='orders', to='stores.store', verbose_name='store'),
        ),
        migrations.AlterField(
            model_name='orderitem',
            name='sku',
            field=models.CharField(blank=True, default='', max_length=200, verbose_name='sku'),
        ),
    ]

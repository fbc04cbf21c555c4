import django.db.models.deletion
from django.db import migrations, models


def backfill(apps, schema_editor):
    """Keys claimed before keys were per connection take their message's connection; keys whose
    message has none (never applied) are dropped."""
    InboundKey = apps.get_model("channels", "InboundKey")
    for key in InboundKey.objects.select_related("message").iterator():
        if key.message.connection_id is None:
            key.delete()
        else:
            key.connection_id = key.message.connection_id
            key.save(update_fields=["connection"])


class Migration(migrations.Migration):
    dependencies = [
        ("channels", "0002_connection_external_unique"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="inboundkey", name="inbound_key_unique"),
        migrations.AddField(
            model_name="inboundkey",
            name="connection",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="channels.channelconnection",
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="inboundkey",
            name="connection",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="+", to="channels.channelconnection"
            ),
        ),
        migrations.AddConstraint(
            model_name="inboundkey",
            constraint=models.UniqueConstraint(
                fields=("connection", "natural_key"), name="inbound_key_unique_per_connection"
            ),
        ),
        migrations.AlterField(
            model_name="channelalert",
            name="kind",
            field=models.CharField(
                choices=[
                    ("conflict", "Conflicting reservation refused"),
                    ("dead_letter", "Delivery gave up"),
                    ("auth", "Authentication failed"),
                    ("reconciliation", "Reconciliation found differences"),
                    ("inbound_failed", "Inbound message failed"),
                    ("id_collision", "Reservation id also held by another property"),
                ],
                max_length=20,
            ),
        ),
    ]

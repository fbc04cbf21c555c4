from django.db import migrations, models
from django.db.models.functions import Lower, Trim


def normalise_emails(apps, schema_editor):
    """Store every guest e-mail trimmed and in lower case (the new check constraint requires it)."""
    Guest = apps.get_model("bookings", "Guest")
    for guest in Guest.objects.exclude(email=Lower(Trim("email"))).only("pk", "email"):
        Guest.objects.filter(pk=guest.pk).update(email=guest.email.strip().lower())


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0002_booking_external_id_per_property"),
    ]

    operations = [
        migrations.AddField(
            model_name="booking",
            name="guest_contact",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text="The contact details given with this booking (name, e-mail, phone, country, language). "
                "A booking never changes an existing guest record; merging guests is the owner's decision.",
            ),
        ),
        migrations.RunPython(normalise_emails, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="guest",
            constraint=models.CheckConstraint(
                condition=models.Q(("email", Lower(Trim("email")))), name="guest_email_normalised"
            ),
        ),
    ]

"""Commands a new user types and admin buttons they press: reconcile never leaves a run "running"
and speaks in sentences; iCal connections can be tested and imported on demand (owner-scoped)."""

from __future__ import annotations

import base64
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.urls import reverse

from apps.availability.models import AvailabilityBlock
from apps.channels.models import ChannelConnection, ReconciliationRun
from apps.channels.reconciliation import describe_run, reconcile
from apps.sandbox import ical_host
from tests.channels.conftest import make_connection
from tests.factories import future

OTHER_KEY = "other:" + base64.b64encode(b"k" * 32).decode()


@pytest.mark.django_db
def test_a_run_that_crashes_is_recorded_as_failed_never_left_running(prop, listing):
    """The demo's secrets were encrypted under another key (e.g. DEBUG=1 without the demo's SECRET_KEY):
    decryption fails outside the adapter's own errors. The run ends as failed, and the command says so."""
    conn = make_connection(prop, base_url="http://127.0.0.1:9/sandbox/booking_com")
    with override_settings(CHANNEL_ENCRYPTION_KEYS=OTHER_KEY, CHANNEL_ENCRYPTION_KEY_ID="other"):
        run = reconcile(connection_id=conn.pk, days=5)
        assert run.status == ReconciliationRun.Status.FAILED and run.finished_at is not None
        assert "SecretDecryptError" in run.error
        out = io.StringIO()
        with pytest.raises(CommandError, match="1 reconciliation run"):
            call_command("reconcile", stdout=out)
    assert not ReconciliationRun.objects.filter(status=ReconciliationRun.Status.RUNNING).exists()
    assert f"(run {run.pk + 1}): failed: SecretDecryptError" in out.getvalue()


@pytest.mark.django_db
def test_describe_run_reads_like_a_sentence(prop, listing):
    conn = make_connection(prop, base_url="http://127.0.0.1:9/x")
    run = ReconciliationRun(connection=conn, range_start=future(0), range_end=future(5), status="ok", summary={})
    assert describe_run(run) == "no differences"
    run.status = "attention"
    run.summary = {"missing_in_channel": 2, "availability_mismatch": 1, "total": 3, "fixed": 1}
    assert describe_run(run) == (
        "3 difference(s) (2 missing on the platform, 1 availability differs): 1 fixed, "
        "2 need attention (see the run in the admin)"
    )


FEED = (
    "BEGIN:VCALENDAR\r\nPRODID:-//Airbnb Inc//Hosting Calendar 1.0//EN\r\nVERSION:2.0\r\n"
    "BEGIN:VEVENT\r\nDTEND;VALUE=DATE:{end:%Y%m%d}\r\nDTSTART;VALUE=DATE:{start:%Y%m%d}\r\n"
    "UID:a1@airbnb.com\r\nSUMMARY:Reserved\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


@pytest.fixture
def feed_conn(prop, live_server):
    ical_host.feed_set(name="fh-admin", body=FEED.format(start=future(20), end=future(23)))
    return ChannelConnection.objects.create(
        property=prop,
        platform="ical",
        label="Airbnb feed",
        ical_source="airbnb",
        ical_import_url=f"{live_server.url}/sandbox/ical/fh-admin.ics",
    )


def _action(client, action: str, conn) -> list[str]:
    url = reverse("admin:channels_channelconnection_changelist")
    response = client.post(url, {"action": action, "_selected_action": [conn.pk]}, follow=True)
    assert response.status_code == 200
    return [str(m) for m in response.context["messages"]]


@pytest.mark.django_db(transaction=True)
def test_ical_test_connection_and_import_now(client, alice, bob, feed_conn, prop):
    client.force_login(alice)
    messages = _action(client, "test_connection", feed_conn)
    assert any("a valid calendar from airbnb with 1 event(s)" in m for m in messages), messages
    assert not AvailabilityBlock.objects.filter(property=prop).exists()  # a test changes nothing

    messages = _action(client, "import_now", feed_conn)
    assert any("1 event(s): 1 new" in m for m in messages), messages
    block = AvailabilityBlock.objects.get(property=prop, external_uid="a1@airbnb.com")
    assert (block.start_date, block.end_date) == (future(20), future(23))

    ical_host.feed_fault_set(name="fh-admin", fault="malformed")
    messages = _action(client, "test_connection", feed_conn)
    assert any("not a valid calendar" in m for m in messages), messages
    messages = _action(client, "import_now", feed_conn)
    assert any("import failed, nothing changed" in m for m in messages), messages
    assert AvailabilityBlock.objects.filter(pk=block.pk).exists()

    # An outsider's action selects nothing of Alice's.
    client.force_login(bob)
    ical_host.feed_fault_set(name="fh-admin", fault="none")
    ical_host.feed_set(name="fh-admin", body=FEED.format(start=future(30), end=future(33)))
    _action(client, "import_now", feed_conn)
    block.refresh_from_db()
    assert (block.start_date, block.end_date) == (future(20), future(23))


@pytest.mark.django_db
def test_simulate_reservation_without_dates_takes_the_first_free_stay(prop, listing):
    """The README's command, as typed: no dates to make up; it avoids nights the PMS has booked."""
    from apps.bookings import services as booking_services
    from apps.sandbox.models import SimReservation

    make_connection(prop, base_url="http://127.0.0.1:9/sandbox/booking_com", hotel_code=listing.hotel_code)
    booking_services.booking_create(
        property_id=prop.pk, check_in=future(14), check_out=future(18), guests=2, status="confirmed"
    )
    out = io.StringIO()
    call_command("simulate_reservation", "--hotel", listing.hotel_code, stdout=out)
    res = SimReservation.objects.get()
    assert (res.check_in, res.check_out) == (future(18), future(21))
    assert "Created Booking.com reservation" in out.getvalue()
    with pytest.raises(CommandError, match="both"):
        call_command("simulate_reservation", "--hotel", listing.hotel_code, "--check-in", str(future(40)))

import pytest

from apps.channels.conflicts import resolve_availability, resolve_status


@pytest.mark.parametrize(
    ("booking_source", "core", "channel", "update_source", "expected"),
    [
        # the channel the booking came from wins
        ("airbnb", "confirmed", "cancelled", "airbnb", "cancelled"),
        ("booking_com", "cancelled", "confirmed", "booking_com", "confirmed"),
        ("booking_com", "confirmed", "checked_in", "booking_com", "checked_in"),
        # core wins for direct bookings
        ("direct", "confirmed", "cancelled", "airbnb", "confirmed"),
        ("direct", "cancelled", "confirmed", "booking_com", "cancelled"),
        ("api", "reserved", "cancelled", "expedia", "reserved"),
        # cross-channel: most restrictive
        ("airbnb", "confirmed", "cancelled", "booking_com", "cancelled"),
        ("airbnb", "cancelled", "confirmed", "booking_com", "cancelled"),
        ("expedia", "reserved", "confirmed", "airbnb", "confirmed"),
        ("expedia", "checked_in", "confirmed", "airbnb", "checked_in"),
        ("expedia", "inquiry", "reserved", "airbnb", "reserved"),
        ("expedia", "confirmed", "checked_out", "airbnb", "checked_out"),
        # unknown statuses never win
        ("expedia", "confirmed", "weird", "airbnb", "confirmed"),
        ("expedia", "weird", "confirmed", "airbnb", "confirmed"),
        ("expedia", "confirmed", "confirmed", "airbnb", "confirmed"),
    ],
)
def test_resolve_status(booking_source, core, channel, update_source, expected):
    assert (
        resolve_status(
            booking_source=booking_source, core_status=core, channel_status=channel, update_source=update_source
        )
        == expected
    )


@pytest.mark.parametrize(
    ("core", "channel", "expected"),
    [(True, True, True), (True, False, True), (False, True, True), (False, False, False)],
)
def test_resolve_availability(core, channel, expected):
    assert resolve_availability(core_blocked=core, channel_blocked=channel) is expected

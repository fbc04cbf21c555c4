"""State of the local platform simulators (iCal hosting lives elsewhere).

The simulators run inside the same Django process under ``/sandbox/`` when ``SANDBOX_ENABLED``.
Their state is plain database rows, so tests and the demo can look at what a platform "has".
One module per platform; ``common`` holds what every simulator shares (faults, request log).
"""

from .booking_com import SimCalendarDay, SimListing, SimReservation, SimToken, new_res_id
from .common import SimFault, SimRequest

__all__ = ["SimCalendarDay", "SimFault", "SimListing", "SimRequest", "SimReservation", "SimToken", "new_res_id"]
from . import (
    airbnb,  # noqa: E402,F401  (the Airbnb simulator's models)
    expedia,  # noqa: E402,F401  (the Expedia EQC simulator's models)
    google_vr,  # noqa: E402,F401  (the Google Vacation Rentals simulator's models)
    vrbo,  # noqa: E402,F401  (the Vrbo / FeWo-direkt simulator's models)
)

"""Adapter registry: one module per platform under ``apps.channels.adapters``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.module_loading import import_string

from .base import AdapterError, ChannelAdapter, ChannelReservation, DayState, ErrorKind, PushResult

if TYPE_CHECKING:
    from apps.channels.models import ChannelConnection

__all__ = [
    "AdapterError",
    "ChannelAdapter",
    "ChannelReservation",
    "DayState",
    "ErrorKind",
    "PushResult",
    "ADAPTERS",
    "adapter_class",
    "get_adapter",
]

#: platform -> dotted path of its adapter class (imported lazily)
ADAPTERS: dict[str, str] = {
    "booking_com": "apps.channels.adapters.booking_com.BookingComAdapter",
    "expedia": "apps.channels.adapters.expedia.ExpediaAdapter",
    "airbnb": "apps.channels.adapters.airbnb.AirbnbAdapter",
    "ical": "apps.channels.adapters.ical.ICalAdapter",
    "google_vr": "apps.channels.adapters.google_vr.GoogleVRAdapter",
    "fewo_direkt": "apps.channels.adapters.vrbo.VrboAdapter",
}


def adapter_class(platform: str) -> type[ChannelAdapter] | None:
    path = ADAPTERS.get(platform)
    if path is None:
        return None
    try:
        return import_string(path)
    except ImportError:
        return None


def get_adapter(connection: ChannelConnection) -> ChannelAdapter:
    cls = adapter_class(connection.platform)
    if cls is None:
        raise AdapterError(f"No adapter for platform '{connection.platform}'.", kind=ErrorKind.PERMANENT)
    return cls(connection)

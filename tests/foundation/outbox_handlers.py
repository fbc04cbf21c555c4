"""Outbox handlers used by the tests."""

CALLS: list[str] = []
FAIL = {"on": False}


def record(event) -> None:
    if FAIL["on"]:
        raise RuntimeError("channel down")
    CALLS.append(event.event_type)

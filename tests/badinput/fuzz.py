"""Shared pieces of the fuzz suite (issue 11): its size, the hostile bodies, the figures it prints.

``FUZZ_SCALE`` (environment, default 1) multiplies every area's number of generated cases: ``make test``
runs the modest default; ``FUZZ_SCALE=10`` is the 10x run documented in the README.
"""

from __future__ import annotations

import os
import random
from collections import Counter

SCALE = max(1, int(os.environ.get("FUZZ_SCALE", "1") or 1))


def examples(base: int) -> int:
    return base * SCALE


#: cases tried per area, printed at the end of the run (see conftest.py) and quoted in the README
TRIED: Counter[str] = Counter()
FAILURES: Counter[str] = Counter()


def deep_json(n: int) -> bytes:
    return b"[" * n + b"1" + b"]" * n


def deep_xml(n: int) -> bytes:
    return b"<a>" * n + b"x" + b"</a>" * n


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<OTA_HotelResNotifRQ>&lol9;</OTA_HotelResNotifRQ>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<OTA_HotelResNotifRQ><HotelReservations><HotelReservation>&xxe;</HotelReservation></HotelReservations>
</OTA_HotelResNotifRQ>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE r SYSTEM "http://127.0.0.1:9/evil.dtd"><r/>"""

QUADRATIC_BLOWUP = (
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "' + b"x" * 50_000 + b'">]><r>' + b"&a;" * 2000 + b"</r>"
)


def fixed_bodies() -> list[tuple[str, bytes, str]]:
    """(name, body, content type): the hostile bodies every inbound route gets."""
    rng = random.Random(11)  # noqa: S311 - test data
    return [
        ("empty", b"", "application/xml"),
        ("random-bytes", bytes(rng.getrandbits(8) for _ in range(4096)), "application/octet-stream"),
        ("huge", b"<a>" + b"x" * (3 * 1024 * 1024) + b"</a>", "application/xml"),
        ("billion-laughs", BILLION_LAUGHS, "application/xml"),
        ("quadratic-blowup", QUADRATIC_BLOWUP, "application/xml"),
        ("external-entity", EXTERNAL_ENTITY, "application/xml"),
        ("external-dtd", EXTERNAL_DTD, "text/xml"),
        ("deep-xml", deep_xml(50_000), "application/xml"),
        ("deep-json", deep_json(100_000), "application/json"),
        ("json-nul", b'{"id": "evt_\\u0000", "object": "event", "type": "x\\u0000"}', "application/json"),
        ("raw-nul", b"<a>\x00</a>", "application/xml"),
        ("non-utf8", b"<a>\xff\xfe\xc3\x28</a>", "application/xml"),
        ("latin1-declared-utf8", '<?xml version="1.0" encoding="UTF-8"?><a>\u00e9</a>'.encode("latin-1"), "text/xml"),
        ("lone-surrogate", b'{"id": "evt_x", "object": "event", "type": "\\ud800"}', "application/json"),
        ("huge-number", b'{"id": 1' + b"9" * 10_000 + b"}", "application/json"),
        ("nan", b'{"id": NaN, "amount": Infinity}', "application/json"),
        ("wrong-type-form", b"a=1&b=2", "application/x-www-form-urlencoded"),
        ("multipart", b"--x\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--x--\r\n", "multipart/form-data"),
    ]

"""Compile every locale/*/LC_MESSAGES/django.po into its .mo with Babel (pure Python: no gettext
tools needed, so neither `make demo` nor `make test` needs apt).

    .venv/bin/python locale/compile.py          # compile where the .mo differs from the .po
    .venv/bin/python locale/compile.py --check  # exit 1 if a committed .mo is out of date

The output is deterministic, so compiling an unchanged .po leaves the committed .mo byte for byte
as it is (a clean work tree after `make demo`).
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE = Path(__file__).resolve().parent


def compiled(po: Path) -> bytes:
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=po.parent.parent.name, domain=po.stem)
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for po in sorted(LOCALE.glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        data = compiled(po)
        if mo.exists() and mo.read_bytes() == data:
            continue
        stale.append(mo)
        if not check:
            mo.write_bytes(data)
    for mo in stale:
        print(f"{'out of date' if check else 'compiled'}: {mo.relative_to(LOCALE.parent)}", file=sys.stderr)  # noqa: T201
    return 1 if check and stale else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

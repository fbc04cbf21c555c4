"""The fuzz suite prints its figures (cases tried per area) at the end of the run."""

from __future__ import annotations

from .fuzz import FAILURES, SCALE, TRIED


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not TRIED:
        return
    terminalreporter.section(f"fuzz figures (FUZZ_SCALE={SCALE})")
    for area, n in sorted(TRIED.items()):
        terminalreporter.write_line(f"{area}: {n} cases, {FAILURES.get(area, 0)} server errors")

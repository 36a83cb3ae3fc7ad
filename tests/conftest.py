"""Hooks for every test: tests that need the vendor API specs (tests/spec_check.py).

A test module that uses tests/spec_check.py at module level, directly or through the fakes
or the sandbox helpers, is marked `specs`. Before such a test runs, the specs are looked
up: when there are none it is skipped, saying why (a failure under
COCKPIT_REQUIRE_TOOLS=1, as in CI), instead of failing deep inside a client. A test that
reaches for the specs some other way and finds none is reported the same way.
"""

from __future__ import annotations

import os
from collections.abc import Generator

import pytest

from tests import spec_check


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "specs: needs the vendor API specs (set on every test of a module using "
        "tests/spec_check.py)",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    verdicts: dict[str, bool] = {}
    for item in items:
        module = getattr(item, "module", None)
        if module is None:
            continue
        if module.__name__ not in verdicts:
            verdicts[module.__name__] = spec_check.uses_specs(module)
        if verdicts[module.__name__]:
            item.add_marker("specs")


def pytest_runtest_setup(item: pytest.Item) -> None:
    spec_check.missed_specs(reset=True)
    if item.get_closest_marker("specs"):
        spec_check.require_specs()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    reason = spec_check.missed_specs()
    if reason is None or report.skipped:
        return report
    if os.environ.get(spec_check.REQUIRE_ENV) == "1":
        report.sections.append(("vendor API specs", reason))
    elif call.when in ("setup", "call"):
        # It ran without its spec checks (or failed for want of them): not a pass.
        report.outcome = "skipped"
        report.longrepr = (str(item.path), item.location[1] or 0, f"Skipped: {reason}")
    return report

"""``docketwatch detainee_locator``: ICE online detainee locator lookups."""

from __future__ import annotations

from cli.common import (
    ANumbersArg,
    DispatchOpt,
    PlannedOpt,
    group,
    handles_errors,
    run_source_check,
)
from cli.groups import help_of

app = group(help_of("detainee_locator"))


@app.command("check")
@handles_errors
def custody_check(
    a_numbers: ANumbersArg = None,
    dispatch: DispatchOpt = True,
    planned: PlannedOpt = False,
) -> None:
    """Look clients up on ICE's detainee locator now (A-number and country of birth), one at a
    time in a real browser; transfers, releases and detentions become alerts."""
    from checks.detainee_locator import check

    run_source_check(
        "detainee locator",
        check,
        a_numbers or [],
        dispatch,
        planned_source="detainee_locator" if planned else None,
    )

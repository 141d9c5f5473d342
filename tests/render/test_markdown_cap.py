"""The Markdown plan (a pull-request comment) stays under GitHub's comment limit at any size,
valid, cut only between whole changes, and says what it left out and where the rest is."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from authform.render.markdown import (
    GITHUB_COMMENT_LIMIT,
    MARKDOWN_BUDGET,
    change_row,
    render_plan_markdown,
)

from .markdown_plans import huge_plan, plan_of, small_plans, user_create

GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize(("name", "full"), [("mixed", False), ("empty", False), ("grouped", True)])
def test_a_plan_that_fits_renders_exactly_as_before_the_cap(name, full):
    """Golden files written by the renderer as it was before the size cap."""
    plan = small_plans()[name]
    expected = (GOLDEN / f"{name}{'-full' if full else ''}.md").read_text(encoding="utf-8")
    assert render_plan_markdown(plan, max_per_group=None if full else 30) == expected


def test_rows_left_out_per_group_are_counted_as_before_then_summed_per_kind():
    plan = small_plans()["grouped"]
    before = (GOLDEN / "grouped.md").read_text(encoding="utf-8")
    text = render_plan_markdown(plan, full_plan="`authform-plan.json`")
    assert text.startswith(before)  # the listing and its "… N more" rows are unchanged
    closing = text[len(before) :]
    assert "| user | 45 | 0 | 0 | 0 | 0 |" in closing
    assert "| membership | 40 | 0 | 0 | 0 | 0 |" in closing
    assert closing.rstrip().endswith(
        "**60 of 85 changes are listed above; 25 more are not:** the full plan is in "
        "`authform-plan.json`, one change per line."
    )


def _assert_valid_markdown(text: str) -> None:
    lines = text.splitlines()
    fences = [line for line in lines if line.startswith("```")]
    assert len(fences) % 2 == 0, "a code block is left open"
    inside = False
    for line in lines:
        if line.startswith("```"):
            inside = not inside
        elif not inside and line.startswith("|"):
            assert line.endswith("|"), f"a table row is cut: {line[:80]}"


@pytest.mark.parametrize("full", [False, True], ids=["default", "full"])
def test_200000_changes_stay_under_githubs_comment_limit(full):
    plan = huge_plan(200_000)
    text = render_plan_markdown(
        plan, max_per_group=None if full else 30, full_plan="`authform-plan.json`"
    )
    assert len(text) <= len(text.encode("utf-8")) <= MARKDOWN_BUDGET < GITHUB_COMMENT_LIMIT
    _assert_valid_markdown(text)
    # Every listed change is a whole row, exactly as rendered on its own, in plan order.
    listed = [line for line in text.splitlines() if re.match(r"\| \S+ \w+ \| `", line)]
    assert listed
    expected = {change_row(c) for c in plan.changes}
    assert all(row in expected for row in listed)
    match = re.search(r"\*\*([\d,]+) of 200,000 changes are listed above; ([\d,]+) more", text)
    assert match, text[-2000:]
    shown, missing = (int(g.replace(",", "")) for g in match.groups())
    assert shown == len(listed) and shown + missing == 200_000
    # The counts per kind and action add up to the whole plan.
    counts = re.findall(
        r"^\| (\w+) \| ([\d,]+) \| ([\d,]+) \| ([\d,]+) \| ([\d,]+) \| ([\d,]+) \|$", text, re.M
    )
    assert sum(int(c.replace(",", "")) for row in counts for c in row[1:]) == 200_000
    assert "the full plan is in `authform-plan.json`" in text
    assert "more lines" in text and "more manual steps" in text  # notes and steps were capped


def test_truncation_is_deterministic_and_a_prefix_in_plan_order():
    plan = huge_plan(5_000)
    first = render_plan_markdown(plan, max_per_group=None)
    assert first == render_plan_markdown(plan, max_per_group=None)
    rows = [change_row(c) for c in plan.changes]
    listed = [line for line in first.splitlines() if line in set(rows)]
    assert listed == rows[: len(listed)]


def test_one_change_larger_than_the_budget_is_left_out_whole():
    giant = user_create(1)
    plan = plan_of([giant, user_create(2)])
    text = render_plan_markdown(plan, budget=len(change_row(giant)) // 2)
    assert change_row(giant) not in text and "`user.user_0000001`" not in text
    assert "**0 of 2 changes are listed above; 2 more are not:**" in text
    assert "`authform plan --format json` prints the full plan" in text
    _assert_valid_markdown(text)

"""The JSON and JUnit outputs of plan, apply and verify stream: each is the exact text it
always was, and printing it from a spool of 50,000 changes or 100,000 checks holds neither
the list nor the text (a tracemalloc peak far below what either takes).

The outputs are written to a sink that only counts, so what is measured is the renderer and
the command's echo, not a captured copy of the output.
"""

from __future__ import annotations

import gc
import json
import sys
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from authform import cli
from authform.engine.apply import ApplyResult
from authform.engine.plan import Plan
from authform.engine.spool import ChangeSpool, dataclass_spool
from authform.engine.verify import Check, VerifyReport
from authform.render.json_output import (
    apply_document,
    plan_document,
    plan_to_json,
    verify_document,
)
from authform.render.json_stream import Streamed, buffered, json_chunks
from authform.render.junit import write_junit
from authform.render.sources import ChangeSources
from authform.render.text import render_apply
from authform.resources import Kind
from render.markdown_plans import user_create

CHANGES = 50_000
CHECKS = 100_000
# Held whole, 50,000 changes as JSON-ready dicts are tens of megabytes, and their text as
# much again; streamed, the peak is a block of output and one change at a time.
PEAK_LIMIT = 3_000_000


class CountingSink:
    """A text stream that keeps nothing but the length and the head of what it was given."""

    def __init__(self) -> None:
        self.chars = 0
        self.head = ""

    def write(self, text: str) -> int:
        if len(self.head) < 2000:
            self.head += text[:2000]
        self.chars += len(text)
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def peak_while(action: Callable[[], Any]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        action()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak


@pytest.fixture(scope="module")
def big_plan() -> Iterator[Plan]:
    spool = ChangeSpool()
    for n in range(CHANGES):
        spool.append(user_create(n))
    plan = Plan("workos", [Kind.USER], spool.seal(), live_fingerprint="live")
    yield plan
    spool.close()


@pytest.fixture(scope="module")
def big_report() -> Iterator[VerifyReport]:
    checks = dataclass_spool(Check, "authform-test-checks-")
    for n in range(CHECKS):
        checks.append(Check(f"user.user_{n:07d}", n % 3 != 0, "missing" if n % 3 == 0 else "ok"))
    yield VerifyReport(checks)  # type: ignore[arg-type]
    checks.close()


def test_streamed_json_is_the_text_json_dumps_writes() -> None:
    documents: list[dict[str, Any]] = [
        {},
        {"a": 1, "b": [], "c": {"d": [1, {"e": "é\n"}]}},
        {"empty": Streamed([]), "items": Streamed([{"x": [1, {"y": 2}]}, "s", 3, {}])},
    ]
    for document in documents:
        whole = {k: list(v) if isinstance(v, Streamed) else v for k, v in document.items()}
        expected = json.dumps(whole, indent=2, ensure_ascii=False)
        # ``Streamed`` values may be read once: rebuild them for the streamed run.
        streamed = {
            k: Streamed(v) if isinstance(document[k], Streamed) else v for k, v in whole.items()
        }
        assert "".join(json_chunks(streamed)) == expected
        assert "".join(buffered(json_chunks(streamed), size=7)) == expected


def test_the_streamed_plan_document_is_the_plan_as_one_object() -> None:
    plan = Plan("workos", [Kind.USER], [user_create(n) for n in range(3)], live_fingerprint="l")
    text = "".join(json_chunks(plan_document(plan, ChangeSources())))
    assert json.loads(text) == plan_to_json(plan, ChangeSources())
    assert text == json.dumps(plan_to_json(plan, ChangeSources()), indent=2, ensure_ascii=False)


def test_plan_format_json_prints_50000_changes_without_holding_them(
    big_plan: Plan, monkeypatch: pytest.MonkeyPatch
) -> None:
    sink = CountingSink()
    monkeypatch.setattr(sys, "stdout", sink)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    peak = peak_while(
        lambda: cli._print_plan(
            big_plan, cli.OutputFormat.json, ChangeSources(), annotations=cli.Annotations.none
        )
    )
    assert sink.chars > 20_000_000, sink.chars  # the whole plan was printed
    assert (
        json.loads(sink.head[: sink.head.index(',\n  "changes"')] + "}")["summary"]["create"]
        == CHANGES
    )
    assert peak < PEAK_LIMIT, f"peak {peak:,} bytes printing the JSON plan"


def test_verify_json_and_junit_write_100000_checks_without_holding_them(
    big_report: VerifyReport, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sink = CountingSink()
    monkeypatch.setattr(sys, "stdout", sink)
    peak = peak_while(lambda: cli._echo_json(verify_document(big_report)))
    assert sink.head.startswith('{\n  "ok": false,\n  "checks": [\n')
    assert sink.chars > 8_000_000, sink.chars
    assert peak < PEAK_LIMIT, f"peak {peak:,} bytes printing the verify JSON"

    junit = tmp_path / "verify.xml"
    peak = peak_while(lambda: write_junit(junit, big_report, provider="workos"))
    with junit.open(encoding="utf-8") as written:
        head = [next(written) for _ in range(3)]
    failing = len(range(0, CHECKS, 3))
    assert f'tests="{CHECKS}" failures="{failing}"' in head[1]
    assert junit.stat().st_size > 10_000_000
    assert peak < PEAK_LIMIT, f"peak {peak:,} bytes writing JUnit"


def test_apply_json_lists_50000_outcomes_without_holding_them(
    big_plan: Plan, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = ApplyResult()
    for change in big_plan.changes:
        result.applied.append(change)
    sink = CountingSink()
    monkeypatch.setattr(sys, "stdout", sink)
    peak = peak_while(lambda: cli._echo_json(apply_document(result, "interrupted")))
    assert sink.head.startswith('{\n  "applied": [\n    "user.user_0000000",\n')
    assert sink.chars > 1_000_000
    assert peak < PEAK_LIMIT, f"peak {peak:,} bytes printing the apply JSON"


def test_the_apply_summary_names_a_bounded_number_of_changes_not_attempted(
    big_plan: Plan,
) -> None:
    result = ApplyResult()
    for change in big_plan.changes:
        result.not_attempted.append(change)
    text = ""

    def render() -> None:
        nonlocal text
        text = render_apply(result)

    peak = peak_while(render)
    assert "user.user_0000049, … and 49,950 more (50,000 user creates in all)" in text
    assert "user.user_0000050" not in text and len(text) < 5_000
    assert peak < PEAK_LIMIT, f"peak {peak:,} bytes summing up the apply"

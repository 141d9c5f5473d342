"""A plan saved by an earlier authform applies with this one: for the same inputs and salt,
the change lines, the source's and live state's fingerprints and the plan digest are byte
for byte those recorded from ``main`` before the planner and the writer were reworked for
speed (``golden/format3-plan.json``, made by ``golden_plan.py``; see its docstring)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from saved_plan.golden_plan import CREDENTIAL, build

GOLDEN = Path(__file__).parent / "golden" / "format3-plan.json"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GOLDEN_PLAN_KEY", CREDENTIAL)
        return build(tmp_path_factory.mktemp("golden-inputs"))


@pytest.fixture(scope="module")
def recorded() -> dict:
    return json.loads(GOLDEN.read_text(encoding="utf-8"))


def test_every_change_line_is_the_one_an_earlier_version_sealed(built, recorded):
    assert len(built["changes"]) == len(recorded["changes"]) == 16
    for now, then in zip(built["changes"], recorded["changes"], strict=True):
        assert now == then


def test_the_golden_plan_holds_every_kind_of_line_the_writer_makes(recorded):
    """So the comparison above covers them: creates with write-once digests and names
    outside ASCII, updates, an adoption and blocked deletes."""
    entries = [json.loads(line) for line in recorded["changes"]]
    actions = {entry["action"] for entry in entries}
    assert actions == {"create", "update", "delete"}
    assert any("secrets" in e and "write_only" in e and e["action"] == "create" for e in entries)
    assert any("adopts existing" in e.get("note", "") for e in entries)
    assert any(e.get("blocked") for e in entries)
    assert any(not line.isascii() for line in recorded["changes"])


def test_the_source_live_and_target_fingerprints_are_unchanged(built, recorded):
    assert built["fingerprints"] == recorded["fingerprints"]


def test_the_plan_digest_the_apply_journal_records_is_unchanged(built, recorded):
    assert built["digest"] == recorded["digest"]

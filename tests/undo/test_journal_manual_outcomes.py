"""A write the provider hands to a person (a KavachOS organization with no member to own
it) gets its outcome line in the apply journal like every other write: the journal says
what became of each change, and undo knows nothing was written for it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kavachos.portable import portable_on_kavachos
from typer.testing import CliRunner

from authform.cli import app

from .conftest import journals


def _run(*args: str):  # noqa: ANN202
    return CliRunner().invoke(app, list(args), env={"NO_COLOR": "1"})


def test_organizations_left_to_a_person_have_their_outcome_in_the_journal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = portable_on_kavachos(tmp_path)
    monkeypatch.chdir(tmp_path)
    apply = _run("apply", "--emulate", "--auto-approve", str(folder))
    assert apply.exit_code == 2, apply.output  # the organizations are pending manual steps
    [journal] = journals()
    lines = [json.loads(line) for line in journal.read_text(encoding="utf-8").splitlines()]
    changes = {e["address"] for e in lines if e["type"] == "change"}
    outcomes = {e["address"]: e["outcome"] for e in lines if e["type"] == "outcome"}
    assert {"organization.acme", "organization.globex"} <= changes
    assert changes == set(outcomes), f"changes without an outcome: {changes - set(outcomes)}"
    assert outcomes["organization.acme"] == outcomes["organization.globex"] == "left to a person"
    assert lines[-1]["counts"]["left to a person"] == 2

    undo = _run("undo", str(journal), str(folder), "--emulate")
    assert "Traceback" not in undo.output
    assert "left to a person: nothing to undo (organization.acme, organization.globex)" in (
        " ".join(undo.output.split())
    ), undo.output

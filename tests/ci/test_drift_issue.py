"""drift.yml's issue step: one `authform-drift` issue, opened, updated, closed, reopened anew."""

from __future__ import annotations

from .conftest import REPO, Runner, workflow_step

STEP = workflow_step(
    REPO / "examples" / "github" / "drift.yml", "Open, update or close the drift issue"
)


def report_drift(runner: Runner, code: str, text: str = "") -> None:
    report = runner.temp / "drift.md"
    report.write_text(text)
    env = {**STEP["env"], "EXIT_CODE": code, "REPORT": str(report), "RUN_URL": f"run-{code}"}
    done = runner.bash(STEP["run"], env)
    assert done.returncode == 0, done.stdout + done.stderr


def issues(runner: Runner) -> list[dict]:
    return runner.state().get("issues", [])


def test_drift_opens_one_issue_updates_it_and_closes_it(runner: Runner) -> None:
    report_drift(runner, "0")
    assert issues(runner) == []  # no drift, no issue

    report_drift(runner, "2", "~ organization.acme\n")
    [opened] = issues(runner)
    assert opened["labels"] == ["authform-drift"] and opened["state"] == "open"
    assert "~ organization.acme" in opened["body"] and "Found by run-2." in opened["body"]
    assert "authform-drift" in runner.state()["labels"]

    report_drift(runner, "2", "~ role.admin\n")
    [updated] = issues(runner)
    assert updated["number"] == opened["number"]
    assert "~ role.admin" in updated["body"] and "organization.acme" not in updated["body"]

    report_drift(runner, "1")  # the check itself failed: the issue is left alone
    assert issues(runner)[0]["state"] == "open"

    report_drift(runner, "0")
    [closed] = issues(runner)
    assert closed["state"] == "closed" and closed["comments"] == ["No drift found by run-0."]

    report_drift(runner, "2", "- permission.stray\n")
    assert [(i["number"], i["state"]) for i in issues(runner)] == [(1, "closed"), (2, "open")]

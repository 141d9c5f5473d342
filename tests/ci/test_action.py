"""The composite action's steps (action/*.sh), run as the runner runs them: one plan comment
per pull request, updated in place; reports in the job summary; annotations; exit codes."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

from .conftest import REPO, Runner

RUN = REPO / "action" / "run.sh"
COMMENT = REPO / "action" / "pr-comment.sh"
OUTCOME = REPO / "action" / "outcome.sh"
PULL_REQUEST = {"PR_NUMBER": "7", "HEAD_SHA": "0123456789abcdef", "RUN_URL": "https://run/1"}


def authform_comments(runner: Runner, pr: str = "7") -> list[dict]:
    comments = runner.state().get("comments", {}).get(pr, [])
    return [c for c in comments if c["body"].startswith("<!-- authform-plan")]


def plan_and_comment(runner: Runner, **env: str) -> dict[str, str]:
    ran = runner.bash(RUN, {"COMMAND": "plan", "EMULATE": "true", **env})
    assert ran.returncode == 0, ran.stdout + ran.stderr
    outputs = runner.outputs()
    commented = runner.bash(COMMENT, {**PULL_REQUEST, "REPORT": outputs["report"], **env})
    assert commented.returncode == 0, commented.stdout + commented.stderr
    return outputs


def test_the_plan_is_one_comment_updated_in_place_on_each_push(runner: Runner) -> None:
    shutil.copytree(REPO / "manifests", runner.workspace / "manifests")
    others = [
        {"id": 1, "body": "LGTM"},
        {"id": 2, "body": "> <!-- authform-plan -->\n> quoting an old plan is not the plan"},
        {"id": 3, "body": "one more, so the comments span pages"},
    ]
    runner.seed(comments={"7": others})

    outputs = plan_and_comment(runner)
    assert outputs["exit-code"] == "2"
    assert (runner.workspace / outputs["plan-file"]).is_file()
    summary = runner.summary_file.read_text()
    assert summary.startswith("<!-- authform-plan -->")
    assert "Plan: 10 to create" in summary
    [comment] = authform_comments(runner)
    assert "Plan: 10 to create" in comment["body"]
    assert "authform plan of 0123456, https://run/1" in comment["body"]

    # The next push: apply happened (exit 2, as on a real tenant: the social connection is a
    # dashboard step), someone took that step, and the plan is empty now; the same comment
    # says so.
    applied = runner.bash(RUN, {"COMMAND": "apply", "EMULATE": "true"})
    assert runner.outputs()["exit-code"] == "2", applied.stdout + applied.stderr
    clicked = runner.bash("authform emulator dashboard\n")
    assert clicked.returncode == 0, clicked.stdout + clicked.stderr
    plan_and_comment(runner)
    [updated] = authform_comments(runner)
    assert updated["id"] == comment["id"]
    assert "No changes" in updated["body"]
    assert len(runner.state()["comments"]["7"]) == 4
    methods = [c[c.index("--method") + 1] for c in runner.state()["calls"] if "--method" in c]
    assert methods == ["POST", "PATCH"]


def test_each_environment_has_its_own_comment(runner: Runner) -> None:
    report = runner.temp / "plan.md"
    for environment in ("staging", "production", "staging"):
        report.write_text(f"<!-- authform-plan environment={environment} -->\n### plan\n")
        done = runner.bash(
            COMMENT, {**PULL_REQUEST, "REPORT": str(report), "ENVIRONMENT": environment}
        )
        assert done.returncode == 0, done.stderr
    firsts = sorted(c["body"].splitlines()[0] for c in authform_comments(runner))
    assert firsts == [
        "<!-- authform-plan environment=production -->",
        "<!-- authform-plan environment=staging -->",
    ]


def test_a_broken_manifest_annotates_the_diff_and_the_comment_says_the_plan_failed(
    runner: Runner,
) -> None:
    folder = runner.workspace / "manifests"
    folder.mkdir()
    (folder / "authform.yaml").write_text(
        "version: 1\ntarget: {provider: workos}\nroles:\n  - {slug: admin, nam: Admin}\n"
    )
    outputs = plan_and_comment(runner)
    assert outputs["exit-code"] == "1"
    ran = runner.bash(RUN, {"COMMAND": "plan", "EMULATE": "true"})
    assert (
        "::error file=manifests/authform.yaml,line=4,col=5,title=authform::roles[0]: "
        "missing required key 'name'" in ran.stderr
    )
    [comment] = authform_comments(runner)
    assert "### authform plan: failed" in comment["body"]
    assert "manifests/authform.yaml:4:5: roles[0]: missing required key 'name'" in comment["body"]
    assert "::error" not in comment["body"]
    failed = runner.bash(OUTCOME, {"COMMAND": "plan", "EXIT_CODE": "1"})
    assert failed.returncode == 1


def test_a_comment_that_cannot_be_written_is_a_warning(runner: Runner) -> None:
    report = runner.temp / "plan.md"
    report.write_text("<!-- authform-plan -->\n### plan\n")
    done = runner.bash(COMMENT, {**PULL_REQUEST, "REPORT": str(report), "FAKE_GH_FAIL_WRITES": "1"})
    assert done.returncode == 0
    assert "::warning title=authform::could not post the plan comment" in done.stdout


def test_a_huge_plan_is_cut_to_fit_a_comment(runner: Runner) -> None:
    report = runner.temp / "plan.md"
    report.write_text("<!-- authform-plan -->\n" + "| ➕ create | `user.x` | |\n" * 4000)
    done = runner.bash(COMMENT, {**PULL_REQUEST, "REPORT": str(report)})
    assert done.returncode == 0, done.stderr
    [comment] = authform_comments(runner)
    assert len(comment["body"]) < 65_536
    assert "the whole plan is in the job summary" in comment["body"]


def test_apply_given_a_missing_saved_plan_applies_nothing(runner: Runner) -> None:
    shutil.copytree(REPO / "manifests", runner.workspace / "manifests")
    ran = runner.bash(RUN, {"COMMAND": "apply", "EMULATE": "true", "PLAN_FILE": "nope.json"})
    assert runner.outputs()["exit-code"] == "1"
    assert "the saved plan nope.json does not exist; nothing was applied" in ran.stderr
    assert not (runner.workspace / ".authform").exists()  # authform never ran


def test_verify_writes_junit_and_the_outcome_follows_the_exit_code(runner: Runner) -> None:
    shutil.copytree(REPO / "manifests", runner.workspace / "manifests")
    runner.bash(RUN, {"COMMAND": "apply", "EMULATE": "true"})
    # Before the dashboard step the emulated tenant fails verification, as the real one would.
    runner.bash(RUN, {"COMMAND": "verify", "EMULATE": "true", "JUNIT_FILE": "verify.xml"})
    assert runner.outputs()["exit-code"] == "3"
    suite = ET.parse(runner.workspace / "verify.xml").getroot()
    assert suite.get("tests") == "11" and suite.get("failures") == "1"
    assert runner.bash("authform emulator dashboard\n").returncode == 0
    runner.bash(RUN, {"COMMAND": "verify", "EMULATE": "true", "JUNIT_FILE": "verify.xml"})
    assert runner.outputs()["exit-code"] == "0"
    suite = ET.parse(runner.workspace / "verify.xml").getroot()
    assert suite.get("tests") == "11" and suite.get("failures") == "0"
    assert "### authform verify: done" in runner.summary_file.read_text()

    for command, code, expected in [
        ("plan", "0", 0),
        ("plan", "2", 0),
        ("apply", "2", 0),
        ("drift", "2", 2),
        ("verify", "3", 3),
        ("validate", "1", 1),
    ]:
        done = runner.bash(OUTCOME, {"COMMAND": command, "EXIT_CODE": code})
        assert done.returncode == expected, (command, code, done.stdout)


def test_a_saved_plan_travels_from_the_pull_request_to_apply_on_merge(runner: Runner) -> None:
    """plan-on-pr saves the plan, apply-on-merge downloads it and applies exactly it, and
    refuses it once the provider moved."""
    from .conftest import workflow_step

    shutil.copytree(REPO / "manifests", runner.workspace / "manifests")
    outputs = plan_and_comment(runner)
    saved = (runner.workspace / outputs["plan-file"]).read_text()
    artifact = {"authform-plan": {"authform-plan.json": saved}}
    run = {"workflow": "plan-on-pr.yml", "headSha": "pr-head-sha"}
    runner.seed(
        pulls={"merged-sha": [7]},
        heads={"7": "pr-head-sha"},
        runs=[
            {**run, "databaseId": 40, "conclusion": "failure", "artifacts": {}},
            {**run, "databaseId": 41, "conclusion": "success", "artifacts": artifact},
        ],
    )
    download = workflow_step(
        REPO / "examples" / "github" / "apply-on-merge.yml",
        "Download the plan reviewed in the pull request",
    )
    env = {**download["env"], "MERGED_SHA": "merged-sha", "GH_TOKEN": "t"}
    done = runner.bash(download["run"], env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Applying the plan of run 41, reviewed in #7." in done.stdout
    plan_file = runner.env_file.read_text().strip().removeprefix("PLAN_FILE=")
    assert json.loads(Path(plan_file).read_text().splitlines()[-1])["plan_digest"]

    (runner.workspace / "authform-plan.json").unlink()  # apply reads only the downloaded copy
    applied = runner.bash(RUN, {"COMMAND": "apply", "EMULATE": "true", "PLAN_FILE": plan_file})
    # 2: applied; the social connection is left for the dashboard, as on a real tenant
    assert runner.outputs()["exit-code"] == "2", applied.stdout + applied.stderr
    assert "Applied 10 change(s)." in applied.stdout
    # The apply's journal is where the workflow's upload step looks for it.
    upload = workflow_step(
        REPO / "examples" / "github" / "apply-on-merge.yml",
        "Keep the apply's journal for authform undo",
    )
    assert upload["if"] == "always()"
    assert len(list(runner.workspace.glob(upload["with"]["path"]))) == 1

    # The same reviewed plan again: the provider has moved (it was applied), so it is stale.
    stale = runner.bash(RUN, {"COMMAND": "apply", "EMULATE": "true", "PLAN_FILE": plan_file})
    assert runner.outputs()["exit-code"] == "1"
    assert "live state changed since this plan was made" in stale.stderr


def test_apply_on_merge_refuses_a_push_that_came_from_no_pull_request(runner: Runner) -> None:
    from .conftest import workflow_step

    download = workflow_step(
        REPO / "examples" / "github" / "apply-on-merge.yml",
        "Download the plan reviewed in the pull request",
    )
    env = {**download["env"], "MERGED_SHA": "direct-push", "GH_TOKEN": "t"}
    done = runner.bash(download["run"], env)
    assert done.returncode == 1
    assert "did not come from a pull request, so no plan was reviewed" in done.stdout
    assert not runner.env_file.exists()

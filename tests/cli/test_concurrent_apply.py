"""Two applies on one target at once (issue 9, finding 6): every create converges on a
conflict with an item that already carries our key, so both runs succeed and nothing is
duplicated.

The worst interleaving is made deterministic: both runs read and plan before either writes,
then the second applies its whole (now stale) plan after the first, so every create it makes
meets the item the first one made. A second test runs two real `authform apply` processes at
the same time."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from authform.engine.apply import ApplyResult, apply_plan
from authform.workflow import open_session

from .targets import Target, plan_json, target_block, users_block

CONFIGURATION = {
    "workos": """\
permissions: [{slug: "billing:manage", name: Manage billing}]
roles:
  - {slug: admin, name: Admin, permissions: ["billing:manage"]}
  - {slug: member, name: Member}
organizations: [{key: acme, name: Acme, domains: [{domain: acme.com, state: verified}]}]
redirect_uris: [https://app.example.com/callback]
cors_origins: [https://app.example.com]
""",
    "scalekit": """\
permissions: [{slug: "billing:manage", name: Manage billing}]
roles:
  - {slug: admin, name: Admin, permissions: ["billing:manage"]}
  - {slug: member, name: Member}
organizations: [{key: acme, name: Acme, domains: [{domain: acme.com, state: verified}]}]
""",
    "clerk": """\
permissions: [{slug: "org:billing:manage", name: Manage billing}]
roles:
  - {slug: "org:admin", name: Admin, permissions: ["org:billing:manage"]}
  - {slug: "org:member", name: Member}
  - {slug: "org:billing", name: Billing, permissions: ["org:billing:manage"]}
organizations: [{key: acme, name: Acme, domains: [{domain: acme.com, state: verified}]}]
redirect_uris: [https://app.example.com/callback]
cors_origins: [https://app.example.com]
""",
}
USERS, ORGS, PER_USER = 20, 3, 2


async def race(folder: Path) -> tuple[ApplyResult, ApplyResult]:
    async with open_session(folder) as first, open_session(folder) as second:
        first_plan = await first.plan()
        second_plan = await second.plan()  # read before either run writes anything
        assert second_plan.digest() == first_plan.digest()
        done_first = await apply_plan(first_plan, first.provider)
        done_second = await apply_plan(second_plan, second.provider)
    return done_first, done_second


def test_a_second_apply_on_a_stale_plan_converges_on_everything_the_first_made(
    target: Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    export = target.export(tmp_path, users=USERS, organizations=ORGS, memberships_per_user=PER_USER)
    target.write(
        target_block(target.provider)
        + CONFIGURATION[target.provider]
        + users_block(export, tmp_path / "reports")
    )
    for name, value in target.env.items():
        monkeypatch.setenv(name, value)

    first, second = asyncio.run(race(target.folder))
    for result in (first, second):
        assert result.failed == [] and result.not_attempted == [], result.failed
    # The second run's creates all met the first run's items, by key.
    creates = [c for c in second.applied if c.action.value == "create"]
    assert len(creates) >= USERS + ORGS + export.memberships

    remaining = [c for c in plan_json(target)["changes"] if c["action"] != "manual"]
    assert remaining == [], remaining  # nothing missing, nothing duplicated (no unkeyed item)
    assert len(target.user_ids_by_key()) == USERS


def test_two_apply_processes_at_once_both_succeed(workos_emulator, tmp_path: Path) -> None:
    target = Target("workos", workos_emulator, tmp_path / "manifests")
    # Slow enough that the two runs overlap for most of the import.
    workos_emulator.set_rate_limits(user_management_writes={"requests": 100, "per_seconds": 1})
    export = target.export(tmp_path, users=120, organizations=8, memberships_per_user=2)
    target.write(
        target_block("workos") + CONFIGURATION["workos"] + users_block(export, tmp_path / "reports")
    )
    env = {**os.environ, **target.env}
    command = [sys.executable, "-m", "authform.cli", "apply", str(target.folder), "--auto-approve"]
    runs = [
        subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=180)[0] for run in runs]
    for run, output in zip(runs, outputs, strict=True):
        assert run.returncode == 0, output[-3000:]
        assert "FAILED" not in output
    settled = target("plan", str(target.folder), "--detailed-exitcode")
    assert settled.exit_code == 0, settled.output

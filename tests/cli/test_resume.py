"""Kill `apply` with SIGKILL in the middle of an import, run it again: it finishes with no
duplicate and no lost user or membership (no state file: the natural keys do the work)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter

import httpx

from authform.sources.synthetic import write_synthetic_export

USERS, ORGS, PER_USER = 300, 15, 2


def manifest(export, emulator_url):
    return f"""
version: 1
target:
  provider: workos
  api_key: "${{env:WORKOS_API_KEY}}"
  base_url: "{emulator_url}"
  rate_limits:
    user_management_writes: {{requests: 150, per_seconds: 1}}
roles:
  - {{slug: admin, name: Admin}}
  - {{slug: member, name: Member}}
users:
  source:
    kind: clerk-csv
    path: {export.users_csv}
    organizations: {export.organizations_json}
    memberships: {export.memberships_json}
"""


def list_all(client, path, **params):
    items, after = [], None
    for _ in range(1000):  # bounded walk
        query = {"limit": 100, **params, **({"after": after} if after else {})}
        page = client.get(path, params=query).json()
        items += page["data"]
        after = page["list_metadata"]["after"]
        if not after:
            return items
    raise AssertionError("pagination did not end")


def test_sigkill_mid_import_then_rerun_converges(workos_emulator, tmp_path):
    emulator = workos_emulator
    emulator.set_rate_limits(user_management_writes={"requests": 150, "per_seconds": 1})
    export = write_synthetic_export(
        tmp_path / "export", users=USERS, organizations=ORGS, memberships_per_user=PER_USER
    )
    (tmp_path / "manifests").mkdir()
    (tmp_path / "manifests" / "authform.yaml").write_text(manifest(export, emulator.url))
    env = {**os.environ, "WORKOS_API_KEY": emulator.api_key, "NO_COLOR": "1"}
    command = [sys.executable, "-m", "authform.cli", "apply", "manifests", "--auto-approve"]

    victim = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and victim.poll() is None:
        created_users = [w for w in emulator.writes() if w["path"] == "/user_management/users"]
        if len(created_users) >= USERS // 3:
            break
        time.sleep(0.05)
    assert victim.poll() is None, "apply finished before it could be killed"
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=10)

    headers = {"Authorization": f"Bearer {emulator.api_key}"}
    with httpx.Client(base_url=emulator.url, headers=headers, timeout=10) as client:
        partial = len(list_all(client, "/user_management/users"))
    assert 0 < partial < USERS

    rerun = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert rerun.returncode == 0, rerun.stdout[-2000:] + rerun.stderr[-2000:]

    with httpx.Client(base_url=emulator.url, headers=headers, timeout=10) as client:
        users = list_all(client, "/user_management/users")
        orgs = list_all(client, "/organizations")
        memberships = [
            m
            for org in orgs
            for m in list_all(
                client, "/user_management/organization_memberships", organization_id=org["id"]
            )
        ]
    assert len(users) == USERS
    assert not [k for k, n in Counter(u["external_id"] for u in users).items() if n > 1]
    assert not [k for k, n in Counter(u["email"] for u in users).items() if n > 1]
    assert len(orgs) == ORGS
    assert len(memberships) == export.memberships
    pairs = Counter((m["user_id"], m["organization_id"]) for m in memberships)
    assert max(pairs.values()) == 1

    settled = subprocess.run(
        [sys.executable, "-m", "authform.cli", "plan", "manifests", "--detailed-exitcode"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert settled.returncode == 0, settled.stdout[-2000:]

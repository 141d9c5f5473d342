# ruff: noqa: F811 (tests take the imported `cli` fixture of tests/cli as an argument)
"""Hostile saved plans: every edit of plan.json, every moved input and every contradicting flag
is refused with exit 1, a message naming what moved, no traceback and no write.

The plan is made against the WorkOS emulator with the CLI, then edited (or the world around
it changed) between ``plan --out`` and ``apply plan.json``, as an attacker who can write the
CI artifact, the export or the manifest would.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from cli.conftest import BASE_MANIFEST, cli  # noqa: F401 (the `cli` fixture of tests/cli)
from cli.saved_plans import (
    TARGET,
    checkout,
    organizations,
    read_plan_file,
    twelve_organizations_then_five,
    write_plan_file,
)

from authform.saved_plan.document import seal_parts
from authform.saved_plan.seal import Sealer

from .refusal import assert_refused

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "clerk"
EDITED = "the plan file was edited"
# The base manifest's plan against an empty tenant, in order: 0-1 permissions, 2-3 roles,
# 4 organization.acme, 5 organization.globex, 6 redirect URI, 7 CORS origin, 8 social (manual).
ACME, GLOBEX, SOCIAL = 4, 5, 8


def api(cli, method: str, path: str, **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {cli.emulator.api_key}"}
    with httpx.Client(base_url=cli.emulator.url, timeout=10) as client:
        response = client.request(method, path, headers=headers, **kwargs)
    response.raise_for_status()
    return response.json() if response.content else None


def edit(plan_file: Path, change: Callable[[dict[str, Any]], Any]) -> None:
    document = read_plan_file(plan_file)
    change(document)
    write_plan_file(plan_file, document)


def make_plan(cli, plan_file: Path, *args: str, env: dict[str, str] | None = None) -> None:
    made = cli.run("plan", str(cli.folder), "--out", str(plan_file), *args, env=env)
    assert made.exit_code in (0, 1), made.output
    assert plan_file.exists(), made.output
    cli.emulator.clear_log()


@pytest.fixture
def plan_file(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # an embedded emulator (made_with.emulate) keeps state here
    path = tmp_path / "plan.json"
    make_plan(cli, path)
    document = read_plan_file(path)
    assert [c["address"] for c in document["changes"]][ACME : GLOBEX + 1] == [
        "organization.acme",
        "organization.globex",
    ]
    assert document["changes"][SOCIAL]["action"] == "manual"
    return path


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """An edit of one value, by a dotted path whose numbers index lists."""

    def apply(document: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = document
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        node[int(last) if last.isdigit() else last] = value

    return apply


def _swap(document: dict[str, Any]) -> None:
    changes = document["changes"]
    changes[0], changes[1] = changes[1], changes[0]


def _add_delete(document: dict[str, Any]) -> None:
    document["changes"].append(
        {"action": "delete", "address": "role.owner", "kind": "role", "key": "owner", "fields": []}
    )


def _name_field(document: dict[str, Any]) -> None:
    for field in document["changes"][ACME]["fields"]:
        if field["path"] == "name":
            field["new"] = "Evil Inc"


# ---- 2c: every part of every change entry is sealed ------------------------------------------


@pytest.mark.parametrize(
    ("tamper", "where"),
    [
        pytest.param(_set(f"changes.{ACME}.action", "delete"), ACME, id="action"),
        pytest.param(_set(f"changes.{ACME}.action", "update"), ACME, id="retyped-action"),
        pytest.param(_set(f"changes.{ACME}.address", "organization.evil"), ACME, id="address"),
        pytest.param(_set(f"changes.{ACME}.kind", "role"), ACME, id="kind"),
        pytest.param(_set(f"changes.{ACME}.key", "evil"), ACME, id="key"),
        pytest.param(_name_field, ACME, id="field-value"),
        pytest.param(_set(f"changes.{ACME}.fields.0.path", "metadata.x"), ACME, id="field-path"),
        pytest.param(_set(f"changes.{ACME}.fields", []), ACME, id="fields-emptied"),
        pytest.param(_set(f"changes.{GLOBEX}.blocked", "held back"), GLOBEX, id="blocked"),
        pytest.param(_set(f"changes.{GLOBEX}.note", "harmless"), GLOBEX, id="note"),
        pytest.param(_set(f"changes.{SOCIAL}.instructions", ["Paste"]), SOCIAL, id="manual-step"),
        pytest.param(lambda d: d["changes"].pop(3), 3, id="removed"),
        pytest.param(_add_delete, 9, id="added"),
        pytest.param(_swap, 0, id="reordered"),
    ],
)
def test_an_edited_change_entry_is_named_and_nothing_is_applied(cli, plan_file, tamper, where):
    edit(plan_file, tamper)
    result = cli.run("apply", str(plan_file), "--auto-approve")
    assert_refused(result, rf"{EDITED}: changes\[{where}\]", emulator=cli.emulator)
    assert "Nothing was applied" in result.output


# ---- the rest of the file: each part is sealed -----------------------------------------------


@pytest.mark.parametrize(
    ("tamper", "part"),
    [
        pytest.param(_set("forced", True), "forced", id="forced"),
        pytest.param(_set("made_with.force", True), "made_with", id="made-with-force"),
        pytest.param(_set("refusals", ["held"]), "refusals", id="refusals"),
        pytest.param(_set("summary.create", 0), "summary", id="summary"),
        pytest.param(_set("managed", ["permission"]), "managed", id="managed"),
        pytest.param(_set("environment", "staging"), "environment", id="environment"),
        pytest.param(_set("fingerprints.live", "hmac-sha256:" + "0" * 64), "fingerprints", id="fp"),
        pytest.param(_set("seal.parts.forced", "hmac-sha256:" + "1" * 64), "forced", id="seal-tag"),
        pytest.param(_set("plan_digest", "hmac-sha256:" + "2" * 64), "plan_digest", id="digest"),
    ],
)
def test_an_edited_part_is_named_before_any_request(cli, plan_file, tamper, part):
    edit(plan_file, tamper)
    result = cli.run("apply", str(plan_file), "--auto-approve")
    assert_refused(result, rf"{EDITED}: {part}\b", emulator=cli.emulator)
    assert cli.emulator.requests_log() == []  # judged offline


def test_a_plan_re_sealed_without_the_api_key_is_refused(cli, plan_file):
    """An attacker can recompute every tag, but not under the target's key: forcing the plan
    and sealing it again with a guessed key (here none) does not verify."""

    def forge(document: dict[str, Any]) -> None:
        document["forced"] = True
        document["made_with"]["force"] = True
        sealer = Sealer(bytes.fromhex(document["seal"]["salt"]), "sk_guessed")
        body = {k: v for k, v in document.items() if k not in ("seal", "plan_digest")}
        parts = seal_parts(body, sealer)
        document["seal"] = {**document["seal"], "key_check": sealer.key_check, "parts": parts}
        document["plan_digest"] = sealer.tag("plan", parts)

    edit(plan_file, forge)
    result = cli.run("apply", str(plan_file), "--auto-approve")
    assert_refused(
        result, r"its seal does not verify with the target's API key", emulator=cli.emulator
    )
    assert cli.emulator.requests_log() == []


def test_a_changed_salt_does_not_verify(cli, plan_file):
    edit(plan_file, _set("seal.salt", "ab" * 16))
    result = cli.run("apply", str(plan_file), "--auto-approve")
    assert_refused(result, r"its seal does not verify", emulator=cli.emulator)


def test_a_rotated_api_key_is_named_and_no_request_is_made(cli, plan_file):
    result = cli.run("apply", str(plan_file), "--auto-approve", env={"WORKOS_API_KEY": "sk_new"})
    assert_refused(
        result, r"target\.api_key changed since the plan was made", emulator=cli.emulator
    )
    assert cli.emulator.requests_log() == []


def test_the_recorded_manifest_path_is_sealed(cli, plan_file, tmp_path):
    twin = tmp_path / "twin"
    shutil.copytree(cli.folder, twin)
    edit(plan_file, _set("made_with.manifest", str(twin)))
    result = cli.run("apply", str(plan_file), "--auto-approve")
    assert_refused(result, rf"{EDITED}: made_with", emulator=cli.emulator)


def test_a_plan_switched_to_the_emulator_by_hand_does_not_verify(cli, plan_file):
    edit(plan_file, _set("made_with.emulate", True))
    result = cli.run("apply", str(plan_file), "--auto-approve")
    assert_refused(result, r"its seal does not verify", emulator=cli.emulator)


# ---- 2a: forced on a plan refused for deletes -------------------------------------------------


def test_forced_set_by_hand_on_a_plan_refused_for_deletes_deletes_nothing(cli, tmp_path):
    twelve_organizations_then_five(cli)
    plan_file = tmp_path / "plan.json"
    refused = cli.run("plan", str(cli.folder), "--out", str(plan_file))
    assert refused.exit_code == 1 and "would delete 7 of 12 existing" in refused.output
    cli.emulator.clear_log()

    edit(plan_file, _set("refusals", []))
    assert_refused(
        cli.run("apply", str(plan_file), "--auto-approve"),
        rf"{EDITED}: refusals\b",
        emulator=cli.emulator,
    )
    edit(plan_file, _set("forced", True))
    assert_refused(
        cli.run("apply", str(plan_file), "--auto-approve"),
        rf"{EDITED}: forced\b",
        emulator=cli.emulator,
    )
    edit(plan_file, _set("made_with.force", True))
    assert_refused(
        cli.run("apply", str(plan_file), "--auto-approve"),
        rf"{EDITED}: forced, made_with, refusals",
        emulator=cli.emulator,
    )
    assert len(organizations(cli)) == 12


def test_force_on_apply_cannot_widen_a_plan_made_without_it(cli, plan_file):
    result = cli.run("apply", str(plan_file), "--auto-approve", "--force")
    assert_refused(
        result, r"flag --force differs: .*was made without --force", emulator=cli.emulator
    )
    assert cli.emulator.requests_log() == []


# ---- 10.5: flags that contradict how the plan was made ---------------------------------------


def test_emulate_on_apply_contradicts_a_plan_made_against_the_api(cli, plan_file, tmp_path):
    result = cli.run("apply", str(plan_file), "--auto-approve", "--emulate")
    assert_refused(result, r"flag --emulate differs", emulator=cli.emulator)
    assert not (tmp_path / ".authform").exists()  # no emulator was started either


def test_another_environment_on_apply_is_refused(cli, plan_file):
    result = cli.run("apply", str(plan_file), "--auto-approve", "-e", "production")
    assert_refused(
        result,
        r"was made without an environment, not for 'production'; nothing was applied",
        emulator=cli.emulator,
    )
    assert cli.emulator.requests_log() == []


# ---- what moved in the world between plan and apply ------------------------------------------


def test_an_edited_manifest_is_named_by_file(cli, plan_file):
    cli.write(BASE_MANIFEST.replace("name: Globex", "name: Globex Corp"))
    result = cli.run("apply", str(plan_file), "--auto-approve")
    assert_refused(
        result,
        r"the manifest changed since this plan was made \(authform\.yaml\)",
        emulator=cli.emulator,
    )
    assert "live state" not in result.output


def test_a_manifest_file_added_is_named(cli, plan_file):
    cli.write("cors_origins: [https://evil.example.com]\n", name="zz-extra.yaml")
    (cli.folder / "authform.yaml").write_text(
        (cli.folder / "authform.yaml")
        .read_text()
        .replace("cors_origins: [https://app.example.com]\n", ""),
        encoding="utf-8",
    )
    result = cli.run("apply", str(plan_file), "--auto-approve")
    assert_refused(
        result,
        r"the manifest changed since .*\(authform\.yaml, added zz-extra\.yaml\)",
        emulator=cli.emulator,
    )


def test_a_changed_variable_is_named_by_section(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cli.write(BASE_MANIFEST.replace("name: Globex", 'name: "${env:GLOBEX_NAME}"'))
    plan_file = tmp_path / "plan.json"
    make_plan(cli, plan_file, env={"GLOBEX_NAME": "Globex"})
    result = cli.run("apply", str(plan_file), "--auto-approve", env={"GLOBEX_NAME": "Globex Evil"})
    assert_refused(
        result,
        r"a variable the manifest reads changed since this plan was made \(section organizations\)",
        emulator=cli.emulator,
    )


def test_a_moved_live_state_names_the_item(cli, plan_file):
    api(cli, "POST", "/authorization/permissions", json={"slug": "sneaky", "name": "Sneaky"})
    cli.emulator.clear_log()
    result = cli.run("apply", str(plan_file), "--auto-approve")
    assert_refused(
        result,
        r"the live state changed since this plan was made \(permission\.sneaky\)",
        emulator=cli.emulator,
    )


def test_a_plan_from_another_manifest_says_so(cli, tmp_path, monkeypatch):
    """The same relative path in another checkout holds another manifest: that is what the
    refusal says, not that the live state changed (issue 10, item 9)."""
    first = checkout(tmp_path / "first", "Acme Inc")
    second = checkout(tmp_path / "second", "Other Co")
    monkeypatch.chdir(first)
    assert cli.run("plan", "manifests", "--out", "plan.json").exit_code == 0
    cli.emulator.clear_log()
    monkeypatch.chdir(second)
    result = cli.run("apply", str(first / "plan.json"), "--auto-approve")
    assert_refused(
        result,
        rf"it was made from another manifest \({first / 'manifests'}: authform\.yaml, "
        rf"for workos\), not the one at {second / 'manifests'}",
        emulator=cli.emulator,
    )
    assert "live state" not in result.output


# ---- 2b: the source's password digests --------------------------------------------------------


@pytest.fixture
def export(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the Clerk export, imported by the manifest; returns its users.csv."""
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "export"
    shutil.copytree(FIXTURES, folder)
    cli.write(
        TARGET
        + f"""
roles: [{{slug: admin, name: Admin}}, {{slug: member, name: Member}}]
users:
  source:
    kind: clerk-csv
    path: {folder / "users.csv"}
    organizations: {folder / "organizations.json"}
    memberships: {folder / "memberships.json"}
  reports_dir: {tmp_path / "reports"}
"""
    )
    return folder / "users.csv"


def _rewrite_user(users_csv: Path, user_id: str, **values: str) -> None:
    with users_csv.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        fields, rows = reader.fieldnames, list(reader)
    for row in rows:
        if row["id"] == user_id:
            row.update(values)
    with users_csv.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields or [])
        writer.writeheader()
        writer.writerows(rows)


GRACE = "user_2aGrace00000000000000002"
# Another valid bcrypt digest (Ada's): the attacker's own, in a real takeover.
ATTACKER_DIGEST = "$2a$10$8xqbv31jOFj6jS2J4c63r.2YKKNyvFAo/on53i6Dg3hbds1mZ32ne"


def test_a_swapped_password_digest_is_refused_and_never_imported(cli, export, tmp_path):
    plan_file = tmp_path / "plan.json"
    make_plan(cli, plan_file)
    original = next(r for r in csv.DictReader(export.open()) if r["id"] == GRACE)["password_digest"]
    _rewrite_user(export, GRACE, password_digest=ATTACKER_DIGEST)
    result = cli.run("apply", str(plan_file), "--auto-approve")
    assert_refused(
        result,
        r"the source data changed since this plan was made \(clerk-csv \S*users\.csv: "
        rf"1 password digest \(user\.{GRACE}\)\)",
        emulator=cli.emulator,
    )
    assert ATTACKER_DIGEST not in result.output and original not in result.output
    assert api(cli, "GET", "/user_management/users", params={"limit": 100})["data"] == []


def test_a_changed_source_record_is_refused(cli, export, tmp_path):
    plan_file = tmp_path / "plan.json"
    make_plan(cli, plan_file)
    _rewrite_user(export, GRACE, primary_email_address="grace@evil.example")
    result = cli.run("apply", str(plan_file), "--auto-approve")
    assert_refused(
        result,
        r"the source data changed since this plan was made \(clerk-csv \S*users\.csv: records",
        emulator=cli.emulator,
    )


# ---- a damaged or foreign file -----------------------------------------------------------------


def _truncate(plan_file: Path) -> None:
    text = plan_file.read_text(encoding="utf-8")
    plan_file.write_text(text[: len(text) // 2], encoding="utf-8")


def _old_format(plan_file: Path) -> None:
    edit(plan_file, _set("format_version", 1))


def _no_version(plan_file: Path) -> None:
    plan_file.write_text('{"changes": []}', encoding="utf-8")


def _a_list(plan_file: Path) -> None:
    plan_file.write_text("[1, 2]", encoding="utf-8")


def _extra_key(plan_file: Path) -> None:
    edit(plan_file, _set("apply_anyway", True))


def _wrong_type(plan_file: Path) -> None:
    edit(plan_file, _set("made_with.emulate", "yes"))


def _change_not_a_mapping(plan_file: Path) -> None:
    edit(plan_file, _set("changes.2", "role.admin"))


def _unknown_action(plan_file: Path) -> None:
    edit(plan_file, _set("changes.2.action", "drop"))


def _bad_tag(plan_file: Path) -> None:
    edit(plan_file, _set("fingerprints.live", "sha256:abc"))


def _binary(plan_file: Path) -> None:
    plan_file.write_bytes(b"\xff\xfe\x00garbage")


def _format_2_document(plan_file: Path) -> None:
    """The file an authform of format 2 wrote: one indented JSON document."""
    document = {**read_plan_file(plan_file), "format_version": 2}
    plan_file.write_text(json.dumps(document, indent=2), encoding="utf-8")


def _seal_line_cut_off(plan_file: Path) -> None:
    lines = plan_file.read_bytes().splitlines(keepends=True)
    plan_file.write_bytes(b"".join(lines[:-1]))


def _empty(plan_file: Path) -> None:
    plan_file.write_bytes(b"")


def _blank_line_among_changes(plan_file: Path) -> None:
    lines = plan_file.read_bytes().splitlines(keepends=True)
    plan_file.write_bytes(b"".join([*lines[:3], b"\n", *lines[3:]]))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (
            _truncate,
            r"plan\.json:\d+:\d+: not valid JSON \(.*\); the saved plan is damaged or cut short",
        ),
        (
            _old_format,
            r"plan\.json: saved-plan format 1 is not one this authform reads \(format 3\)",
        ),
        (_no_version, r"plan\.json: not a saved plan \(no format_version\)"),
        (_a_list, r"plan\.json: not a saved plan"),
        (_extra_key, r"not a valid saved plan: apply_anyway: Extra inputs are not permitted"),
        (
            _wrong_type,
            r"not a valid saved plan: made_with\.emulate: Input should be a valid boolean",
        ),
        (
            _change_not_a_mapping,
            r"(?m)not a valid saved plan: changes\[2\]: Input should be a valid dictionary$",
        ),
        (
            _unknown_action,
            r"not a valid saved plan: changes\[2\]\.action: Input should be 'create'",
        ),
        (_bad_tag, r"not a valid saved plan: fingerprints\.live: String should match pattern"),
        (_binary, r"plan\.json: cannot read this saved plan"),
        (
            _format_2_document,
            r"plan\.json: saved-plan format 2 \(one JSON document\) is not one this authform "
            r"reads \(format 3, one JSON line per change\); make the plan again",
        ),
        (
            _seal_line_cut_off,
            r"plan\.json:10: the saved plan ends without its seal line; it is damaged or cut "
            r"short",
        ),
        (_empty, r"plan\.json: not a saved plan \(the file is empty\)"),
        (
            _blank_line_among_changes,
            r"plan\.json:4:1: not valid JSON \(Expecting value\); the saved plan is damaged",
        ),
    ],
)
def test_a_damaged_plan_file_is_refused_saying_where(cli, plan_file, damage, message):
    damage(plan_file)
    result = cli.run("apply", str(plan_file), "--auto-approve")
    assert_refused(result, message, emulator=cli.emulator)
    assert cli.emulator.requests_log() == []


def test_a_missing_plan_file_is_refused(cli, tmp_path):
    result = cli.run("apply", str(tmp_path / "nope.json"), "--auto-approve")
    assert_refused(
        result, r"nope\.json: no such saved plan; nothing was applied", emulator=cli.emulator
    )
    assert cli.emulator.requests_log() == []


def test_a_plan_that_cannot_be_saved_is_an_error_not_a_traceback(cli, tmp_path):
    result = cli.run("plan", str(cli.folder), "--out", str(tmp_path / "missing" / "plan.json"))
    assert_refused(  # checked before the live state is read (output_paths)
        result,
        r"--out .*missing/plan\.json: the folder .*missing does not exist",
        emulator=cli.emulator,
    )
    assert not (tmp_path / "missing").exists()
    assert cli.emulator.requests_log() == []


def test_a_plan_whose_manifest_is_not_there_says_so(cli, tmp_path, monkeypatch):
    checkout(tmp_path / "first", "Acme")
    monkeypatch.chdir(tmp_path / "first")
    assert cli.run("plan", "manifests", "--out", "plan.json").exit_code == 0
    cli.emulator.clear_log()
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    result = cli.run("apply", "../first/plan.json", "--auto-approve")
    assert_refused(
        result,
        r"\.\./first/plan\.json was made from the manifest at manifests \(\S*first/manifests\), "
        r"which is not there from \S+: run apply where the plan was made",
        emulator=cli.emulator,
    )
    assert cli.emulator.requests_log() == []

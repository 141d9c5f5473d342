"""Hostile input values: bad manifests and bad Clerk exports, through the CLI, against the
WorkOS emulator over loopback HTTP.

Two outcomes, each asserted in full:
- refused: exit 1, a message that says where (file:line:column, or file + line/byte), no
  traceback, and no write in the emulator's request log (``assert_refused``);
- skipped: a record that cannot be trusted (a hostile character, an id not of Clerk's shape)
  is named with its file and row in the plan and in ``skipped.csv``, the rest imports, and no
  request body the emulator received holds anything hostile.
"""

from __future__ import annotations

import csv
import json
import os
import re
import textwrap
from pathlib import Path

import pytest
from cli.conftest import Cli
from cli.manifests import IMPORT_ROLES, WORKOS_TARGET
from typer.testing import CliRunner

from authform.emulators import RunningEmulator
from authform.importing.reports import neutralize_formula, write_reenroll, write_skipped
from authform.providers import registry
from authform.sources.clerk_csv import COLUMNS

from .refusal import assert_refused

# Characters no value may carry into a provider, a plan or a report.
HOSTILE_CHARACTERS = ("\x00", "\x1b", "\u202e", "\u200b", "\x85", "\u2028")
FORMULA = "@SUM(1+1)"

GOOD_ID = "user_2aGood0000000000000000001"
GOOD_EMAIL = "good@example.com"


class Workspace(Cli):
    """``Cli`` (tests/cli/conftest.py) with what these tests add: a reports folder beside the
    manifests, a manifest of the WorkOS target block plus a test's sections, and every body
    the emulator received."""

    @property
    def reports(self) -> Path:
        """Beside the manifests, never in them (a reports_dir inside is refused)."""
        return self.folder.parent / "reports"

    def manifest(self, extra: str = "") -> Path:
        return self.write(WORKOS_TARGET + textwrap.dedent(extra), "manifest.yaml")

    def import_manifest(self, source: str) -> Path:
        """A manifest importing from ``source`` (the ``users.source`` mapping, flow style)."""
        return self.manifest(
            f"\n{IMPORT_ROLES}users:\n  source: {source}\n  reports_dir: {self.reports}\n"
        )

    def request_bodies(self) -> str:
        """Every body the emulator received, as one JSON text (non-ASCII kept as is)."""
        return json.dumps(
            [entry.get("body") for entry in self.emulator.requests_log()], ensure_ascii=False
        )


@pytest.fixture
def ws(workos_emulator: RunningEmulator, tmp_path: Path) -> Workspace:
    folder = tmp_path / "manifests"
    folder.mkdir()
    return Workspace(workos_emulator, folder, CliRunner())


def users_csv(path: Path, *rows: dict[str, str]) -> Path:
    """A Clerk Dashboard CSV export: a good user first (row 2), then ``rows`` (row 3 on)."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for cells in ({"id": GOOD_ID, "first_name": "Good", "email": GOOD_EMAIL}, *rows):
            email = cells.get("email", "")
            row = {
                "primary_email_address": email,
                "verified_email_addresses": email,
                **{k: v for k, v in cells.items() if k != "email"},
            }
            writer.writerow([row.get(column, "") for column in COLUMNS])
    return path


def json_array(path: Path, *items: object) -> Path:
    path.write_text(json.dumps(list(items), indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def organization(org_id: str, name: str = "Acme", **fields: object) -> dict[str, object]:
    return {"object": "organization", "id": org_id, "name": name, **fields}


def membership(user_id: str, org_id: str, role: str = "org:member") -> dict[str, object]:
    return {
        "object": "organization_membership",
        "id": "orgmem_2aGood0000000000000001",
        "role": role,
        "organization": {"id": org_id},
        "public_user_data": {"user_id": user_id},
    }


def assert_skipped(result, ws: Workspace, origin: str, problem: str) -> None:
    """The plan ran (exit 0), named the record with its file and row, wrote nothing."""
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert re.search(re.escape(origin) + r": " + problem, result.output), result.output
    assert ws.emulator.writes() == []
    for char in HOSTILE_CHARACTERS:
        assert char not in result.output, repr(char)


# --------------------------------------------------------------------------- finding 3: CSV rows

HOSTILE_USER_ROWS = [
    pytest.param(
        {"id": "user_2aNul00000000000000000002", "first_name": "Ada\x00", "email": "n@x.io"},
        r"first_name contains the control character U\+0000",
        id="nul-in-first-name",
    ),
    pytest.param(
        {"id": "user_2aEsc00000000000000000002", "last_name": "\x1b[2Jx", "email": "e@x.io"},
        r"last_name contains the control character U\+001B",
        id="esc-in-last-name",
    ),
    pytest.param(
        {"id": "user_2aRlo00000000000000000002", "first_name": "\u202egnp.exe", "email": "r@x.io"},
        r"first_name contains the control character U\+202E",
        id="right-to-left-override-in-first-name",
    ),
    pytest.param(
        {"id": "user_2aZws00000000000000000002", "first_name": "Ad\u200ba", "email": "z@x.io"},
        r"first_name contains the control character U\+200B",
        id="zero-width-space-in-first-name",
    ),
    pytest.param(
        {"id": "user_2aC1c00000000000000000002", "last_name": "Lee\x85", "email": "c@x.io"},
        r"last_name contains the control character U\+0085",
        id="c1-control-in-last-name",
    ),
    pytest.param(
        {"id": "user_2aNam00000000000000000002", "username": "ada\x00root", "email": "u@x.io"},
        r"username contains the control character U\+0000",
        id="nul-in-username",
    ),
    pytest.param(
        {
            "id": "user_2aPho00000000000000000002",
            "email": "p@x.io",
            "verified_phone_numbers": "+1555\u20280100",
        },
        r"phone_numbers\[0\] contains the control character U\+2028",
        id="line-separator-in-phone",
    ),
    pytest.param(
        {
            "id": "user_2aMal00000000000000000002",
            "email": "m@x.io",
            "unverified_email_addresses": "other\x1b@x.io",
        },
        r"emails\[1\] contains the control character U\+001B",
        id="esc-in-an-email-not-chosen",
    ),
    pytest.param(
        {
            "id": "user_2aHsh00000000000000000002",
            "email": "h@x.io",
            "password_digest": "not-a-digest",
            "password_hasher": "bc\x00",
        },
        r"password_hasher contains the control character U\+0000",
        id="nul-in-password-hasher",
    ),
    pytest.param(
        {"id": FORMULA, "first_name": "Formula", "email": "f@x.io"},
        r"id is not a Clerk user id \(expected 'user_'",
        id="formula-as-user-id",
    ),
    pytest.param(
        {"id": "org_2aNotAUser0000000000001", "first_name": "Wrong", "email": "w@x.io"},
        r"id is not a Clerk user id",
        id="organization-id-in-the-user-id-column",
    ),
    pytest.param(
        {"id": "user_2a\x00Nul0000000000000002", "first_name": "NulId", "email": "i@x.io"},
        r"id is not a Clerk user id",
        id="nul-byte-in-the-id-cell",
    ),
    pytest.param(
        {"id": "user_" + "a" * 65, "first_name": "Long", "email": "l@x.io"},
        r"id is not a Clerk user id",
        id="overlong-user-id",
    ),
]


@pytest.mark.parametrize(("cells", "problem"), HOSTILE_USER_ROWS)
def test_hostile_user_row_is_skipped_with_file_and_row_and_never_sent(ws, cells, problem):
    users_csv(ws.folder / "users.csv", cells)
    manifest = ws.import_manifest("{kind: clerk-csv, path: users.csv}")

    planned = ws.run("plan", str(manifest))
    assert_skipped(planned, ws, "users.csv:row 3", problem)
    assert "users: 2 read, 1 to import" in planned.output

    applied = ws.run("apply", str(manifest), "--auto-approve")
    assert applied.exit_code == 0, applied.output
    bodies = ws.request_bodies()
    assert GOOD_EMAIL in bodies  # the good row of the same file was imported
    for char in HOSTILE_CHARACTERS:
        assert char not in bodies, repr(char)
    assert FORMULA not in bodies
    skipped = list(csv.DictReader((ws.reports / "skipped.csv").open(encoding="utf-8")))
    assert [(row["origin"], row["code"]) for row in skipped] == [
        ("users.csv:row 3", "malformed_record")
    ]
    assert re.search(problem, skipped[0]["reason"])
    # A skipped id is reported only when it is one: never a formula or a control character.
    assert skipped[0]["source_id"] in ("", cells["id"])
    assert skipped[0]["source_id"] == "" or skipped[0]["source_id"].startswith("user_2a")


# --------------------------------------------------------------------------- finding 3: JSON items


def test_formula_as_organization_id_is_skipped(ws):
    users_csv(ws.folder / "users.csv")
    json_array(ws.folder / "orgs.json", organization(FORMULA), organization("org_2aGood00001"))
    manifest = ws.import_manifest("{kind: clerk-csv, path: users.csv, organizations: orgs.json}")
    result = ws.run("plan", str(manifest))
    assert_skipped(result, ws, "orgs.json:item 1 (line 2)", r"id is not a Clerk organization id")
    assert "organizations: 2 read, 1 to import, 1 skipped" in result.output


def test_right_to_left_override_in_organization_name_is_skipped(ws):
    users_csv(ws.folder / "users.csv")
    json_array(ws.folder / "orgs.json", organization("org_2aRlo00001", "Acme\u202e cni"))
    manifest = ws.import_manifest("{kind: clerk-csv, path: users.csv, organizations: orgs.json}")
    result = ws.run("plan", str(manifest))
    assert_skipped(
        result,
        ws,
        "orgs.json:item 1 (line 2)",
        r"name contains the control character U\+202E",
    )


def test_escape_in_organization_metadata_value_is_skipped(ws):
    users_csv(ws.folder / "users.csv")
    org = organization("org_2aMeta0001", public_metadata={"tier": {"label": "gold\x1b[31m"}})
    json_array(ws.folder / "orgs.json", org)
    manifest = ws.import_manifest("{kind: clerk-csv, path: users.csv, organizations: orgs.json}")
    result = ws.run("plan", str(manifest))
    assert_skipped(
        result,
        ws,
        "orgs.json:item 1 (line 2)",
        r"public_metadata\.tier\.label contains the control character U\+001B",
    )


def test_formula_as_membership_user_id_is_skipped(ws):
    users_csv(ws.folder / "users.csv")
    json_array(ws.folder / "orgs.json", organization("org_2aGood00001"))
    json_array(ws.folder / "members.json", membership("=1+1", "org_2aGood00001"))
    manifest = ws.import_manifest(
        "{kind: clerk-csv, path: users.csv, organizations: orgs.json, memberships: members.json}"
    )
    result = ws.run("plan", str(manifest))
    assert_skipped(result, ws, "members.json:item 1 (line 2)", r"user_id is not a Clerk user id")


def test_nul_in_membership_role_is_skipped(ws):
    users_csv(ws.folder / "users.csv")
    json_array(ws.folder / "orgs.json", organization("org_2aGood00001"))
    json_array(ws.folder / "members.json", membership(GOOD_ID, "org_2aGood00001", "org:\x00admin"))
    manifest = ws.import_manifest(
        "{kind: clerk-csv, path: users.csv, organizations: orgs.json, memberships: members.json}"
    )
    result = ws.run("plan", str(manifest))
    assert_skipped(
        result, ws, "members.json:item 1 (line 2)", r"role contains the control character U\+0000"
    )


def test_escape_in_clerk_json_user_name_is_skipped(ws):
    json_array(
        ws.folder / "users.json",
        {"id": GOOD_ID, "first_name": "Good", "email_addresses": GOOD_EMAIL},
        {
            "id": "user_2aEscJson000000000002",
            "first_name": "\x1b]0;pwned\x07",
            "email_addresses": "j@x.io",
        },
    )
    manifest = ws.import_manifest("{kind: clerk-json, path: users.json}")
    result = ws.run("plan", str(manifest))
    assert_skipped(
        result,
        ws,
        "users.json:item 2 (line 7)",
        r"first_name contains the control character U\+001B",
    )


def test_lone_surrogate_in_clerk_json_is_skipped_not_a_crash_when_printed(ws):
    """A JSON "\\ud800" escape decodes to a string no terminal or API can encode."""
    (ws.folder / "users.json").write_text(
        "["
        + json.dumps({"id": GOOD_ID, "first_name": "Good", "email_addresses": GOOD_EMAIL})
        + ', {"id": "user_2aSur0000000000000000002", "first_name": "A\\ud800",'
        + ' "email_addresses": "s@x.io"}]',
        encoding="utf-8",
    )
    manifest = ws.import_manifest("{kind: clerk-json, path: users.json}")
    result = ws.run("plan", str(manifest))
    assert_skipped(
        result,
        ws,
        "users.json:item 2 (line 1)",
        r"first_name contains the control character U\+D800",
    )


# --------------------------------------------------------------------------- finding 3: reports


def test_report_cells_that_a_spreadsheet_would_run_are_neutralised(ws):
    """A user whose address starts with '=' (legal in an address) must re-enroll a second
    factor, and the users file's name starts with '@': both reach report cells."""
    users_csv(
        ws.folder / "@users.csv",
        {"id": "user_2aTotp0000000000000000002", "email": "=1+2@x.io", "totp_secret": "JBSWY3DP"},
        {"id": FORMULA, "email": "skipped@x.io"},
    )
    manifest = ws.import_manifest("{kind: clerk-csv, path: '@users.csv'}")
    applied = ws.run("apply", str(manifest), "--auto-approve")
    assert applied.exit_code == 0, applied.output

    reenroll = list(csv.reader((ws.reports / "reenroll.csv").open(encoding="utf-8")))
    assert reenroll[1][:3] == ["user_2aTotp0000000000000000002", "'=1+2@x.io", "totp"]
    skipped = list(csv.DictReader((ws.reports / "skipped.csv").open(encoding="utf-8")))
    assert [row["origin"] for row in skipped] == ["'@users.csv:row 4"]
    for path in (ws.reports / "reenroll.csv", ws.reports / "skipped.csv"):
        for row in csv.reader(path.open(encoding="utf-8")):
            for cell in row:
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (path, cell)


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("user_2aAda", "user_2aAda"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_the_report_writer_neutralises_every_formula_trigger(tmp_path, cell, written):
    from authform.importing import ImportSet, ReenrollNotice, Skipped

    import_set = ImportSet(
        skipped=[Skipped("user", cell, cell, cell, "malformed_record")],
        reenroll=[ReenrollNotice(cell, cell, ("totp",), cell)],
    )
    write_skipped(tmp_path / "skipped.csv", import_set, [("user", cell, cell)])
    write_reenroll(tmp_path / "reenroll.csv", import_set)
    skipped = list(csv.reader((tmp_path / "skipped.csv").open(encoding="utf-8", newline="")))
    reenroll = list(csv.reader((tmp_path / "reenroll.csv").open(encoding="utf-8", newline="")))
    assert skipped[1] == ["user", written, written, "malformed_record", "false", written]
    assert skipped[2] == ["user", written, "", "apply_failed", "false", written]
    assert reenroll[1] == [written, written, "totp", written]
    assert neutralize_formula(cell) == written


# --------------------------------------------------------------------------- finding 9: exports


def test_non_utf8_users_csv_is_refused_with_line_and_byte_offset(ws):
    path = users_csv(
        ws.folder / "users.csv",
        {"id": "user_2aLatin0000000000000002", "first_name": "RenX", "email": "l@x.io"},
    )
    # A Latin-1 "é" in the third line's first name, as a spreadsheet saving "ANSI" writes it.
    path.write_bytes(path.read_bytes().replace(b"RenX", b"Ren\xe9"))
    offset = path.read_bytes().index(b"\xe9")
    manifest = ws.import_manifest("{kind: clerk-csv, path: users.csv}")
    result = ws.run("plan", str(manifest))
    assert_refused(
        result,
        rf"users\.csv: line 3, byte offset {offset}: not UTF-8 text \(invalid continuation byte",
        emulator=ws.emulator,
    )


def test_non_utf8_organizations_json_is_refused_with_line_and_byte_offset(ws):
    users_csv(ws.folder / "users.csv")
    path = json_array(ws.folder / "orgs.json", organization("org_2aGood00001", "Soci\u00e9t\u00e9"))
    path.write_bytes(path.read_bytes().replace("é".encode(), b"\xe9"))
    offset = path.read_bytes().index(b"\xe9")
    manifest = ws.import_manifest("{kind: clerk-csv, path: users.csv, organizations: orgs.json}")
    result = ws.run("plan", str(manifest))
    assert_refused(
        result, rf"orgs\.json: line 5, byte offset {offset}: not UTF-8 text", emulator=ws.emulator
    )


def test_non_utf8_far_into_a_large_export_names_the_exact_line(ws):
    """The decoder fails on a buffered chunk; the message still names the line in the file."""
    rows = [{"id": f"user_2aMany{n:020d}", "email": f"u{n}@x.io"} for n in range(3000)]
    path = users_csv(ws.folder / "users.csv", *rows)
    raw = path.read_bytes()
    cut = raw.index(b"u2500@x.io")
    path.write_bytes(raw[:cut] + b"\xff" + raw[cut + 1 :])
    line = raw.count(b"\n", 0, cut) + 1
    manifest = ws.import_manifest("{kind: clerk-csv, path: users.csv}")
    result = ws.run("plan", str(manifest))
    assert_refused(
        result,
        rf"users\.csv: line {line}, byte offset {cut}: not UTF-8 text \(invalid start byte",
        emulator=ws.emulator,
    )


# --------------------------------------------------------------------------- finding 9: manifests


def _symlink_loop(folder: Path) -> str:
    os.symlink("loop.yaml", folder / "loop.yaml")
    return r"loop\.yaml: a symbolic link that loops"


def _dangling_link(folder: Path) -> str:
    os.symlink("gone.yaml", folder / "roles.yaml")
    return r"roles\.yaml: a symbolic link to 'gone\.yaml', which does not exist"


def _fifo(folder: Path) -> str:
    os.mkfifo(folder / "pipe.yaml")
    return r"pipe\.yaml: a named pipe \(FIFO\), not a manifest file"


def _directory(folder: Path) -> str:
    (folder / "extra.yaml").mkdir()
    return r"extra\.yaml: a directory, not a manifest file"


@pytest.mark.parametrize("make", [_symlink_loop, _dangling_link, _fifo, _directory])
@pytest.mark.parametrize("command", ["validate", "plan"])
def test_manifest_folder_entry_that_is_not_a_file_is_refused(ws, make, command):
    ws.manifest()
    message = make(ws.folder)
    assert_refused(ws.run(command, str(ws.folder)), message, emulator=ws.emulator)


def test_manifest_path_that_is_a_fifo_is_refused_not_read(ws):
    os.mkfifo(ws.folder / "only.yaml")
    assert_refused(
        ws.run("plan", str(ws.folder / "only.yaml")),
        r"only\.yaml: a named pipe \(FIFO\)",
        emulator=ws.emulator,
    )


@pytest.mark.parametrize("command", ["validate", "plan"])
def test_unknown_rate_limit_bucket_is_refused_at_its_key(ws, command):
    ws.manifest(
        """
        roles: [{slug: admin, name: Admin}]
        """
    )
    text = (ws.folder / "manifest.yaml").read_text()
    text = text.replace(
        "target:\n", "target:\n  rate_limits:\n    foo: {requests: 1, per_seconds: 1}\n", 1
    )
    (ws.folder / "manifest.yaml").write_text(text)
    assert_refused(
        ws.run(command, str(ws.folder)),
        r"manifest\.yaml:4:5: target\.rate_limits\.foo: unknown WorkOS rate-limit bucket 'foo' "
        r"\(known: general, user_management_reads, user_management_writes\)",
        emulator=ws.emulator,
    )


@pytest.mark.parametrize(
    ("provider", "bucket", "known"),
    [("clerk", "general", "instance"), ("scalekit", "user_management_reads", "general")],
)
def test_rate_limit_buckets_are_each_providers_own(ws, provider, bucket, known):
    ws.write(
        f"""
        version: 1
        target:
          provider: {provider}
          api_key: sk_test_123
          client_id: cid
          base_url: https://example.scalekit.dev
          rate_limits: {{{bucket}: {{requests: 1, per_seconds: 1}}}}
        """,
        "manifest.yaml",
    )
    assert_refused(
        ws.run("validate", str(ws.folder)),
        rf"manifest\.yaml:7:\d+: target\.rate_limits\.{bucket}: unknown \w+ rate-limit bucket "
        rf"'{bucket}' \(known: {known}\)",
        emulator=ws.emulator,
    )


@pytest.mark.parametrize("command", ["validate", "plan"])
def test_provider_missing_from_the_registry_is_refused_with_its_position(ws, monkeypatch, command):
    """Whatever the registry holds decides: a provider the manifest format knows but this
    installation cannot build fails validate exactly as plan, at target.provider."""
    monkeypatch.delitem(registry.PROVIDERS, "scalekit")
    ws.write(
        """
        version: 1
        target: {provider: scalekit, api_key: s, client_id: c, base_url: "https://x.example"}
        """,
        "manifest.yaml",
    )
    assert_refused(
        ws.run(command, str(ws.folder)),
        r"manifest\.yaml:2:20: target\.provider: provider 'scalekit' is not available in this "
        r"installation \(available: clerk, kavachos, workos\)",
        emulator=ws.emulator,
    )


def test_validate_and_plan_agree_on_every_provider_name(ws):
    """Every name the manifest format accepts either builds (registered) or fails validate;
    when a provider is registered later (KavachOS), this keeps holding with no edit."""
    from authform.manifest.models import PROVIDERS

    for name in PROVIDERS:
        ws.write(
            f"""
            version: 1
            target: {{provider: {name}, api_key: sk_test_1, client_id: c, base_url: "https://x.example"}}
            """,
            "manifest.yaml",
        )
        result = ws.run("validate", str(ws.folder))
        if name in registry.PROVIDERS:
            assert "is not available" not in result.output, result.output
        else:
            assert_refused(result, rf"target\.provider: provider '{name}' is not available")


def test_clerk_publishable_key_is_refused_by_validate_without_showing_it(ws):
    ws.write(
        """
        version: 1
        target: {provider: clerk, api_key: pk_test_publishable123}
        """,
        "manifest.yaml",
    )
    result = ws.run("validate", str(ws.folder))
    assert_refused(
        result,
        r"manifest\.yaml:2:36: target\.api_key: must be the instance's secret key",
        emulator=ws.emulator,
    )
    assert "pk_test_publishable123" not in result.output


MANIFEST_CONTROL_CHARACTERS = [
    pytest.param('roles: [{slug: admin, name: "Ad\\u001bmin"}]', "U\\+001B", id="esc-in-role-name"),
    pytest.param(
        'organizations: [{key: acme, name: "Acme \\u202e cni"}]', "U\\+202E", id="rlo-in-org-name"
    ),
    pytest.param(
        'permissions: [{slug: "a:b", name: A, description: "x\\u0000y"}]',
        "U\\+0000",
        id="nul-in-description",
    ),
    pytest.param(
        'organizations: [{key: acme, name: Acme, metadata: {tier: "gold\\u0085"}}]',
        "U\\+0085",
        id="c1-in-metadata-value",
    ),
]


@pytest.mark.parametrize(("section", "char"), MANIFEST_CONTROL_CHARACTERS)
def test_control_characters_in_manifest_fields_are_refused_with_position(ws, section, char):
    ws.manifest(section + "\n")
    assert_refused(
        ws.run("plan", str(ws.folder)),
        rf"manifest\.yaml:7:\d+: .*contains the control character {char}",
        emulator=ws.emulator,
    )


def test_manifest_and_import_share_one_character_rule():
    """The rule has one home: the manifest's validators and the import's screening call it."""
    from authform import text_policy
    from authform.manifest import models
    from authform.sources import screening

    assert models.check_text is text_policy.check_text
    assert screening.text_problem is text_policy.text_problem


def test_every_refused_character_is_one_python_calls_non_printable():
    """``unsafe_character`` skips its regex for printable text; that is exact only if no
    refused character is printable, checked here over every code point."""
    from authform.text_policy import _UNSAFE_IN_LINE

    refused = [chr(c) for c in range(0x110000) if _UNSAFE_IN_LINE.match(chr(c))]
    assert len(refused) > 60
    assert [c for c in refused if c.isprintable()] == []


def test_changed_mode_does_not_skip_a_folder_whose_only_manifest_is_a_dangling_link(ws):
    """A pre-commit hook passes the changed file; a folder holding only a broken link is not
    "a folder without manifests" to skip, it is a broken manifest."""
    os.symlink("gone.yaml", ws.folder / "authform.yaml")
    assert_refused(
        ws.run("validate", "--changed", str(ws.folder / "authform.yaml")),
        r"authform\.yaml: a symbolic link to 'gone\.yaml', which does not exist",
        emulator=ws.emulator,
    )

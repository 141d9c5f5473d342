"""Apply, apply a damaging change, undo it: the original manifest then plans no change."""

from __future__ import annotations

from cli.saved_plans import TARGET

from .conftest import journals

ORIGINAL = (
    TARGET
    + """\
permissions:
  - {slug: "billing:manage", name: Manage billing}
  - {slug: "reports:read", name: Read reports, description: See the dashboards}
roles:
  - {slug: admin, name: Admin, permissions: ["billing:manage", "reports:read"]}
  - {slug: member, name: Member, permissions: ["reports:read"]}
organizations:
  - key: acme
    name: Acme Inc
    domains: [{domain: acme.com, state: verified}]
    metadata: {tier: enterprise}
  - key: globex
    name: Globex
redirect_uris: [https://app.example.com/callback]
"""
)

# A permission removed (WorkOS cannot delete a role), both roles stripped of it, an
# organization renamed, another added, a redirect URI added.
DAMAGING = (
    TARGET
    + """\
permissions:
  - {slug: "billing:manage", name: Manage billing}
roles:
  - {slug: admin, name: Admin, permissions: ["billing:manage"]}
  - {slug: member, name: Member}
organizations:
  - key: acme
    name: Acme (renamed)
    domains: [{domain: acme.com, state: verified}]
    metadata: {tier: free}
  - key: globex
    name: Globex
  - key: initech
    name: Initech
redirect_uris: [https://app.example.com/callback, https://evil.example.com/callback]
policy: {allow_delete: true}
"""
)


def test_undo_of_a_damaging_apply_restores_the_original_state(cli, tmp_path):
    cli.write(ORIGINAL)
    first = cli.run("apply", str(cli.folder), "--auto-approve")
    assert first.exit_code == 0, first.output
    cli.write(DAMAGING)
    damage = cli.run("apply", str(cli.folder), "--auto-approve")
    assert damage.exit_code == 0, damage.output
    journal = journals()[-1]
    assert f"Wrote {journal}" in damage.output

    plan = cli.run("undo", str(journal), str(cli.folder), "--out", "undo.json")
    assert plan.exit_code == 2, plan.output
    print(plan.output)
    for line in (
        "+ permission.reports:read",
        "~ role.member",
        "~ role.admin",
        "~ organization.acme",
        "- organization.initech",
        "- redirect_uri.https://evil.example.com/callback",
    ):
        assert line in plan.output, plan.output
    writes_before = len(cli.emulator.writes())
    applied = cli.run("apply", "undo.json", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert len(cli.emulator.writes()) > writes_before

    cli.write(ORIGINAL)
    after = cli.run("plan", str(cli.folder), "--detailed-exitcode")
    assert after.exit_code == 0, after.output
    assert "No changes" in after.output

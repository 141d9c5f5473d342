"""`${env:VAR}` interpolation: syntax, defaults, escapes, and where errors point."""

from __future__ import annotations

import pytest

from authform.manifest.interpolate import interpolate, interpolate_string
from authform.manifest.positions import load_yaml_text

from .conftest import HEADER, Problems, Write

ENV = {"NAME": "acme", "EMPTY": "", "TRICKY": "${env:NAME} $${x}"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain", "plain"),
        ("${env:NAME}", "acme"),
        ("https://${env:NAME}.example.com/${env:NAME}", "https://acme.example.com/acme"),
        ("${env:UNSET:-fallback}", "fallback"),
        ("${env:UNSET:-}", ""),
        ("${env:EMPTY:-fallback}", "fallback"),  # empty counts as unset, as in POSIX shells
        ("${env:EMPTY}", ""),
        ("${env:NAME:-fallback}", "acme"),
        ("${env:UNSET:-a:-b c}", "a:-b c"),
        ("$${env:NAME}", "${env:NAME}"),  # escaped: a literal ${
        ("$$${env:NAME}", "$${env:NAME}"),  # "$" then the escape "$${"
        ("cost: $5, $$6, $ {x}", "cost: $5, $$6, $ {x}"),  # only "$${" is an escape
        ("${env:TRICKY}", "${env:NAME} $${x}"),  # values are never re-scanned
        ("${env:lower_case_1:-ok}", "ok"),
    ],
)
def test_interpolate_string(text: str, expected: str) -> None:
    assert interpolate_string(text, ENV) == (expected, [])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("${env:UNSET}", "environment variable UNSET is not set"),
        (
            "${NAME}",
            "invalid reference '${NAME}' (expected ${env:VAR} or ${env:VAR:-default}; "
            "write $${ for a literal ${)",
        ),
        (
            "${env:}",
            "invalid reference '${env:}' (expected ${env:VAR} or ${env:VAR:-default}; "
            "write $${ for a literal ${)",
        ),
        (
            "${env:NAME",
            "invalid reference '${env:NAME' (expected ${env:VAR} or ${env:VAR:-default}; "
            "write $${ for a literal ${)",
        ),
        (
            "${env:A:default}",
            "invalid reference '${env:A:default}' (expected ${env:VAR} or "
            "${env:VAR:-default}; write $${ for a literal ${)",
        ),
        (
            "${env:A:-${env:B}}",
            "invalid reference '${env:A:-${env:B}': a default cannot contain another reference",
        ),
    ],
)
def test_interpolate_string_problems(text: str, message: str) -> None:
    result, problems = interpolate_string(text, ENV)
    assert result is None
    assert [p.message for p in problems] == [message]


def test_every_missing_variable_in_a_string_is_reported() -> None:
    _, problems = interpolate_string("${env:A}/${env:B}/${env:NAME}", ENV)
    assert [p.missing_variable for p in problems] == ["A", "B"]


def test_interpolate_walks_values_not_keys_and_points_at_the_value() -> None:
    parsed = load_yaml_text(
        "a:\n  ${env:NAME}: ${env:NAME}\n  list: [x, '${env:MISSING}']\n", "m.yaml"
    )
    data, diagnostics = interpolate(parsed.data, parsed.source, ENV, file="m.yaml")
    assert data == {"a": {"${env:NAME}": "acme", "list": ["x", "${env:MISSING}"]}}
    assert [str(d) for d in diagnostics] == [
        "m.yaml:3:13: a.list[1]: environment variable MISSING is not set"
    ]


def test_missing_variables_can_be_allowed_under_chosen_sections() -> None:
    parsed = load_yaml_text(
        "target: {api_key: '${env:MISSING}', client_id: '${env:NAME}', base_url: '${bad}'}\n"
        "other: '${env:MISSING}'\n",
        "m.yaml",
    )
    data, diagnostics = interpolate(
        parsed.data, parsed.source, ENV, missing_allowed_under=("target",), file="m.yaml"
    )
    # The missing variable's key is dropped; a syntax error is still an error.
    assert data["target"] == {"client_id": "acme", "base_url": "${bad}"}
    assert [str(d) for d in diagnostics] == [
        "m.yaml:1:73: target.base_url: invalid reference '${bad}' (expected ${env:VAR} or "
        "${env:VAR:-default}; write $${ for a literal ${)",
        "m.yaml:2:8: other: environment variable MISSING is not set",
    ]


# --- through load_manifest ----------------------------------------------------------------


def test_missing_variable_is_an_error_at_its_position(write: Write, problems: Problems) -> None:
    write(
        "m.yaml",
        """\
        version: 1
        target:
          provider: workos
          api_key: ${env:WORKOS_API_KEY}
        organizations:
          - {key: acme, name: "${env:ORG_NAME}"}
        """,
    )
    assert problems("m.yaml", env={}) == [
        "m.yaml:4:12: target.api_key: environment variable WORKOS_API_KEY is not set",
        "m.yaml:6:23: organizations[0].name: environment variable ORG_NAME is not set",
    ]


def test_defaults_and_escapes_reach_the_manifest(write: Write) -> None:
    from authform.manifest import load_manifest

    write(
        "m.yaml",
        HEADER,
        """\
        permissions:
          - slug: "${env:SLUG:-docs:read}"
            name: "${env:UNSET:-Read docs}"
            description: "Literal $${env:NOT_EXPANDED} stays"
        """,
    )
    manifest = load_manifest("m.yaml", env={}).manifest
    assert manifest.permissions is not None
    permission = manifest.permissions[0]
    assert (permission.slug, permission.name) == ("docs:read", "Read docs")
    assert permission.description == "Literal ${env:NOT_EXPANDED} stays"


def test_emulate_allows_missing_variables_only_in_target(write: Write, problems: Problems) -> None:
    from authform.manifest import load_manifest

    write(
        "m.yaml",
        """\
        version: 1
        target:
          provider: workos
          api_key: ${env:WORKOS_API_KEY}
          client_id: ${env:WORKOS_CLIENT_ID}
        organizations: [{key: acme, name: "${env:ORG_NAME}"}]
        """,
    )
    assert problems("m.yaml", env={}, emulate=True) == [
        "m.yaml:6:35: organizations[0].name: environment variable ORG_NAME is not set"
    ]
    loaded = load_manifest("m.yaml", env={"ORG_NAME": "Acme"}, emulate=True)
    assert loaded.manifest.target.api_key is None
    assert loaded.manifest.target.client_id is None


def test_secrets_only_one_command_reads_are_unresolved_not_errors(
    write: Write, problems: Problems
) -> None:
    """A canary's password (read by verify only) and a social connection's client secret
    (read by nothing that calls an API): unset, the manifest still loads, the problem is kept
    for the command that needs the value, and ``require_secrets`` (plain validate) reports it."""
    from authform.manifest import ManifestError, load_manifest

    write(
        "m.yaml",
        """\
        version: 1
        target: {provider: workos, api_key: sk_test_1}
        social_connections: [{provider: google, client_id: c, client_secret: "${env:G}"}]
        verify:
          password_logins: [{email: canary@example.com, password: "${env:CANARY_PASSWORD}"}]
        """,
    )
    canary = (
        "m.yaml:5:59: verify.password_logins[0].password: "
        "environment variable CANARY_PASSWORD is not set"
    )
    social = "m.yaml:3:70: social_connections[0].client_secret: environment variable G is not set"
    loaded = load_manifest("m.yaml", env={})
    assert [str(p) for p in loaded.unresolved_under("verify")] == [canary]
    assert [str(p) for p in loaded.unresolved_under("social_connections")] == [social]
    with pytest.raises(ManifestError) as refused:
        loaded.require_resolved("verify")
    assert [str(p) for p in refused.value.diagnostics] == [canary]
    loaded.require_resolved("users")  # nothing unresolved there
    assert problems("m.yaml", env={}, require_secrets=True) == [social, canary]
    resolved = load_manifest("m.yaml", env={"CANARY_PASSWORD": "pw", "G": "s"})
    assert resolved.unresolved == ()
    assert resolved.manifest.verify.password_logins[0].password.get_secret_value() == "pw"


def test_a_failed_interpolation_reports_only_the_real_problem(
    write: Write, problems: Problems
) -> None:
    # Without suppression the raw "${env:HOST}" text would also fail URL validation.
    write(
        "m.yaml",
        HEADER.replace("}", ", base_url: 'https://${env:HOST}:${env:PORT}/'}"),
    )
    assert problems("m.yaml", env={}) == [
        "m.yaml:2:60: target.base_url: environment variable HOST is not set",
        "m.yaml:2:60: target.base_url: environment variable PORT is not set",
    ]


def test_variable_values_are_validated_like_written_values(
    write: Write, problems: Problems
) -> None:
    write("m.yaml", HEADER + "organizations: [{key: acme, name: '${env:NAME}'}]\n")
    assert problems("m.yaml", env={"NAME": "x\nroles: []"}) == [
        "m.yaml:3:35: organizations[0].name: contains the control character U+000A"
    ]

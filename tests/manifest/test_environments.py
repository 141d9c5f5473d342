"""Environments: a section under an environment replaces the top-level one, whole."""

from __future__ import annotations

import jsonschema
import pytest
import yaml

from authform.manifest import (
    Location,
    ManifestError,
    load_every_environment,
    load_manifest,
    manifest_json_schema,
)

from .conftest import Problems, Write

BASE = """\
version: 1
target: {provider: workos, api_key: "${env:BASE_KEY}"}
roles:
  - {slug: admin, name: Admin}
  - {slug: member, name: Member}
redirect_uris: [https://app.example.com/cb]
policy: {allow_delete: false}
"""
ENV = {"BASE_KEY": "sk_base", "STAGING_KEY": "sk_staging"}


def test_an_environment_section_replaces_the_top_level_one_whole(write: Write) -> None:
    write(
        "m.yaml",
        BASE,
        """\
        environments:
          staging:
            target: {provider: workos, api_key: "${env:STAGING_KEY}"}
            roles:
              - {slug: admin, name: Staging admin}
            policy: {allow_delete: true}
          production: {}
        """,
    )
    staging = load_manifest("m.yaml", env=ENV, environment="staging")
    manifest = staging.manifest
    assert staging.environment == "staging"
    assert staging.environments == ("production", "staging")
    assert manifest.target.api_key is not None
    assert manifest.target.api_key.get_secret_value() == "sk_staging"
    # Replaced whole: the top-level 'member' role is not merged in.
    assert [(r.slug, r.name) for r in manifest.roles or []] == [("admin", "Staging admin")]
    assert manifest.policy.allow_delete is True
    assert manifest.redirect_uris == ["https://app.example.com/cb"]  # not overridden: kept
    assert manifest.environments is None
    # Positions of a replaced section point into the environment.
    assert staging.position("roles", 0, "name") == Location("m.yaml", 12, 29)

    production = load_manifest("m.yaml", env=ENV, environment="production").manifest
    assert [r.slug for r in production.roles or []] == ["admin", "member"]
    assert production.policy.allow_delete is False


def test_a_replaced_sections_variables_are_not_needed(write: Write) -> None:
    write(
        "m.yaml",
        BASE,
        """\
        environments:
          staging:
            target: {provider: workos, api_key: "${env:STAGING_KEY}"}
        """,
    )
    # BASE_KEY is unset: the top-level target is replaced, so it is never read.
    loaded = load_manifest("m.yaml", env={"STAGING_KEY": "k"}, environment="staging")
    assert loaded.manifest.target.api_key is not None


def test_environments_merge_across_files_like_top_level_sections(write: Write) -> None:
    write(
        "m/00-target.yaml",
        BASE,
        "environments:\n  staging:\n    redirect_uris: [https://a.example.com/cb]\n",
    )
    write(
        "m/10-more.yaml",
        "environments:\n  staging:\n    redirect_uris: [https://b.example.com/cb]\n"
        "  qa:\n    policy: {allow_delete: true}\n",
    )
    staging = load_manifest("m", env=ENV, environment="staging")
    assert staging.manifest.redirect_uris == [
        "https://a.example.com/cb",
        "https://b.example.com/cb",
    ]
    assert staging.environments == ("qa", "staging")
    assert [one.environment for one in load_every_environment("m", env=ENV)] == ["qa", "staging"]


def test_an_environment_section_defined_twice_names_both_places(
    write: Write, problems: Problems
) -> None:
    write("m/a.yaml", BASE, "environments:\n  staging:\n    policy: {allow_delete: true}\n")
    write("m/b.yaml", "environments:\n  staging:\n    policy: {allow_delete: false}\n")
    with pytest.raises(ManifestError) as raised:
        load_manifest("m", env=ENV, environment="staging")
    assert [str(d) for d in raised.value.diagnostics] == [
        "m/b.yaml:3:5: environments.staging.policy: defined twice (first defined at m/a.yaml:10:5)"
    ]


def test_malformed_environments_are_reported_with_positions(write: Write) -> None:
    write(
        "m.yaml",
        BASE,
        """\
        environments:
          Staging: {}
          qa:
          preview: [roles]
          dev:
            version: 2
            rolez: []
            redirect_uris: https://dev.example.com/cb
        """,
    )
    with pytest.raises(ManifestError) as raised:
        load_every_environment("m.yaml", env=ENV)
    assert [str(d) for d in raised.value.diagnostics] == [
        "m.yaml:9:3: environments: invalid environment name 'Staging' (use lowercase letters, "
        "digits, '-' and '_', at most 48 characters)",
        "m.yaml:10:6: environments.qa: expected a mapping of the sections that differ in this "
        "environment, got null (write `qa: {}` for an environment where nothing differs)",
        "m.yaml:11:12: environments.preview: expected a mapping of the sections that differ in "
        "this environment, got a list (write `preview: {}` for an environment where nothing "
        "differs)",
        "m.yaml:13:5: environments.dev: unknown key 'version' (expected one of: cors_origins, "
        "drift, organizations, permissions, policy, redirect_uris, roles, social_connections, "
        "target, users, verify); did you mean 'permissions'?",
        "m.yaml:14:5: environments.dev: unknown key 'rolez' (expected one of: cors_origins, "
        "drift, organizations, permissions, policy, redirect_uris, roles, social_connections, "
        "target, users, verify); did you mean 'roles'?",
        "m.yaml:15:20: environments.dev.redirect_uris: expected a list, got "
        "'https://dev.example.com/cb'",
    ]


def test_environments_that_is_not_a_mapping(write: Write, problems: Problems) -> None:
    write("m.yaml", BASE, "environments: [staging, production]\n")
    assert problems("m.yaml", env=ENV) == [
        "m.yaml:8:15: environments: expected a mapping of environment names to the sections "
        "that differ there, got a list"
    ]


def test_under_emulate_an_environments_missing_credentials_are_fine(write: Write) -> None:
    write(
        "m.yaml",
        BASE,
        """\
        environments:
          staging:
            target: {provider: workos, api_key: "${env:STAGING_KEY}"}
            redirect_uris: ["${env:STAGING_URL}"]
        """,
    )
    with pytest.raises(ManifestError) as raised:
        load_manifest("m.yaml", env={}, emulate=True, environment="staging")
    # Only the target's variable may be missing; the redirect URI's is still an error.
    assert [str(d) for d in raised.value.diagnostics] == [
        "m.yaml:11:21: environments.staging.redirect_uris[0]: environment variable STAGING_URL "
        "is not set"
    ]


def test_an_example_with_environments_validates_against_the_json_schema() -> None:
    document = yaml.safe_load(
        BASE
        + "environments:\n"
        + "  staging:\n    target: {provider: workos, base_url: 'https://localhost:1'}\n"
        + "    roles: [{slug: admin, name: Admin}]\n"
        + "  production: {}\n"
    )
    validator = jsonschema.Draft202012Validator(manifest_json_schema())
    assert [e.message for e in validator.iter_errors(document)] == []
    document["environments"]["Bad Name"] = {}
    assert list(validator.iter_errors(document))

"""Renderings: masking, colour policy, Markdown and JSON shapes."""

from __future__ import annotations

import io
import json

from authform.engine.plan import Policy, plan_changes
from authform.providers.base import KindSupport, ProviderCapabilities
from authform.render.json_output import plan_to_json
from authform.render.markdown import MARKER, render_plan_markdown
from authform.render.text import render_plan, use_colour
from authform.resources import Kind, Resource

CAPS = ProviderCapabilities(
    "workos", {Kind.USER: KindSupport(), Kind.SOCIAL_CONNECTION: KindSupport(manual=True)}
)
HASH = "$2b$10$rCUC3m0NZNiOTcIgm15yout/fI5HqM0avbC9bxZ1cEP2lWBEfd1c2"


def sample_plan():
    user = Resource(
        Kind.USER,
        "user_1",
        {"email": "ada@example.com", "client_secret": "s3cr3t-value"},
        create_only={"password_hash": HASH, "password_hash_type": "bcrypt"},
    )
    social = Resource(Kind.SOCIAL_CONNECTION, "google", {"provider": "google", "client_id": "c1"})
    return plan_changes(
        [user, social],
        [],
        managed={Kind.USER, Kind.SOCIAL_CONNECTION},
        capabilities=CAPS,
        policy=Policy(),
        manual_instructions=lambda d, lv: ["Enable Google in the dashboard"],
    )


def test_secrets_and_hashes_never_appear_in_any_rendering():
    plan = sample_plan()
    outputs = [
        render_plan(plan),
        render_plan(plan, colour=True),
        render_plan_markdown(plan),
        json.dumps(plan_to_json(plan)),
    ]
    for text in outputs:
        assert HASH not in text and "s3cr3t-value" not in text
        assert "bcrypt hash (set)" in text
        assert "(sensitive)" in text


def test_text_plan_shows_actions_fields_and_manual_steps():
    text = render_plan(sample_plan())
    assert "  + user.user_1" in text
    assert '"ada@example.com"' in text
    assert "  ! social_connection.google" in text
    assert "1. Enable Google in the dashboard" in text
    assert text.rstrip().endswith(
        "Plan: 1 to create, 0 to update, 0 to replace, 0 to delete, 1 manual."
    )


def test_colour_only_on_a_tty_and_never_with_no_color(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_colour(Tty()) is True
    assert use_colour(io.StringIO()) is False
    monkeypatch.setenv("NO_COLOR", "1")
    assert use_colour(Tty()) is False
    assert "\x1b[" not in render_plan(sample_plan(), colour=False)


def test_markdown_has_marker_table_and_manual_section():
    md = render_plan_markdown(sample_plan())
    assert md.startswith(MARKER)
    assert "| ➕ create | `user.user_1` |" in md
    assert "#### Manual steps" in md


def test_json_plan_is_complete_and_stable():
    data = plan_to_json(sample_plan())
    assert data["summary"]["create"] == 1 and data["summary"]["manual"] == 1
    by_address = {c["address"]: c for c in data["changes"]}
    assert by_address["user.user_1"]["write_only"] == {"password_hash": "bcrypt hash (set)"}
    assert data == plan_to_json(sample_plan())
    # Fingerprints are the saved plan's (keyed); an unkeyed hash over the changes could be
    # matched against a guessed secret, so the rendering carries none.
    assert "plan_digest" not in data and "live_fingerprint" not in data

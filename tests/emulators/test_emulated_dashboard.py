"""The emulated dashboard's client and routes: what each provider's dashboard offers, and
that a refused click is an error that changes nothing."""

from __future__ import annotations

import httpx
import pytest

from authform.emulators import RunningEmulator
from authform.emulators.dashboard import DashboardError, DashboardStep, EmulatedDashboard


def social(emulator: RunningEmulator) -> list[dict]:
    response = httpx.get(
        f"{emulator.url}/_emulate/social_connections",
        headers={"Authorization": f"Bearer {emulator.api_key}"},
    )
    response.raise_for_status()
    body = response.json()
    return body["data"] if isinstance(body, dict) else body


def test_workos_dashboard_deletes_what_the_api_cannot(workos_emulator: RunningEmulator) -> None:
    headers = {"Authorization": f"Bearer {workos_emulator.api_key}"}
    with httpx.Client(base_url=workos_emulator.url, headers=headers) as client:
        client.post("/authorization/roles", json={"slug": "old", "name": "Old"}).raise_for_status()
        client.post(
            "/user_management/cors_origins", json={"origin": "https://old.example"}
        ).raise_for_status()
        workos_emulator.dashboard.perform(DashboardStep("role", "old", present=False))
        workos_emulator.dashboard.perform(
            DashboardStep("cors_origin", "https://old.example", present=False)
        )
        roles = [r["slug"] for r in client.get("/authorization/roles").json()["data"]]
        origins = client.get("/user_management/cors_origins").json()["data"]
    assert "old" not in roles and origins == []


@pytest.mark.parametrize(
    ("step", "message"),
    [
        (DashboardStep("role", "nope", present=False), r"role\.nope: .*Role not found"),
        (DashboardStep("role", "new", present=True), r"role\.new: roles are created through"),
        (
            DashboardStep("cors_origin", "https://x.example", present=False),
            r"CORS origin not found",
        ),
        (
            DashboardStep("redirect_uri", "https://x.example/cb", present=True),
            r"the workos dashboard has no setting for this",
        ),
        (
            DashboardStep("social_connection", "myspace", present=True, client_id="x"),
            r"social_connection\.myspace: the emulated dashboard refused",
        ),
    ],
)
def test_a_refused_click_is_an_error_and_changes_nothing(
    workos_emulator: RunningEmulator, step: DashboardStep, message: str
) -> None:
    with pytest.raises(DashboardError, match=message):
        workos_emulator.dashboard.perform(step)
    assert workos_emulator.writes() == [] and social(workos_emulator) == []


def test_the_dashboard_needs_the_emulators_key(workos_emulator: RunningEmulator) -> None:
    stranger = EmulatedDashboard("workos", workos_emulator.url, "sk_test_someone_else")
    step = DashboardStep("social_connection", "google", present=True, client_id="1234")
    with pytest.raises(DashboardError, match=r"refused: .*401"):
        stranger.perform(step)
    assert social(workos_emulator) == []


def test_scalekit_and_clerk_dashboards_offer_what_theirs_do(
    scalekit_emulator: RunningEmulator, clerk_emulator: RunningEmulator
) -> None:
    redirect = DashboardStep("redirect_uri", "https://app.example.com/cb", present=True)
    cors = DashboardStep("cors_origin", "https://app.example.com", present=True)
    assert scalekit_emulator.dashboard.can_do(redirect)
    assert not scalekit_emulator.dashboard.can_do(cors)  # Scalekit has no CORS setting
    assert not clerk_emulator.dashboard.can_do(redirect)  # Clerk's API does that
    scalekit_emulator.dashboard.perform(redirect)
    listed = httpx.get(
        f"{scalekit_emulator.url}/_emulate/redirect_uris",
        headers={"Authorization": f"Bearer {scalekit_emulator.api_key}"},
    ).json()["data"]
    assert [r["uri"] for r in listed] == ["https://app.example.com/cb"]
    google = DashboardStep("social_connection", "google", present=True, client_id="1234")
    clerk_emulator.dashboard.perform(google)
    assert [c["provider"] for c in social(clerk_emulator)] == ["google"]


def test_a_refused_step_is_reported_and_the_others_still_taken(
    workos_emulator: RunningEmulator,
) -> None:
    """One refused click (a role already gone) does not hide the clicks that were made."""
    import asyncio

    from authform.dashboard_steps import perform_manual_steps
    from authform.engine.plan import Action, Change, Plan
    from authform.resources import Kind, Resource

    google = Resource(Kind.SOCIAL_CONNECTION, "google", {"client_id": "1234"})
    gone = Resource(Kind.ROLE, "gone", {"slug": "gone", "name": "Gone"})
    changes = [
        Change(Action.MANUAL, Kind.ROLE, "gone", live=gone),
        Change(Action.MANUAL, Kind.SOCIAL_CONNECTION, "google", desired=google),
    ]
    plan = Plan("workos", [Kind.ROLE, Kind.SOCIAL_CONNECTION], changes, "fingerprint")
    outcome = asyncio.run(perform_manual_steps(plan, workos_emulator.dashboard, changes))
    assert [c.address for c in outcome.done] == ["social_connection.google"]
    [(change, message)] = outcome.failed
    assert change.address == "role.gone" and "Role not found" in message
    assert [c["provider"] for c in social(workos_emulator)] == ["google"]

"""Manual steps as data: the dashboard instructions a provider gives for what its API cannot
do, written as text templates that its ``manual_steps`` table fills in with the item.

A template names what it needs in braces: ``{key}`` (the item's key) and whatever the table
passes along (``{dashboard}``, the provider's dashboard URL); a social login's templates also
get ``{label}`` (``Google``), ``{name}`` (``google``) and ``{client_id}``. A step whose text
needs more than the item (a user's old and new email) stays a function in its provider.
"""

from __future__ import annotations

from dataclasses import dataclass

from authform.providers.api_provider import ManualSteps, Steps
from authform.resources import Resource
from authform.social import SOCIAL_PROVIDERS


def dashboard_steps(*templates: str, **fields: str) -> Steps:
    """The steps ``templates`` say, filled in with the item's ``key`` and ``fields``."""

    def steps(resource: Resource) -> list[str]:
        return [template.format(key=resource.key, **fields) for template in templates]

    return steps


@dataclass(frozen=True)
class SocialLoginSteps:
    """How a person sets up a social login in one provider's dashboard.

    The steps are the same on every provider, only where they happen differs: turn the
    login on where the dashboard keeps it (``enable``); give it the team's own OAuth client
    (``own_client`` says how the dashboard asks for it; the secret is pasted from the team's
    store and never printed); register the provider's callback with that OAuth app
    (``callback``: where to find it); and let ``verify`` confirm it (``confirm``: what verify
    checks). ``disable`` is the way back.
    """

    enable: str
    own_client: str
    callback: str
    confirm: str
    disable: str

    def add(self, desired: Resource, **fields: str) -> list[str]:
        social = SOCIAL_PROVIDERS[desired.key]
        client_id = str(desired.spec["client_id"])
        values = {"label": social.label, "name": social.name, "client_id": client_id, **fields}
        return [
            self.enable.format(**values),
            f"{self.own_client.format(**values)} and set the Client ID to {client_id}; paste "
            "the client secret from your secret store (it is not shown here).",
            f"{self.callback.format(**values)} to the authorized redirect URIs of the "
            f"{social.label} OAuth app whose client id is {client_id}.",
            f"Run `authform verify` to confirm: {self.confirm.format(**values)}.",
        ]

    def remove(self, live: Resource, **fields: str) -> list[str]:
        return [self.disable.format(label=SOCIAL_PROVIDERS[live.key].label, **fields)]

    def manual_steps(self, **fields: str) -> ManualSteps:
        """The row of a ``manual_steps`` table, for templates that need only ``fields``
        (fixed for the provider) besides the item."""
        return ManualSteps(
            add=lambda desired: self.add(desired, **fields),
            remove=lambda live: self.remove(live, **fields),
        )

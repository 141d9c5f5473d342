"""Social (OAuth) login providers: the names each identity provider uses for them, and where
each OAuth provider's own authorize endpoint lives.

Shared by the manifest (which names are valid), the providers (what to put in the authorize
URL when probing) and the emulators (where to redirect), so all three agree by construction.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SocialProvider:
    name: str  # the manifest's canonical, lower-case name
    label: str  # how dashboards and docs name it
    workos: str | None  # WorkOS `provider` value for /user_management/authorize
    oauth_authorize_url: str  # the OAuth provider's own authorize endpoint


SOCIAL_PROVIDERS: dict[str, SocialProvider] = {
    p.name: p
    for p in (
        SocialProvider(
            "google", "Google", "GoogleOAuth", "https://accounts.google.com/o/oauth2/v2/auth"
        ),
        SocialProvider(
            "github", "GitHub", "GitHubOAuth", "https://github.com/login/oauth/authorize"
        ),
        SocialProvider(
            "microsoft",
            "Microsoft",
            "MicrosoftOAuth",
            "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
        ),
        SocialProvider("apple", "Apple", "AppleOAuth", "https://appleid.apple.com/auth/authorize"),
        SocialProvider("gitlab", "GitLab", "GitLabOAuth", "https://gitlab.com/oauth/authorize"),
        SocialProvider(
            "linkedin",
            "LinkedIn",
            "LinkedInOAuth",
            "https://www.linkedin.com/oauth/v2/authorization",
        ),
        SocialProvider(
            "slack", "Slack", "SlackOAuth", "https://slack.com/openid/connect/authorize"
        ),
        SocialProvider(
            "bitbucket",
            "Bitbucket",
            "BitbucketOAuth",
            "https://bitbucket.org/site/oauth2/authorize",
        ),
    )
}

WORKOS_NAME_TO_SOCIAL: dict[str, SocialProvider] = {
    p.workos: p for p in SOCIAL_PROVIDERS.values() if p.workos
}

# Clerk names a social connection by its OAuth strategy: the Frontend API's environment lists
# them under ``user_settings.social`` by these keys (LinkedIn is its OpenID Connect variant).
CLERK_STRATEGIES: dict[str, str] = {
    "google": "oauth_google",
    "github": "oauth_github",
    "microsoft": "oauth_microsoft",
    "apple": "oauth_apple",
    "gitlab": "oauth_gitlab",
    "linkedin": "oauth_linkedin_oidc",
    "slack": "oauth_slack",
    "bitbucket": "oauth_bitbucket",
}

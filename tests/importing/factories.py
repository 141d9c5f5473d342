"""Small builders for source records, so each test states only what it is about."""

import bcrypt

from authform.sources import (
    PasswordDigest,
    SensitiveText,
    SourceEmail,
    SourceMembership,
    SourceOrganization,
    SourceUser,
)

# Cost 4 keeps hashing instant; the digest is real, so it is well-formed by construction.
BCRYPT_DIGEST = bcrypt.hashpw(b"s3cret-pass", bcrypt.gensalt(4)).decode()


def user(
    user_id: str = "user_1",
    *emails: str,
    verified: bool = True,
    primary: str | None = None,
    digest: str | None = None,
    hasher: str = "bcrypt",
    **fields,
) -> SourceUser:
    return SourceUser(
        id=user_id,
        origin=f"test:{user_id}",
        emails=tuple(SourceEmail(e, verified) for e in emails),
        primary_email=primary,
        password=PasswordDigest(hasher, SensitiveText(digest)) if digest is not None else None,
        **fields,
    )


def org(org_id: str = "org_1", name: str = "Org", **fields) -> SourceOrganization:
    return SourceOrganization(id=org_id, origin=f"test:{org_id}", name=name, **fields)


def member(user_id: str, org_id: str = "org_1", role: str = "org:member") -> SourceMembership:
    return SourceMembership(
        user_id=user_id, organization_id=org_id, role=role, origin=f"test:{user_id}@{org_id}"
    )

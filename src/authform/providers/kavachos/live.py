"""Read a KavachOS database into authform's canonical resources.

What authform manages is recognisable in the rows themselves, so no state file is needed:
users whose ``external_provider`` is ``clerk`` are keyed by ``external_id`` (their Clerk id);
organizations carry ``metadata.authform.key``. Anything else KavachOS holds (people who signed
up natively, organizations made in the app) is read as *unkeyed*: adopted by email or name
when the manifest names exactly one match, otherwise shown as a delete the policy blocks.

Role rows are per organization in KavachOS; a manifest role is present when every managed
organization holds it with the manifest's permissions, and the plan names the first
organization that does not.

Users and memberships are streamed (``Database.rows``: a server-side cursor on PostgreSQL),
each row joined in SQL to what it needs (a user's password row and OAuth links, a member's
user key), so nothing held grows with the number of users: their ids are read again when a
write first needs them (``user_ids``), and what an update needs of a row travels in its
resource.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import groupby, islice
from json.encoder import encode_basestring_ascii  # type: ignore[attr-defined]
from operator import itemgetter
from typing import Any

from authform.engine.index import canonical_json, canonical_texts
from authform.engine.live_rows import LiveRows, Observed
from authform.providers.ids import ProviderIds, remembering
from authform.providers.kavachos import statements as sql
from authform.providers.kavachos.codec import Codec
from authform.providers.kavachos.database import Database
from authform.providers.kavachos.desired import DesiredUser, DesiredUsers
from authform.providers.kavachos.schema import (
    EMAIL_ACCOUNTS,
    ORG_ROLES,
    ORGANIZATIONS,
    USERS,
    Encoding,
)
from authform.resources import (
    Kind,
    Resource,
    is_unkeyed,
    membership_key,
    normalize_spec,
    of_kind,
    unkeyed_key,
)

CLERK = "clerk"
_IN_CHUNK = 500  # values per ``IN (...)`` list: far below either database's limit
_USER_PAGE = 1_000  # users whose ids and desired facts are handled in one statement each
_MEMBER_PAGE = 5_000  # memberships handed to the index at once
AUTHFORM_METADATA = "authform"  # organization metadata key holding authform's own facts

# The roles ``kavach.org.create`` seeds in every organization (auth/organization.ts).
SEED_ROLES: Mapping[str, tuple[str, ...]] = {
    "owner": (
        "org:manage",
        "org:delete",
        "members:invite",
        "members:remove",
        "members:roles",
        "agents:create",
        "agents:revoke",
        "agents:manage",
        "roles:manage",
    ),
    "admin": (
        "members:invite",
        "members:remove",
        "agents:create",
        "agents:revoke",
        "agents:manage",
    ),
    "member": ("agents:create", "agents:manage"),
    "viewer": (),
}


@dataclass(frozen=True)
class OAuthRow:
    id: str
    user_id: str
    provider: str
    account_id: str


# A link by its natural key: (provider, provider_account_id).
Pair = tuple[str, str]


@dataclass
class LiveIndex:
    """What writes need of the rows read besides the ids (``ProviderIds``): all of it grows
    with the number of organizations, never of users."""

    slugs: dict[str, str] = field(default_factory=dict)  # slug → organization id
    # Organization id → key of the organizations authform manages (keyed ones), as the
    # read found them: what roles and memberships read after them need (``managed_org_ids``
    # of the ids remembered, without reading those back).
    managed: dict[str, str] = field(default_factory=dict)
    # (org, name) → id of role rows whose id is not the one authform derives (``writes``):
    # KavachOS's own seeds; authform's rows are found by their derived id.
    role_rows: dict[tuple[str, str], str] = field(default_factory=dict)
    # (org, user) → id of membership rows the read could not key (an unkeyed user's, which
    # a create must update rather than duplicate); keyed rows are live resources already.
    member_rows: dict[tuple[str, str], str] = field(default_factory=dict)


def _user_query(codec: Codec) -> str:
    """Each user with its password row's verification and its OAuth links, a row per link,
    the rows of one user together (ordered by id): one pass, no lookup per user."""
    account = (
        "e.user_id, e.email_verified"
        if codec.has_table(EMAIL_ACCOUNTS)
        else "NULL AS account_user, NULL AS account_verified"
    )
    join = (
        f"LEFT JOIN {EMAIL_ACCOUNTS} e ON e.user_id = u.id "
        if codec.has_table(EMAIL_ACCOUNTS)
        else ""
    )
    return (
        "SELECT u.id, u.email, u.name, u.external_id, u.external_provider, "
        f"{_as_text(codec, USERS, 'u.metadata')}, "
        f"u.email_verified, {account}, o.id, o.provider, o.provider_account_id "
        f"FROM kavach_users u {join}"
        "LEFT JOIN kavach_oauth_accounts o ON o.user_id = u.id ORDER BY u.id"
    )


def _as_text(codec: Codec, table: str, column: str) -> str:
    """A JSON column read as its text: a JSONB value comes back as text too, which
    ``Codec.json_value`` parses only when it is more than ``{}`` (psycopg would parse every
    row's)."""
    name = column.rpartition(".")[2]
    return f"{column}::text" if codec.encoding(table, name) is Encoding.JSONB else column


def read_users(db: Database, codec: Codec, desired: DesiredUsers) -> Iterator[LiveRows]:
    """Every user row, as a page of the index's live rows at a time (``LiveRows``: no
    ``Resource`` is built per user). What a later update needs of the row (the metadata
    keys the application keeps, whether it has a password row) travels in ``observed``.
    Each page's desired users are looked up in one statement per page rather than one per
    user. Their ids are not remembered here (``user_ids``)."""
    page: list[list[tuple[Any, ...]]] = []  # each user's rows (its id first in each)
    for row in db.rows(_user_query(codec)):
        if page and page[-1][0][0] == row[0]:  # another OAuth link of the same user
            page[-1].append(row)
            continue
        if len(page) >= _USER_PAGE:
            yield _user_page(page, codec, desired)
            page = []
        page.append([row])
    if page:
        yield _user_page(page, codec, desired)


def user_ids(db: Database) -> Iterator[tuple[str, str]]:
    """(key, KavachOS id) of every user, in the order ``read_users`` meets them: of a key
    two users hold, the later one's id is the one remembered last, as the index keeps the
    later one's row."""
    for user_id, external_id, external_provider in db.rows(
        "SELECT id, external_id, external_provider FROM kavach_users ORDER BY id"
    ):
        yield _user_key(user_id, external_id, external_provider)[0], user_id


def _user_page(page: list[list[tuple[Any, ...]]], codec: Codec, desired: DesiredUsers) -> LiveRows:
    """The live rows of a page of users, each given as its rows."""
    keyed = [_user_key(rows[0][0], rows[0][3], rows[0][4]) for rows in page]
    wanted = desired.spec_texts([key for key, _ in keyed])
    block = LiveRows(Kind.USER)
    add = block.add
    for rows, (key, is_keyed) in zip(page, keyed, strict=True):
        spec_json, observed = _user_facts(rows, is_keyed, wanted.get(key), codec)
        add(key, spec_json, rows[0][0], observed)
    return block


def _user_key(user_id: str, external_id: Any, external_provider: Any) -> tuple[str, bool]:
    """A user's resource key, and whether it is authform's (a Clerk id) or unkeyed."""
    if external_provider == CLERK and bool(external_id):
        return str(external_id), True
    return unkeyed_key(user_id), False


def _user_facts(
    rows: list[tuple[Any, ...]],
    keyed: bool,
    desired_spec: str | None,
    codec: Codec,
) -> tuple[str, dict[str, Any] | Observed]:
    """One user's spec, as canonical JSON, and observed facts from its rows (one per OAuth
    link, or one with none), read as its desired spec (``desired_spec``, canonical JSON)
    asks (``_names``, ``_oauth_spec``: which name is first, whether the image and links
    are compared).

    That spec is first taken to be the row's own, read plainly (its name split at its
    first space, the image and links compared when the spec names them): when the text so
    written is the desired one, the desired spec says just that, so it is the text reading
    the row by the decoded spec would write too, and no spec is decoded, nearly every user
    of a plan with few changes (100,000 users read: 0.70 -> 0.63 s CPU). Otherwise the spec
    is decoded and the row read by it."""
    _, email, name, _, _, metadata, verified, account_user, account_verified = rows[0][:9]
    meta = codec.json_value(metadata)
    has_account = account_user is not None
    email_verified = codec.bool_value(verified) and (
        codec.bool_value(account_verified) if has_account else True
    )
    observed: dict[str, Any] | Observed
    if meta:
        observed = {"unkeyed": not keyed, "metadata": meta}
        if has_account:
            observed["password_row"] = True
    else:
        observed = _OBSERVED_WITHOUT_METADATA[keyed, has_account]
    image_url = meta.get("image_url", "") if isinstance(meta, dict) else ""
    if desired_spec is None:
        want = None
    else:
        if rows[0][9] is None:  # no links: a user without any has one row (a LEFT JOIN)
            stored = name if isinstance(name, str) else ""
            first, _, last = stored.partition(" ")
            if (display_name(first, last) or "") == stored:
                plainly = _user_spec_json(
                    email,
                    email_verified,
                    first,
                    last,
                    image_url if '"image_url":' in desired_spec else None,
                    [] if '"oauth_accounts":' in desired_spec else None,
                )
                if plainly == desired_spec:
                    return plainly, observed
        want = DesiredUsers.user_of(desired_spec)
    links = {row[9]: (row[10], str(row[11])) for row in rows} if rows[0][9] is not None else None
    first, last = _names(name, want)
    image = image_url if want is None or want.has_image else None
    oauth = None
    if want is None or want.oauth_accounts is not None:
        oauth = _oauth_spec(links.values(), want) if links else []
    return _user_spec_json(email, email_verified, first, last, image, oauth), observed


# What a user's row says besides its spec when the application keeps no metadata in it
# (nearly every user): keyed or not, with a password row or not. Each made into its row's
# columns once (``Observed``), not pickled for every user.
_OBSERVED_WITHOUT_METADATA = {
    (keyed, password_row): Observed.of(
        {"unkeyed": not keyed, **({"password_row": True} if password_row else {})}
    )
    for keyed in (True, False)
    for password_row in (True, False)
}


def _user_spec_json(
    email: Any, verified: bool, first: str, last: str, image: Any, oauth: list[Any] | None
) -> str:
    """``canonical_json`` of a user's spec (``image`` and ``oauth`` left out when None),
    written field by field in its sorted order: the general encoder and the dict it
    encodes cost twice as much, for every user read. A value that is not text (an email
    column left NULL, an image URL that is a number) takes the general encoder."""
    if not (type(email) is type(first) is type(last) is str and type(image) in (str, type(None))):
        spec: dict[str, Any] = {
            "email": email,
            "email_verified": verified,
            "first_name": first,
            "last_name": last,
        }
        if image is not None:
            spec["image_url"] = image
        if oauth is not None:
            spec["oauth_accounts"] = oauth
        return canonical_json(spec)
    text = _text
    return (
        f'{{"email":{text(email)},"email_verified":{"true" if verified else "false"},'
        f'"first_name":{text(first)},'
        + ("" if image is None else f'"image_url":{text(image)},')
        + f'"last_name":{text(last)}'
        + ("" if oauth is None else f',"oauth_accounts":{canonical_json(oauth) if oauth else "[]"}')
        + "}"
    )


def oauth_rows(db: Database, pairs: Iterable[Pair]) -> dict[Pair, list[OAuthRow]]:
    """The link rows of ``pairs`` (every copy, whoever it belongs to): what the writes of a
    batch check before linking (the table has no unique constraint to do it)."""
    wanted = set(pairs)
    found: dict[Pair, list[OAuthRow]] = {}
    accounts = sorted({account for _, account in wanted})
    for start in range(0, len(accounts), _IN_CHUNK):
        chunk = accounts[start : start + _IN_CHUNK]
        marks = ", ".join("?" * len(chunk))
        for row_id, user_id, provider, account_id in db.fetch(
            "SELECT id, user_id, provider, provider_account_id FROM kavach_oauth_accounts "
            f"WHERE provider_account_id IN ({marks}) ORDER BY id",
            chunk,
        ):
            pair = (provider, str(account_id))
            if pair in wanted:
                found.setdefault(pair, []).append(OAuthRow(row_id, user_id, *pair))
    return found


def display_name(first: str, last: str) -> str | None:
    """KavachOS has one ``name`` column: the Clerk first and last name, joined (the read
    joins every user's desired pair to compare: no generator per call)."""
    first, last = first.strip(), last.strip()
    return (f"{first} {last}" if first and last else first or last) or None


def _names(name: Any, want: DesiredUser | None) -> tuple[str, str]:
    """First and last name as the manifest would say them: the desired pair when the joined
    name is what the row holds, else the whole name as the first name (it was changed)."""
    stored = name if isinstance(name, str) else ""
    if want is not None:
        first, last = want.first_name, want.last_name
        if (display_name(first, last) or "") == stored:
            return first, last
    return stored, ""


# A text as JSON, as ``canonical_json`` writes it (non-ASCII escaped).
_text = encode_basestring_ascii


def _oauth_spec(links: Iterable[Pair], want: DesiredUser | None) -> list[dict[str, str]]:
    """The user's links (provider, account id) that the source names (each row, so a
    duplicate shows as a change). Links the user added in KavachOS after the import are
    theirs, not drift."""
    links = list(links)
    if not links:
        return []  # nearly every user of a large import: no set to build
    named = {
        (link["provider"], link["provider_account_id"])
        for link in ((want.oauth_accounts or []) if want is not None else [])
    }
    return [
        {"provider": provider, "provider_account_id": account}
        for provider, account in sorted(links)
        if (provider, account) in named
    ]


def read_organizations(
    db: Database, codec: Codec, ids: ProviderIds, index: LiveIndex
) -> Iterator[Resource]:
    """Every organization, streamed as users are; their ids are remembered as they are read
    (what the roles and memberships read after them need)."""
    org_ids = ids[Kind.ORGANIZATION]
    for stale in list(org_ids):  # an organization gone since an earlier read is no target
        del org_ids[stale]
    rows = db.rows(
        f"SELECT id, name, slug, {_as_text(codec, ORGANIZATIONS, 'metadata')} "
        "FROM kavach_organizations"
    )
    held: dict[str, str] = {}  # key → id, as the store keeps them (of a key read twice, the last)
    # The ids a few hundred to a statement, not one each.
    with remembering(ids, Kind.ORGANIZATION) as remember:
        for org_id, name, slug, metadata in rows:
            index.slugs[slug] = org_id
            meta = codec.json_value(metadata)
            meta = dict(meta) if isinstance(meta, dict) else {}
            own = meta.pop(AUTHFORM_METADATA, None)
            key = own.get("key") if isinstance(own, dict) else None
            keyed = isinstance(key, str) and bool(key)
            resource_key = str(key) if keyed else unkeyed_key(org_id, "authform key")
            remember(resource_key, org_id)
            held[resource_key] = org_id
            domains = own.get("domains", []) if isinstance(own, dict) else []
            yield Resource(
                Kind.ORGANIZATION,
                resource_key,
                normalize_spec({"name": name, "domains": domains, "metadata": meta}),
                provider_id=org_id,
                observed={"unkeyed": not keyed, "slug": slug},
            )
    index.managed = _managed(held.items())


def managed_org_ids(ids: ProviderIds) -> dict[str, str]:
    """Organization id → key, for the organizations authform manages (keyed ones)."""
    return _managed(ids.keyed(Kind.ORGANIZATION).items())


def _managed(ids: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Organization id → key of the keyed ones among (key, id) ``ids``, in key order."""
    return {org_id: key for key, org_id in sorted(ids) if not is_unkeyed(key)}


@dataclass
class _RoleTally:
    """One role name across the managed organizations, tallied as their rows stream by."""

    organizations: int = 0  # managed organizations holding it
    first: tuple[str, list[str]] | None = None  # the lowest organization id's permissions
    differing: tuple[str, list[str]] | None = None  # the lowest id's that differ from desired

    def add(self, org_id: str, permissions: list[str], expected: list[str] | None) -> None:
        self.organizations += 1
        if self.first is None or org_id < self.first[0]:
            self.first = (org_id, permissions)
        if permissions != expected and (self.differing is None or org_id < self.differing[0]):
            self.differing = (org_id, permissions)


def read_roles(
    db: Database, codec: Codec, index: LiveIndex, desired: Mapping[str, Resource]
) -> list[Resource]:
    """The roles, as role rows of every managed organization (``index.managed``, read
    first) tell them. The rows stream, an organization's together, into one tally per role
    name: nothing held grows with the number of organizations but the ids of role rows
    authform did not write (``index``)."""
    managed = index.managed
    expected = {name: list(role.spec["permissions"]) for name, role in desired.items()}
    tallies: dict[str, _RoleTally] = {}
    rows = db.rows(
        f"SELECT org_id, id, name, {_as_text(codec, ORG_ROLES, 'permissions')} "
        "FROM kavach_org_roles ORDER BY org_id"
    )
    # Most organizations hold the same few permission lists: each text decoded once.
    decoded: dict[str, list[str]] = {}

    def granted_of(permissions: Any) -> list[str]:
        if type(permissions) is not str:
            return _granted(codec, permissions)
        granted = decoded.get(permissions)
        if granted is None:
            granted = decoded[permissions] = _granted(codec, permissions)
        return granted

    for org_id, org_rows in groupby(rows, key=itemgetter(0)):
        held: dict[str, list[str]] = {}  # name → permissions (of a name's last row)
        for _, role_id, name, permissions in org_rows:
            if role_id != sql.derived_id("rol", org_id, name):
                index.role_rows[(org_id, name)] = role_id
            if org_id in managed:
                held[name] = list(granted_of(permissions))
        for name, granted in held.items():
            tallies.setdefault(name, _RoleTally()).add(org_id, granted, expected.get(name))
    # KavachOS's seeds are its own, beside the manifest's roles: never listed (so never a
    # delete) when the manifest declares roles; listed when it declares none, since then
    # roles are read only to check that every role a membership names exists, and every
    # organization has them (KavachOS's org.create and authform's write them).
    names = set(desired) | {n for n in tallies if n not in SEED_ROLES}
    if not desired:
        names |= set(SEED_ROLES)
    live = []
    for name in sorted(names):
        want = desired.get(name)
        tally = tallies.get(name, _RoleTally())
        if want is None:
            first = tally.first
            permissions = first[1] if first is not None else sorted(SEED_ROLES.get(name, ()))
        elif tally.differing is not None:
            permissions = tally.differing[1]
        else:
            permissions = expected[name]
        spec: dict[str, Any] = {
            "slug": name,
            # KavachOS role rows hold a name and permissions only (a plan caveat says so).
            "name": want.spec["name"] if want is not None else name,
            "description": want.spec["description"] if want is not None else "",
            "permissions": permissions,
        }
        missing = len(managed) - tally.organizations
        if missing and want is not None:
            spec["missing_in_organizations"] = missing
        observed = {"probe": f"role rows in all {len(managed)} managed organizations"}
        if tally.differing is not None and want is not None:
            observed["probe"] = f"organization {managed[tally.differing[0]]} differs"
        live.append(Resource(Kind.ROLE, name, normalize_spec(spec), observed=observed))
    return live


def _granted(codec: Codec, permissions: Any) -> list[str]:
    """A role row's permissions column as the sorted list of its strings."""
    value = codec.json_value(permissions)
    return sorted(str(p) for p in value) if isinstance(value, list) else []


def read_memberships(db: Database, index: LiveIndex) -> Iterator[LiveRows]:
    """Memberships of managed organizations (``index.managed``, read first), a page of the
    index's live rows at a time; each row comes with its user's key fields (a join), so no
    user id → key map is held."""
    managed = index.managed
    rows = db.rows(
        "SELECT m.id, m.org_id, m.user_id, m.role, u.external_id, u.external_provider "
        "FROM kavach_org_members m LEFT JOIN kavach_users u ON u.id = m.user_id"
    )
    while page := list(islice(rows, _MEMBER_PAGE)):
        # The page's managed memberships as columns, their specs then made in one pass.
        members: list[str] = []
        organizations: list[str] = []
        roles: list[Any] = []
        users: list[str] = []
        for member_id, org_id, user_id, role, external_id, external_provider in page:
            org_key = managed.get(org_id)
            if external_provider == CLERK and external_id:
                user_key = external_id
                if org_key is None:
                    index.member_rows[(org_id, user_id)] = member_id
                    continue
            else:
                index.member_rows[(org_id, user_id)] = member_id
                if org_key is None:
                    continue
                user_key = unkeyed_key(user_id)
            members.append(member_id)
            organizations.append(org_key)
            roles.append(role)
            users.append(user_key)
        block = LiveRows(Kind.MEMBERSHIP)
        block.add_plain(
            map(membership_key, users, organizations),
            _member_specs(organizations, roles, users),
            members,
        )
        yield block


# A membership's spec as canonical JSON, from its three texts in this order.
_member_spec_texts = canonical_texts("organization", "role", "user")


def _member_specs(organizations: list[str], roles: list[Any], users: list[str]) -> list[str]:
    """The specs of a page of memberships, made from their columns in C (200,000 rows:
    0.26 s, against 0.47 s a call each); a page with a role that is not text (NULL) one by
    one, that row's as the general encoder writes it."""
    try:
        return list(_member_spec_texts.of_columns(organizations, roles, users))
    except TypeError:
        return [
            _member_spec(organization, role, user)
            for organization, role, user in zip(organizations, roles, users, strict=True)
        ]


def _member_spec(organization: str, role: Any, user: str) -> str:
    try:
        return _member_spec_texts(organization, role, user)
    except TypeError:  # a role that is not text (NULL): as the general encoder writes it
        return canonical_json({"organization": organization, "role": role, "user": user})


def present_as_desired(kind: Kind, desired: Iterable[Resource], why: str) -> list[Resource]:
    """Kinds KavachOS has no rows for but that need none (a permission is any string a role
    row lists): present by definition; ``why`` is what verify reports."""
    return [Resource(kind, r.key, r.spec, observed={"probe": why}) for r in of_kind(desired, kind)]

"""What every user-import source yields, whatever its file format or API.

Records are as close to the source as possible (addresses as written, names untouched); all
decisions (which email, whether a password imports) belong to ``authform.importing``, so a new
source only has to fill these in. Each record carries ``origin`` ("users.csv:row 12") so every
message about it can point at the place to fix.

Secrets ride in ``SensitiveText`` values: they behave as plain strings for the code that must
send them, but their ``repr`` is masked, so a record, a ``Resource`` holding a password hash, a
failing test's assertion output or a debug log never shows one.

Records are never changed once made (a screening or an importer makes new objects), but they
are not ``frozen`` dataclasses: a frozen dataclass sets each field through
``object.__setattr__``, which made building a record cost three times as much, and an import
builds three million of them. ``slots`` keeps them small and closed to stray attributes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal


class SensitiveText(str):
    """A secret string (TOTP secret, password digest) whose ``repr`` never shows the value.

    A ``str`` subclass rather than a wrapper so JSON encoding and HTTP clients send the real
    value without unwrapping; only ``repr`` (used by dataclass reprs, logs, pytest) is masked.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "(sensitive)"


class RecordOrigin(str):
    """Where a record was read, as the text messages show (``users.csv:row 12``) and as the
    parts a plan's provenance needs: the file as the manifest named it and the record's row
    (the CSV line, or the JSON array's item number), or the Clerk API record's id.

    A ``str`` subclass so every message, report and ``Skipped`` entry that already prints
    ``origin`` keeps working unchanged; only the importer asks for the parts.
    """

    # Class-level defaults: an origin sets only the parts it has.
    file: str | None = None
    row: int | None = None
    api_id: str | None = None

    def __new__(
        cls,
        text: str,
        *,
        file: str | None = None,
        row: int | None = None,
        api_id: str | None = None,
    ) -> RecordOrigin:
        origin = super().__new__(cls, text)
        origin.file = file
        origin.row = row
        origin.api_id = api_id
        return origin


def row_origin(text: str, file: str, row: int, _new: Any = str.__new__) -> RecordOrigin:
    """``RecordOrigin(text, file=file, row=row)``, made in half the time (a reader makes one
    per record, millions per import): no keyword arguments, and the part it lacks
    (``api_id``) left at its class default."""
    origin: RecordOrigin = _new(RecordOrigin, text)
    origin.file = file
    origin.row = row
    return origin


class BcryptHash(SensitiveText):
    """A bcrypt digest ready to send as ``password_hash``; shown as ``bcrypt hash (set)``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "bcrypt hash (set)"


@dataclass(slots=True)
class PasswordDigest:
    """A password digest as exported, with the hasher the source named ("" when unnamed)."""

    hasher: str
    value: SensitiveText = field(repr=False)

    def __repr__(self) -> str:
        return f"{_hasher_label(self.hasher)} hash (set)"

    def __str__(self) -> str:
        return repr(self)


def _hasher_label(hasher: str) -> str:
    # The hasher cell could hold anything after a column shift; only show it if it looks like
    # a hasher name, never a digest.
    ok = 0 < len(hasher) <= 40 and all(c.isalnum() or c in "_-" for c in hasher)
    return hasher if ok else "password"


@dataclass(slots=True)
class SourceEmail:
    """One email address of a user, as written in the source."""

    address: str
    verified: bool


@dataclass(slots=True)
class ExternalAccount:
    """One OAuth link of a user, as the source names it (Clerk's ``oauth_github``, the
    provider's own account id); targets that store OAuth links translate the name."""

    provider: str
    provider_user_id: str


@dataclass(slots=True)
class SourceUser:
    """One user of the source.

    ``primary_email`` is the address the source marks as primary, or ``None`` when the format
    has no such flag (the older JSON export): the importer must then guess and say so.
    ``sms_second_factor`` and ``totp_enabled`` only say whether the user must re-enroll a
    second factor; ``totp_secret`` is kept (masked) for targets able to import it.
    ``image_url`` and ``external_accounts`` come only from the JSON and API sources (the CSV
    export has neither).
    """

    id: str
    origin: str
    first_name: str = ""
    last_name: str = ""
    username: str = ""
    emails: tuple[SourceEmail, ...] = ()
    primary_email: str | None = None
    phone_numbers: tuple[str, ...] = ()
    sms_second_factor: bool = False
    totp_enabled: bool = False
    totp_secret: SensitiveText | None = None
    password: PasswordDigest | None = None
    image_url: str = ""
    external_accounts: tuple[ExternalAccount, ...] = ()


@dataclass(slots=True)
class SourceOrganization:
    """One organization of the source, with its public metadata as exported."""

    id: str
    origin: str
    name: str
    slug: str | None = None
    public_metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class SourceMembership:
    """One user's membership of one organization, with the source's role key."""

    user_id: str
    organization_id: str
    role: str
    origin: str
    id: str = ""


@dataclass(slots=True)
class CleanMemberships:
    """A block of memberships read at once, each of the API's plain shape and already
    cleared by the screen (``screening.memberships_clear``): the fast lane of an export's
    commonest record, kept as columns (nothing is built per membership). Item ``i`` is the
    array's item ``first_row + i`` of ``file`` (the path as the manifest named it).

    ``records`` reads the same memberships one by one, exactly as ``read_clerk_memberships``
    yields them, for an importer that cannot take the block whole (a membership to report).
    """

    file: str
    first_row: int
    user_ids: list[str]
    organization_ids: list[str]
    roles: list[str]
    records: Callable[[], Iterator[SourceMembership | MalformedRecord]]

    def __len__(self) -> int:
        return len(self.user_ids)


@dataclass(slots=True)
class CleanUsers:
    """A block of users of a CSV export read at once, each of the plainest shape and already
    cleared by the screen (``screening.users_clear``): one address, verified and primary, no
    phone number and no TOTP secret; the fast lane of an export's users, kept as columns.
    User ``i`` was read at line ``lines[i]`` of ``file`` (the path as the manifest named it;
    ``name`` is its file name, as origins show it). ``digests`` are as exported, "" where
    there is none, and ``hashers`` the hasher cells beside them.

    Whether each user imports as is (the address usable, the digest one the target takes)
    is the importer's decision; ``records`` reads the same users one by one, exactly as
    ``read_clerk_csv`` yields them, for when it is not.
    """

    file: str
    name: str
    lines: list[int]
    ids: tuple[str, ...]
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    emails: tuple[str, ...]
    digests: tuple[str, ...]
    hashers: tuple[str, ...]
    records: Callable[[], Iterator[SourceUser | MalformedRecord]]

    def __len__(self) -> int:
        return len(self.ids)


RecordKind = Literal["user", "organization", "membership"]


@dataclass(slots=True)
class MalformedRecord:
    """A record the source could not read (wrong column count, broken JSON, no id).

    Yielded in the stream in place of the record so it is reported in source order and the
    rest of the export still imports. ``source_id`` is set when the id could still be read,
    so memberships of that user or organization can say why they are skipped.
    ``problem`` never quotes the record's content: it may hold a password digest.
    """

    kind: RecordKind
    origin: str
    problem: str
    source_id: str | None = None


UserRecord = SourceUser | MalformedRecord
# What a users source may yield: records, and blocks of clean ones.
UserEntry = SourceUser | MalformedRecord | CleanUsers
OrganizationRecord = SourceOrganization | MalformedRecord
MembershipRecord = SourceMembership | MalformedRecord
# What a membership source may yield: records, and blocks of clean ones.
MembershipEntry = SourceMembership | MalformedRecord | CleanMemberships

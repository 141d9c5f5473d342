"""Turning source users into desired ``user`` resources, or into reported skips.

The key is the Clerk user id: it becomes the target's ``external_id``, so re-runs and
interrupted runs find the same user again, and it is what memberships refer to. Email
conflicts (two users whose chosen addresses differ only in case) are found here, over the whole
export, before anything is planned: a target would accept the first create and fail the second
half-way through an apply, and which of the two "wins" would depend on ordering. Both are
reported and neither imported, because only a person can tell which account is the real one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from authform.engine.codec import imported_state, state_fields
from authform.engine.index import DesiredWriter, IndexedResources, StateIndex, canonical_json
from authform.engine.spool import PickleSpool, dataclass_spool
from authform.importing.emails import EmailPolicy, choose_email, email_problem
from authform.importing.passwords import classify_password
from authform.importing.report import (
    ImportCounts,
    ReenrollNotice,
    SkipCode,
    Skipped,
    skipped,
    skipped_malformed,
)
from authform.importing.runs import runs
from authform.importing.scratch import DiskMap, DiskSet, ImportScratch
from authform.importing.user_blocks import plain_users
from authform.provenance import record_origin
from authform.resources import Kind
from authform.sources.records import (
    CleanUsers,
    MalformedRecord,
    SourceUser,
    UserEntry,
    UserRecord,
)
from authform.sources.screening import screened


@dataclass
class UserImport:
    """Users to import and everything reported about them, in source order. The users are
    written to the state index as they are judged, the reports spooled to disk and the id
    sets kept in the import's scratch database: a million users' worth of any of them is
    more memory than the whole plan may take."""

    resources: IndexedResources
    skipped: PickleSpool
    reenroll: PickleSpool
    skipped_ids: DiskMap  # id -> code of its skip

    def imported_among(self, ids: Iterable[str]) -> set[str]:
        """Which of ``ids`` are imported users (one lookup for a whole batch)."""
        return self.resources.keys_among(Kind.USER, ids)

    def imported_count(self, ids: Collection[str]) -> int:
        """How many of ``ids`` are imported users (one lookup for a whole batch)."""
        return self.resources.keys_count_among(Kind.USER, ids)


@dataclass(slots=True)
class _Candidate:
    """One source user after the per-user rules, before export-wide conflicts are known.
    Its user goes to the index at once (``seq`` is its row there; ``spec`` and ``state``
    are the row's parts, see ``codec.imported_state``); what is spooled for the second pass
    is only what reports and counts need."""

    source_id: str
    origin: str
    spec: dict[str, object] | None = None
    state: tuple[Any, ...] | None = None
    notes: list[Skipped] = field(default_factory=list)
    reenroll: ReenrollNotice | None = None
    seq: int | None = None
    with_password: bool = False


# How many records are judged together: the export-wide questions (is this id a repeat?)
# are asked of the scratch database once per batch.
RECORD_BATCH = 2_000


def import_users(
    records: Iterable[UserEntry],
    *,
    email_policy: EmailPolicy,
    counts: ImportCounts,
    writer: DesiredWriter,
    target: str = "workos",
    scratch: ImportScratch | None = None,
) -> UserImport:
    """Apply the user rules to every record, write the users to import through ``writer``
    and fill the user figures of ``counts``; ``target`` decides which password hashers
    import.

    Two passes: the first applies the per-user rules, writes each user and notes its chosen
    email; the second, over a spool of what the reports need, once the emails every user
    chose are known, settles the conflicts (removing those users again) and collects the
    reports. ``scratch`` holds the export-wide facts (a fresh one when not given; it must
    outlive the result, whose id map lives in it)."""
    scratch = scratch or ImportScratch()
    candidates = PickleSpool("authform-candidates-", _candidate_state, _candidate_from)
    seen_ids = scratch.set("user ids seen")
    emails: list[tuple[str, int, str]] = []
    append, user = writer.append_state, Kind.USER
    ordinal = 0  # each record's place in the export, counted through blocks too
    for run in runs(records, CleanUsers, RECORD_BATCH):
        if isinstance(run, CleanUsers):
            if _write_block(run, ordinal, target, seen_ids, writer, candidates, scratch):
                counts.users_total += len(run)
                ordinal += len(run)
                continue
            batch: Sequence[UserRecord] = list(screened(run.records()))
        else:
            batch = run
        first_time = iter(
            seen_ids.add_all([r.id for r in batch if not isinstance(r, MalformedRecord)])
        )
        counts.users_total += len(batch)
        for place, record in enumerate(batch, ordinal):
            if isinstance(record, MalformedRecord):
                candidates.append(_malformed(record))
                continue
            if not next(first_time):
                candidates.append(_duplicate(record))
                continue
            candidate = _convert(record, email_policy, counts, target)
            if candidate.spec is not None and candidate.state is not None:
                candidate.seq = append(
                    user, candidate.source_id, canonical_json(candidate.spec), candidate.state
                )
                emails.append((str(candidate.spec["email"]), place, candidate.source_id))
            candidates.append(candidate)
        ordinal += len(batch)
        scratch.add_emails(emails)
        emails = []
    writer.close()
    conflicts: dict[int, tuple[str, list[tuple[int, str]]]] = {}
    for email, holders in scratch.shared_emails():
        for ordinal, _ in holders:
            conflicts[ordinal] = (email, holders)
    result = UserImport(
        writer.view(),
        dataclass_spool(Skipped, "authform-skips-"),
        dataclass_spool(ReenrollNotice, "authform-reenroll-"),
        scratch.map("users skipped"),
    )
    conflicted_rows: list[int] = []
    ordinal = 0
    for state in candidates.states():
        if len(state) == _BLOCK_STATE_LENGTH:
            ordinal = _settle_block(
                state, ordinal, conflicts, result, counts, conflicted_rows, writer.index
            )
            continue
        place, ordinal = ordinal, ordinal + 1
        if (
            state[_SEQ] is not None
            and not state[_NOTES]
            and state[_REENROLL] is None
            and place not in conflicts
        ):
            # The common user: imported, nothing to report; only counted (not decoded).
            _count_imported(counts, with_password=state[_WITH_PASSWORD])
            continue
        candidate = _candidate_from(state)
        if place in conflicts:
            if candidate.seq is not None:
                conflicted_rows.append(candidate.seq)
            candidate = _conflict(candidate, place, *conflicts[place])
        _collect(candidate, result, counts)
    writer.index.remove_desired(conflicted_rows)
    candidates.close()
    return result


# Where a spooled candidate's state (``_candidate_state``) keeps what the second pass tests.
_SEQ, _WITH_PASSWORD, _NOTES, _REENROLL = 2, 3, 4, 5


def _write_block(
    block: CleanUsers,
    ordinal: int,
    target: str,
    seen_ids: DiskSet,
    writer: DesiredWriter,
    candidates: PickleSpool,
    scratch: ImportScratch,
) -> bool:
    """Write the block's users (the first at ``ordinal`` in the export) when they all
    import with nothing to report (``user_blocks.plain_users``) and no id is a repeat: the
    same rows, bytes and chosen addresses the exact path writes, and one entry in the
    candidates' spool for the whole block (``_block_state``). False, with nothing written
    or noted, when they do not."""
    plain = plain_users(block, target)
    if plain is None:
        return False
    ids = plain.keys
    if not seen_ids.claim_if_all_new([(user_id, None) for user_id in ids]):
        return False
    first_seq = writer.next
    writer.extend_rows(Kind.USER, ids, plain.specs_json, plain.states, plain.with_password)
    scratch.add_emails(
        list(zip(plain.emails, range(ordinal, ordinal + len(ids)), ids, strict=True))
    )
    candidates.extend_stored([_block_state(block, first_seq, plain.with_password)])
    return True


def _block_state(block: CleanUsers, first_seq: int, with_password: list[bool]) -> tuple[Any, ...]:
    """A written block's entry in the candidates' spool: its origins' file name, its rows
    in the index, how many users and how many with a password. Small, whatever the block's
    size: the rare user the second pass must settle is read back from the index."""
    return (block.name, first_seq, len(block), sum(with_password), None, None, None)


# A block's entry is told from a candidate's (``_candidate_state``) by its length.
_BLOCK_STATE_LENGTH = 7
# What settling a written user needs of its stored state.
_id_secrets_origin = state_fields("key", "create_only", "origin")


def _settle_block(
    state: tuple[Any, ...],
    ordinal: int,
    conflicts: dict[int, tuple[str, list[tuple[int, str]]]],
    result: UserImport,
    counts: ImportCounts,
    conflicted_rows: list[int],
    index: StateIndex,
) -> int:
    """The second pass over a written block (its first user at ``ordinal``): its users are
    counted, and any whose address another user also chose is settled as the exact path
    settles it (read back from its row in ``index``). Returns the ordinal after the block."""
    name, first_seq, count, passwords, _, _, _ = state
    end = ordinal + count
    clashing = [place for place in range(ordinal, end) if place in conflicts] if conflicts else []
    counts.users_imported += count - len(clashing)
    counts.users_with_password += passwords
    counts.users_without_password += count - passwords
    for place in clashing:
        seq = first_seq + place - ordinal
        (user_state,) = index.desired_states((seq, seq + 1))
        user_id, create_only, origin = _id_secrets_origin(user_state)
        with_password = bool(create_only)
        # Counted as imported above: the conflict takes it back out.
        if with_password:
            counts.users_with_password -= 1
        else:
            counts.users_without_password -= 1
        candidate = _Candidate(
            user_id, f"{name}:row {origin['row']}", seq=seq, with_password=with_password
        )
        conflicted_rows.append(seq)
        _collect(_conflict(candidate, place, *conflicts[place]), result, counts)
    return end


def _candidate_state(candidate: _Candidate) -> tuple[Any, ...]:
    # The origin as plain text: what the reports need of it, and a ``RecordOrigin`` (a str
    # with attributes) pickles through copyreg, several times slower than the rest together.
    return (
        candidate.source_id,
        str(candidate.origin),
        candidate.seq,
        candidate.with_password,
        [_fields_of(note) for note in candidate.notes],
        None if candidate.reenroll is None else _fields_of(candidate.reenroll),
    )


def _fields_of(item: Skipped | ReenrollNotice) -> tuple[Any, ...]:
    """A flat dataclass's field values (``dataclasses.astuple`` deep-copies: slower)."""
    return tuple(getattr(item, f.name) for f in dataclasses.fields(item))


def _candidate_from(state: tuple[Any, ...]) -> _Candidate:
    source_id, origin, seq, with_password, notes, reenroll = state
    return _Candidate(
        source_id,
        origin,
        notes=[Skipped(*note) for note in notes],
        reenroll=None if reenroll is None else ReenrollNotice(*reenroll),
        seq=seq,
        with_password=with_password,
    )


def _convert(
    user: SourceUser, policy: EmailPolicy, counts: ImportCounts, target: str
) -> _Candidate:
    choice = choose_email(user, policy)
    counts.users_with_several_emails += int(len(choice.addresses) > 1)
    counts.users_primary_unknown += int(choice.guessed)
    if not choice.addresses:
        if user.phone_numbers:
            return _skip(
                user,
                SkipCode.PHONE_ONLY,
                "phone-only user: no email address, and the target identifies users by email",
            )
        return _skip(user, SkipCode.NO_EMAIL, "user has no email address")
    if choice.chosen is None:
        listed = ", ".join(a.email for a in choice.addresses)
        return _skip(
            user,
            SkipCode.MULTIPLE_EMAILS_SKIPPED,
            f"user has {len(choice.addresses)} email addresses ({listed}) and the email policy "
            "is skip-multi; import it by hand once one address is chosen",
        )
    email = choice.chosen.email
    if target == "kavachos":
        # KavachOS's email sign-in matches the stored address exactly, without lower-casing
        # what the user types; browsers and people type addresses in lower case.
        email = email.lower()
    problem = email_problem(email)
    if problem is not None:
        return _skip(user, SkipCode.INVALID_EMAIL, f"email address {email!r} is invalid: {problem}")

    candidate = _Candidate(user.id, user.origin)
    if choice.guessed:
        others = ", ".join(a.email for a in choice.addresses[1:])
        candidate.notes.append(
            _caveat(
                user,
                SkipCode.PRIMARY_EMAIL_UNKNOWN,
                f"{len(choice.addresses)} email addresses and the export does not say which is "
                f"primary: the first, {email}, is used (not imported: {others})",
            )
        )
    password = classify_password(user.password, target)
    if password.caveat_code is not None:
        candidate.notes.append(_caveat(user, password.caveat_code, password.caveat))
    spec: dict[str, object] = {
        "email": email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email_verified": choice.chosen.verified,
    }
    if target == "kavachos":
        spec.update(kavachos_profile(user))
    candidate.spec = spec
    candidate.state = imported_state(
        Kind.USER, user.id, spec, password.create_only, record_origin(user.origin)
    )
    candidate.with_password = bool(password.create_only)
    candidate.reenroll = _reenroll_notice(user, email)
    return candidate


def kavachos_profile(user: SourceUser) -> dict[str, object]:
    """What a KavachOS target also stores: the profile image (it goes to metadata) and the
    OAuth links, by KavachOS's provider ids (Clerk's ``oauth_github`` is ``github``)."""
    links = {
        (_kavachos_oauth_provider(a.provider), a.provider_user_id) for a in user.external_accounts
    }
    return {
        "image_url": user.image_url,
        "oauth_accounts": [
            {"provider": provider, "provider_account_id": account}
            for provider, account in sorted(links)
        ],
    }


def _kavachos_oauth_provider(clerk_provider: str) -> str:
    return clerk_provider.removeprefix("oauth_").lower()


def _reenroll_notice(user: SourceUser, email: str) -> ReenrollNotice | None:
    factors: list[str] = []
    lost: list[str] = []
    if user.totp_enabled:
        factors.append("totp")
        lost.append("TOTP authenticator secrets are not carried over")
    if user.sms_second_factor:
        factors.append("sms")
        lost.append("SMS second factors are not carried over")
    if not factors:
        return None
    reason = "; ".join(lost) + ": the user must enroll a second factor again after migrating"
    return ReenrollNotice(user.id, email, tuple(factors), reason)


def _conflict(
    me: _Candidate, ordinal: int, email: str, holders: list[tuple[int, str]]
) -> _Candidate:
    others = ", ".join(source_id for other, source_id in holders if other != ordinal)
    reason = (
        f"email {email} is also the chosen address of {others} (addresses are compared "
        "ignoring case); neither is imported until the source tells them apart"
    )
    return _Candidate(
        me.source_id,
        me.origin,
        notes=[skipped("user", me.source_id, me.origin, SkipCode.EMAIL_CONFLICT, reason)],
    )


def _collect(candidate: _Candidate, result: UserImport, counts: ImportCounts) -> None:
    result.skipped.extend(candidate.notes)
    if candidate.seq is None:
        if candidate.source_id:
            result.skipped_ids.setdefault(candidate.source_id, candidate.notes[0].code)
        counts.users_skipped += 1
        return
    _count_imported(counts, with_password=candidate.with_password)
    if candidate.reenroll is not None:
        result.reenroll.append(candidate.reenroll)
        counts.users_to_reenroll += 1


def _count_imported(counts: ImportCounts, *, with_password: bool) -> None:
    counts.users_imported += 1
    if with_password:
        counts.users_with_password += 1
    else:
        counts.users_without_password += 1


def _skip(user: SourceUser, code: SkipCode, reason: str) -> _Candidate:
    return _Candidate(
        user.id, user.origin, notes=[skipped("user", user.id, user.origin, code, reason)]
    )


def _caveat(user: SourceUser, code: SkipCode, reason: str) -> Skipped:
    return skipped("user", user.id, user.origin, code, reason, imported=True)


def _malformed(record: MalformedRecord) -> _Candidate:
    return _Candidate(record.source_id or "", record.origin, notes=[skipped_malformed(record)])


def _duplicate(user: SourceUser) -> _Candidate:
    # Not recorded in skipped_ids: the first record with this id is the one that imports.
    reason = "the same user id appears earlier in the export; only the first record is used"
    return _Candidate(
        "",
        user.origin,
        notes=[skipped("user", user.id, user.origin, SkipCode.DUPLICATE_USER, reason)],
    )

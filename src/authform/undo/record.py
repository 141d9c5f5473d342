"""What an apply journal records, shared by the writer and the reader.

A journal is JSON Lines, one object per line, each sealed in a chain (see ``JournalSealer``):

- ``header``: which target the apply wrote to, when, and the seal's salt and key check;
- ``change``: one per write change of the plan, before the first write: the before-image of
  the live item (kind, key, spec, provider id) and the spec the apply was to write;
- ``outcome``: one per change whose outcome is known, the moment it is ("applied",
  "failed", "not attempted", "not reached", or "left to a person": the provider found the
  write is a person's to make, and wrote nothing);
- ``end``: how the apply ended. A journal without it is from an apply that was killed.

No secret is ever written: a sensitive field or a registered secret is replaced by a
fingerprint (see ``masked``), a write-once value (a password digest) by its fingerprint only.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from authform.emulated_tenant import emulator_state_file
from authform.engine.batches import LEFT_TO_PERSON
from authform.redaction import redact
from authform.resources import SENSITIVE_FIELDS, Kind, Resource
from authform.saved_plan.evidence import seal_credential
from authform.saved_plan.seal import TAG_PREFIX, Sealer, as_json, canonical
from authform.workflow import Session

JOURNAL_FORMAT = "authform apply journal"
JOURNAL_VERSION = 1
JOURNAL_PREFIX = "journal-"
JOURNAL_SUFFIX = ".jsonl"

APPLIED = "applied"
FAILED = "failed"
NOT_ATTEMPTED = "not attempted"
NOT_REACHED = "not reached"
OUTCOMES = (APPLIED, FAILED, NOT_ATTEMPTED, NOT_REACHED, LEFT_TO_PERSON)
# The outcomes of writes that wrote nothing: undo has nothing to put back for them.
NOTHING_WRITTEN = (FAILED, NOT_ATTEMPTED, LEFT_TO_PERSON)

# A masked value reads "(sensitive sha256:0123456789ab)": enough to tell two values apart,
# never enough to recover one (a fixed domain prefix keeps it from matching any other hash).
FINGERPRINT_DOMAIN = b"authform journal fingerprint\x00"
SENSITIVE_MARK = "(sensitive sha256:"


def fingerprint(value: Any) -> str:
    digest = hashlib.sha256(FINGERPRINT_DOMAIN + canonical(value)).hexdigest()[:12]
    return f"{SENSITIVE_MARK}{digest})"


def masked(value: Any, name: str = "") -> Any:
    """``value`` (a spec) as the journal holds it: sensitive fields fingerprinted, every
    string passed through the redactor, so a secret the run registered never lands here."""
    if name in SENSITIVE_FIELDS and value is not None:
        return fingerprint(value)
    if isinstance(value, Mapping):
        return {str(k): masked(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [masked(v) for v in value]
    if isinstance(value, str):
        return redact(value)
    return value


def has_masked_value(value: Any) -> bool:
    """Whether a journal spec holds a value it could not record (a secret's fingerprint)."""
    if isinstance(value, Mapping):
        return any(has_masked_value(v) for v in value.values())
    if isinstance(value, list):
        return any(has_masked_value(v) for v in value)
    return isinstance(value, str) and (value.startswith(SENSITIVE_MARK) or "(sensitive)" in value)


def before_image(resource: Resource) -> dict[str, Any]:
    return {
        "kind": resource.kind.value,
        "key": resource.key,
        "spec": as_json(masked(resource.spec)),
        "provider_id": resource.provider_id,
    }


def resource_of(image: Mapping[str, Any]) -> Resource:
    """A before-image back as a Resource (``provider_id`` kept for reference only)."""
    return Resource(
        Kind(image["kind"]), image["key"], dict(image["spec"]), provider_id=image["provider_id"]
    )


def target_identity(session: Session) -> dict[str, Any]:
    """Which tenant a command talks to, with no credential in it: the API key may be rotated
    between an apply and its undo, the rest may not change."""
    target = session.loaded.manifest.target
    if session.emulate:
        state = emulator_state_file(
            session.manifest_path or session.loaded.files[0], target.provider, session.environment
        )
        return {
            "emulated": target.provider,
            "environment": session.environment,
            "state": str(state.resolve()),
        }
    identity: dict[str, Any] = {
        "provider": target.provider,
        "environment": session.environment,
        "base_url": str(target.base_url) if target.base_url else None,
        "client_id": target.client_id,
    }
    # KavachOS's database (a provider's own setting: a plug-in's target has no such field).
    database_url = target.provider_settings().get("database_url")
    if database_url is not None:
        identity["database"] = _without_password(database_url.get_secret_value())
    return identity


def describe_target(identity: Mapping[str, Any]) -> str:
    if "emulated" in identity:
        where = f"the emulated {identity['emulated']} tenant {identity['state']}"
    else:
        parts = [identity.get("base_url"), identity.get("database")]
        shown = ", ".join(str(p) for p in parts if p)
        client = f", client {identity['client_id']}" if identity.get("client_id") else ""
        where = f"{identity['provider']} ({shown or 'default API'}{client})"
    if identity.get("environment"):
        where += f", environment {identity['environment']}"
    return where


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    user = f"{parts.username}@" if parts.username else ""
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit(parts._replace(netloc=f"{user}{host}{port}"))


class JournalSealer:
    """Seals each line over the one before it, with the target's credential (never written):
    an edited, reordered or spliced line breaks the chain at that line, and a journal cannot
    be forged by someone who can edit the file (a CI artifact) but lacks the target's key."""

    def __init__(self, salt: bytes, session: Session) -> None:
        self._sealer = Sealer(salt, seal_credential(session, emulate=session.emulate))
        self.salt = salt
        self.previous = ""
        # Every line's seal is the tag of "journal-line": keyed and labelled once.
        self._line_mac = self._sealer.labelled("journal-line")

    @property
    def key_check(self) -> str:
        return self._sealer.tag("journal-key-check", None)

    def seal(self, entry: Mapping[str, Any]) -> str:
        body = {k: v for k, v in entry.items() if k != "seal"}
        tag = self._sealer.tag("journal-line", [self.previous, body])
        self.previous = tag
        return tag

    def seal_encoded(self, body: bytes) -> str:
        """``seal`` of an entry given in its ``canonical`` form (``body``, without a seal):
        the canonical form of ``[previous, body]`` is spelt out around it, so the body is
        encoded once for both the seal and the line (see ``sealed_line``)."""
        mac = self._line_mac.copy()
        mac.update(b'["' + self.previous.encode() + b'",' + body + b"]")
        tag = self.previous = TAG_PREFIX + mac.hexdigest()
        return tag

    def sealed_change_lines(self, bodies: Iterable[bytes]) -> Iterator[str]:
        """``sealed_canonical_line(body[:-1], "change")`` of each of ``bodies`` (a change
        entry's canonical form and its line break), in order: the journal's start seals
        one per write of the plan, so the loop is spelt out."""
        line_mac, prefix = self._line_mac, TAG_PREFIX
        tail = _type_tail("change") + "\n"
        cut = -len(tail)
        previous = self.previous.encode()
        try:
            for body in bodies:
                mac = line_mac.copy()
                mac.update(b'["' + previous + b'",' + body[:-1] + b"]")
                tag = prefix + mac.hexdigest()
                previous = tag.encode()
                text = body.decode()
                if not text.endswith(tail):
                    raise AssertionError(f"not a journal change entry: ...{text[-40:]}")
                yield f'{text[:cut]},"seal":"{tag}"{tail}'
        finally:
            self.previous = previous.decode()

    def sealed_line(self, entry: Mapping[str, Any]) -> str:
        """The journal line of ``entry`` (which has no seal yet), sealed.

        A journal writes hundreds of thousands of change and outcome lines, so their JSON is
        encoded once (``sealed_canonical_line``) when sorted keys put the seal just before
        the ``type``, i.e. every other key sorts before "seal". Any other entry (the header)
        is encoded twice, as ``seal`` and ``encode_line`` do."""
        others = [k for k in entry if k != "type"]
        if "type" not in entry or not others or max(others) >= "seal":
            line = dict(entry)
            line["seal"] = self.seal(entry)
            return encode_line(line)
        return self.sealed_canonical_line(canonical(entry), entry["type"])

    def sealed_canonical_line(self, body: bytes, entry_type: str) -> str:
        """The sealed line of an entry given in its canonical form, whose keys other than
        ``type`` (``entry_type``) all sort before "seal": the seal is spliced in before the
        type, where ``encode_line`` of the entry with its seal puts it."""
        tag = self.seal_encoded(body)
        text = body.decode()
        tail = _type_tail(entry_type)
        if not text.endswith(tail):
            raise AssertionError(f"not a journal entry of type {entry_type}: ...{text[-40:]}")
        return f'{text[: -len(tail)]},"seal":"{tag}"{tail}\n'

    def sealed_outcome_line(self, address: str, outcome: str) -> str:
        """``sealed_canonical_line`` of the outcome entry (``outcome_body``), spelt out: a
        journal writes one per change, and its keys are always these three."""
        return self.sealed_outcome_lines([address], outcome)[0]

    def sealed_outcome_lines(self, addresses: Iterable[str], outcome: str) -> list[str]:
        """``sealed_outcome_line`` of each of ``addresses``, in order, all with one outcome
        (a batch of writes that all went through)."""
        line_mac, prefix, text = self._line_mac, TAG_PREFIX, _json_text
        middle = f',"outcome":{text(outcome)}'
        body_tail = (middle + ',"type":"outcome"}]').encode()
        previous = self.previous.encode()
        lines = []
        for address in addresses:
            head = '{"address":' + text(address)
            mac = line_mac.copy()
            mac.update(b'["' + previous + b'",' + head.encode() + body_tail)
            tag = prefix + mac.hexdigest()
            previous = tag.encode()
            lines.append(f'{head}{middle},"seal":"{tag}","type":"outcome"}}\n')
        self.previous = previous.decode()
        return lines


@functools.cache
def _type_tail(entry_type: str) -> str:
    """How a canonical entry of ``entry_type`` ends: its last key, ``type``."""
    return ',"type":' + json.dumps(entry_type, ensure_ascii=False) + "}"


def outcome_body(address: str, outcome: str) -> bytes:
    """The canonical form (``seal.canonical``) of an outcome entry, spelt out: a journal
    writes one per change, and its three keys are always these."""
    return (
        f'{{"address":{_json_text(address)},"outcome":{_json_text(outcome)},"type":"outcome"}}'
    ).encode()


# A string as ``seal.canonical`` writes it (``ensure_ascii=False``).
_json_text = json.encoder.encode_basestring  # type: ignore[attr-defined]


def encode_line(entry: Mapping[str, Any]) -> str:
    return json.dumps(entry, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"

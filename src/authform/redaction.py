"""One redactor for every output: secrets and password hashes never leave the process.

An API that rejects a request often echoes what it was sent ("invalid client_secret
'abc…'"), and that text then travels on to stderr, verify output, JUnit files and
``skipped.csv``. Rather than trust each of those places to know which values are secret, every
secret value authform is given is registered here, once, as it arrives: the manifest's secret
fields (``api_key``, ``client_secret``, canary ``password``..., whether written literally or
through ``${env:VAR}``), and environment variables whose name says they hold a credential.
Every output sink then passes its text through ``redact``, and ``ProviderError`` applies it
when it is raised, so a message is clean before anyone prints it.

The registry is process-wide: the CLI clears it when a command starts (a process normally runs
one command; test suites run many, and one test's canary password must not blank out another
test's output), and from then on a secret seen once stays redacted, which is the safe
direction to err in.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

from pydantic import BaseModel, SecretStr

SENSITIVE = "(sensitive)"
PASSWORD_HASH = "(password hash)"

# Password-hash shapes an API might echo back in an error about the value it rejected.
_HASH_PATTERNS = re.compile(
    r"\$2[abxy]?\$\d{2}\$[./A-Za-z0-9]{20,}"  # bcrypt
    r"|\$argon2(?:id|i|d)\$[^\s\"']+"  # argon2
    r"|pbkdf2_sha\d+\$\d+\$[^\s\"']+"  # Django pbkdf2
)

# Environment variable names that hold credentials: WORKOS_API_KEY, CLERK_SECRET_KEY,
# SCALEKIT_CLIENT_SECRET, CANARY_PASSWORD, GITHUB_TOKEN... (a whole ``_``-separated word, so
# KEYBOARD or PWD, the working directory, are not taken for one).
_SECRET_ENV_NAME = re.compile(
    r"(?:^|_)(?:KEY|APIKEY|SECRET|TOKEN|PASSWORD|PASSWD|PASSPHRASE|CREDENTIALS?)(?:_|$)",
    re.IGNORECASE,
)

# Shorter values are not redacted: replacing every "abc" in a message would make it
# unreadable and protect nothing (no real credential is that short). Values taken from the
# environment on the strength of their name alone need to look like credentials.
MIN_SECRET_LENGTH = 4
MIN_ENV_SECRET_LENGTH = 8


class Redactor:
    """Replaces every registered secret, as written and in the encodings an API echoes it
    in (JSON-escaped, URL-encoded), and every password-hash shape."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def add(self, value: str | None, *, min_length: int = MIN_SECRET_LENGTH) -> None:
        if not value or len(value) < min_length or value in self._secrets:
            return
        with self._lock:
            self._secrets.add(value)
            self._pattern = None

    def clear(self) -> None:
        """Forget every secret: a new command (in one process, such as a test run, that runs
        several) starts from what it is given itself."""
        with self._lock:
            self._secrets.clear()
            self._pattern = None

    def add_environment(self, env: Mapping[str, str] | None = None) -> None:
        """Every variable whose name says it holds a credential."""
        for name, value in (os.environ if env is None else env).items():
            if _SECRET_ENV_NAME.search(name):
                self.add(value, min_length=MIN_ENV_SECRET_LENGTH)

    def add_model(self, model: Any) -> None:
        """Every ``SecretStr`` anywhere in a pydantic model (a manifest): a secret field added
        later is covered without anyone remembering to list it here."""
        for value in _secret_values(model):
            self.add(value)

    def __call__(self, text: str) -> str:
        pattern = self._compiled()
        if pattern is not None:
            text = pattern.sub(SENSITIVE, text)
        return _HASH_PATTERNS.sub(PASSWORD_HASH, text)

    def finds(self, text: str) -> bool:
        """Whether ``self(text)`` would change ``text`` (a search, not a rewrite: for what
        checks many texts of which nearly none hold a secret)."""
        pattern = self._compiled()
        return (pattern is not None and pattern.search(text) is not None) or (
            _HASH_PATTERNS.search(text) is not None
        )

    def _compiled(self) -> re.Pattern[str] | None:
        pattern = self._pattern
        if pattern is None and self._secrets:
            with self._lock:
                variants = {v for s in self._secrets for v in _encodings(s) if v}
                # Longest first, so a secret containing another is replaced whole.
                ordered = sorted(variants, key=len, reverse=True)
                pattern = self._pattern = re.compile("|".join(map(re.escape, ordered)))
        return pattern


def _encodings(secret: str) -> Iterable[str]:
    yield secret
    yield json.dumps(secret, ensure_ascii=False)[1:-1]
    yield json.dumps(secret)[1:-1]
    yield quote(secret, safe="")
    yield quote_plus(secret, safe="")


def _secret_values(value: Any) -> Iterable[str]:
    if isinstance(value, SecretStr):
        yield value.get_secret_value()
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _secret_values(getattr(value, name, None))
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _secret_values(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _secret_values(item)


SECRETS = Redactor()


def redact(text: str) -> str:
    """``text`` with every known secret and password hash replaced: call it on anything
    bound for a person, a log or a file."""
    return SECRETS(text)


def is_password_hash(value: str) -> bool:
    """Whether ``value`` is, whole, of a password-hash shape ``redact`` labels as one."""
    return _HASH_PATTERNS.fullmatch(value) is not None


def register_secret(value: str | None) -> None:
    SECRETS.add(value)

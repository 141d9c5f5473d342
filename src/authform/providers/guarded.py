"""Every provider failure is a ``ProviderError`` that names the request it came from.

Provider modules read answers the way the API documents them (``created["id"]``,
``page["data"]``). An answer that breaks the documentation (a create answered without an
``id``, a list where an object belongs, a string for a number) then raises a KeyError or
TypeError deep in a provider, which would end a command with a traceback, halfway through an
apply. Rather than guard every lookup in every provider, the provider is wrapped once: any
exception but ``ProviderError`` from one of its calls becomes a ``ProviderError`` naming the
last request that call made and what was wrong with its answer. The engine and the commands
then handle it like any other API failure (that change fails; the others go on).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from authform.providers.base import ProbeResult, Provider, ProviderError, Write
from authform.providers.exchange import LAST_EXCHANGE, answer_error
from authform.resources import Kind, Resource

if TYPE_CHECKING:
    from authform.engine.live_rows import LiveRows

T = TypeVar("T")


def _name(resource: Resource) -> str:
    return f"{resource.kind.value}.{resource.key}"


def unexpected_answer(exc: Exception, action: str) -> ProviderError:
    """``exc`` raised while ``action`` read an answer, as a ProviderError naming the request."""
    if isinstance(exc, KeyError):
        what = f"the answer has no {exc.args[0]!r} field" if exc.args else "a field is missing"
    elif isinstance(exc, TypeError | AttributeError | IndexError | ValueError):
        what = f"the answer has an unexpected shape ({type(exc).__name__}: {exc})"
    else:
        what = f"{type(exc).__name__}: {exc}"
    return answer_error(what, action)


class GuardedProvider:
    """A ``Provider`` whose calls raise nothing but ``ProviderError`` (and cancellation).

    Attributes the protocol does not name (``http``, ``ids``) pass through to the wrapped
    provider, for benchmarks and tests that read its counters.
    """

    def __init__(self, inner: Provider) -> None:
        self.inner = inner
        self.capabilities = inner.capabilities

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def read(self, kinds: Iterable[Kind], desired: Sequence[Resource]) -> list[Resource]:
        return await self._guard("reading the live state", self.inner.read(kinds, desired))

    async def read_stream(
        self, kinds: Iterable[Kind], desired: Iterable[Resource]
    ) -> AsyncIterator[Resource | LiveRows]:
        """The inner provider's ``read_stream`` (or its ``read``), guarded like ``read``."""
        LAST_EXCHANGE.set(None)
        try:
            stream = getattr(self.inner, "read_stream", None)
            if stream is None:
                for resource in await self.inner.read(kinds, desired):  # type: ignore[arg-type]
                    yield resource
                return
            async for resource in stream(kinds, desired):
                yield resource
        except ProviderError:
            raise
        except Exception as exc:
            raise unexpected_answer(exc, "reading the live state") from None

    async def create(self, desired: Resource) -> Resource:
        return await self._guard(f"creating {_name(desired)}", self.inner.create(desired))

    async def update(self, live: Resource, desired: Resource) -> Resource:
        return await self._guard(f"updating {_name(desired)}", self.inner.update(live, desired))

    async def delete(self, live: Resource) -> None:
        await self._guard(f"deleting {_name(live)}", self.inner.delete(live))

    @property
    def write_batch(self) -> Callable[[Sequence[Write]], Awaitable[list[ProviderError | None]]]:
        """The provider's optional bulk path (``BatchWriter``), guarded; absent (an
        AttributeError, so ``getattr(..., None)`` is None) when the provider has none."""
        inner = self.inner.write_batch  # type: ignore[attr-defined]

        async def guarded(writes: Sequence[Write]) -> list[ProviderError | None]:
            action = f"writing a batch of {len(writes)} change(s)"
            return await self._guard(action, inner(writes))

        return guarded

    async def authenticate(self, email: str, password: str) -> ProbeResult:
        return await self._guard("signing a canary in", self.inner.authenticate(email, password))

    @staticmethod
    async def _guard(action: str, call: Awaitable[T]) -> T:
        LAST_EXCHANGE.set(None)  # an answer of an earlier call is not this call's
        try:
            return await call
        except ProviderError:
            raise
        except Exception as exc:
            raise unexpected_answer(exc, action) from None

    def manual_instructions(self, desired: Resource | None, live: Resource | None) -> list[str]:
        return self.inner.manual_instructions(desired, live)

    def id_mapping(self) -> Mapping[str, Mapping[str, str]]:
        return self.inner.id_mapping()

    def plan_caveats(self, desired: Sequence[Resource]) -> list[str]:
        return self.inner.plan_caveats(desired)

    async def aclose(self) -> None:
        await self.inner.aclose()

"""Safety thresholds, in the manner of octoDNS: a plan that would update or delete a large
share of an existing kind is refused unless the operator passes ``--force``.

A typo in a manifest (a renamed key, a file left out of a folder) looks exactly like "delete
everything"; the threshold turns that into a refusal instead of an outage.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Protocol

from authform.resources import Kind


class _CountableChange(Protocol):
    @property
    def kind(self) -> Kind: ...
    @property
    def counts_as(self) -> str | None: ...


def threshold_refusals(
    changes: Iterable[_CountableChange],
    live_counts: Mapping[Kind, int],
    *,
    max_delete_percent: float,
    max_update_percent: float,
    threshold_min_existing: int,
) -> list[str]:
    """One message per kind and action whose share of existing items passes the limit."""
    counts: Counter[tuple[Kind, str]] = Counter()
    for change in changes:
        label = change.counts_as
        if label is not None:
            counts[(change.kind, label)] += 1
    return threshold_refusals_from_counts(
        counts,
        live_counts,
        max_delete_percent=max_delete_percent,
        max_update_percent=max_update_percent,
        threshold_min_existing=threshold_min_existing,
    )


def threshold_refusals_from_counts(
    counts: Mapping[tuple[Kind, str], int],
    live_counts: Mapping[Kind, int],
    *,
    max_delete_percent: float,
    max_update_percent: float,
    threshold_min_existing: int,
) -> list[str]:
    """``threshold_refusals`` from the count of changes per (kind, ``counts_as``), which a
    streamed plan keeps as it is written."""
    refusals: list[str] = []
    for kind, existing in live_counts.items():
        if existing < threshold_min_existing:
            continue
        for label, limit in (("delete", max_delete_percent), ("update", max_update_percent)):
            count = counts.get((kind, label), 0)
            share = 100.0 * count / existing
            if share > limit:
                refusals.append(
                    f"{kind.plural}: would {label} {count} of {existing} existing "
                    f"({share:.0f}% > {limit:g}% allowed by policy.max_{label}_percent); "
                    "re-run with --force if this is intended"
                )
    return refusals

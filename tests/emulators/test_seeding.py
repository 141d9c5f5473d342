"""The shared seed loader: sections applied in declared order, unknown sections and wrong
container types refused before any write, and an emulator's refusal turned into a message
that names the section and the item."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from authform.emulators.base import ApiError
from authform.emulators.seeding import SeedSection, apply_seed, load_seed
from authform.emulators.server import create_app


class RecordingBackend:
    """Stands in for an emulator backend: records what each section created."""

    def __init__(self) -> None:
        self.created: list[tuple[str, Any]] = []


def record(section: str) -> SeedSection:
    def apply_item(backend: RecordingBackend, item: Any) -> None:
        backend.created.append((section, item))

    return SeedSection(section, apply_item)


def refuse_bad(backend: RecordingBackend, item: Any) -> None:
    if item == "bad":
        raise ApiError(422, {"message": "Validation failed", "code": "invalid_request"})
    backend.created.append(("widgets", item))


def test_sections_apply_in_declared_order_not_seed_order() -> None:
    backend = RecordingBackend()
    sections = [record("roles"), SeedSection("social", record("social").apply_item, dict)]
    apply_seed(backend, {"social": {"google": "id-1"}, "roles": ["admin", "member"]}, sections)
    assert backend.created == [
        ("roles", "admin"),
        ("roles", "member"),
        ("social", ("google", "id-1")),
    ]


def test_missing_and_empty_sections_are_skipped() -> None:
    backend = RecordingBackend()
    apply_seed(backend, {"roles": None}, [record("roles"), record("users")])
    assert backend.created == []


def test_unknown_sections_are_refused_before_any_write() -> None:
    backend = RecordingBackend()
    with pytest.raises(ValueError, match=r"^unknown seed sections: gadgets, widgets$"):
        apply_seed(backend, {"roles": ["a"], "widgets": [], "gadgets": []}, [record("roles")])
    assert backend.created == []


@pytest.mark.parametrize(
    ("container", "value", "message"),
    [
        (list, {"a": 1}, "seed section 'things' must be a list"),
        (dict, ["a"], "seed section 'things' must be a mapping"),
    ],
)
def test_a_section_of_the_wrong_container_type_is_refused_before_any_write(
    container: type, value: Any, message: str
) -> None:
    backend = RecordingBackend()
    sections = [record("roles"), SeedSection("things", record("things").apply_item, container)]
    with pytest.raises(ValueError, match=f"^{message}$"):
        apply_seed(backend, {"roles": ["a"], "things": value}, sections)
    assert backend.created == []


def test_an_api_refusal_names_the_section_item_and_body() -> None:
    backend = RecordingBackend()
    with pytest.raises(ValueError) as caught:
        apply_seed(backend, {"widgets": ["ok", "bad"]}, [SeedSection("widgets", refuse_bad)])
    assert str(caught.value) == (
        'seed widgets item 2: {"message": "Validation failed", "code": "invalid_request"}'
    )
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert backend.created == [("widgets", "ok")]


def test_a_refusal_reads_the_same_on_every_run_without_the_trace_id() -> None:
    """Clerk puts a random ``clerk_trace_id`` on every error body; a seed message that a
    person reads says where and what, and is the same each time the seed fails."""
    seed = {"organizations": [{"name": "Acme", "slug": "Bad Slug!"}]}
    messages = []
    for _ in range(2):
        with pytest.raises(ValueError) as caught:
            create_app("clerk", seed=seed)
        messages.append(str(caught.value))
    assert messages[0] == messages[1]
    assert messages[0].startswith("seed organizations item 1: ") and "slug" in messages[0]
    assert "trace" not in messages[0]


def test_a_database_constraint_names_the_section_and_item() -> None:
    def duplicate(backend: RecordingBackend, item: Any) -> None:
        raise sqlite3.IntegrityError("UNIQUE constraint failed: users.external_id")

    with pytest.raises(ValueError, match=r"^seed users item 1: UNIQUE constraint failed"):
        apply_seed(RecordingBackend(), {"users": [{}]}, [SeedSection("users", duplicate)])


def test_a_value_error_from_an_item_passes_through_unchanged() -> None:
    def refuse(backend: RecordingBackend, item: Any) -> None:
        raise ValueError("seed user ada@x.io: no organization 'acme'")

    with pytest.raises(ValueError, match=r"^seed user ada@x.io: no organization 'acme'$"):
        apply_seed(RecordingBackend(), {"users": [{}]}, [SeedSection("users", refuse)])


def test_load_seed_reads_yaml_and_json_and_refuses_a_non_mapping(tmp_path: Path) -> None:
    yaml_seed = tmp_path / "seed.yaml"
    yaml_seed.write_text("roles:\n  - {slug: admin}\n", encoding="utf-8")
    json_seed = tmp_path / "seed.json"
    json_seed.write_text('{"roles": [{"slug": "admin"}]}', encoding="utf-8")
    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    listed = tmp_path / "list.yaml"
    listed.write_text("- a\n", encoding="utf-8")
    assert load_seed(yaml_seed) == load_seed(json_seed) == {"roles": [{"slug": "admin"}]}
    assert load_seed(empty) == {}
    with pytest.raises(ValueError, match=r"list\.yaml: a seed file must be a mapping$"):
        load_seed(listed)

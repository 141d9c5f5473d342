"""Reading an export file enlarges the collector's first generation (``collector.collected_rarely``)
for the parse alone: the thresholds in force before are back afterwards, whether the parse
ends well or the source is refused, and the Clerk API source keeps them throughout."""

import gc
from pathlib import Path

import pytest

from authform.engine.index import StateIndex
from authform.importing.source import FILE_PARSE_FIRST_GENERATION, load_import_set
from authform.manifest.models import Users
from authform.sources.errors import SourceError
from authform.sources.synthetic import write_synthetic_export


def _users(folder: Path) -> Users:
    return Users.model_validate(
        {
            "source": {
                "kind": "clerk-csv",
                "path": str(folder / "users.csv"),
                "organizations": str(folder / "organizations.json"),
                "memberships": str(folder / "memberships.json"),
            },
            "role_map": {"org:admin": "admin", "org:member": "member"},
        }
    )


@pytest.fixture
def thresholds():
    before = gc.get_threshold()
    gc.set_threshold(700, 11, 12)
    yield (700, 11, 12)
    gc.set_threshold(*before)


def test_the_thresholds_are_restored_after_a_parse(tmp_path: Path, thresholds):
    write_synthetic_export(tmp_path, users=30, organizations=3, memberships_per_user=2)
    index = StateIndex()
    try:
        result = load_import_set(_users(tmp_path), "workos", index)
        assert result.counts.users_imported == 30
        assert result.counts.memberships == 60
    finally:
        index.close()
    assert gc.get_threshold() == thresholds


def test_the_thresholds_are_restored_when_the_source_is_refused(tmp_path: Path, thresholds):
    (tmp_path / "users.csv").write_text("not,a,clerk,header\n")
    index = StateIndex()
    try:
        with pytest.raises(SourceError, match="not a Clerk Dashboard users CSV"):
            load_import_set(_users(tmp_path), "workos", index)
    finally:
        index.close()
    assert gc.get_threshold() == thresholds


def test_the_parse_runs_with_the_enlarged_first_generation_and_its_readers_too(
    tmp_path: Path, thresholds, monkeypatch
):
    from authform.importing import source

    during: list[tuple[int, int, int]] = []
    real = source.build_import_set

    def recording(users, *args, **kwargs):
        # The readers are lazy: they run inside this call, under what it sees.
        during.append(gc.get_threshold())
        return real(users, *args, **kwargs)

    monkeypatch.setattr(source, "build_import_set", recording)
    write_synthetic_export(tmp_path, users=3, organizations=1, memberships_per_user=1)
    index = StateIndex()
    try:
        load_import_set(_users(tmp_path), "workos", index)
    finally:
        index.close()
    assert FILE_PARSE_FIRST_GENERATION > 700
    assert during == [(FILE_PARSE_FIRST_GENERATION, 11, 12)]
    assert gc.get_threshold() == thresholds

from pathlib import Path

# CI clones the repository with shared/ beside it.
FIXTURES = Path(__file__).parents[2].parent / "shared" / "fixtures" / "clerk"

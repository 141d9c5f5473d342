"""Lines of emulator code, per package, split by what they are (issue 13's size goal).

Prints one line per emulator package and one for the shared top-level modules: the lines
``wc -l`` counts, then how many are code, docstring, comment and blank, as Python's own
tokenizer sees them (a docstring is a string standing alone as a statement).

Run: ``python bench/emulator_lines.py``; ``--root DIR`` counts another checkout's emulators.
"""

from __future__ import annotations

import argparse
import io
import tokenize
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "src" / "authform" / "emulators"
LAYOUT = (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER)
STATEMENT_START = (tokenize.INDENT, tokenize.DEDENT, tokenize.NEWLINE, tokenize.NL, None)


def line_kinds(source: str) -> Counter[str]:
    """How many lines of ``source`` are code, docstring, comment and blank."""
    kinds: dict[int, str] = {}
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    previous = None
    for index, token in enumerate(tokens):
        following = tokens[index + 1].type if index + 1 < len(tokens) else None
        lines = range(token.start[0], token.end[0] + 1)
        if (
            token.type == tokenize.STRING
            and previous in STATEMENT_START
            and following
            in (
                tokenize.NEWLINE,
                tokenize.ENDMARKER,
            )
        ):
            for line in lines:
                kinds.setdefault(line, "docstring")
        elif token.type == tokenize.COMMENT:
            kinds.setdefault(token.start[0], "comment")
        elif token.type not in LAYOUT:
            for line in lines:
                if kinds.get(line) in (None, "comment"):
                    kinds[line] = "code"
        if token.type not in (tokenize.NL, tokenize.COMMENT):
            previous = token.type
    counts: Counter[str] = Counter()
    for number, text in enumerate(source.splitlines(), start=1):
        counts[kinds.get(number) or ("code" if text.strip() else "blank")] += 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT)
    root = parser.parse_args().root
    groups = {"shared": sorted(root.glob("*.py"))}
    for package in sorted(path for path in root.iterdir() if (path / "__init__.py").exists()):
        groups[package.name] = sorted(package.rglob("*.py"))
    total: Counter[str] = Counter()
    for name, files in groups.items():
        counts: Counter[str] = Counter()
        for path in files:
            counts += line_kinds(path.read_text(encoding="utf-8"))
        total += counts
        print(f"{name}: {counts.total()} lines", _split(counts))
    print(f"all: {total.total()} lines", _split(total))


def _split(counts: Counter[str]) -> str:
    kinds = ("code", "docstring", "comment", "blank")
    return "(" + ", ".join(f"{counts[kind]} {kind}" for kind in kinds) + ")"


if __name__ == "__main__":
    main()

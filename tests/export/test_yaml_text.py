"""Exported YAML: every string reads back as itself, and the quoting rule is predictable."""

from __future__ import annotations

import pytest
import yaml

from authform.manifest.positions import load_yaml_text
from authform.render.yaml_text import Commented, Flow, dump_document, scalar

TRICKY = [
    "plain text",
    "yes",
    "No",
    "on",
    "null",
    "~",
    "",
    " leading",
    "trailing ",
    "0123",
    "1e3",
    "12:30",
    "a: b",
    "a #b",
    "#x",
    "- item",
    "[list]",
    "{map}",
    "*alias",
    "&anchor",
    "!tag",
    "%percent",
    "@at",
    "`tick`",
    'quote "double"',
    "quote 'single'",
    "back\\slash",
    "tab\there",
    "line\nbreak",
    "crlf\r\n",
    "nel\x85",
    "ls\u2028ps\u2029",
    "c1\x9b",
    "del\x7f",
    "bom\ufeff",
    "Zürich ☃ 𝄞",
    "https://app.example.com/callback?x=1&y=2",
    "billing:manage",
    "$${literal}",
]


@pytest.mark.parametrize("text", TRICKY)
def test_every_string_reads_back_as_itself(text: str) -> None:
    document = dump_document({"value": text, "items": [text, {"k": text}], text: "key"})
    for data in (yaml.safe_load(document), load_yaml_text(document, "x.yaml").data):
        assert data["value"] == text
        assert data["items"] == [text, {"k": text}]
        assert data[text] == "key"


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("Acme Inc", "Acme Inc"),
        ("O'Reilly & Sons (EU)", "O'Reilly & Sons (EU)"),
        ("yes", '"yes"'),
        ("billing:manage", '"billing:manage"'),
        ("acme.com", "acme.com"),
        ("9lives", '"9lives"'),
        ("", '""'),
    ],
)
def test_the_quoting_rule(text: str, written: str) -> None:
    assert scalar(text) == written


def test_layout_comments_flow_and_empty_collections() -> None:
    document = dump_document(
        {
            "organizations": [
                Commented(
                    {"key": "a", "domains": [Flow({"domain": "a.com", "state": "pending"})]},
                    ("generated",),
                ),
                {"key": "b", "metadata": {}},
            ],
            "roles": [],
        },
        header=("Header",),
        footer=("Footer",),
    )
    assert document == (
        "# Header\n"
        "organizations:\n"
        "  # generated\n"
        "  - key: a\n"
        "    domains:\n"
        "      - {domain: a.com, state: pending}\n"
        "  - key: b\n"
        "    metadata: {}\n"
        "roles: []\n"
        "# Footer\n"
    )

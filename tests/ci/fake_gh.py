"""A stand-in for the GitHub CLI, for running the action's and the example workflows' scripts.

It serves just the calls those scripts make (``gh api`` on issue comments, commits' pull
requests and pulls; ``gh issue list/create/edit/close``; ``gh label create``; ``gh run
list/download``) from a JSON state file named by ``FAKE_GH_STATE``, and records every call.
``--jq`` is handed to the real ``jq``, as gh applies its own jq to each page. Comment
listings are served two per page, so ``--paginate`` is exercised.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

PAGE_SIZE = 2


def load() -> tuple[Path, dict[str, Any]]:
    path = Path(os.environ["FAKE_GH_STATE"])
    state = json.loads(path.read_text()) if path.exists() else {}
    for key, default in (
        ("comments", {}),
        ("issues", []),
        ("labels", {}),
        ("pulls", {}),
        ("heads", {}),
        ("runs", []),
        ("calls", []),
        ("next_id", 1000),
    ):
        state.setdefault(key, default)
    return path, state


def emit(pages: list[Any], jq: str | None) -> None:
    text = "".join(json.dumps(page) + "\n" for page in pages)
    if jq is None:
        sys.stdout.write(text)
        return
    done = subprocess.run(["jq", "-r", jq], input=text, capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        sys.exit(done.returncode)
    sys.stdout.write(done.stdout)


def fail(message: str, code: int = 1) -> None:
    sys.stderr.write(message + "\n")
    sys.exit(code)


def options(args: list[str], flags: set[str]) -> tuple[dict[str, list[str]], list[str]]:
    """``--name value`` pairs (flags in ``flags`` take no value) and the positional rest."""
    found: dict[str, list[str]] = {}
    rest: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg.startswith("-"):
            if arg in flags:
                found.setdefault(arg, []).append("")
                index += 1
            else:
                found.setdefault(arg, []).append(args[index + 1])
                index += 2
        else:
            rest.append(arg)
            index += 1
    return found, rest


def field_values(found: dict[str, list[str]]) -> dict[str, str]:
    values = {}
    for raw in found.get("-F", []) + found.get("--field", []) + found.get("-f", []):
        key, _, value = raw.partition("=")
        if value.startswith("@"):
            value = Path(value[1:]).read_text()
        values[key] = value
    return values


def api(state: dict[str, Any], args: list[str]) -> None:
    found, rest = options(args, {"--paginate"})
    method = (found.get("--method") or found.get("-X") or ["GET"])[0]
    jq = (found.get("--jq") or found.get("-q") or [None])[0]
    endpoint = rest[0].split("?")[0]
    parts = endpoint.split("/")
    writes_fail = os.environ.get("FAKE_GH_FAIL_WRITES") == "1"
    if method != "GET" and writes_fail:
        fail("HTTP 403: Resource not accessible by integration")
    if parts[3:4] == ["issues"] and parts[5:] == ["comments"]:
        comments = state["comments"].setdefault(parts[4], [])
        if method == "GET":
            pages = [comments[i : i + PAGE_SIZE] for i in range(0, len(comments), PAGE_SIZE)]
            emit(pages if "--paginate" in found else pages[:1] or [[]], jq)
            return
        if method == "POST":
            state["next_id"] += 1
            comment = {"id": state["next_id"], "body": field_values(found)["body"]}
            comments.append(comment)
            emit([comment], jq)
            return
    if parts[3:5] == ["issues", "comments"] and method == "PATCH":
        for comments in state["comments"].values():
            for comment in comments:
                if str(comment["id"]) == parts[5]:
                    comment["body"] = field_values(found)["body"]
                    emit([comment], jq)
                    return
        fail("HTTP 404: Not Found")
    if parts[3:4] == ["commits"] and parts[5:] == ["pulls"] and method == "GET":
        emit([[{"number": n} for n in state["pulls"].get(parts[4], [])]], jq)
        return
    if parts[3:4] == ["pulls"] and method == "GET":
        emit([{"number": int(parts[4]), "head": {"sha": state["heads"][parts[4]]}}], jq)
        return
    fail(f"fake gh: no route for {method} {endpoint}")


def issue(state: dict[str, Any], args: list[str]) -> None:
    action, rest = args[0], args[1:]
    found, positional = options(rest, set())
    if action == "list":
        label = found["--label"][0]
        wanted = found.get("--state", ["open"])[0]
        matches = [
            {"number": i["number"]}
            for i in state["issues"]
            if label in i["labels"] and i["state"] == wanted
        ]
        emit([matches[: int(found.get("--limit", ["30"])[0])]], found.get("--jq", [None])[0])
    elif action == "create":
        for label in found.get("--label", []):
            if label not in state["labels"]:
                fail(f"could not add label: '{label}' not found")
        number = len(state["issues"]) + 1
        state["issues"].append(
            {
                "number": number,
                "title": found["--title"][0],
                "body": Path(found["--body-file"][0]).read_text(),
                "labels": found.get("--label", []),
                "state": "open",
                "comments": [],
            }
        )
        print(f"https://github.com/{os.environ.get('GITHUB_REPOSITORY')}/issues/{number}")
    elif action in ("edit", "close"):
        target = next(i for i in state["issues"] if i["number"] == int(positional[0]))
        if action == "edit":
            target["body"] = Path(found["--body-file"][0]).read_text()
        else:
            target["state"] = "closed"
            target["comments"] += found.get("--comment", [])
    else:
        fail(f"fake gh: no issue {action}")


def label(state: dict[str, Any], args: list[str]) -> None:
    found, positional = options(args[1:], {"--force"})
    name = positional[0]
    if name in state["labels"] and "--force" not in found:
        fail(f"label with name {name!r} already exists; use --force to update")
    state["labels"][name] = {"color": found.get("--color", [""])[0]}


def run(state: dict[str, Any], args: list[str]) -> None:
    action, rest = args[0], args[1:]
    found, positional = options(rest, set())
    if action == "list":
        runs = [
            {"databaseId": r["databaseId"]}
            for r in state["runs"]
            if r["workflow"] == found["--workflow"][0]
            and r["headSha"] == found.get("--commit", [r["headSha"]])[0]
            and r["conclusion"] == found.get("--status", [r["conclusion"]])[0]
        ]
        emit([runs[: int(found.get("--limit", ["20"])[0])]], found.get("--jq", [None])[0])
    elif action == "download":
        chosen = next(r for r in state["runs"] if str(r["databaseId"]) == positional[0])
        files = chosen["artifacts"].get(found["--name"][0])
        if files is None:
            fail("no artifact matches any of the names or patterns provided")
        directory = Path(found["--dir"][0])
        directory.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (directory / name).write_text(text)
    else:
        fail(f"fake gh: no run {action}")


def main() -> None:
    path, state = load()
    args = sys.argv[1:]
    state["calls"].append(args)
    try:
        handler = {"api": api, "issue": issue, "label": label, "run": run}[args[0]]
        handler(state, args[1:])
    finally:
        path.write_text(json.dumps(state, indent=1))


if __name__ == "__main__":
    main()

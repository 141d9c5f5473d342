"""Hostile API answers and bad output flags (issue 9, findings 4, 8, 9 and 10).

Three groups, each case one ``assert_refused`` call:

- refused before the first write: output paths that cannot be written (``plan --out``,
  ``export --out``, ``verify --junit``, the import reports) and providers that cannot be
  reached or answer nonsense while the live state is read; nothing is written;
- failures after writes began: apply still ends with what was done and what was not, the
  import reports, exit 1 and no traceback, and the failed change's message names the
  request (method, path, status, request id);
- secrets echoed by an API error never reach stderr, verify output, JUnit or skipped.csv.
"""

from __future__ import annotations

import csv
import datetime
import http.server
import ssl
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cli.conftest import cli_with
from cli.manifests import CLERK_CSV_IMPORT, WORKOS_TARGET
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from typer.testing import CliRunner

from authform.cli import app

from .refusal import assert_refused

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "clerk"
CLIENT_SECRET = "gcs-Very-Secret-Google-Client-Secret-42"
CANARY_PASSWORD = "canary-Pa55word-never-shown"
BCRYPT = "$2b$10$rCUC3m0NZNiOTcIgm15yout/fI5HqM0avbC9bxZ1cEP2lWBEfd1c2"


# --------------------------------------------------------------------------- manifests

SMALL = (
    WORKOS_TARGET
    + """\
permissions:
  - {slug: "billing:manage", name: Manage billing}
organizations:
  - {key: acme, name: Acme Inc}
  - {key: globex, name: Globex}
social_connections:
  - {provider: google, client_id: 1234.apps.googleusercontent.com,
     client_secret: "${env:GOOGLE_CLIENT_SECRET}"}
verify:
  password_logins:
    - {email: canary@example.com, password: "${env:CANARY_PASSWORD}"}
"""
)

IMPORT = (
    CLERK_CSV_IMPORT
    + """\
  reports_dir: "${env:REPORTS}"
  mapping_file: "${env:MAPPING}"
verify:
  password_logins:
    # an account the import does not create: plan checks an imported canary's password
    # against its exported bcrypt digest, and this one is a marker, not grace's password
    - {email: canary@example.com, password: "${env:CANARY_PASSWORD}"}
"""
)

SECRET_ENV = {"GOOGLE_CLIENT_SECRET": CLIENT_SECRET, "CANARY_PASSWORD": CANARY_PASSWORD}


@pytest.fixture
def small(workos_emulator, tmp_path):
    return cli_with(SMALL, workos_emulator, tmp_path)


@pytest.fixture
def imports(workos_emulator, tmp_path):
    cli = cli_with(IMPORT, workos_emulator, tmp_path)
    reports = tmp_path / "reports"
    return cli, {"REPORTS": str(reports), "MAPPING": str(reports / "id-mapping.json")}


def run(cli, *args: str, env: dict[str, str] | None = None) -> Any:
    return cli.run(*args, env={**SECRET_ENV, **(env or {})})


# --------------------------------------------------------------------------- output paths


def _plan_out_missing_folder(cli, tmp: Path) -> tuple[list[str], str]:
    out = tmp / "no-such-folder" / "plan.json"
    message = r"--out .*plan\.json: the folder .*no-such-folder does not exist \(create it"
    return ["plan", str(cli.folder), "--out", str(out)], message


def _plan_out_folder(cli, tmp: Path) -> tuple[list[str], str]:
    return ["plan", str(cli.folder), "--out", str(tmp)], r"--out .*: is a folder"


def _plan_out_under_a_file(cli, tmp: Path) -> tuple[list[str], str]:
    (tmp / "plain.txt").write_text("x")
    out = tmp / "plain.txt" / "plan.json"
    return ["plan", str(cli.folder), "--out", str(out)], r"--out .*plain\.txt/plan\.json"


def _export_out_file(cli, tmp: Path) -> tuple[list[str], str]:
    (tmp / "notes.md").write_text("x")
    out = tmp / "notes.md"
    return ["export", "--out", str(out)], r"--out .*notes\.md: is a file; give a folder"


def _export_out_under_a_file(cli, tmp: Path) -> tuple[list[str], str]:
    (tmp / "notes.md").write_text("x")
    out = tmp / "notes.md" / "manifests"
    return ["export", "--out", str(out)], r"--out .*notes\.md/manifests: .*notes\.md is a file"


def _junit_folder(cli, tmp: Path) -> tuple[list[str], str]:
    return ["verify", str(cli.folder), "--junit", str(tmp)], r"--junit .*: is a folder"


OUTPUT_PATHS: dict[str, Callable[[Any, Path], tuple[list[str], str]]] = {
    "plan --out into a missing folder": _plan_out_missing_folder,
    "plan --out a folder": _plan_out_folder,
    "plan --out under a file": _plan_out_under_a_file,
    "export --out a file": _export_out_file,
    "export --out under a file": _export_out_under_a_file,
    "verify --junit a folder": _junit_folder,
}


@pytest.mark.parametrize("case", list(OUTPUT_PATHS))
def test_an_output_path_that_cannot_be_written_is_refused_before_any_request(small, tmp_path, case):
    args, message = OUTPUT_PATHS[case](small, tmp_path)
    env = {"WORKOS_API_KEY": small.emulator.api_key, "WORKOS_BASE_URL": small.emulator.url}
    result = run(small, *args, env=env)
    assert_refused(result, message, emulator=small.emulator)
    assert small.emulator.requests_log() == []  # not even a read


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("reports_dir is a file", r"users\.reports_dir .*reports: is a file"),
        ("skipped.csv is a folder", r"users\.reports_dir .*skipped\.csv: is a folder"),
        ("mapping_file under a file", r"users\.mapping_file .*ids/map\.json: .*ids is a file"),
    ],
)
def test_import_reports_that_cannot_be_written_stop_apply_before_the_first_write(
    imports, tmp_path, case, message
):
    cli, env = imports
    reports = Path(env["REPORTS"])
    if case == "reports_dir is a file":
        reports.write_text("not a folder")
    elif case == "skipped.csv is a folder":
        (reports / "skipped.csv").mkdir(parents=True)
    else:
        (tmp_path / "ids").write_text("not a folder")
        env = {**env, "MAPPING": str(tmp_path / "ids" / "map.json")}
    result = run(cli, "apply", str(cli.folder), "--auto-approve", env=env)
    assert_refused(result, message, emulator=cli.emulator)
    assert cli.emulator.requests_log() == []


# --------------------------------------------------------------------------- unreachable


def _refused_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again: nothing listens there


@pytest.fixture(scope="module")
def untrusted_tls_url(tmp_path_factory) -> Iterator[str]:
    """An HTTPS server on loopback whose certificate no CA signed."""
    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    (folder / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_connection_refused_names_the_url_says_it_retries_and_fails_in_seconds(small):
    url = f"http://127.0.0.1:{_refused_port()}"
    result = run(small, "plan", str(small.folder), env={"WORKOS_BASE_URL": url})
    assert_refused(
        result,
        rf"GET {url}/\S+ failed: connection refused by 127\.0\.0\.1:\d+ \(nothing is "
        r"listening there\) \(tried 3 times\); check target\.base_url",
    )
    assert "retrying in" in result.output and "(attempt 2 of 3)" in result.output


def test_a_host_name_that_does_not_resolve_is_named_and_not_retried(small):
    url = "https://api.authform-test.invalid"
    result = run(small, "plan", str(small.folder), env={"WORKOS_BASE_URL": url})
    assert_refused(
        result,
        r"GET https://api\.authform-test\.invalid/\S+ failed: cannot resolve the host name "
        r"api\.authform-test\.invalid \(DNS lookup failed",
    )
    # A name that does not exist is not retried; a resolver that cannot answer right now
    # (EAI_AGAIN, as on a machine with no network) is, briefly.
    assert "retrying" not in result.output or "Temporary failure" in result.output


def test_an_untrusted_tls_certificate_is_named_and_not_retried(small, untrusted_tls_url):
    result = run(small, "plan", str(small.folder), env={"WORKOS_BASE_URL": untrusted_tls_url})
    assert_refused(
        result,
        rf"GET {untrusted_tls_url}/\S+ failed: the TLS certificate of 127\.0\.0\.1 is not "
        r"trusted \(.*certificate.*\); authform only sends credentials",
    )
    assert "retrying" not in result.output


def test_a_refused_api_key_says_which_variable_to_check(small):
    result = run(small, "plan", str(small.folder), env={"WORKOS_API_KEY": "sk_test_wrong_0001"})
    assert_refused(
        result,
        r"HTTP 401 .*The API key was refused: check \$WORKOS_API_KEY, which target\.api_key "
        r"\(.*authform\.yaml:4\) reads",
        emulator=small.emulator,
    )
    assert "sk_test_wrong_0001" not in result.output


# --------------------------------------------------------------------------- bad reads

HTML_PAGE = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"

BAD_READS: dict[str, tuple[dict[str, Any], str]] = {
    "an HTML page with status 200": (
        {"status": 200, "raw_body": HTML_PAGE},
        r"GET /organizations → HTTP 200: the answer is not JSON \(text/html: '<html>.*"
        r"\(request id [0-9a-f-]+\)",
    ),
    "a gateway's HTML error page": (
        {"status": 403, "raw_body": HTML_PAGE},
        r"GET /organizations → HTTP 403: 502 Bad Gateway nginx \(a text/html page, not the "
        r"API's answer",
    ),
    "an empty body": (
        {"status": 200, "raw_body": "", "content_type": "application/json"},
        r"GET /organizations → HTTP 200: the answer is not JSON \(application/json: ''\)",
    ),
    "truncated JSON": (
        {"status": 200, "raw_body": '{"data": [{"id": "org_1"', "content_type": "application/json"},
        r"GET /organizations → HTTP 200: the answer is not JSON",
    ),
    "a list where the page object belongs": (
        {"status": 200, "body": [1, 2, 3]},
        r"GET /organizations → HTTP 200 \(request id [0-9a-f-]+\): the answer has an "
        r"unexpected shape \(AttributeError.*\(while reading the live state\)",
    ),
    "a string where the list of items belongs": (
        {"status": 200, "body": {"data": "oops", "list_metadata": {}}},
        r"GET /organizations → HTTP 200 \(request id [0-9a-f-]+\): the answer has an "
        r"unexpected shape \(TypeError",
    ),
    "an item without an id": (
        {"status": 200, "body": {"data": [{"object": "organization"}], "list_metadata": {}}},
        r"GET /organizations → HTTP 200 \(request id [0-9a-f-]+\): the answer has no "
        r"'\w+' field \(while reading the live state\)",
    ),
}


@pytest.mark.parametrize("case", list(BAD_READS))
def test_a_malformed_answer_while_reading_is_a_named_error_before_any_write(small, case):
    fault, message = BAD_READS[case]
    small.emulator.add_fault(method="GET", path="^/organizations$", **fault)
    result = run(small, "apply", str(small.folder), "--auto-approve")
    assert_refused(result, message, emulator=small.emulator)


# --------------------------------------------------------------------------- after writes


def assert_stopped_cleanly(result: Any, message: str, *, applied: int) -> None:
    """A failure after writes began: exit 1, no traceback, the failure named, and the
    summary of what was done."""
    assert_refused(result, message)
    assert f"Applied {applied} change(s)." in result.output, result.output


BAD_CREATES: dict[str, tuple[dict[str, Any], str]] = {
    "created without an id": (
        {"status": 201, "body": {"object": "organization", "name": "Acme Inc"}},
        r"FAILED organization\.\w+: WorkOS: POST /organizations → HTTP 201 \(request id "
        r"[0-9a-f-]+\): the answer has no 'id' field \(while creating organization\.\w+\)",
    ),
    "created with an HTML body": (
        {"status": 201, "raw_body": HTML_PAGE},
        r"FAILED organization\.\w+: WorkOS: POST /organizations → HTTP 201: the answer is not "
        r"JSON \(text/html",
    ),
    "created with a list": (
        {"status": 201, "body": ["org_1"]},
        r"FAILED organization\.\w+: WorkOS: POST /organizations → HTTP 201 .*unexpected shape",
    ),
    "refused with a plain-text body": (
        {"status": 400, "raw_body": "Bad Request\n", "content_type": "text/plain"},
        r"FAILED organization\.\w+: WorkOS: POST /organizations → HTTP 400: Bad Request "
        r"\(a text/plain page",
    ),
}


@pytest.mark.parametrize("case", list(BAD_CREATES))
def test_a_malformed_answer_to_a_write_fails_that_change_and_apply_ends_with_a_summary(small, case):
    fault, message = BAD_CREATES[case]
    small.emulator.add_fault(method="POST", path="^/organizations$", **fault, times=1)
    result = run(small, "apply", str(small.folder), "--auto-approve")
    # the permission and the other organization are applied; the social step stays manual
    assert_stopped_cleanly(result, message, applied=2)


def test_a_failed_import_write_still_writes_the_reports(imports):
    cli, env = imports
    cli.emulator.add_fault(
        method="POST", path="^/user_management/users$", status=201, times=1, body={"object": "user"}
    )
    result = run(cli, "apply", str(cli.folder), "--auto-approve", env=env)
    assert_refused(
        result,
        r"FAILED user\.\S+: WorkOS: POST /user_management/users → HTTP 201 "
        r"\(request id [0-9a-f-]+\): the answer has no 'id' field",
    )
    reports = Path(env["REPORTS"])
    for name in ("skipped.csv", "reenroll.csv", "id-mapping.json"):
        assert f"Wrote {reports / name}" in result.output
    rows = list(csv.DictReader((reports / "skipped.csv").open(encoding="utf-8")))
    assert [r["code"] for r in rows].count("apply_failed") == 1


# --------------------------------------------------------------------------- secret echo


def echo_body(*values: str) -> dict[str, Any]:
    """An error body of ~200 KB quoting what it was sent, as some APIs' validation errors do."""
    quoted = " ".join(values)
    return {
        "message": f"Invalid request: {quoted}",
        "code": "invalid_request",
        "errors": [{"field": "detail", "code": ("padding " * 25_000) + quoted}],
    }


def test_secrets_echoed_in_a_huge_error_body_are_redacted_in_every_output(small, tmp_path):
    api_key = small.emulator.api_key
    small.emulator.add_fault(
        method="POST",
        path="^/organizations$",
        status=422,
        body=echo_body(api_key, CLIENT_SECRET, CANARY_PASSWORD, BCRYPT),
        times=1,
    )
    result = run(small, "apply", str(small.folder), "--auto-approve")
    assert_stopped_cleanly(
        result,
        r"HTTP 422 invalid_request: Invalid request: \(sensitive\) "
        r"\(sensitive\) \(sensitive\) \(password hash\)",
        applied=2,
    )
    for secret in (api_key, CLIENT_SECRET, CANARY_PASSWORD, BCRYPT):
        assert secret not in result.output
    assert len(result.output) < 20_000  # the 200 KB body is cut to what a person reads


def test_a_canary_password_echoed_at_sign_in_stays_out_of_verify_output_and_junit(small, tmp_path):
    small.emulator.add_fault(
        method="POST",
        path="^/user_management/authenticate$",
        status=400,
        body={"error": "invalid_grant", "error_description": f"bad password {CANARY_PASSWORD}"},
    )
    junit = tmp_path / "ci" / "verify.xml"
    for output in ("text", "json"):
        result = run(small, "verify", str(small.folder), "--format", output, "--junit", str(junit))
        assert_refused(result, r"bad password \(sensitive\)", exit_code=3)
        assert CANARY_PASSWORD not in result.output
    xml = junit.read_text(encoding="utf-8")
    assert "bad password (sensitive)" in xml and CANARY_PASSWORD not in xml


def test_secrets_echoed_for_an_import_write_stay_out_of_skipped_csv(imports):
    cli, env = imports
    cli.emulator.add_fault(
        method="POST",
        path="^/user_management/users$",
        status=422,
        body=echo_body(CANARY_PASSWORD, BCRYPT, "pbkdf2_sha256$260000$c2Fsd$3Wq1="),
        times=1,
    )
    result = run(cli, "apply", str(cli.folder), "--auto-approve", env=env)
    assert_refused(
        result,
        r"HTTP 422 invalid_request: Invalid request: \(sensitive\) "
        r"\(password hash\) \(password hash\)",
    )
    text = (Path(env["REPORTS"]) / "skipped.csv").read_text(encoding="utf-8")
    assert "apply_failed" in text and "(sensitive)" in text
    for secret in (CANARY_PASSWORD, BCRYPT, "pbkdf2_sha256$260000"):
        assert secret not in text and secret not in result.output


# --------------------------------------------------------------------------- the emulator


def test_an_emulator_whose_port_is_taken_exits_1_with_a_clear_message(tmp_path):
    import socket
    import subprocess
    import sys

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "authform.cli",
                "emulator",
                "workos",
                "--port",
                str(port),
                "--db",
                str(tmp_path / "state.sqlite3"),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert_refused(
        result,
        rf"Error: port {port} on 127\.0\.0\.1 is already in use .*--port 0 for a free one",
    )


# --------------------------------------------------------------------------- every provider

PROVIDERS = {
    # provider: (emulator fixture, target block, env from the emulator, create path)
    "clerk": (
        "clerk_emulator",
        'provider: clerk, api_key: "${env:KEY}", base_url: "${env:URL}"',
        lambda e: {"KEY": e.api_key, "URL": e.url},
        "^/v1/organizations$",
    ),
    "scalekit": (
        "scalekit_emulator",
        'provider: scalekit, api_key: "${env:KEY}", client_id: "${env:CID}", '
        'base_url: "${env:URL}"',
        lambda e: {"KEY": e.api_key, "CID": e.client_id, "URL": e.url},
        "^/api/v1/organizations$",
    ),
}


@pytest.mark.parametrize("provider", list(PROVIDERS))
def test_a_create_answered_without_an_id_is_a_named_failure_on_every_provider(
    request, tmp_path, provider
):
    fixture, target, env_of, create_path = PROVIDERS[provider]
    emulator = request.getfixturevalue(fixture)
    folder = tmp_path / "manifests"
    folder.mkdir()
    (folder / "authform.yaml").write_text(
        f"version: 1\ntarget: {{{target}}}\norganizations:\n  - {{key: acme, name: Acme Inc}}\n"
    )
    emulator.add_fault(method="POST", path=create_path, status=200, body={"object": "x"})
    result = CliRunner().invoke(
        app, ["apply", str(folder), "--auto-approve"], env={**env_of(emulator), "NO_COLOR": "1"}
    )
    assert_refused(
        result,
        r"FAILED organization\.acme: \w+: POST /\S*organizations → HTTP 200 \(request id "
        r"[0-9a-f-]+\): the answer has no '\w+' field \(while creating organization\.acme\)",
    )
    assert "Applied 0 change(s)." in result.output

"""The health contract of bin/planner-http, one request at a time on stdin/stdout (as nc runs it)."""

import json
import os
import subprocess
from pathlib import Path

HANDLER = Path(__file__).resolve().parent.parent / "bin" / "planner-http"


def request(line: str, **env: str) -> tuple[str, dict[str, str], str]:
    # Bytes, not text: universal newlines would turn the protocol's CRLF into LF.
    raw = subprocess.run(
        ["sh", str(HANDLER)],
        input=f"{line}\r\nHost: planner\r\n\r\n".encode(),
        capture_output=True,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env},
        check=True,
    ).stdout.decode()
    head, _, body = raw.partition("\r\n\r\n")
    status, *header_lines = head.split("\r\n")
    headers = dict(h.split(": ", 1) for h in header_lines)
    return status, headers, body


def test_health_reports_the_baked_in_commit() -> None:
    sha = "0123456789abcdef0123456789abcdef01234567"
    for path in ("/health", "/api/health", "/api/health?probe=1"):
        status, headers, body = request(f"GET {path} HTTP/1.1", APP_VERSION=sha, APP_ENV="staging")
        assert status == "HTTP/1.0 200 OK"
        assert headers["Content-Type"] == "application/json"
        assert int(headers["Content-Length"]) == len(body)
        assert json.loads(body) == {"status": "ok", "version": sha, "environment": "staging"}


def test_head_has_no_body_and_unknown_paths_are_404() -> None:
    status, _, body = request("HEAD /health HTTP/1.1")
    assert (status, body) == ("HTTP/1.0 200 OK", "")
    status, _, body = request("GET /nowhere HTTP/1.1")
    assert status == "HTTP/1.0 404 Not Found"
    assert json.loads(body) == {"status": "not found"}
    status, _, _ = request("DELETE /health HTTP/1.1")
    assert status == "HTTP/1.0 405 Method Not Allowed"

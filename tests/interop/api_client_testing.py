"""The documented API as an interop test calls it: JSON over HTTP, signed in with the
first-start admin password."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from mediad.testing import DaemonProcess


def call(daemon: DaemonProcess, method: str, path: str, token: str | None = None,
         body: Any = None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(
        daemon.base_url + path, method=method, headers=headers,
        data=None if body is None else json.dumps(body).encode())
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def sign_in(daemon: DaemonProcess) -> str:
    status, body = call(daemon, "POST", "/api/auth/login",
                        body={"handle": "admin", "password": daemon.banner.admin_password})
    assert status == 200, body
    return str(body["accessToken"])

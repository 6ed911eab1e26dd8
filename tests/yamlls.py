"""yaml-language-server, the checker behind VS Code's YAML extension, driven over LSP (stdio
JSON-RPC) the way an editor drives it: initialize, settings, open a file, read its diagnostics.

The server is the pinned npm package that `.ci/run` installs into ``.ci/yamlls`` (or
``$CTFLOW_TEST_YAMLLS``, the path of its ``yaml-language-server`` executable). Without it the
tests that use it are skipped, or fail when CI is "true"/"1".
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, NoReturn

import pytest

VERSION = "1.19.2"  # the version .ci/run installs
ENV = "CTFLOW_TEST_YAMLLS"
INSTALLED = Path(__file__).resolve().parent.parent / ".ci" / "yamlls"
EXECUTABLE = INSTALLED / "node_modules" / ".bin" / "yaml-language-server"
HOW = f"npm install --prefix .ci/yamlls yaml-language-server@{VERSION} (or set {ENV})"
TIMEOUT = 30.0  # seconds for one answer; a slow shared machine, never a hang


def find_server() -> Path:
    """The server's executable, or a skip (a failure in CI) saying how to install it."""
    override = os.environ.get(ENV)
    path = Path(override) if override else EXECUTABLE
    if not path.is_file():
        _unavailable(f"{path} does not exist")
    if shutil.which("node") is None:
        _unavailable("node is not on PATH")
    return path


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI", "").strip().lower() in {"true", "1"}:
        pytest.fail(f"yaml-language-server is required in CI: {reason}; {HOW}", pytrace=False)
    pytest.skip(f"needs yaml-language-server: {reason}; to run these tests, {HOW}")


class LanguageServer:
    """One running server; a thread reads its messages into a queue."""

    def __init__(self, executable: Path, root: Path, settings: dict[str, Any]) -> None:
        self.settings = settings
        self.process = subprocess.Popen(
            [str(executable), "--stdio"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.messages: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.diagnostics: dict[str, list[dict[str, Any]]] = {}
        self._answers: dict[int, Any] = {}
        self._next_id = 0
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": root.as_uri(),
                "workspaceFolders": [{"uri": root.as_uri(), "name": root.name}],
                # Without "configuration" the server takes the settings of didChangeConfiguration
                # as they come, before any later message: no race with didOpen.
                "capabilities": {"textDocument": {"publishDiagnostics": {}}},
            },
        )
        self.notify("initialized", {})
        self.notify("workspace/didChangeConfiguration", {"settings": settings})

    def open(self, path: Path) -> list[dict[str, Any]]:
        """Open ``path`` as an editor would and wait for its diagnostics (open each path once:
        closing a file clears its diagnostics later, which a second open would take for its own)."""
        uri = path.as_uri()
        self.diagnostics.pop(uri, None)
        self.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": uri,
                    "languageId": "yaml",
                    "version": 1,
                    "text": path.read_text(encoding="utf-8"),
                }
            },
        )
        found = self._wait(lambda: self.diagnostics.get(uri))
        self.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
        return found

    def request(self, method: str, params: dict[str, Any]) -> Any:
        self._next_id += 1
        ident = self._next_id
        self._send({"jsonrpc": "2.0", "id": ident, "method": method, "params": params})
        (answer,) = self._wait(
            lambda: (self._answers.pop(ident),) if ident in self._answers else None
        )
        return answer

    def notify(self, method: str, params: dict[str, Any]) -> None:
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                self.request("shutdown", {})
                self.notify("exit", {})
                self.process.wait(timeout=5)
            except (OSError, AssertionError, subprocess.TimeoutExpired):
                pass
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=5)
        self._reader.join(timeout=5)
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()

    def _wait(self, ready: Any) -> Any:
        deadline = time.monotonic() + TIMEOUT
        while (found := ready()) is None:
            left = deadline - time.monotonic()
            assert left > 0, "yaml-language-server did not answer in time"
            try:
                message = self.messages.get(timeout=left)
            except queue.Empty:
                continue
            assert message is not None, "yaml-language-server exited"
            self._handle(message)
        return found

    def _handle(self, message: dict[str, Any]) -> None:
        if "id" in message and "method" in message:  # the server asks the client
            result: Any = None
            if message["method"] == "workspace/configuration":
                items = message["params"]["items"]
                result = [self._section(item.get("section")) for item in items]
            self._send({"jsonrpc": "2.0", "id": message["id"], "result": result})
        elif "id" in message:
            self._answers[message["id"]] = message.get("result", message.get("error"))
        elif message.get("method") == "textDocument/publishDiagnostics":
            params = message["params"]
            self.diagnostics[params["uri"]] = params["diagnostics"]

    def _section(self, section: str | None) -> Any:
        if not section:
            return self.settings
        value: Any = self.settings
        for part in section.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return value

    def _send(self, message: dict[str, Any]) -> None:
        body = json.dumps(message).encode()
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        self.process.stdin.flush()

    def _read(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        while True:
            length = 0
            while (line := stream.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if not line:
                self.messages.put(None)
                return
            self.messages.put(json.loads(stream.read(length)))

"""Headless Chromium driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``:
commands on fd 3, replies and events on fd 4, NUL-terminated JSON): no websocket, no npm, only
Debian's ``chromium`` (scripts/install-deps installs it).

    with Browser() as page:
        page.open(path)
        page.evaluate("document.title")
        page.click(x, y); page.insert_text("fmt.Println")
        page.console_errors   # console errors, uncaught exceptions, CSP and network errors
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-dev-shm-usage",
                  "--hide-scrollbars", "--remote-debugging-pipe")


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        raise RuntimeError("chromium not found: scripts/install-deps installs it (apt-get install -y chromium)")
    return path


class BrowserError(RuntimeError):
    pass


class Browser:
    def __init__(self, *, width: int = 1280, height: int = 860, timeout: float = 60.0) -> None:
        self.width, self.height, self.timeout = width, height, timeout
        self.console_errors: list[str] = []
        self.requests: list[str] = []  # every URL the page asked for, its own included
        self._events: list[dict[str, Any]] = []
        self._next_id = 0
        self._buffer = b""
        self._session = ""

    # ---- process ---------------------------------------------------------------------------
    def __enter__(self) -> Browser:
        self._tmp = tempfile.TemporaryDirectory(prefix="sizebot-chromium-")
        cmd_r, cmd_w = os.pipe()  # we write commands, chromium reads them on fd 3
        out_r, out_w = os.pipe()  # chromium writes on fd 4, we read
        # Move the child's ends above 2..4 so that placing them on 3 and 4 cannot clobber one another.
        child_r, child_w = fcntl.fcntl(cmd_r, fcntl.F_DUPFD_CLOEXEC, 10), fcntl.fcntl(out_w, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(cmd_r)
        os.close(out_w)

        def place_fds() -> None:
            os.dup2(child_r, 3)
            os.dup2(child_w, 4)

        self._log = open(Path(self._tmp.name) / "chromium.log", "wb")  # noqa: SIM115 (closed in __exit__)
        args = [chromium_path(), *CHROMIUM_FLAGS, f"--user-data-dir={self._tmp.name}/profile",
                f"--window-size={self.width},{self.height}", "about:blank"]
        self._proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log,
                                      close_fds=False, preexec_fn=place_fds, start_new_session=True)
        os.close(child_r)
        os.close(child_w)
        self._w, self._r = cmd_w, out_r
        target = self.send("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
        self._session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True}, session=False)[
            "sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable")
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": self.width, "height": self.height, "deviceScaleFactor": 1, "mobile": False})
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.send("Browser.close", session=False, wait=False)
        except (BrowserError, OSError):
            pass
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self._proc.pid, 9)
            self._proc.wait()
        for fd in (self._w, self._r):
            os.close(fd)
        self._log.close()
        self._tmp.cleanup()

    # ---- protocol --------------------------------------------------------------------------
    def send(self, method: str, params: dict[str, Any] | None = None, *, session: bool = True,
             wait: bool = True) -> dict[str, Any]:
        self._next_id += 1
        msg: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session and self._session:
            msg["sessionId"] = self._session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        if not wait:
            return {}
        want = self._next_id
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == want:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error']}")
                return dict(reply.get("result") or {})
            self._event(reply)

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._r], [], [], left)[0]:
                raise BrowserError("no answer from chromium in time")
            chunk = os.read(self._r, 1 << 20)
            if not chunk:
                raise BrowserError("chromium closed the pipe (see its log)")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return dict(json.loads(raw))

    def _event(self, event: dict[str, Any]) -> None:
        self._events.append(event)
        method, params = event.get("method"), event.get("params") or {}
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            self.console_errors.append(" ".join(str(a.get("value", a.get("description", ""))) for a in params["args"]))
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails") or {}
            self.console_errors.append(str((details.get("exception") or {}).get("description") or details.get("text")))
        elif method == "Network.requestWillBeSent":
            self.requests.append(str(params.get("request", {}).get("url")))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            self.console_errors.append(str(params["entry"].get("text")))

    def wait_event(self, method: str, timeout: float | None = None) -> dict[str, Any]:
        deadline = time.monotonic() + (timeout or self.timeout)
        for i, event in enumerate(self._events):
            if event.get("method") == method:
                return dict(self._events.pop(i))
        while True:
            event = self._read(deadline)
            self._event(event)
            if event.get("method") == method:
                self._events.remove(event)
                return event

    # ---- page ------------------------------------------------------------------------------
    def open(self, path: str | Path) -> None:
        self._events = [e for e in self._events if e.get("method") != "Page.loadEventFired"]
        self.requests.clear()
        self.send("Page.navigate", {"url": Path(path).resolve().as_uri()})
        self.wait_event("Page.loadEventFired")
        self.evaluate("new Promise(r => requestAnimationFrame(() => r(1)))")

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression[:80]}: {result['exceptionDetails']}")
        return result.get("result", {}).get("value")

    def click(self, x: float, y: float) -> None:
        base = {"x": x, "y": y, "button": "left", "clickCount": 1}
        self.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x, "y": y})
        self.send("Input.dispatchMouseEvent", {"type": "mousePressed", **base})
        self.send("Input.dispatchMouseEvent", {"type": "mouseReleased", **base})

    def hover(self, x: float, y: float) -> None:
        self.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x, "y": y})

    def insert_text(self, text: str) -> None:
        self.send("Input.insertText", {"text": text})

    def screenshot(self, path: str | Path) -> None:
        data = self.send("Page.captureScreenshot", {"format": "png"})["data"]
        Path(path).write_bytes(base64.b64decode(data))

    def settle(self, ms: int = 250) -> None:
        """Let timers (the search box's debounce) run."""
        self.evaluate(f"new Promise(r => setTimeout(() => requestAnimationFrame(() => r(1)), {ms}))")

#!/usr/bin/env python3
"""Open an HTML report in real headless Chromium; save a screenshot; fail on console errors, broken
images, any network request, or a failure view that does not work.

    python scripts/check_html_report.py reports/latest/report.html --screenshot /tmp/report.png --min-images 2

When the page has failure cards (``details.card``), the check also uses them as a reader would: it
opens a card that holds an argument diff and checks that its prompt and the differing argument show,
filters by a model and checks that only that model's cards stay, and searches for the card's case id.
``--card-screenshot`` saves that opened card.

Exit status: 0 the page is clean, 1 problems were found (each printed on a line), 2 the check could
not run (no Chromium, Chromium crashed or timed out).

How: Chromium is started with ``--remote-debugging-pipe``, which speaks the DevTools protocol (CDP) as
NUL-terminated JSON over file descriptors 3 (commands in) and 4 (replies and events out). That needs
no websocket library, no port and no third-party package, and unlike ``--dump-dom`` it sees console
errors, uncaught exceptions, CSP violations and failed loads as they happen, and evaluates the image
check inside the page without editing the page under test (a report whose CSP forbids scripts stays
as it is: CDP's ``Runtime.evaluate`` is not subject to the page's CSP).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BINARIES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--remote-debugging-pipe",
)
WIDTH, HEIGHT = 1280, 900
# Each <img>: did it load and decode? (complete alone is true for a broken image too.)
IMAGE_CHECK = "JSON.stringify(Array.from(document.images, i => ({src: i.src.startsWith('data:') ? i.src.slice(0, 60) + '…' : i.src, complete: i.complete, width: i.naturalWidth})))"


# The failure view, used as a reader would. Returns JSON: what it saw, and a problem per thing that did not work.
FAILURE_VIEW_CHECK = r"""
(() => {
  const out = {cards: 0, problems: [], opened: null, filtered: null, searched: null};
  const cards = Array.from(document.querySelectorAll("details.card"));
  out.cards = cards.length;
  if (!cards.length) return JSON.stringify(out);
  const shown = (el) => !!el && el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
  const card = cards.find((c) => c.querySelector("tr.arg.mismatch")) || cards[0];
  if (!card.open) card.querySelector("summary").click();
  const user = Array.from(card.querySelectorAll(".msg.role-user pre.text")).pop();
  const system = card.querySelector(".msg.role-system pre.text");
  const diff = card.querySelector("tr.arg.mismatch");
  const text = card.innerText;
  const seen = (el) => shown(el) && text.includes(el.textContent.trim().slice(0, 60));
  out.opened = {
    id: card.id, open: card.open,
    prompt: user ? user.textContent : null, prompt_shown: seen(user),
    system_shown: system ? seen(system) : null,
    diff: diff ? diff.innerText.replace(/\s+/g, " ").trim() : null, diff_shown: diff ? shown(diff) : null,
    diff_marked: diff ? !!diff.querySelector("mark.diff") && diff.querySelector("td.mark").textContent.includes("✗") : null,
  };
  if (!card.open) out.problems.push(`card ${card.id} did not open`);
  if (!user || !out.opened.prompt_shown) out.problems.push(`card ${card.id}: its prompt is not shown when opened`);
  if (system && !out.opened.system_shown) out.problems.push(`card ${card.id}: its system prompt is not shown`);
  if (diff && !(out.opened.diff_shown && out.opened.diff_marked)) out.problems.push(`card ${card.id}: the differing argument is not shown and marked`);
  const bar = document.getElementById("filters");
  if (!bar) return JSON.stringify(out);  // a page of cards without filters (the gate's page)
  if (!shown(bar)) {
    out.problems.push("the filter bar is hidden: did the page's script run?");
    return JSON.stringify(out);
  }
  const select = bar.querySelector("select[data-filter=model]");
  const models = Array.from(select.options).map((o) => o.value).filter(Boolean);
  const model = models[models.length - 1];
  select.value = model;
  select.dispatchEvent(new Event("change"));
  const kept = cards.filter(shown);
  const expected = cards.filter((c) => c.dataset.model === model).length;
  out.filtered = {model, shown: kept.length, expected, of: cards.length};
  if (kept.some((c) => c.dataset.model !== model) || kept.length !== expected)
    out.problems.push(`filtering by model ${model}: ${kept.length} cards shown, ${expected} expected, ${kept.filter((c) => c.dataset.model !== model).length} of other models`);
  select.value = "";
  select.dispatchEvent(new Event("change"));
  const search = document.getElementById("search");
  const query = card.querySelector("summary").textContent.split(" · ")[1] || card.id;
  search.value = query;
  search.dispatchEvent(new Event("input"));
  const found = cards.filter(shown);
  out.searched = {query, shown: found.length};
  if (!found.includes(card) || found.some((c) => !c.textContent.toLowerCase().includes(query.toLowerCase())))
    out.problems.push(`searching for ${JSON.stringify(query)} did not keep exactly the cards that contain it`);
  search.value = "";
  search.dispatchEvent(new Event("input"));
  if (cards.filter(shown).length !== cards.length) out.problems.push("clearing the filters did not show every card again");
  card.scrollIntoView();
  return JSON.stringify(out);
})()
"""
ALLOWED_SCHEMES = ("file:", "data:", "about:")  # the page itself and what it embeds; anything else is a network request


class CheckError(Exception):
    """The check could not run: no browser, or the browser did not answer."""


@dataclass
class CheckResult:
    problems: list[str] = field(default_factory=list)
    images: list[dict[str, Any]] = field(default_factory=list)
    screenshot: Path | None = None
    failure_view: dict[str, Any] | None = None  # what the failure-view check saw (None: no cards on the page)
    requests: list[str] = field(default_factory=list)  # every URL the page asked for
    card_screenshot: Path | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def find_chromium() -> str | None:
    """$CHROMIUM if set, else the first Chromium or Chrome on PATH."""
    explicit = os.environ.get("CHROMIUM")
    if explicit:
        return shutil.which(explicit) or (explicit if Path(explicit).is_file() else None)
    return next((found for name in BINARIES if (found := shutil.which(name))), None)


class Browser:
    """A headless Chromium driven over the DevTools pipe; one page session at a time."""

    def __init__(self, binary: str, *, timeout: float):
        self.timeout, self.next_id, self.buffer, self.events = timeout, 0, b"", []
        self.session: str | None = None
        self.profile = tempfile.mkdtemp(prefix="evalkit-chromium-")  # a fresh profile: no state from earlier runs
        self.log = Path(self.profile) / "stderr.log"  # a file, not a pipe: a chatty browser never blocks on it
        argv = [binary, *FLAGS, f"--user-data-dir={self.profile}", f"--window-size={WIDTH},{HEIGHT}", "about:blank"]
        try:
            self.pid, self.to_child, self.from_child = _spawn(argv, self.log)
        except CheckError:
            shutil.rmtree(self.profile, ignore_errors=True)
            raise
        self.status: int | None = None

    def send(self, method: str, params: dict[str, Any] | None = None, *, session: bool = True) -> dict[str, Any]:
        """Send one command and wait for its reply; events that arrive meanwhile are kept."""
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        try:
            os.write(self.to_child, json.dumps(message).encode() + b"\0")
        except BrokenPipeError:
            raise CheckError(f"Chromium exited before {method}: {self._log_tail()}") from None
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._read(deadline)
            if reply is None:
                raise CheckError(f"Chromium did not answer {method} within {self.timeout:.0f} s")
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise CheckError(f"{method} failed: {reply['error'].get('message')}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str) -> None:
        deadline = time.monotonic() + self.timeout
        while not any(e.get("method") == method for e in self.events):
            event = self._read(deadline)
            if event is None:
                raise CheckError(f"Chromium sent no {method} within {self.timeout:.0f} s")
            self.events.append(event)

    def drain(self, quiet: float = 0.5) -> None:
        """Collect events until none arrives for ``quiet`` seconds (late console errors, image decodes)."""
        while (event := self._read(time.monotonic() + quiet)) is not None:
            self.events.append(event)

    def _read(self, deadline: float) -> dict[str, Any] | None:
        while b"\0" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self.from_child], [], [], remaining)[0]:
                return None
            chunk = os.read(self.from_child, 1 << 20)
            if not chunk:
                raise CheckError(f"Chromium exited: {self._log_tail()}")
            self.buffer += chunk
        raw, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(raw)

    def _log_tail(self) -> str:
        self._wait(2)
        text = self.log.read_text(errors="replace").strip() if self.log.is_file() else ""
        return f"status {self.status}; {text[-800:] or 'no output'}"

    def _wait(self, seconds: float) -> bool:
        """Reap the browser if it exits within ``seconds``; True when it has."""
        deadline = time.monotonic() + seconds
        while self.status is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(status)
            elif time.monotonic() > deadline:
                return False
            else:
                time.sleep(0.05)
        return True

    def close(self) -> None:
        with contextlib.suppress(CheckError, OSError):
            self.send("Browser.close", session=False)
        if not self._wait(10):
            os.kill(self.pid, signal.SIGKILL)  # only the browser this object started, by its pid
            self._wait(10)
        for fd in (self.to_child, self.from_child):
            os.close(fd)
        shutil.rmtree(self.profile, ignore_errors=True)


def _spawn(argv: list[str], log: Path) -> tuple[int, int, int]:
    """Start ``argv`` with the DevTools pipe on fds 3 (commands in) and 4 (messages out).

    posix_spawn's dup2 actions put the pipes exactly there (a shell can't: dash refuses fds above 9,
    and Popen only keeps fds at the number they already have). Every descriptor is first moved to
    5 or above, so no dup2 overwrites one that a later dup2 still needs."""

    def high(fd: int) -> int:
        moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 5)
        os.close(fd)
        return moved

    commands_r, commands_w = map(high, os.pipe())
    messages_r, messages_w = map(high, os.pipe())
    log_fd = high(os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
        (os.POSIX_SPAWN_DUP2, log_fd, 2),
        (os.POSIX_SPAWN_DUP2, commands_r, 3),
        (os.POSIX_SPAWN_DUP2, messages_w, 4),
    ]
    try:
        pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)
    except OSError as exc:
        os.close(commands_w)
        os.close(messages_r)
        raise CheckError(f"cannot start {argv[0]}: {exc}") from None
    finally:
        for fd in (commands_r, messages_w, log_fd):  # the child has its copies; ours would hide its exit
            os.close(fd)
    return pid, commands_w, messages_r


def _console_problems(events: list[dict[str, Any]]) -> list[str]:
    """Console errors, uncaught exceptions, error log entries (CSP violations, failed loads) and failed requests."""
    problems = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            problems.append(f"console.{params['type']}: {text}")
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            problems.append(
                f"uncaught exception: {details.get('exception', {}).get('description') or details.get('text')}"
            )
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            entry = params["entry"]
            problems.append(
                f"console error ({entry.get('source')}): {entry.get('text')} {entry.get('url', '')[:80]}".rstrip()
            )
        elif method == "Network.loadingFailed" and not params.get("canceled"):
            problems.append(f"failed to load a resource: {params.get('errorText')} ({params.get('type')})")
    return problems


def _requests(events: list[dict[str, Any]]) -> list[str]:
    return [
        e["params"]["request"]["url"]
        for e in events
        if e.get("method") == "Network.requestWillBeSent" and "request" in e.get("params", {})
    ]


def _network_problems(urls: list[str]) -> list[str]:
    return [f"network request: {url[:120]}" for url in urls if not url.startswith(ALLOWED_SCHEMES)]


def _failure_view(browser: Browser) -> dict[str, Any]:
    evaluated = browser.send("Runtime.evaluate", {"expression": FAILURE_VIEW_CHECK, "returnByValue": True})
    if "exceptionDetails" in evaluated:
        details = evaluated["exceptionDetails"]
        text = details.get("exception", {}).get("description") or details.get("text")
        return {"cards": -1, "problems": [f"the failure-view check threw: {text}"]}
    result: dict[str, Any] = json.loads(evaluated["result"]["value"])
    return result


def _card_screenshot(browser: Browser, card_id: str, path: Path) -> Path | None:
    """The opened card alone, as the reader sees it."""
    expression = f"JSON.stringify((r => ({{x: r.left + scrollX, y: r.top + scrollY, width: r.width, height: r.height}}))(document.getElementById({json.dumps(card_id)}).getBoundingClientRect()))"
    rect = json.loads(
        browser.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})["result"]["value"]
    )
    if not rect["width"] or not rect["height"]:
        return None
    shot = browser.send(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {**rect, "height": min(rect["height"], 4000), "scale": 1},
        },
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


def _image_problems(images: list[dict[str, Any]], min_images: int) -> list[str]:
    problems = [
        f"image did not load: {i['src']} (complete={i['complete']}, naturalWidth={i['width']})"
        for i in images
        if not (i["complete"] and i["width"] > 0)
    ]
    if len(images) < min_images:
        problems.append(f"expected at least {min_images} images, the page has {len(images)}")
    return problems


def _screenshot(browser: Browser, path: Path, max_height: int) -> Path:
    """The page from the top, as tall as its content (capped: a 1,000-job report is very long)."""
    size = browser.send("Page.getLayoutMetrics").get("cssContentSize", {})
    height = max(HEIGHT, min(int(size.get("height", HEIGHT)), max_height))
    shot = browser.send(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": WIDTH, "height": height, "scale": 1},
        },
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


def check_report(
    html: str | Path,
    screenshot: str | Path,
    *,
    chromium: str | None = None,
    timeout: float = 60,
    min_images: int = 1,
    max_height: int = 6000,
    card_screenshot: str | Path | None = None,
) -> CheckResult:
    """Load ``html`` in headless Chromium and report every console error, broken image and network
    request, and whatever does not work in its failure view (when it has one)."""
    binary = shutil.which(chromium) if chromium else find_chromium()
    if binary is None:
        looked = repr(chromium) if chromium else f"{', '.join(BINARIES)} on PATH and $CHROMIUM"
        raise CheckError(f"no Chromium found (looked for {looked}); install it, e.g. apt-get install chromium")
    page = Path(html).resolve()
    if not page.is_file():
        raise CheckError(f"{html}: no such file")
    browser = Browser(binary, timeout=timeout)
    try:
        target = browser.send("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
        browser.session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True}, session=False)[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log", "Network"):  # before navigating, so nothing the page logs is missed
            browser.send(f"{domain}.enable")
        browser.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False},
        )
        navigation = browser.send("Page.navigate", {"url": page.as_uri()})
        if navigation.get("errorText"):
            return CheckResult([f"navigation failed: {navigation['errorText']}"])
        browser.wait_for("Page.loadEventFired")
        browser.drain()
        evaluated = browser.send("Runtime.evaluate", {"expression": IMAGE_CHECK, "returnByValue": True})
        images = json.loads(evaluated["result"]["value"])
        shot = _screenshot(browser, Path(screenshot), max_height)
        view = _failure_view(browser)
        card_shot = None
        if card_screenshot is not None and view.get("opened"):
            card_shot = _card_screenshot(browser, view["opened"]["id"], Path(card_screenshot))
        browser.drain(0.2)
        urls = _requests(browser.events)
        problems = _console_problems(browser.events) + _image_problems(images, min_images) + _network_problems(urls)
        return CheckResult(problems + view["problems"], images, shot, view if view["cards"] else None, urls, card_shot)
    finally:
        browser.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("html", help="the report.html to open")
    parser.add_argument("--screenshot", default="report-screenshot.png", help="where to save the PNG screenshot")
    parser.add_argument(
        "--min-images", type=int, default=1, help="fail when the page has fewer <img> elements (default 1)"
    )
    parser.add_argument("--chromium", help="the browser binary (default: $CHROMIUM, then chromium/chrome on PATH)")
    parser.add_argument("--timeout", type=float, default=60, help="seconds to wait for each browser step")
    parser.add_argument("--card-screenshot", help="also save the failure card the check opened, as a PNG")
    args = parser.parse_args(argv)
    try:
        result = check_report(
            args.html,
            args.screenshot,
            chromium=args.chromium,
            timeout=args.timeout,
            min_images=args.min_images,
            card_screenshot=args.card_screenshot,
        )
    except CheckError as exc:
        print(f"check_html_report: {exc}", file=sys.stderr)
        return 2
    for problem in result.problems:
        print(f"FAIL {problem}")
    loaded = sum(i["width"] > 0 for i in result.images)
    print(
        f"{'FAILED' if result.problems else 'OK'}: {len(result.problems)} problems, {loaded}/{len(result.images)} images loaded, screenshot {result.screenshot}"
    )
    view = result.failure_view
    if view and view.get("opened"):
        opened, filtered = view["opened"], view.get("filtered")
        line = (
            f"failure view: {view['cards']} cards; opened {opened['id']} (prompt shown: {opened['prompt_shown']}, "
            f"argument diff shown: {opened['diff_shown']})"
        )
        if filtered:
            line += f"; filter model={filtered['model']!r}: {filtered['shown']} of {filtered['of']} shown"
        print(line)
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())

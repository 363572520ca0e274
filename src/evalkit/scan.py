"""`evalkit scan`: find credentials in the files evalkit writes (cassettes, results.json, reports, JUnit)
before they are committed.

Two kinds of rules. **Key formats** of the providers and platforms whose keys end up near LLM
traffic (OpenAI, Anthropic, Groq, Hugging Face, xAI, Google, AWS, GitHub, Slack, JWTs, private
keys). **Places**: a header or query parameter that carries credentials (``authorization``,
``api-key``, ``cookie``, ``?key=``…) holding anything but a placeholder. Generic entropy scanners
(detect-secrets' high-entropy plugins) flag every request id and base64 body of a cassette, so
these rules look for shapes and places instead; a finding prints the file, the line and a masked
value, never the value itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

# Key formats: (what, pattern). Each pattern matches the credential itself.
_FORMATS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (what, re.compile(pattern))
    for what, pattern in (
        ("an Anthropic API key", r"\bsk-ant-[A-Za-z0-9_-]{20,}"),
        ("an OpenAI API key", r"\bsk-(?!evalkit-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}"),
        ("a Groq API key", r"\bgsk_[A-Za-z0-9]{20,}"),
        ("a Hugging Face token", r"\bhf_[A-Za-z0-9]{30,}"),
        ("an xAI API key", r"\bxai-[A-Za-z0-9]{30,}"),
        ("a Google API key", r"\bAIza[0-9A-Za-z_-]{35}\b"),
        ("an AWS access key id", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
        ("a GitHub token", r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})"),
        ("a Slack token", r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
        ("a JSON Web Token", r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),
        ("a private key", r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----"),
        ("a bearer token", r"\bBearer\s+(?!REDACTED\b|test_)[A-Za-z0-9._~+/=-]{16,}"),
    )
)
# Places: a credential-carrying header, as a YAML or JSON key, with its value on the same line or, in
# vcrpy's YAML, as a list item on the next.
_HEADER = re.compile(
    r"""(?i)["']?\b(authorization|proxy-authorization|api-key|x-api-key|x-goog-api-key|ocp-apim-subscription-key|"""
    r"""x-portkey-api-key|openai-organization|openai-project|cookie|set-cookie)\b["']?\s*:\s*(?P<value>.*)$"""
)
_LIST_ITEM = re.compile(r"^\s*-\s*(?P<value>.+)$")
_QUERY = re.compile(
    r"(?i)[?&](key|api[-_]?key|apikey|access[-_]?token|token|sig|signature|secret|password)=(?P<value>[^&\s\"'#]+)"
)
# Values that say they are not a credential: test fixtures' stand-ins and redaction marks.
_PLACEHOLDER = re.compile(
    r"(?i)redacted|x{3,}|\*{3,}|placeholder|dummy|fake|example|changeme|sk-evalkit-replay|"
    r"test[_-]?(?:openai[_-]?)?(?:api[_-]?)?key|your[_-]?(?:api[_-]?)?key"
)
_SCANNED_SUFFIXES = (".yaml", ".yml", ".json", ".jsonl", ".md", ".html", ".xml", ".txt", ".csv")


@dataclass(frozen=True)
class Finding:
    file: Path
    line: int
    what: str
    value: str  # masked: its first and last few characters only

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.what} ({self.value})"


def mask(value: str) -> str:
    """``sk-p…Q4xz`` (12 characters or fewer: ``****``): enough to find it, not enough to use it."""
    value = value.strip()
    return "****" if len(value) <= 12 else f"{value[:4]}…{value[-4:]}"


def scan_text(text: str, file: Path) -> Iterator[Finding]:
    """Findings in one file's text, in line order."""
    return scan_lines(text.splitlines(), file)


def scan_lines(lines: Iterable[str], file: Path) -> Iterator[Finding]:
    """Findings in a file's lines, read one at a time (a results.json of a million jobs is a gigabyte),
    in line order; a header's value may be on the line after its name."""
    ahead = iter(lines)
    following = next(ahead, None)
    number = 0
    while following is not None:
        line, following = following, next(ahead, None)
        number += 1
        seen: set[tuple[int, int]] = set()
        for what, pattern in _FORMATS:
            for match in pattern.finditer(line):
                if not any(a < match.end() and match.start() < b for a, b in seen):
                    seen.add(match.span())
                    yield Finding(file, number, what, mask(match.group(0)))
        if (header := _HEADER.search(line)) is not None:
            value = _header_value(header.group("value"))
            if not value and following is not None and (item := _LIST_ITEM.match(following)):
                value = _header_value(item.group("value"))  # vcrpy YAML: a list on the next lines
            if value and _is_real(value) and not seen:
                yield Finding(file, number, f"a value in the {header.group(1).lower()} header", mask(value))
        for match in _QUERY.finditer(line):
            value = match.group("value")
            if _is_real(value) and not any(a < match.end() and match.start() < b for a, b in seen):
                yield Finding(file, number, f"a value of the {match.group(1)!r} query parameter", mask(value))


def _header_value(text: str) -> str:
    """The value after a header name: a quoted string, the first item of a flow list, or a bare
    scalar; empty for an object (a JSON Schema property that happens to be named ``authorization``)."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].split(",")[0].strip()
    if not text or text[0] in "{":
        return ""
    if text[0] in "\"'":
        end = text.find(text[0], 1)
        return text[1:end] if end > 0 else text[1:]
    return text.rstrip(",]} ")


def _is_real(value: str) -> bool:
    bare = value.strip().strip("'\"").removeprefix("Bearer ").removeprefix("bearer ").strip()
    return len(bare) >= 6 and _PLACEHOLDER.search(bare) is None


def scan_paths(paths: Iterable[Path]) -> tuple[list[Finding], int]:
    """(findings, number of files scanned) for files and folders (searched for the files evalkit
    writes: YAML, JSON, JSONL, markdown, HTML, XML, text, CSV)."""
    findings: list[Finding] = []
    scanned = 0
    for file in _files(paths):
        try:
            with file.open(encoding="utf-8", errors="replace") as stream:
                # as str.splitlines() splits (so line numbers match scan_text's), a line at a time
                findings.extend(scan_lines((part for raw in stream for part in raw.splitlines() or [""]), file))
        except OSError:
            continue
        scanned += 1
    return findings, scanned


def _files(paths: Iterable[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_file():
            yield path
        elif path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in _SCANNED_SUFFIXES)

"""Cassettes recorded by other tools: vcrpy YAML as found in the wild, read into :class:`Interaction` values.

Reads standard vcrpy files and their variants: gzip ``!!binary`` bodies, old vcrpy httpx stubs
(``response.content`` + ``status_code``), pydantic-ai's ``parsed_body``, aiohttp's multidict header
keys (``!!python/object/apply:multidict…istr``, read without importing anything). Nothing here uses
vcrpy: evalkit's own cassettes are read by vcrpy in :mod:`evalkit.recording`.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from ..errors import EvalkitError


@dataclass(frozen=True)
class Interaction:
    """One recorded request and its response, whatever tool wrote the cassette."""

    method: str
    uri: str
    request_body: str  # "" when the request had none
    status: int
    headers: Mapping[str, str]  # response headers, keys lower-cased, repeated values joined by ", "
    body: str  # response body as text, gzip/deflate already undone


class _CorpusLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """A safe loader that also reads the multidict ``istr`` header keys aiohttp-recorded cassettes
    carry. vcrpy's own loader refuses every ``!!python/object`` tag, and these must not be
    executed either, so the tag's string argument is kept and nothing is imported."""


def _istr(loader: Any, suffix: str, node: yaml.Node) -> str:
    if not suffix.startswith("multidict.") or not isinstance(node, yaml.SequenceNode) or not node.value:
        raise yaml.constructor.ConstructorError(None, None, f"unsupported python tag {node.tag!r}", node.start_mark)
    return str(loader.construct_object(node.value[0]))


_CorpusLoader.add_multi_constructor("tag:yaml.org,2002:python/object/apply:", _istr)
_CorpusLoader.add_multi_constructor("tag:yaml.org,2002:python/object/new:", _istr)
_CorpusLoader.add_constructor("tag:yaml.org,2002:python/str", yaml.SafeLoader.construct_yaml_str)
_CorpusLoader.add_constructor("tag:yaml.org,2002:python/unicode", yaml.SafeLoader.construct_yaml_str)


def read_interactions(path: str | Path) -> list[Interaction]:
    """Every interaction of a vcrpy cassette, in order. Reads standard vcrpy files and the
    variants found in the wild: gzip ``!!binary`` bodies, old vcrpy httpx stubs
    (``response.content`` + ``status_code``), pydantic-ai's ``parsed_body``, multidict header keys."""
    try:
        data = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_CorpusLoader)
    except (OSError, yaml.YAMLError, UnicodeDecodeError, RecursionError) as exc:
        raise EvalkitError(f"{path}: cannot read the cassette: {_first_line(exc)}") from None
    if not isinstance(data, Mapping) or not isinstance(data.get("interactions"), list):
        raise EvalkitError(f"{path}: not a vcrpy cassette (no 'interactions' list at the top level)")
    interactions = []
    for number, raw in enumerate(data["interactions"]):
        try:
            interactions.append(_interaction(raw["request"], raw["response"]))
        # ValueError covers a body that is not UTF-8; EOFError and OSError (BadGzipFile) a broken gzip.
        except (KeyError, TypeError, ValueError, AttributeError, EOFError, OSError, OverflowError, zlib.error) as exc:
            raise EvalkitError(f"{path}: interaction {number}: cannot read it: {type(exc).__name__}: {exc}") from None
    return interactions


def _interaction(request: Mapping[str, Any], response: Mapping[str, Any]) -> Interaction:
    headers = _headers(response.get("headers"))
    if "parsed_body" in response:  # pydantic-ai stores JSON bodies as YAML structure
        body = json.dumps(response["parsed_body"])
    elif "content" in response and "body" not in response:  # vcrpy's old httpx stub
        body = _text(response["content"], headers.get("content-encoding"))
    else:
        body = _text((response.get("body") or {}).get("string"), headers.get("content-encoding"))
    status = response["status"]["code"] if "status" in response else response["status_code"]
    return Interaction(
        method=str(request["method"]).upper(),
        uri=str(request["uri"]),
        request_body=_request_body(request),
        status=int(status),
        headers=MappingProxyType(headers),
        body=body,
    )


def _request_body(request: Mapping[str, Any]) -> str:
    body = request.get("parsed_body", request.get("body"))
    if isinstance(body, (Mapping, list)):  # parsed_body, or a body some tools store as a mapping
        return json.dumps(body)
    return _text(body, None)


def _headers(raw: Any) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in (raw or {}).items():
        values = value if isinstance(value, list) else [value]
        headers[str(name).lower()] = ", ".join(str(v) for v in values)
    return headers


def _text(body: Any, encoding: str | None) -> str:
    """A body as text. Compression is detected from the bytes, not the header: several recorders
    decode the body but keep a stale ``Content-Encoding: gzip``."""
    if body is None:
        return ""
    if isinstance(body, str):
        return body
    data = bytes(body)
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    elif encoding and "deflate" in encoding.lower():
        with contextlib.suppress(zlib.error):  # already inflated, like the stale gzip headers above
            data = zlib.decompress(data)
    return data.decode("utf-8", errors="replace")  # a reply's bytes are read as best they can be


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__

"""Recording and replay through CassetteTransport, with httpx2.MockTransport as the "server",
and reading cassettes written by other tools. Nothing leaves the machine."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path

import httpx2
import pytest
import vcr
import yaml

from evalkit.errors import EvalkitError
from evalkit.importers.cassettes import Interaction, read_interactions
from evalkit.recording import CassetteMiss, cassette_client

URL = "https://api.openai.com/v1/chat/completions"
REPLY = {
    "id": "chatcmpl-1",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
}
SECRET_REQUEST = {
    "Authorization": "Bearer sk-secret-request",
    "api-key": "azure-secret-key",
    "OpenAI-Organization": "org-secret",
    "OpenAI-Project": "proj-secret",
    "Cookie": "session=secret-cookie",
}
SECRET_RESPONSE = {
    "set-cookie": "__cf_bm=secret-set-cookie",
    "openai-organization": "org-secret-response",
    "openai-project": "proj-secret-response",
    "x-request-id": "req-secret-id",
}


class Server:
    """A MockTransport that counts requests and answers with ``reply(request)``."""

    def __init__(self, reply: Callable[[httpx2.Request], httpx2.Response] | None = None):
        self.requests: list[httpx2.Request] = []
        self._reply = reply or (lambda request: httpx2.Response(200, json=REPLY, headers=SECRET_RESPONSE))
        self.transport = httpx2.MockTransport(self._handle)

    def _handle(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        return self._reply(request)


def offline() -> httpx2.MockTransport:
    """An inner transport for replay: reaching it means the cassette did not answer."""

    def fail(request: httpx2.Request) -> httpx2.Response:
        raise AssertionError(f"replay went to the network: {request.url}")

    return httpx2.MockTransport(fail)


def post(
    path: Path, body: dict | str, *, mode: str, inner: httpx2.BaseTransport, headers: dict | None = None
) -> httpx2.Response:
    content = body if isinstance(body, str) else json.dumps(body)
    with cassette_client(path, record_mode=mode, inner=inner) as client:
        response = client.post(URL, content=content, headers={"content-type": "application/json", **(headers or {})})
        response.read()
        return response


def record(path: Path, body: dict | str, server: Server | None = None, **kwargs: object) -> httpx2.Response:
    return post(path, body, mode="once", inner=(server or Server()).transport, **kwargs)


BODY = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "temperature": 0}


# --- Recording ------------------------------------------------------------------------------------


def test_record_once_writes_a_standard_vcrpy_cassette(tmp_path: Path):
    path = tmp_path / "sub" / "case.yaml"
    record(path, BODY)
    data = yaml.safe_load(path.read_text())
    interaction = data["interactions"][0]
    assert data["version"] == 1
    assert (interaction["request"]["method"], interaction["request"]["uri"]) == ("POST", URL)
    assert json.loads(interaction["request"]["body"]) == BODY
    assert interaction["response"]["status"] == {"code": 200, "message": "OK"}
    assert json.loads(interaction["response"]["body"]["string"]) == REPLY
    # vcrpy itself reads it back (its own loader, matchers and httpx patching).
    with vcr.VCR().use_cassette(str(path), record_mode="none") as cassette:
        assert len(cassette) == 1 and cassette.requests[0].uri == URL


def test_secrets_are_scrubbed_before_saving(tmp_path: Path):
    path = tmp_path / "case.yaml"
    response = record(path, BODY, headers=SECRET_REQUEST)
    assert response.headers["x-request-id"] == "req-secret-id"  # the caller still sees the live headers
    text = path.read_text()
    for value in (*SECRET_REQUEST.values(), *SECRET_RESPONSE.values()):
        assert value not in text
    interaction = yaml.safe_load(text)["interactions"][0]
    request_headers = {k.lower() for k in interaction["request"]["headers"]}
    response_headers = {k.lower() for k in interaction["response"]["headers"]}
    assert request_headers.isdisjoint(k.lower() for k in SECRET_REQUEST)
    assert response_headers.isdisjoint(SECRET_RESPONSE)
    assert "content-type" in response_headers  # only the secrets go


def test_gzip_response_is_stored_decoded_and_still_reaches_the_caller_decoded(tmp_path: Path):
    payload = json.dumps(REPLY).encode()
    server = Server(
        lambda request: httpx2.Response(
            200,
            content=gzip.compress(payload),
            headers={"content-encoding": "gzip", "content-type": "application/json"},
        )
    )
    path = tmp_path / "case.yaml"
    assert record(path, BODY, server).content == payload
    stored = yaml.safe_load(path.read_text())["interactions"][0]["response"]
    assert stored["body"]["string"] == payload.decode()
    assert "content-encoding" not in {k.lower() for k in stored["headers"]}
    assert post(path, BODY, mode="none", inner=offline()).content == payload


def test_replay_returns_the_recorded_bytes_without_the_network(tmp_path: Path):
    path = tmp_path / "case.yaml"
    recorded = record(path, BODY)
    replayed = post(path, BODY, mode="none", inner=offline())
    assert (replayed.status_code, replayed.content) == (recorded.status_code, recorded.content)


def test_sse_replays_byte_identically(tmp_path: Path):
    stream = (
        b'data: {"choices":[{"index":0,"delta":{"content":"caf\xc3\xa9 "}}]}\n\n'
        b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n'
        b"data: [DONE]\n\n"
    )
    server = Server(lambda request: httpx2.Response(200, content=stream, headers={"content-type": "text/event-stream"}))
    path = tmp_path / "case.yaml"
    assert record(path, BODY, server).content == stream
    with (
        cassette_client(path, inner=offline()) as client,
        client.stream("POST", URL, content=json.dumps(BODY)) as response,
    ):
        assert b"".join(response.iter_bytes()) == stream


# --- Matching -------------------------------------------------------------------------------------


def test_body_matching_ignores_key_order_and_whitespace(tmp_path: Path):
    path = tmp_path / "case.yaml"
    record(path, BODY)
    reordered = json.dumps(dict(reversed(list(BODY.items()))), indent=4)
    assert post(path, reordered, mode="none", inner=offline()).json() == REPLY


def test_a_different_body_value_is_a_miss_that_names_the_cassette_and_field(tmp_path: Path):
    path = tmp_path / "case.yaml"
    record(path, BODY)
    with pytest.raises(CassetteMiss) as caught:
        post(path, {**BODY, "temperature": 1}, mode="none", inner=offline())
    assert str(caught.value) == (
        f"no recorded response in {path} for this request "
        "(body field(s) differ: temperature: recorded 0 vs sent 1; re-record with --record-mode all if the change is intended)"
    )


SYSTEM = {"role": "system", "content": "You are a travel assistant. " * 5}


@pytest.mark.parametrize(
    ("recorded", "sent", "said"),
    [
        (  # a long conversation: the part that changed, not the start both share
            {**BODY, "messages": [SYSTEM, {"role": "user", "content": "Book Luigi for 2 people."}]},
            {**BODY, "messages": [SYSTEM, {"role": "user", "content": "Book Luigi for two people."}]},
            'messages[1].content: recorded "Book Luigi for 2 people." vs sent "Book Luigi for two people."',
        ),
        (
            BODY,
            {**BODY, "messages": [*BODY["messages"], {"role": "user", "content": "more"}]},  # type: ignore[list-item]
            'messages: recorded 1 items vs sent 2 (item [1] only sent: {"content": "more", "role": "user"})',
        ),
        (BODY, {**BODY, "tools": None}, "tools: recorded (absent) vs sent null"),
        ({**BODY, "temperature": 0}, {**BODY, "temperature": 0.0}, "temperature: recorded 0 vs sent 0.0"),  # not ==
        (  # UTF-8 has no lone surrogate: shown as its escape, so the message can be written anywhere
            {**BODY, "messages": [{"role": "user", "content": "ab\ud800"}]},
            {**BODY, "messages": [{"role": "user", "content": "abc"}]},
            'messages[0].content: recorded "ab\\ud800" vs sent "abc"',
        ),
        (  # a long text that changed at its end: shown from a little before the change
            {**BODY, "messages": [{"role": "user", "content": "x" * 100 + "A"}]},
            {**BODY, "messages": [{"role": "user", "content": "x" * 100 + "B"}]},
            f'messages[0].content: recorded …"{"x" * 20}A" vs sent …"{"x" * 20}B"',
        ),
    ],
)
def test_a_miss_points_at_the_first_difference(
    tmp_path: Path, recorded: dict[str, object], sent: dict[str, object], said: str
) -> None:
    path = tmp_path / "case.yaml"
    record(path, recorded)
    with pytest.raises(CassetteMiss) as caught:
        post(path, sent, mode="none", inner=offline())
    assert f"(body field(s) differ: {said}; re-record" in str(caught.value)


def test_another_path_is_a_miss_that_says_what_differs(tmp_path: Path):
    path = tmp_path / "case.yaml"
    record(path, BODY)
    with cassette_client(path, inner=offline()) as client, pytest.raises(CassetteMiss) as caught:
        client.post("https://api.openai.com/v1/responses", content=json.dumps(BODY))
    assert "path differs" in str(caught.value)


@pytest.mark.parametrize("existing", ["", None])
def test_missing_or_empty_cassette_says_how_to_record(tmp_path: Path, existing: str | None):
    path = tmp_path / "case.yaml"
    if existing is not None:
        path.write_text(existing)
    with pytest.raises(CassetteMiss) as caught:
        post(path, BODY, mode="none", inner=offline())
    assert (
        str(caught.value)
        == f"no recorded response in {path} for this request (the cassette is missing or empty; record it with --record-mode once)"
    )
    if existing is None:
        assert not path.exists()  # replay never creates a cassette
    else:
        assert path.read_text() == existing


def test_unreadable_cassette_is_a_miss_that_says_so_and_is_kept(tmp_path: Path):
    path = tmp_path / "case.yaml"
    path.write_text("interactions: [oops\n")
    for mode in ("none", "once"):
        with pytest.raises(CassetteMiss) as caught:
            post(path, BODY, mode=mode, inner=offline())
        assert str(caught.value).startswith(
            f"no recorded response in {path} for this request (the cassette cannot be read ("
        )
        assert str(caught.value).endswith("); fix it or re-record it with --record-mode all)")
    assert path.read_text() == "interactions: [oops\n"
    post(path, BODY, mode="all", inner=Server().transport)
    assert bodies(path) == [BODY]


@pytest.mark.parametrize("content", [b"interactions: []\nversion: 1\n", b"\xff\xfe not utf-8"])
def test_a_cassette_file_with_nothing_loadable_is_not_called_missing(tmp_path: Path, content: bytes):
    path = tmp_path / "case.yaml"
    path.write_bytes(content)
    with pytest.raises(CassetteMiss) as caught:
        post(path, BODY, mode="none", inner=offline())
    assert str(caught.value).endswith(
        "(the cassette holds no interaction vcrpy could load; fix the YAML or re-record it with --record-mode all)"
    )


def test_each_recorded_response_plays_once(tmp_path: Path):
    path = tmp_path / "case.yaml"
    record(path, BODY)
    with cassette_client(path, inner=offline()) as client:
        client.post(URL, content=json.dumps(BODY))
        with pytest.raises(CassetteMiss, match="already played; record again with --record-mode all"):
            client.post(URL, content=json.dumps(BODY))


# --- Record modes ---------------------------------------------------------------------------------


def bodies(path: Path) -> list[dict]:
    return [json.loads(i["request"]["body"]) for i in yaml.safe_load(path.read_text())["interactions"]]


def test_once_refuses_new_requests_on_an_existing_cassette(tmp_path: Path):
    path = tmp_path / "case.yaml"
    record(path, BODY)
    server = Server()
    with pytest.raises(CassetteMiss):
        post(path, {**BODY, "temperature": 1}, mode="once", inner=server.transport)
    assert server.requests == [] and bodies(path) == [BODY]


def test_new_episodes_replays_known_requests_and_records_new_ones(tmp_path: Path):
    path = tmp_path / "case.yaml"
    record(path, BODY)
    server = Server()
    other = {**BODY, "temperature": 1}
    with cassette_client(path, record_mode="new_episodes", inner=server.transport) as client:
        client.post(URL, content=json.dumps(BODY))
        client.post(URL, content=json.dumps(other))
    assert len(server.requests) == 1 and json.loads(server.requests[0].content) == other
    assert bodies(path) == [BODY, other]


def test_all_sends_everything_again_and_replaces_what_it_rerecorded(tmp_path: Path):
    path = tmp_path / "case.yaml"
    kept = {**BODY, "temperature": 2}
    record(path, BODY)
    post(path, kept, mode="new_episodes", inner=Server().transport)
    fresh = {**REPLY, "id": "chatcmpl-2"}
    server = Server(lambda request: httpx2.Response(200, json=fresh))
    assert post(path, BODY, mode="all", inner=server.transport).json() == fresh
    assert len(server.requests) == 1
    interactions = yaml.safe_load(path.read_text())["interactions"]
    assert [json.loads(i["request"]["body"]) for i in interactions] == [kept, BODY]  # not duplicated
    assert json.loads(interactions[1]["response"]["body"]["string"]) == fresh


def test_replay_writes_nothing(tmp_path: Path):
    path = tmp_path / "case.yaml"
    record(path, BODY)
    before = path.read_text()
    post(path, BODY, mode="none", inner=offline())
    assert path.read_text() == before


# --- Reading cassettes written by other tools -----------------------------------------------------


def write(tmp_path: Path, interactions: list[dict], *, text: str | None = None) -> Path:
    path = tmp_path / "other.yaml"
    path.write_text(text if text is not None else yaml.safe_dump({"interactions": interactions, "version": 1}))
    return path


def standard(
    body: object, *, status: int = 200, headers: dict | None = None, request_body: object = '{"a": 1}'
) -> dict:
    return {
        "request": {"method": "POST", "uri": URL, "body": request_body, "headers": {}},
        "response": {"status": {"code": status, "message": "OK"}, "headers": headers or {}, "body": {"string": body}},
    }


def test_reads_a_cassette_written_by_cassette_client(tmp_path: Path):
    path = tmp_path / "case.yaml"
    record(path, BODY)
    [interaction] = read_interactions(path)
    assert (interaction.method, interaction.uri, interaction.status) == ("POST", URL, 200)
    assert json.loads(interaction.request_body) == BODY and json.loads(interaction.body) == REPLY
    assert interaction.headers["content-type"] == "application/json"


def test_gzip_binary_body_is_decoded_and_header_keys_lower_cased(tmp_path: Path):
    path = write(
        tmp_path,
        [
            standard(
                gzip.compress(b'{"ok": true}'), headers={"Content-Encoding": ["gzip"], "Set-Cookie": ["a=1", "b=2"]}
            )
        ],
    )
    [interaction] = read_interactions(path)
    assert interaction.body == '{"ok": true}'
    assert dict(interaction.headers) == {"content-encoding": "gzip", "set-cookie": "a=1, b=2"}


def test_stale_gzip_header_on_a_plain_body_is_ignored(tmp_path: Path):
    path = write(tmp_path, [standard(b'{"ok": true}', headers={"Content-Encoding": ["gzip"]})])
    assert read_interactions(path)[0].body == '{"ok": true}'


def test_old_vcrpy_httpx_stub_format(tmp_path: Path):
    old = {
        "request": {"method": "POST", "uri": URL, "body": "{}", "headers": {}},
        "response": {
            "content": '{"old": 1}',
            "headers": {"Content-Encoding": ["gzip"]},
            "http_version": "HTTP/1.1",
            "status_code": 401,
        },
    }
    [interaction] = read_interactions(write(tmp_path, [old]))
    assert (interaction.status, interaction.body) == (401, '{"old": 1}')


def test_pydantic_ai_parsed_body(tmp_path: Path):
    interaction = {
        "request": {"method": "POST", "uri": URL, "headers": {}, "parsed_body": {"model": "m", "stream": False}},
        "response": {
            "status": {"code": 200, "message": "OK"},
            "headers": {"content-type": ["application/json"]},
            "parsed_body": {"choices": []},
        },
    }
    [read] = read_interactions(write(tmp_path, [interaction]))
    assert json.loads(read.request_body) == {"model": "m", "stream": False} and json.loads(read.body) == {"choices": []}


def test_multidict_header_keys_are_read_as_plain_strings(tmp_path: Path):
    text = """interactions:
- request:
    body: '{}'
    headers:
      ? !!python/object/apply:multidict._multidict.istr
      - Content-Type
      : - application/json
    method: POST
    uri: https://api.openai.com/v1/chat/completions
  response:
    body: {string: '{}'}
    headers:
      ? !!python/object/new:multidict._multidict.istr
      - X-Thing
      : - '1'
    status: {code: 200, message: OK}
version: 1
"""
    [interaction] = read_interactions(write(tmp_path, [], text=text))
    assert dict(interaction.headers) == {"x-thing": "1"}


def test_other_python_tags_are_refused_not_executed(tmp_path: Path):
    text = "interactions:\n- request: !!python/object/apply:os.system ['echo pwned']\n"
    with pytest.raises(EvalkitError, match=r"other\.yaml: cannot read the cassette: .*unsupported python tag"):
        read_interactions(write(tmp_path, [], text=text))


def test_a_file_that_is_not_a_cassette_says_so(tmp_path: Path):
    with pytest.raises(
        EvalkitError, match=r"other\.yaml: not a vcrpy cassette \(no 'interactions' list at the top level\)"
    ):
        read_interactions(write(tmp_path, [], text="hello: world\n"))


def test_an_interaction_without_a_status_names_its_number(tmp_path: Path):
    broken = standard("{}")
    del broken["response"]["status"]
    with pytest.raises(EvalkitError, match=r"other\.yaml: interaction 1: cannot read it: KeyError"):
        read_interactions(write(tmp_path, [standard("{}"), broken]))


def test_interaction_is_frozen(tmp_path: Path):
    [interaction] = read_interactions(write(tmp_path, [standard("{}")]))
    with pytest.raises(AttributeError):
        interaction.status = 500  # type: ignore[misc]
    assert isinstance(interaction, Interaction)


def test_record_modes_are_the_four_documented_ones():
    from evalkit.errors import UnknownNameError
    from evalkit.recording import RECORD_MODES, check_record_mode

    assert RECORD_MODES == ("none", "once", "new_episodes", "all")
    with pytest.raises(UnknownNameError) as caught:
        check_record_mode("any")  # vcrpy has it, undocumented
    assert (
        str(caught.value)
        == "'any' is not a record mode. Valid record modes: all, new_episodes, none, once. The default, none, only replays."
    )

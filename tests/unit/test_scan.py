"""evalkit scan reads files a line at a time (no size limit: a million-job results.json is a gigabyte)
and finds what it finds in the whole text, at the same lines."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from evalkit.scan import scan_paths, scan_text

KEY = "sk-proj-" + "A1b2C3d4E5f6G7h8J9k0L1m2N3p4"
CASSETTE = f"""interactions:
- request:
    headers:
      authorization:
      - Bearer {KEY}
    uri: https://example.com/v1/chat/completions?key={KEY[3:]}
"""


def test_a_header_value_on_the_next_line_is_found_in_a_file(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(CASSETTE)
    findings, scanned = scan_paths([tmp_path])
    assert scanned == 1
    assert [(f.line, f.what) for f in findings] == [(t.line, t.what) for t in scan_text(CASSETTE, path)]
    assert {f.line for f in findings} == {4, 5, 6} and all(KEY not in str(f) for f in findings)


LINES = st.lists(
    st.sampled_from(
        [
            "      authorization:",
            f"      - Bearer {KEY}",
            f"api_key: {KEY}",
            f"uri: https://x.test/v1?api-key={KEY}",
            "plain text",
            "",
            "  - item",
            "x-api-key: [test-key]",
        ]
    ),
    max_size=12,
)
SEPARATORS = st.sampled_from(["\n", "\r\n", "\r", "\u2028", "\x0c"])


@settings(max_examples=150, deadline=None)
@given(lines=LINES, separator=SEPARATORS, last=st.booleans())
def test_streaming_a_file_finds_what_the_whole_text_gives(tmp_path_factory, lines, separator, last) -> None:
    text = separator.join(lines) + (separator if last else "")
    folder = tmp_path_factory.mktemp("scan")
    path = folder / "f.txt"
    path.write_bytes(text.encode("utf-8"))  # bytes: no newline translation on the way in
    findings, _ = scan_paths([path])
    assert findings == list(scan_text(text, path))

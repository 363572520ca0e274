"""The value redactor: a run's real keys are replaced wherever they appear, but a placeholder key
(what local servers accept instead of a credential) or a short one never blanks out the words of
prompts and replies."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from evalkit.redaction import REDACTED, Redactor

TEXT = "What's the weather in Ollama Springs? EMPTY answers are dummy answers; anything goes."


def model(params: dict[str, object] | None = None) -> SimpleNamespace:
    return SimpleNamespace(api_key_env="OPENAI_API_KEY", params=params or {}, base_url=None)


@pytest.mark.parametrize(
    "key",
    ["weather", "EMPTY", "ollama", "Ollama", "lm-studio", "sk-no-key-required", "dummy", "anything", "none", "sk-1234"],
)
def test_a_placeholder_or_short_key_redacts_nothing(key: str) -> None:
    redactor = Redactor.for_models([model()], environ={"OPENAI_API_KEY": key})
    assert not redactor
    assert redactor.value({"prompt": TEXT, "calls": [TEXT]}) == {"prompt": TEXT, "calls": [TEXT]}


def test_a_real_key_is_replaced_wherever_it_appears() -> None:
    key = "sk-test-1234567890abcdef"
    redactor = Redactor.for_models([model()], environ={"OPENAI_API_KEY": key})
    echoed = f"Incorrect API key provided: {key}. {TEXT}"
    assert redactor.text(echoed) == f"Incorrect API key provided: {REDACTED}. {TEXT}"
    assert key not in str(redactor.value({"error": [echoed], key: 1}))


def test_a_secret_header_value_is_replaced_and_the_longest_secret_first() -> None:
    redactor = Redactor.for_models(
        [model(params={"extra_headers": {"x-api-key": "abcdefgh12345678", "X-Trace": "trace-id-0001"}})],
        environ={"OPENAI_API_KEY": "abcdefgh12345678-and-more"},
    )
    assert redactor.text("k=abcdefgh12345678-and-more h=abcdefgh12345678 t=trace-id-0001") == (
        f"k={REDACTED} h={REDACTED} t=trace-id-0001"
    )


def test_the_start_of_a_key_left_by_a_clipped_message_is_replaced_too() -> None:
    """Messages clip long values before the run's results are redacted: 'got ...sk-proj-O6LOK…' holds
    only the key's start, which the whole key no longer matches."""
    key = "sk-proj-" + "O6LOKq2w3e4r5t6y7u8i9o0p" * 7
    redactor = Redactor.for_models([model()], environ={"OPENAI_API_KEY": key})
    clipped = f"unit: expected 'Celsius', got 'Paris, with the secret {key[:47]}…'"
    assert redactor.text(clipped) == f"unit: expected 'Celsius', got 'Paris, with the secret {REDACTED}…'"
    echoed = f"HTTP 401: Incorrect API key provided: {key[:105]}… and again {key}."
    assert key[:12] not in redactor.text(echoed) and redactor.text(echoed).count(REDACTED) == 2
    assert redactor.text("sk-proj-O6L is not 12 characters of it") == "sk-proj-O6L is not 12 characters of it"

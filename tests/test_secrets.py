"""workbench.secrets: keys read at call time, clear errors, redaction."""

from __future__ import annotations

import json
from urllib.parse import quote, quote_plus

import pytest

from workbench.errors import WorkbenchError
from workbench.secrets import REDACTED, MissingSecret, known_secrets, peek_secret, read_secret, redact

VAR = "WORKBENCH_TEST_SECRET_VAR"


def test_missing_variable_names_the_variable(monkeypatch):
    monkeypatch.delenv(VAR, raising=False)
    with pytest.raises(MissingSecret) as info:
        read_secret(VAR, purpose="fal model 'cand'")
    message = str(info.value)
    assert VAR in message
    assert "fal model 'cand'" in message
    assert isinstance(info.value, WorkbenchError)
    assert info.value.env_var == VAR


def test_blank_variable_counts_as_missing(monkeypatch):
    monkeypatch.setenv(VAR, "   ")
    with pytest.raises(MissingSecret):
        read_secret(VAR)
    assert peek_secret(VAR) is None


def test_value_is_read_at_call_time(monkeypatch):
    monkeypatch.setenv(VAR, "first-key-value-1")
    assert read_secret(VAR) == "first-key-value-1"
    monkeypatch.setenv(VAR, "second-key-value-2")
    assert read_secret(VAR) == "second-key-value-2"
    assert peek_secret(VAR) == "second-key-value-2"


def test_surrounding_whitespace_is_stripped(monkeypatch):
    monkeypatch.setenv(VAR, "  padded-key-abc \n")
    assert read_secret(VAR) == "padded-key-abc"


def test_redact_replaces_every_occurrence():
    secret = "sk-live-abcdef123456"
    text = f"key {secret} was rejected; echo: {secret}"
    out = redact(text, [secret])
    assert secret not in out
    assert out.count(REDACTED) == 2


def test_redact_catches_url_and_json_encodings():
    secret = "a+b/c=d\"e f"
    for form in (quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1]):
        assert form not in redact(f"https://x.example/?key={form}&z=1", [secret])


def test_redact_longest_first_so_no_fragment_survives():
    short, long = "abcd1234", "abcd1234-extended-part"
    out = redact(f"{long} and {short}", [short, long])
    assert "extended-part" not in out
    assert short not in out


def test_secrets_read_once_are_redacted_everywhere_afterwards(monkeypatch):
    monkeypatch.setenv(VAR, "remembered-secret-xyz-987")
    read_secret(VAR)
    assert "remembered-secret-xyz-987" in known_secrets()
    assert "remembered-secret-xyz-987" not in redact("server said remembered-secret-xyz-987")


def test_redact_leaves_other_text_alone():
    assert redact("nothing to hide here", ["unrelated-secret"]) == "nothing to hide here"
    assert redact("", ["x"]) == ""
    assert redact("text", [None, ""]) == "text"


def test_values_shorter_than_eight_characters_are_never_redacted(monkeypatch):
    # "1" or "yes" replaced everywhere would corrupt ids and hashes, and hide nothing worth hiding.
    monkeypatch.setenv(VAR, "yes")
    assert read_secret(VAR) == "yes"
    assert "yes" not in known_secrets()
    assert redact("job-1 says yes", ["1", "yes", "prod7"]) == "job-1 says yes"
    assert redact("key abcdefgh here", ["abcdefgh"]) == f"key {REDACTED} here"

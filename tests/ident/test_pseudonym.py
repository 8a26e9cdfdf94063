"""Keyed pseudonyms and key custody: HMAC-SHA-256, per-register keys, keys never shown."""

from __future__ import annotations

import hmac
import json
import os
import pickle
import stat

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

import iplos.ident
from iplos.config import Settings
from iplos.errors import IplosError
from iplos.ident import ENV_VAR, KeyStore, PseudonymKey, pseudonymise


def test_public_api() -> None:
    assert sorted(iplos.ident.__all__) == [
        "ENV_VAR", "KeyStore", "NumberKind", "PersonNumber", "PseudonymKey", "RECORD_KEY_DOMAIN",
        "RecordKeys", "Sex", "control_digits",
        "generate", "generate_array", "is_valid", "is_valid_array", "parse", "pseudonymise",
    ]  # fmt: skip


@given(st.binary(min_size=32, max_size=100), st.lists(st.text(max_size=20), max_size=20))
def test_equals_hmac_sha256(secret: bytes, values: list[str]) -> None:
    expected = [hmac.digest(secret, v.encode(), "sha256").hex() for v in values]
    assert pseudonymise(values, secret) == expected
    assert pseudonymise(values, PseudonymKey("x", secret)) == expected


def test_arrow_in_arrow_out_keeps_nulls() -> None:
    key = PseudonymKey("iplos", bytes(range(32)))
    out = pseudonymise(pa.chunked_array([["15108695088", None]]), key)
    assert isinstance(out, pa.Array)
    values = out.to_pylist()
    assert values[1] is None
    assert values[0] == key.pseudonym("15108695088")
    assert len(values[0]) == 64 and values[0] == values[0].lower()


def test_short_key_refused() -> None:
    with pytest.raises(IplosError):
        PseudonymKey("iplos", b"short")


def test_keys_never_shown_nor_pickled(settings: Settings) -> None:
    store = KeyStore.open(settings, environ={})
    key = store.ensure("iplos")
    secret = key.secret_hex()
    for text in (repr(key), str(key), repr(store), str(store)):
        assert secret not in text and secret[:16] not in text
    with pytest.raises(TypeError):
        pickle.dumps(key)
    with pytest.raises(TypeError):
        pickle.dumps(store)


def test_per_register_keys_give_distinct_pseudonyms(settings: Settings) -> None:
    store = KeyStore.open(settings, environ={})
    a, b = store.ensure("iplos"), store.ensure("dar")
    assert a != b
    assert a.pseudonym("15108695088") != b.pseudonym("15108695088")
    assert store.ensure("iplos") is a
    assert store.registers == ("dar", "iplos")
    assert "iplos" in store


def test_key_file_round_trip_and_mode(settings: Settings) -> None:
    store = KeyStore.open(settings, environ={})
    store.ensure("iplos")
    store.ensure("kpr")
    path = store.save()
    assert path == settings.key_path
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    again = KeyStore.open(settings, environ={})
    assert again.key("iplos") == store.key("iplos")
    assert again.key("kpr") == store.key("kpr")
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]  # no temp file left
    with pytest.raises(IplosError, match="'npr'"):
        again.key("npr")


def test_env_keys_win_and_are_read_only(settings: Settings) -> None:
    env = {ENV_VAR: json.dumps({"iplos": "ab" * 32})}
    store = KeyStore.open(settings, environ=env)
    assert store.key("iplos") == PseudonymKey("iplos", bytes.fromhex("ab" * 32))
    with pytest.raises(IplosError, match="read-only"):
        store.ensure("dar")


@pytest.mark.parametrize(
    "text", ["not json", json.dumps(["x"]), json.dumps({"iplos": "zz" * 32}), json.dumps({"iplos": "ab" * 8})]
)
def test_malformed_env_keys_never_echo(text: str) -> None:
    with pytest.raises(IplosError) as info:
        KeyStore.from_env({ENV_VAR: text})
    assert "zz" * 32 not in str(info.value) and "ab" * 8 not in str(info.value)


def test_malformed_key_file(settings: Settings) -> None:
    path = settings.key_path
    path.parent.mkdir(parents=True)
    path.write_text("{", encoding="utf-8")
    with pytest.raises(IplosError, match="not JSON"):
        KeyStore.load(path)
    path.write_text(json.dumps({"version": 2, "keys": {}}), encoding="utf-8")
    with pytest.raises(IplosError, match="version"):
        KeyStore.load(path)
    with pytest.raises(IplosError, match="no pseudonym key file"):
        KeyStore.load(path.parent / "missing.json")
    with pytest.raises(IplosError, match="no key file path"):
        KeyStore().save()


def test_key_id_is_stable_one_way_and_differs_per_key() -> None:
    a, b = PseudonymKey("iplos", bytes(range(32))), PseudonymKey("iplos", bytes(range(1, 33)))
    assert a.key_id() == PseudonymKey("dar", bytes(range(32))).key_id() != b.key_id()
    assert len(a.key_id()) == 32 and a.secret_hex()[:16] not in a.key_id()
    assert a.key_id() not in {a.pseudonym(v) for v in ("", "iplos/key-id/v1")}

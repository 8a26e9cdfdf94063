"""Identity: fødselsnummer, D-, H- and FH-numbers, and keyed pseudonyms with their key custody.

- `parse(number) -> PersonNumber` reads kind, birth date and sex (with the 2032 rule); `is_valid`
  answers yes or no; `is_valid_array` does the same for millions of values at once.
- `generate` / `generate_array` draw valid synthetic numbers for a birth date and sex.
- `KeyStore` holds each register's pseudonym key (key file or IPLOS_PSEUDONYM_KEYS);
  `pseudonymise(values, key)` is HMAC-SHA-256 as lower-case hex.
- `RecordKeys`: the key holder's secret record key per person for the cell key method.

Nothing here ever puts an identity number or a key in an error, a repr or a log line.
"""

from __future__ import annotations

from iplos.ident._fnr import NumberKind, PersonNumber, Sex, control_digits, generate, is_valid, parse
from iplos.ident._keys import ENV_VAR, KeyStore
from iplos.ident._pseudonym import PseudonymKey, pseudonymise
from iplos.ident._record_keys import RECORD_KEY_DOMAIN, RecordKeys
from iplos.ident._vector import generate_array, is_valid_array

__all__ = [
    "ENV_VAR",
    "RECORD_KEY_DOMAIN",
    "KeyStore",
    "NumberKind",
    "PersonNumber",
    "PseudonymKey",
    "RecordKeys",
    "Sex",
    "control_digits",
    "generate",
    "generate_array",
    "is_valid",
    "is_valid_array",
    "parse",
    "pseudonymise",
]

"""The key holder's pseudonym tables: HMAC of every identity, kept, and made anew when a key or the identity list changes."""

from __future__ import annotations

import hmac
import stat

import pyarrow as pa
import pyarrow.parquet as pq
from linkage_fixtures import SmallRegisters

from iplos.ident import KeyStore, PseudonymKey
from iplos.linkage._keyholder import TABLES_FOLDER, pseudonym_tables


def _table(small: SmallRegisters, register: str) -> pa.Table:
    paths = pseudonym_tables(small.settings.keyholder_dir, small.keys, [register])
    return pq.read_table(paths[register])


def test_table_holds_hmac_of_every_identity_in_a_private_folder(small: SmallRegisters) -> None:
    table = _table(small, "dar")
    identities = pq.read_table(small.settings.keyholder_dir / "identities.parquet").column("fnr").to_pylist()
    secret = bytes.fromhex(small.keys.key("dar").secret_hex())
    expected = [hmac.new(secret, f.encode(), "sha256").hexdigest() for f in identities]
    assert table.column("ps_dar").to_pylist() == expected
    assert table.column("person").to_pylist() == list(range(len(identities)))
    folder = small.settings.keyholder_dir / TABLES_FOLDER
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in folder.glob("*.parquet"))
    # the fingerprint names the key by its one-way id, never by the key itself
    metadata = b"".join(k + v for k, v in (pq.read_schema(folder / "dar.parquet").metadata or {}).items())
    assert small.keys.key("dar").secret_hex().encode() not in metadata
    assert small.keys.key("dar").key_id().encode() in metadata


def test_table_is_kept_and_made_anew_when_key_or_identities_change(small: SmallRegisters) -> None:
    path = small.settings.keyholder_dir / TABLES_FOLDER / "iplos.parquet"
    first = _table(small, "iplos")
    made = path.stat().st_mtime_ns
    assert _table(small, "iplos").equals(first) and path.stat().st_mtime_ns == made  # reused

    other = KeyStore(
        {**{r: small.keys.key(r) for r in small.keys.registers}, "iplos": PseudonymKey("iplos", b"k" * 32)}
    )
    rekeyed = pq.read_table(pseudonym_tables(small.settings.keyholder_dir, other, ["iplos"])["iplos"])
    assert (
        rekeyed.column("ps_iplos")[0].as_py()
        == hmac.new(b"k" * 32, small.fnr[0].encode(), "sha256").hexdigest()
    )
    assert rekeyed.column("ps_iplos")[0] != first.column("ps_iplos")[0]

    identities = small.settings.keyholder_dir / "identities.parquet"
    pq.write_table(pa.table({"fnr": pa.array(small.fnr[:10], pa.string())}), identities)
    assert _table(small, "iplos").num_rows == 10

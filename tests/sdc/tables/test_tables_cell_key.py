"""The cell key method as run with the key holder: same cell, same noise, and the key stays home."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from test_tables_linked_attack import age_hierarchy, persons, region
from typer.testing import CliRunner

from iplos.cli import app
from iplos.config import Settings
from iplos.ident import RECORD_KEY_DOMAIN, RecordKeys

runner = CliRunner()


def make(home: Path, data: Path, grouping: str, out: str) -> pd.DataFrame:
    result = runner.invoke(
        app,
        [
            "tables",
            "make",
            str(data),
            "--rows",
            "kommune:0,1",
            "--cols",
            "alder:1",
            "--cols",
            "kjonn",
            "--hierarchy",
            f"kommune={home / 'region.csv'}",
            "--hierarchy",
            f"alder={home / f'age-{grouping}.csv'}",
            "--cell-key",
            "--noise-js",
            "1",
            "--out",
            str(home / out),
            "--report",
            str(home / f"{out}.json"),
        ],
    )
    assert result.exit_code == 0, result.output
    return pd.read_csv(home / out, dtype=str, keep_default_na=False)


def test_same_cell_same_noise_across_tables_and_releases_and_the_key_stays_with_the_key_holder(
    iplos_home: Path, tmp_path: Path
) -> None:
    data = persons()
    data.to_csv(tmp_path / "persons.csv", index=False)
    # the same persons in another order and another file: a later release of the same data
    data.sample(frac=1.0, random_state=5).to_csv(tmp_path / "again.csv", index=False)
    region().to_arx_csv(tmp_path / "region.csv")
    for g in ("a", "b"):
        age_hierarchy(g).to_arx_csv(tmp_path / f"age-{g}.csv")
    a = make(tmp_path, tmp_path / "persons.csv", "a", "a.csv")
    b = make(tmp_path, tmp_path / "persons.csv", "b", "b.csv")
    a2 = make(tmp_path, tmp_path / "again.csv", "a", "a2.csv")
    assert set(a["flag"]) == {"perturbed"}
    assert a.equals(a2)  # the next release publishes exactly the same noisy table
    # cells of the same persons in both tables (every age together) carry the same noise
    key = ["kommune:level1", "kommune:level0", "kjonn"]
    margins_a = a[a["alder"] == "Total"].set_index(key)["value"]
    margins_b = b[b["alder"] == "Total"].set_index(key)["value"]
    assert margins_a.equals(margins_b.loc[margins_a.index])
    # the noise is real: some cell differs from its true count, and none is published as 1
    truth = data.groupby("kommune").size()
    shown = a[(a["alder"] == "Total") & (a["kjonn"] == "Total") & (a["kommune:level0"] != "Total")]
    assert (
        shown.set_index("kommune:level0")["value"].astype(int)
        != truth.loc[shown["kommune:level0"]].to_numpy()
    ).any()
    assert "1" not in set(a["value"]) | set(b["value"])
    # the secret and the record keys appear in no file written but the key holder's key file
    settings = Settings.from_env()
    key_file = settings.key_path
    secret = json.loads(key_file.read_text())["keys"][RECORD_KEY_DOMAIN]
    record_keys = RecordKeys.open(settings).keys(list(data["pseudonym"][:20]))
    needles = [secret.encode(), bytes.fromhex(secret), *(repr(float(k)).encode() for k in record_keys)]
    written = [p for p in [*tmp_path.rglob("*"), *iplos_home.rglob("*")] if p.is_file() and p != key_file]
    assert any(p.name == "cases.db" for p in written)  # the release log is among them
    for path in written:
        content = path.read_bytes()
        assert not any(n in content for n in needles), path
    assert "secret" not in repr(RecordKeys.open(settings))
    with pytest.raises(TypeError):
        import pickle

        pickle.dumps(RecordKeys.open(settings))

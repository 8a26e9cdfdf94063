"""`iplos demo` from the command line, in a fresh data folder, end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest

from iplos.delivery import scan_folder
from iplos.delivery._scan import scan_text
from iplos.ident import KeyStore


@pytest.mark.slow
def test_demo_runs_and_delivers(tmp_path: Path) -> None:
    env = {**os.environ, "IPLOS_HOME": str(tmp_path / "data")}
    for name in ("IPLOS_CASE_DB", "IPLOS_KEY_FILE", "IPLOS_ENGINE", "IPLOS_PSEUDONYM_KEYS"):
        env.pop(name, None)
    run = subprocess.run(
        [sys.executable, "-m", "iplos", "demo", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    summary = json.loads(run.stdout)
    delivery = Path(summary["delivery"])
    assert delivery.is_dir() and delivery.parent.parent.parent == Path(summary["home"])
    assert set(summary["files"]) >= {
        "extract.parquet",
        "extract.csv",
        "extract.dta",
        "extract.sav",
        "codebook.html",
        "codebook.json",
        "disclosure-report.html",
        "disclosure-report.json",
        "linkage-report.json",
        "MANIFEST.sha256",
    }
    # Reviewer's coarsening honoured; k=5 and at most 5 % suppressed.
    levels = {q["column"]: q for q in summary["quasi_identifiers"]}
    assert levels["kommune"]["level"] >= 1
    assert summary["suppressed_share"] <= 0.05
    assert summary["risk_after"]["smallest_class"] >= 5 and summary["risk_after"]["highest"] <= 0.2
    assert summary["risk_before"]["highest"] >= summary["risk_after"]["highest"]
    assert summary["invoice"]["total"] > 0 and summary["invoice"]["lines"]
    # The files agree with each other and carry labels.
    parquet = pd.read_parquet(delivery / "extract.parquet")
    stata, meta = pyreadstat.read_dta(str(delivery / "extract.dta"))
    assert len(parquet) == len(stata) == summary["records_after"]
    assert meta.column_names_to_labels["kjonn"] == "Kjønn"
    # The person-year table's own quasi-identifiers (the cause of death is a table of its own).
    own = [q for q in levels if q in parquet.columns]
    assert parquet.groupby(own, dropna=False)["lopenr"].nunique().min() >= 5
    # No key, pseudonym or fødselsnummer anywhere in the delivery.
    home = Path(summary["home"])
    keys = KeyStore.load(home / "keyholder" / "keys.json")
    manifest = {line.split("  ")[0] for line in (delivery / "MANIFEST.sha256").read_text().splitlines()}
    found = scan_folder(
        delivery,
        [keys.key(r).secret_hex() for r in keys.registers],
        ["fnr", "pseudonym"],
        frozenset(manifest),
    )
    assert found == []
    fnrs = set(pd.read_parquet(home / "keyholder" / "identities.parquet")["fnr"])
    text = (delivery / "extract.csv").read_text() + (delivery / "delivery.log").read_text()
    assert not any(f in text for f in fnrs)
    # Nor in what the command printed (its log on the terminal).
    key_hex = [keys.key(r).secret_hex() for r in keys.registers]
    assert scan_text(run.stdout + run.stderr, key_hex) == []

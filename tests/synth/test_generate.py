"""Determinism, refusal to overwrite, replacement and all-or-nothing writes of `generate`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import iplos.synth
import iplos.synth._generate as gen
from iplos.config import Settings
from iplos.errors import IplosError
from iplos.ident import ENV_VAR
from iplos.synth import generate

TINY = {"scale": 0.003, "years": [2016, 2017]}


def _files(home: Path) -> dict[str, bytes]:
    return {str(p.relative_to(home)): p.read_bytes() for p in sorted(home.rglob("*.parquet"))}


def test_public_api() -> None:
    assert sorted(iplos.synth.__all__) == ["CalibrationRow", "Progress", "SynthSummary", "generate", "report"]


def test_same_seed_and_keys_give_the_same_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    a, b, c = (Settings(home=tmp_path / name) for name in "abc")
    generate(a, seed=3, **TINY)  # type: ignore[arg-type]
    for other in (b, c):
        other.key_path.parent.mkdir(parents=True)
        shutil.copy(a.key_path, other.key_path)
    generate(b, seed=3, **TINY)  # type: ignore[arg-type]
    generate(c, seed=4, **TINY)  # type: ignore[arg-type]
    files_a, files_b, files_c = _files(a.home), _files(b.home), _files(c.home)
    assert files_a == files_b
    assert files_a.keys() == files_c.keys() and files_a != files_c


def test_chunking_keeps_totals_and_identities_unique(tmp_path: Path) -> None:
    one = generate(Settings(home=tmp_path / "one"), seed=2, **TINY)  # type: ignore[arg-type]
    many = generate(Settings(home=tmp_path / "many"), seed=2, chunk_persons=200, **TINY)  # type: ignore[arg-type]
    assert one.chunks == 1 and many.chunks == 6  # ceil(361,471 * 0.003 / 200)
    assert one.rows["iplos.person"] == many.rows["iplos.person"]
    assert abs(one.rows["iplos.tjeneste"] - many.rows["iplos.tjeneste"]) <= 5
    fnr = pq.read_table(tmp_path / "many" / "keyholder" / "identities.parquet").column("fnr").to_pylist()
    assert len(fnr) == len(set(fnr)) == many.persons


def test_refuses_to_overwrite_and_replaces_whole(settings: Settings) -> None:
    calls: list[tuple[int, int]] = []
    generate(settings, seed=1, progress=lambda done, total, _: calls.append((done, total)), **TINY)  # type: ignore[arg-type]
    assert calls[-1][0] == calls[-1][1] and len(calls) == calls[-1][1]
    with pytest.raises(IplosError, match="exist already"):
        generate(settings, seed=1, **TINY)  # type: ignore[arg-type]
    generate(settings, seed=1, scale=0.003, years=[2017], replace=True)
    years = sorted(p.name for p in (settings.registers_dir / "iplos" / "person").iterdir())
    assert years == ["aargang=2017"]  # 2016 would no longer link with the new identities
    assert sorted(p.name for p in (settings.registers_dir / "ssb" / "befolkning").iterdir()) == [
        "aargang=2017"
    ]


def test_a_failure_leaves_nothing_behind(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> dict[tuple[str, str], pa.Table]:
        raise RuntimeError("disk full")

    monkeypatch.setattr(gen, "linked_tables", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        generate(settings, seed=1, **TINY)  # type: ignore[arg-type]
    assert not list(settings.registers_dir.rglob("*.parquet"))
    assert not [p for p in settings.registers_dir.rglob("*") if p.name.startswith(".") and p.name != ".lock"]
    assert not (settings.keyholder_dir / "identities.parquet").exists()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"years": [2006]}, "IPLOS years"),
        ({"years": [], "kpr_years": [2025]}, "KPR years"),
        ({"years": []}, "nothing to generate"),
        ({"scale": 0.0}, "scale"),
    ],
)
def test_bad_arguments(settings: Settings, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(IplosError, match=message):
        generate(settings, **kwargs)  # type: ignore[arg-type]


def test_read_only_environment_keys_must_cover_every_register(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_VAR, '{"iplos": "' + "ab" * 32 + '"}')
    with pytest.raises(IplosError, match="read-only"):
        generate(settings, **TINY)  # type: ignore[arg-type]

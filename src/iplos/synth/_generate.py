"""Write a synthetic IPLOS/KPR register and its linked registers to IPLOS_HOME, chunk by chunk.

The population is split into chunks of about ``chunk_persons`` recipients; each chunk is a small
closed world simulated through every year with its exact share of the national quotas, and writes
one part file per table and årgang. Memory is bounded by the chunk, not by the scale. Every årgang
folder is staged and renamed into place only when all chunks have been written
(`iplos.atomic.atomic_directory`); a failure leaves the previous state.
"""

from __future__ import annotations

import io
import json
import math
import shutil
import time
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from iplos.atomic import atomic_directory, write_bytes_atomic, write_text_atomic
from iplos.config import Settings
from iplos.engine import RegisterStore
from iplos.errors import IplosError
from iplos.ident import KeyStore
from iplos.synth._cohort import Cohort
from iplos.synth._contacts import CONTACT_SCHEMA, ContactPopulation, year_contacts
from iplos.synth._identity import FnrIssuer
from iplos.synth._tables import SCHEMAS, care_tables, linked_tables
from iplos.synth._targets import persons_target
from iplos.synth._year import ChunkSpec

__all__ = ["METADATA_FILE", "SYNTH_REGISTERS", "Progress", "SynthSummary", "generate"]

Progress = Callable[[int, int, str], None]
CARE_TABLES = ("person", "tjeneste", "funksjon", "diagnose")
LINKED = (("dar", "dodsfall"), ("npr", "episode"), ("ssb", "befolkning"))
SYNTH_REGISTERS = ("iplos", "kpr", "dar", "npr", "ssb")
METADATA_FILE = "synth.json"
BURN_IN = 3  # years simulated before the first written one, so that services have a history
IPLOS_YEARS = range(2007, 2018)
KPR_YEARS = range(2017, 2025)


@dataclass(frozen=True)
class SynthSummary:
    """What `generate` wrote."""

    home: Path
    scale: float
    seed: int
    years: tuple[int, ...]
    kpr_years: tuple[int, ...]
    chunks: int
    persons: int  # identities in the key holder's list
    rows: dict[str, int] = field(default_factory=dict)  # "register.table" -> rows
    seconds: float = 0.0


def _years(values: Iterable[int] | None, allowed: range, name: str) -> tuple[int, ...]:
    out = tuple(sorted({int(v) for v in values or ()}))
    bad = [y for y in out if y not in allowed]
    if bad:
        raise IplosError(f"{name} years must lie in {allowed.start}-{allowed.stop - 1}, not {bad}")
    return out


def _write_part(folder: Path, chunk: int, table: pa.Table) -> None:
    if table.num_rows:
        # Pseudonyms are random hex: a dictionary would not shrink them, only cost time.
        dictionary = [name for name in table.column_names if name != "pseudonym"]
        pq.write_table(
            table, folder / f"part-{chunk:05d}.parquet", compression="zstd", compression_level=1,
            use_dictionary=dictionary,
        )  # fmt: skip


def generate(
    settings: Settings,
    scale: float = 1.0,
    seed: int = 1,
    years: Iterable[int] | None = IPLOS_YEARS,
    kpr_years: Iterable[int] | None = None,
    progress: Progress | None = None,
    *,
    replace: bool = False,
    chunk_persons: int = 25_000,
) -> SynthSummary:
    """Generate the synthetic registers under ``settings.home`` (see docs/registers.md for the layout).

    ``scale`` 1.0 is Norway (about 300,000-400,000 recipients a year); the same ``seed`` and keys
    give the same files. Pseudonym keys come from the key holder's `KeyStore` (created when missing).
    With ``replace`` an existing synthetic register is replaced whole: årganger of the synthetic
    registers that this run does not write are removed, since their pseudonyms would not link.
    """
    started = time.perf_counter()
    iplos_years = _years(years, IPLOS_YEARS, "IPLOS")
    kpr = _years(kpr_years, KPR_YEARS, "KPR")
    written = tuple(sorted(set(iplos_years) | set(kpr)))
    if not written:
        raise IplosError("nothing to generate: give IPLOS years (2007-2017) or KPR years (2017-2024)")
    if not 0 < scale <= 5:
        raise IplosError(f"scale must be above 0 and at most 5, not {scale}")
    sim_years = tuple(range(written[0] - BURN_IN, written[-1] + 1))
    biggest = max(persons_target(y) for y in written) * scale
    n_chunks = max(1, math.ceil(biggest / chunk_persons))

    targets: dict[tuple[str, str, int], Path] = {}
    for register, ys in (("iplos", iplos_years), ("kpr", kpr)):
        for y in ys:
            for t in CARE_TABLES:
                targets[(register, t, y)] = settings.registers_dir / register / t / f"aargang={y}"
    for y in kpr:
        targets[("kpr", "kontakt", y)] = settings.registers_dir / "kpr" / "kontakt" / f"aargang={y}"
    for register, t in LINKED:
        for y in written:
            targets[(register, t, y)] = settings.registers_dir / register / t / f"aargang={y}"
    # recovery on open: what a killed writer left (staging folders, unfinished commits) goes first
    registers_store = RegisterStore(settings)
    existing = [str(p) for p in targets.values() if p.exists()]
    if existing and not replace:
        raise IplosError(
            f"{len(existing)} årganger exist already (e.g. {existing[0]}); use replace to overwrite"
        )

    store = KeyStore.open(settings)
    needed = [r for r in SYNTH_REGISTERS if (r != "iplos" or iplos_years) and (r != "kpr" or kpr)]
    keys = {r: store.ensure(r) for r in needed}
    if not store.read_only:
        store.save(settings.key_path)

    seeds = np.random.SeedSequence(seed).spawn(n_chunks)
    issuer = FnrIssuer()
    identities: list[np.ndarray] = []
    rows: dict[str, int] = {}
    total = n_chunks * (len(sim_years) + 1)
    done = 0
    with ExitStack() as stack:
        stack.enter_context(registers_store.writing(register for register, _, _ in targets))
        staging = {k: stack.enter_context(atomic_directory(p, replace=replace)) for k, p in targets.items()}
        for c in range(n_chunks):
            rng = np.random.default_rng(seeds[c])
            spec = ChunkSpec(c, n_chunks, scale, sim_years)
            cohort = Cohort(spec, rng, issuer, keys)
            # KPR's contacts draw from a stream of their own, so that the care tables stay the same
            # with or without KPR years.
            contact_rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(c, 1_000_003)))
            contacts: ContactPopulation | None = None
            for yi, y in enumerate(sim_years):
                ctx = cohort.step(yi)
                registers = [r for r, ys in (("iplos", iplos_years), ("kpr", kpr)) if y in ys]
                if registers:
                    for (register, table), data in care_tables(cohort, ctx, registers, rng).items():
                        _write_part(staging[(register, table, y)], c, data)
                        rows[f"{register}.{table}"] = rows.get(f"{register}.{table}", 0) + data.num_rows
                if y in kpr:
                    if contacts is None:
                        contacts = ContactPopulation(spec, y, contact_rng, issuer, keys["kpr"])
                    who = np.flatnonzero(ctx.pool)
                    table = year_contacts(
                        contacts,
                        cohort.ids.pseudonyms("kpr", who),
                        ctx,
                        who,
                        cohort.people.kommune[who],
                        contact_rng,
                    )
                    _write_part(staging[("kpr", "kontakt", y)], c, table)
                    rows["kpr.kontakt"] = rows.get("kpr.kontakt", 0) + table.num_rows
                done += 1
                if progress:
                    progress(done, total, f"chunk {c + 1}/{n_chunks}, year {y}")
            alive_written = np.zeros(len(cohort.people), dtype=bool)
            for yi, y in enumerate(sim_years):
                if y not in written:
                    continue
                for (register, table), data in linked_tables(cohort, yi, rng).items():
                    _write_part(staging[(register, table, y)], c, data)
                    rows[f"{register}.{table}"] = rows.get(f"{register}.{table}", 0) + data.num_rows
                p = cohort.people
                jan1, dec31 = np.datetime64(f"{y}-01-01", "D"), np.datetime64(f"{y}-12-31", "D")
                alive_written |= (p.birth <= dec31) & (np.isnat(p.death) | (p.death >= jan1))
            identities.append(cohort.ids.fnr()[alive_written])
            if contacts is not None:
                identities.append(contacts.fnr)
            done += 1
            if progress:
                progress(done, total, f"chunk {c + 1}/{n_chunks}, linked registers")
        for (register, table, _), folder in staging.items():
            if not any(folder.iterdir()):
                if (register, table) == ("kpr", "kontakt"):
                    schema = CONTACT_SCHEMA
                else:
                    schema = SCHEMAS[("care", table) if register in ("iplos", "kpr") else (register, table)]
                pq.write_table(schema.empty_table(), folder / "part-00000.parquet", compression="zstd")
        fnr = np.sort(np.concatenate(identities)) if identities else np.empty(0, "U11")
        buffer = io.BytesIO()
        pq.write_table(
            pa.table({"fnr": pa.array(fnr.tolist(), type=pa.string())}), buffer, compression="zstd"
        )
        settings.keyholder_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_bytes_atomic(settings.keyholder_dir / "identities.parquet", buffer.getvalue())
    if replace:
        _remove_stale(settings, set(targets))
    summary = SynthSummary(
        home=settings.home,
        scale=scale,
        seed=seed,
        years=iplos_years,
        kpr_years=kpr,
        chunks=n_chunks,
        persons=len(fnr),
        rows=dict(sorted(rows.items())),
        seconds=round(time.perf_counter() - started, 2),
    )
    meta = {
        "generator": "iplos.synth",
        "scale": scale,
        "seed": seed,
        "years": list(iplos_years),
        "kpr_years": list(kpr),
        "chunks": n_chunks,
        "persons": summary.persons,
        "rows": summary.rows,
    }
    write_text_atomic(settings.home / METADATA_FILE, json.dumps(meta, indent=2) + "\n")
    return summary


def _remove_stale(settings: Settings, written: set[tuple[str, str, int]]) -> None:
    for register in SYNTH_REGISTERS:
        root = settings.registers_dir / register
        if not root.is_dir():
            continue
        for table_dir in root.iterdir():
            if not table_dir.is_dir():
                continue
            for folder in table_dir.glob("aargang=*"):
                year = folder.name.split("=", 1)[1]
                if not year.isdigit() or (register, table_dir.name, int(year)) not in written:
                    shutil.rmtree(folder, ignore_errors=True)

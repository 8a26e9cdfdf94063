"""The processor's work on a case, step by step: link, propose, answer a counter-proposal, deliver.

Each step reads the case, does its work on the data plane and records the outcome as a case command
(`record_linkage_done`, `propose_anonymisation`, `agree_anonymisation`, `record_delivery`), so the
case history is the audit trail. `next_step` does whatever the case's state asks of the processor.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import pyarrow.parquet as pq

from iplos.cases import Actor, Case, CaseService
from iplos.catalog import catalog
from iplos.config import Backend, Settings
from iplos.delivery._anonymise import (
    Evaluation,
    alternatives,
    assessment,
    evaluate,
    from_case_plan,
    propose,
    risk_views,
    steer,
    to_case_plan,
)
from iplos.delivery._build import build_release, disclosure_report
from iplos.delivery._case import (
    Anonymisation,
    anonymisation_setup,
    granted_variables,
    granted_years,
    linkage_request,
    population_words,
    required_levels,
)
from iplos.delivery._deliver_tables import deliver_tables
from iplos.delivery._documents import MANIFEST, sha256_of
from iplos.delivery._formats import STEM
from iplos.delivery._multi import TABLE, Stacked, knows_at_least, split, stack
from iplos.delivery._plan import Plan
from iplos.delivery._release import Criteria, Release
from iplos.delivery._write import Delivered, case_lock, verify_manifest, write_delivery
from iplos.engine import Engine, connect
from iplos.errors import IplosError
from iplos.ident import KeyStore
from iplos.linkage import LinkageRequest, LinkedExtract, link
from iplos.linkage import _cache as linked_cache
from iplos.linkage._tables import TABLE_KEYS, link_extract_and_tables
from iplos.release import DEFAULT_ITEMS_KNOWN

Action = Literal["proposed", "agreed", "delivered", "waiting"]
IDENTIFIER_COLUMNS = frozenset({"fnr", "pseudonym", "person", "fodselsnummer"})


@dataclass(frozen=True)
class StepResult:
    """What a processor step did, for the command line and the demo's summary."""

    case_id: str
    action: Action
    message: str
    plan: dict[str, Any] = field(default_factory=dict)
    evaluation: Evaluation | None = None
    delivered: Delivered | None = None
    linkage: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"case": self.case_id, "action": self.action, "message": self.message}
        if self.plan:
            out["plan"] = self.plan
        if self.linkage:
            out["linkage"] = self.linkage
        if self.delivered is not None:
            out["delivery"] = {
                "path": str(self.delivered.path),
                "files": sorted(self.delivered.files),
                "gate": self.delivered.gate.to_dict(),
            }
        return out


def forbidden_columns() -> frozenset[str]:
    """Column names that may never be delivered: direct identifiers and linkage keys."""
    names = {v.name for v in catalog().variables() if v.role in ("direct_identifier", "linkage_key")}
    return frozenset(names | IDENTIFIER_COLUMNS)


def issued_serials(folder: Path) -> set[int]:
    """Serial numbers in earlier deliveries of a case (so that a new delivery draws others)."""
    out: set[int] = set()
    if folder.is_dir():
        for path in sorted(folder.glob(f"*/{STEM}.parquet")):
            out.update(int(v) for v in pq.read_table(path, columns=["lopenr"]).column(0).to_pylist())
    return out


class Processor:
    """The processor (SSB's role) acting on cases in one data folder."""

    def __init__(
        self,
        settings: Settings,
        service: CaseService,
        actor: Actor,
        *,
        backend: Backend | None = None,
        spark_session: Any | None = None,
        criteria: Criteria | None = None,
        progress: Callable[[str], None] | None = None,
        min_levels: Mapping[str, str] | None = None,
        max_levels: Mapping[str, str] | None = None,
        items_known: int | None = DEFAULT_ITEMS_KNOWN,
    ) -> None:
        if actor.role != "processor":
            raise IplosError(f"{actor.username} acts as {actor.role}; only a processor links and delivers")
        self.settings = settings
        self.service = service
        self.actor = actor
        self.backend = backend
        self.spark_session = spark_session
        self.criteria = criteria or Criteria()
        # The processor's steering of new proposals (level names per column, e.g. kommune at most fylke).
        self.min_levels = dict(min_levels or {})
        self.max_levels = dict(max_levels or {})
        self.progress = progress or (lambda _msg: None)
        # What the attacker knows of a multi-table extract's other tables: at most this many of a
        # person's rows besides their person-year trajectory (None: every row, full knowledge).
        self.items_known = items_known

    # data ------------------------------------------------------------------------------------------
    def case_folder(self, case_id: str) -> Path:
        return self.settings.deliveries_dir / case_id

    def link(self, case: Case) -> tuple[LinkedExtract, Anonymisation]:
        """Link the case's registers (fresh serial numbers) and set up its anonymisation.

        With tables besides the person-year one (service spells, NPR episodes, ...), the extract's
        table is all of them stacked (`iplos.delivery._multi`), so every step judges each person
        across all tables together.
        """
        extract, setup, _ = self.link_all(case)
        return extract, setup

    def link_all(self, case: Case) -> tuple[LinkedExtract, Anonymisation, Stacked | None]:
        """`link`, with the stacked tables (None when the person-year table is all there is)."""
        request = linkage_request(case)
        self.progress(f"linking {', '.join(request.registers)} for {len(request.years)} årganger")
        keys = KeyStore.open(self.settings)
        exclude = issued_serials(self.case_folder(case.case_id))
        multi = case.content.output != "tables" and extra_tables_of(request)
        # the backend too: the linkage report names the one that linked
        shape = f"{'tables' if multi else 'extract'}/{self.backend or self.settings.engine}"
        cache = linked_cache.folder_of(self.settings, case.case_id)
        key = linked_cache.linkage_key(self.settings, keys, request, shape)
        kept = linked_cache.load(cache, key)
        if kept is not None:
            # The same request on the same data: the kept linkage with new serial numbers, as a
            # new linkage would draw them (none of an earlier delivery's).
            self.progress("linked data unchanged since the last step: reusing its linkage")
            extract, tables = linked_cache.renumbered(*kept, TABLE_KEYS, exclude)
        else:
            tables = {}
            engine = connect(self.settings, self.backend, self.spark_session)
            try:
                if multi:
                    # One linkage for every table: one population, one draw of serial numbers.
                    extract, linked = link_extract_and_tables(engine, keys, request, exclude_serials=exclude)
                    tables = dict(linked.tables)
                    if not _wants_spells(request):
                        tables.pop("service_spells", None)
                else:
                    extract = link(engine, keys, request, exclude_serials=exclude)
            finally:
                if self.spark_session is None:
                    engine.close()
            linked_cache.store(cache, key, extract, tables)
        if extract.report.rows == 0:
            raise IplosError(
                f"case {case.case_id}: nobody in the registers fits the approved population and årganger "
                f"({request.population.description or 'no restriction'}, {', '.join(map(str, request.years))})"
            )
        self.progress(f"linked: {extract.report.rows} records of {extract.report.persons} persons")
        years = request.years
        setup = anonymisation_setup(extract.columns, years, required_levels(case))
        if not tables:
            return extract, setup, None
        serials = extract.serial_numbers
        for name, table in tables.items():
            if not set(table.column("lopenr").to_pylist()) <= serials:
                raise IplosError(
                    f"case {case.case_id}: the {name} table's serial numbers differ from the extract's"
                )
        stacked = stack(extract, tables, setup, granted_variables(case), required_levels(case), years)
        self.progress("tables: " + ", ".join(f"{t} ({tables[t].num_rows} rows)" for t in stacked.tables[1:]))
        return replace(extract, table=stacked.source), stacked.setup, stacked

    def _frame(self, extract: LinkedExtract) -> pd.DataFrame:
        frame: pd.DataFrame = extract.table.to_pandas()
        return frame

    def _engine(self) -> Engine:
        """The engine the release path groups person signatures in (the configured backend)."""
        return connect(self.settings, self.backend, self.spark_session)

    def _evaluate(self, extract: LinkedExtract, plan: Plan, setup: Anonymisation) -> Evaluation:
        engine = self._engine()
        try:
            return evaluate(engine, extract.table, plan, setup.hierarchies)
        finally:
            if self.spark_session is None:
                engine.close()

    # steps -----------------------------------------------------------------------------------------
    def propose(self, case_id: str, comment: str = "") -> StepResult:
        """Link (recording it when not done yet), search the optimal plan and propose it."""
        case = self.service.get(case_id)
        extract, setup = self.link(case)
        if case.status == "accepted":
            self.service.record_linkage_done(case_id, self.actor, extract.report.to_dict())
        return self._propose(case_id, extract, setup, comment or "optimal plan under the criteria")

    def _propose(
        self, case_id: str, extract: LinkedExtract, setup: Anonymisation, comment: str
    ) -> StepResult:
        several = TABLE in setup.hierarchies and self.items_known is None
        if several and (self.criteria.l is not None or self.criteria.t is not None):
            raise IplosError(
                f"case {case_id}: l-diversity and t-closeness are judged within one table; this extract has "
                "several tables, protected together by k persons per signature: propose with k only"
            )
        self.progress("searching the least-generalised plan that meets the criteria")
        engine = self._engine()
        try:
            steered = steer(setup, self.min_levels, self.max_levels)
            plan, outcome = propose(engine, extract.table, steered, self.criteria, self.items_known)
            evaluation = evaluate(engine, extract.table, plan, setup.hierarchies, outcome.table)
        finally:
            if self.spark_session is None:
                engine.close()
        result = outcome.search
        assert result is not None
        data = to_case_plan(plan, setup.hierarchies, evaluation)
        data["results"]["search"] = {
            "utility": result.utility,
            "unit": plan.criteria.unit,
            "lattice_size": result.lattice_size,
            "evaluated": result.evaluated,
            "satisfying_seen": len(result.satisfying),
            "seconds": round(result.seconds, 3),
            "search_suppressed": result.suppressed_records,
            "search_suppressed_persons": result.suppressed_persons,
            # the chosen plan's own information loss, beside its alternatives' (the pages chart them)
            "metrics": {m: round(v, 6) for m, v in result.metrics.items() if math.isfinite(v)},
            "alternatives": alternatives(outcome, setup.hierarchies),
        }
        self.service.propose_anonymisation(case_id, self.actor, data, comment)
        return StepResult(
            case_id,
            "proposed",
            f"proposed a plan ({evaluation.applied.suppressed} records suppressed)",
            plan=data,
            evaluation=evaluation,
            linkage=extract.report.to_dict(),
        )

    def answer(self, case_id: str) -> StepResult:
        """Judge the applicant's counter-proposal: agree when it meets the criteria, else propose again."""
        case = self.service.get(case_id)
        latest = case.anonymisation_rounds[-1]
        extract, setup, stacked = self.link_all(case)
        try:
            plan = from_case_plan(latest.plan, setup)
        except IplosError as exc:
            return self._propose(
                case_id, extract, setup, f"the counter-proposal does not fit the extract: {exc}"
            )
        judged = plan.criteria.l is not None or plan.criteria.t is not None
        if stacked is not None and plan.items_known is None and judged:
            reason = (
                "l-diversity and t-closeness are judged within one table; this extract has several "
                f"({', '.join(stacked.tables)}), protected together by k persons per signature"
            )
            return self._propose(case_id, extract, setup, f"the counter-proposal is refused: {reason}")
        if not plan.criteria.at_least_as_strict_as(self.criteria):
            reason = f"its criteria ({plan.criteria.describe()}) are looser than {self.criteria.describe()}"
            return self._propose(case_id, extract, setup, f"the counter-proposal is refused: {reason}")
        if stacked is not None and not knows_at_least(plan.items_known, self.items_known):
            reason = (
                f"its attacker knows {plan.items_known} rows of the other tables, fewer than "
                f"{self.items_known if self.items_known is not None else 'all'}"
            )
            return self._propose(case_id, extract, setup, f"the counter-proposal is refused: {reason}")
        evaluation = self._evaluate(extract, plan, setup)
        if not evaluation.acceptable:
            reason = f"it would suppress {evaluation.suppressed_share:.1%} of the {plan.criteria.unit}s"
            return self._propose(
                case_id, extract, setup, f"the counter-proposal does not meet the criteria: {reason}"
            )
        self.service.agree_anonymisation(case_id, self.actor)
        return StepResult(
            case_id,
            "agreed",
            f"agreed to the applicant's plan (round {latest.number})",
            plan=dict(latest.plan),
            evaluation=evaluation,
        )

    def deliver(self, case_id: str, on_file: Callable[[str], None] | None = None) -> StepResult:
        """Link anew, apply the agreed plan, pass the release gate, write the files, record the delivery."""
        case = self.service.get(case_id)
        agreed = case.agreed_plan
        if case.status != "anonymisation_agreed" or agreed is None:
            raise IplosError(f"case {case_id} has no agreed anonymisation plan (status {case.status})")
        finished = self._finish_started(case)
        if finished is not None:
            return finished
        extract, setup, stacked = self.link_all(case)
        plan = from_case_plan(agreed, setup)
        evaluation = self._evaluate(extract, plan, setup)
        frame = self._frame(extract)
        if not evaluation.acceptable:
            raise IplosError(
                f"case {case_id}: the agreed plan suppresses {evaluation.suppressed_share:.1%} of the {plan.criteria.unit}s "
                f"today, more than the agreed {plan.criteria.max_suppressed:.1%}; propose a new plan"
            )
        delivery_id = self._start(case)
        if case.content.output == "tables":
            return self._deliver_tables(case, extract, plan, setup, delivery_id)
        extras: tuple[Release, ...] = ()
        if stacked is None:
            release = build_release(extract, evaluation, setup.hierarchies, delivery_id, extract_years(case))
        else:
            release, extras = split(stacked, extract, evaluation, delivery_id, extract_years(case))
        rounds = [
            {"round": r.number, "by": r.party, "levels": dict(r.plan.get("levels", {})), "note": r.comment}
            for r in case.anonymisation_rounds
        ]
        qis = [q.column for q in plan.quasi_identifiers]
        report = disclosure_report(release, evaluation, setup.hierarchies, rounds)
        proposals = [r for r in case.anonymisation_rounds if r.party == "processor"]
        if proposals:
            search = proposals[-1].plan.get("results", {}).get("search", {})
            report["alternatives"] = list(search.get("alternatives", []))
            report["alternatives_metric"] = search.get("utility", "loss")
        report["assessment_before"] = assessment(frame, qis)
        report["assessment_after"] = assessment(evaluation.applied.data, qis)
        if extras:
            # records_* count the person-year table's rows, as for one table; each table's below.
            kinds = extract.table.column(TABLE).to_numpy(zero_copy_only=False)
            report["records_before"] = int((kinds == release.table).sum())
            report["records_after"] = len(release.data)
            report["suppressed"] = report["records_before"] - report["records_after"]
            report["tables"] = [
                {
                    "table": r.table,
                    "records_before": int((kinds == r.table).sum()),
                    "records_after": len(r.data),
                    "quasi_identifiers": list(r.quasi_identifiers),
                }
                for r in (release, *extras)
            ]
        engine = self._engine()
        try:
            report["risk_views"] = risk_views(
                engine, extract.table, evaluation.applied.data, plan, list(extract.table.column_names)
            )
        finally:
            if self.spark_session is None:
                engine.close()
        keys = KeyStore.open(self.settings)
        self.progress(f"writing delivery {delivery_id} and running the release gate")
        delivered = write_delivery(
            release,
            self.case_folder(case_id) / delivery_id,
            disclosure=report,
            keys_hex=_keys_hex(keys),
            forbidden_columns=forbidden_columns(),
            linkage_report=extract.report.to_dict(),
            log_lines=[
                f"case {case_id}: delivery {delivery_id} by {self.actor.username}",
                f"linked on {extract.report.backend}: {extract.report.rows} records, {extract.report.persons} persons",
                f"agreed plan: round {case.agreed_round}",
            ],
            on_file=on_file,
            tables=extras,
            population=population_words(case),
        )
        digest = sha256_of(delivered.path / MANIFEST)
        self.service.record_delivery(case_id, self.actor, delivery_id, digest)
        linked_cache.discard(linked_cache.folder_of(self.settings, case_id))
        return StepResult(
            case_id,
            "delivered",
            f"delivered {delivery_id} to {delivered.path}",
            plan=dict(agreed),
            evaluation=evaluation,
            delivered=delivered,
            linkage=extract.report.to_dict(),
        )

    def _deliver_tables(
        self, case: Case, extract: LinkedExtract, plan: Plan, setup: Anonymisation, delivery_id: str
    ) -> StepResult:
        """Protected tables instead of microdata (`_deliver_tables.deliver_tables`)."""
        delivered = deliver_tables(
            self.service.url,
            self.settings,
            case,
            self._frame(extract),
            plan,
            setup,
            delivery_id,
            self.case_folder(case.case_id) / delivery_id,
            extract.report.to_dict(),
            self.actor.username,
            self.progress,
        )
        digest = sha256_of(delivered.path / MANIFEST)
        self.service.record_delivery(case.case_id, self.actor, delivery_id, digest)
        linked_cache.discard(linked_cache.folder_of(self.settings, case.case_id))
        return StepResult(
            case.case_id,
            "delivered",
            f"delivered protected tables {delivery_id} to {delivered.path}",
            plan=dict(case.agreed_plan or {}),
            delivered=delivered,
            linkage=extract.report.to_dict(),
        )

    def next_step(self, case_id: str) -> StepResult:
        """Do what the case's state asks of the processor next."""
        case = self.service.get(case_id)
        if case.status in ("accepted", "linked"):
            return self.propose(case_id)
        if case.status == "anonymisation":
            if case.anonymisation_rounds and case.anonymisation_rounds[-1].party == "applicant":
                return self.answer(case_id)
            return StepResult(
                case_id, "waiting", "waiting for the applicant to agree or counter the proposal"
            )
        if case.status == "anonymisation_agreed":
            return self.deliver(case_id)
        raise IplosError(
            f"case {case_id} is {case.status}: the processor links and delivers only after the offer is "
            "accepted (accepted, linked, anonymisation, anonymisation_agreed)"
        )

    # the two-phase commit of a delivery: intent, folder, completion --------------------------------
    def _start(self, case: Case) -> str:
        """Record the intent (`DeliveryStarted`) and return the id of the folder to write."""
        if case.pending_delivery is not None:
            return case.pending_delivery  # a crashed run's delivery, written again under its id
        delivery_id = self._next_delivery_id(case)
        self.service.start_delivery(case.case_id, self.actor, delivery_id, expected_version=case.version)
        return delivery_id

    def _finish_started(self, case: Case) -> StepResult | None:
        """Finish what a crashed delivery left: record a complete folder, or clear a partial one."""
        delivery_id = case.pending_delivery
        if delivery_id is None:
            return None
        folder = self.case_folder(case.case_id)
        with case_lock(folder):  # also removes the staging folders a killed writer left
            target = folder / delivery_id
            if not target.exists():
                return None
            problem = verify_manifest(target)
            if problem is not None:
                raise IplosError(
                    f"case {case.case_id}: delivery {delivery_id} was started and its folder exists but is "
                    f"not complete ({problem}); it was not written by iplos, inspect it before delivering"
                )
            digest = sha256_of(target / MANIFEST)
            self.service.record_delivery(case.case_id, self.actor, delivery_id, digest)
        self.progress(f"recorded delivery {delivery_id}, which an interrupted run had written")
        return StepResult(
            case.case_id,
            "delivered",
            f"recorded delivery {delivery_id} in {target}, written and gate-passed by an interrupted run "
            "(its manifest verified)",
            plan=dict(case.agreed_plan or {}),
        )

    def _next_delivery_id(self, case: Case) -> str:
        folder = self.case_folder(case.case_id)
        n = len(case.deliveries) + 1
        while (folder / f"d{n:03d}").exists():
            n += 1
        return f"d{n:03d}"


SPELL_ONLY = ("vedtaksdato", "startdato", "sluttdato")


def _wants_spells(request: LinkageRequest) -> bool:
    """Service spells are delivered when a spell's date is granted; the service and its hours alone
    stay what they were, the person-year's summary (`antall_tjenester`, `timer_per_uke`)."""
    return any(
        v.register == "iplos" and v.table == "tjeneste" and v.column in SPELL_ONLY for v in request.variables
    )


def extra_tables_of(request: LinkageRequest) -> bool:
    """Whether the request grants columns that go to tables besides the person-year one."""
    return _wants_spells(request) or any(
        (v.register == "iplos" and v.table == "diagnose") or v.register in ("npr", "dar")
        for v in request.variables
    )


def extract_years(case: Case) -> tuple[int, ...]:
    """The årganger the case grants (a denied register's årganger are left out)."""
    return granted_years(case)


def _keys_hex(keys: KeyStore) -> Iterable[str]:
    return [keys.key(r).secret_hex() for r in keys.registers]

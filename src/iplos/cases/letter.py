"""The decision letter (vedtak), generated from the case's events: structured data and Markdown.

It states the outcome, the legal basis, the registers approved, the variables granted (with any
required coarsening) and denied (with reasons), the conditions, the årganger, the deletion date
and the right to appeal (forvaltningsloven §§ 28-29).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from iplos.cases import events as ev
from iplos.cases._catalogue import CatalogueView, default_catalogue
from iplos.cases._codec import to_json
from iplos.cases.decide import APPEAL_DAYS
from iplos.cases.exceptions import CommandRefused
from iplos.cases.granted import grant
from iplos.cases.population import describe, in_words
from iplos.cases.state import Case, replay
from iplos.cases.table_request import table_in_words

_OUTCOME_NB = {"approved": "Innvilget", "partly_approved": "Delvis innvilget", "rejected": "Avslått"}
_KIND_NB = {"new": "Ny søknad", "change": "Endringssøknad", "new_period": "Søknad om data for ny periode"}


@dataclass(frozen=True)
class Letter:
    """A decision letter: `data` (JSON-ready) and `markdown` (for people)."""

    case_id: str
    data: dict[str, Any]
    markdown: str


def _latest_decision(events: Sequence[ev.Event]) -> ev.CaseDecided:
    decisions = [e for e in events if isinstance(e, ev.CaseDecided)]
    if not decisions:
        raise CommandRefused("the case has no decision (vedtak) yet")
    return decisions[-1]


def letter(
    events: Sequence[ev.Event], case: Case | None = None, catalogue: CatalogueView | None = None
) -> Letter:
    """The decision letter of the latest decision in `events` (labels from `catalogue`)."""
    state = case or replay(events)
    cat = catalogue or default_catalogue()
    decision = _latest_decision(events)
    c = state.content
    given = grant(state, cat)
    granted = list(given.variables)
    denied = [d for d in state.variable_decisions.values() if d.outcome == "denied"]
    justification = {(v.register, v.name): v.justification for v in c.variables}
    purpose = {(v.register, v.name): v.purpose for v in c.variables}
    appeal_until = date.fromordinal(decision.at.date().toordinal() + APPEAL_DAYS)
    data: dict[str, Any] = {
        "case_id": state.case_id,
        "kind": state.kind,
        "decided_on": decision.at.date().isoformat(),
        "decided_by": decision.actor,
        "outcome": decision.outcome,
        "project": to_json(c.project),
        "legal_basis": to_json(c.legal_basis),
        "purposes": list(c.purposes),
        "registers": [to_json(a) for a in state.register_approvals.values()],
        "granted_variables": [
            {
                **to_json(d),
                "justification": justification.get((d.register, d.name), ""),
                "purpose": purpose.get((d.register, d.name)),
            }
            for d in granted
        ],
        "denied_variables": [to_json(d) for d in denied],
        "aarganger": list(given.years),
        "withheld_aarganger": [{"aargang": y, "register": r} for y, r in given.withheld_years],
        "withheld_variables": [
            {"register": d.register, "name": d.name, "denied_register": r}
            for d, r in given.withheld_variables
        ],
        "population": {
            "criteria": to_json(c.population),
            "nb": describe(c.population, "nb", cat),
            "en": describe(c.population, "en", cat),
            "in_words_nb": in_words(c.population, "nb", cat),
            "in_words_en": in_words(c.population, "en", cat),
        },
        "output": c.output,
        "tables": [
            {**to_json(t), "nb": table_in_words(t, "nb"), "en": table_in_words(t, "en")} for t in c.tables
        ],
        "reasons": list(decision.reasons),
        "conditions": list(decision.conditions),
        "deletion_date": c.deletion_date.isoformat() if c.deletion_date else None,
        "appeal_deadline": appeal_until.isoformat(),
        "appeals": [to_json(a) for a in state.appeals],
    }
    return Letter(state.case_id, data, _markdown(data))


def _markdown(d: dict[str, Any]) -> str:
    p, lb = d["project"], d["legal_basis"]
    out = [
        f"# Vedtak: {_OUTCOME_NB[d['outcome']].lower()} søknad om data fra helseregister",
        "",
        f"**Sak:** {d['case_id']} ({_KIND_NB[d['kind']]})  ",
        f"**Dato:** {d['decided_on']}  ",
        f"**Prosjekt:** {p['title']}  ",
        f"**Institusjon:** {p['institution']}; prosjektleder {p['leader']}",
        "",
        f"## Resultat: {_OUTCOME_NB[d['outcome']]}",
        "",
        *[f"- {r}" for r in d["reasons"]],
        "",
        "## Rettslig grunnlag",
        "",
        f"- Formål (IPLOS-forskriften § 1-3): {', '.join(d['purposes']) or '-'}",
        f"- REK-godkjenning: {lb['rek_reference'] or '(ikke forskning)'}",
        f"- Personvernkonsekvensvurdering (DPIA): {lb['dpia']}",
        f"- Behandlingsgrunnlag: personvernforordningen artikkel {lb['gdpr_article6']} og {lb['gdpr_article9']}",
        "",
        "## Registre",
        "",
        "| register | vedtak | referanse | begrunnelse |",
        "|---|---|---|---|",
        *[
            f"| {r['register']} | {'godkjent' if r['outcome'] == 'granted' else 'avslått'} | {r['reference']} | {r['reason']} |"
            for r in d["registers"]
        ],
        "",
        "## Innvilgede variabler",
        "",
        "| register | variabel | formål (§ 1-3) | krav til aggregering |",
        "|---|---|---|---|",
        *[
            f"| {v['register']} | {v['name']} | {v['purpose'] or '-'} | "
            f"{v['level'] if v['outcome'] == 'coarsened' else 'ingen'} |"
            for v in d["granted_variables"]
        ],
        "",
    ]
    if d["denied_variables"]:
        out += [
            "## Avslåtte variabler",
            "",
            "| register | variabel | begrunnelse |",
            "|---|---|---|",
            *[f"| {v['register']} | {v['name']} | {v['reason']} |" for v in d["denied_variables"]],
            "",
        ]
    if d["withheld_aarganger"] or d["withheld_variables"]:
        out += [
            "## Ikke utlevert fordi registeret er avslått",
            "",
            *[f"- Årgang {w['aargang']}: {w['register']} er ikke godkjent." for w in d["withheld_aarganger"]],
            *[
                f"- Variabel {w['register']}.{w['name']}: {w['denied_register']} er ikke godkjent."
                for w in d["withheld_variables"]
            ],
            "",
        ]
    out += [
        "## Vilkår",
        "",
        *([f"- {c}" for c in d["conditions"]] or ["- Ingen særskilte vilkår."]),
        f"- Årganger: {', '.join(map(str, d['aarganger']))}.",
        "- Populasjon (alle kriterier gjelder):",
        *[f"  - {phrase}" for phrase in d["population"]["nb"]],
        *(
            [f"  - søkerens beskrivelse: {d['population']['criteria']['description']}"]
            if d["population"]["criteria"]["description"]
            else []
        ),
        f"- Utlevering som {'mikrodata' if d['output'] == 'microdata' else 'aggregerte tabeller'}.",
        *[f"  - Tabell {t['nb']}" for t in d["tables"]],
        f"- Dataene skal slettes senest {d['deletion_date']}, og sletting skal bekreftes.",
        "",
        "## Klagerett",
        "",
        "Vedtaket kan påklages innen tre uker fra det er mottatt (forvaltningsloven §§ 28 og 29), "
        f"det vil si senest {d['appeal_deadline']}. Klagen sendes til den som har fattet vedtaket.",
        "",
    ]
    return "\n".join(out)

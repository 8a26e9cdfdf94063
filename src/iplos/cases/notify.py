"""Notifications as a pure function: a stored event (and the case after it) → the messages it causes.

No I/O here. `messages_for_event` says who a change concerns and what they are told, in each
recipient's language (bokmål unless the person chose English); `review_reminders` and
`deletion_reminders` do the same for the deadlines a periodic scan finds near. The outbox
(`outbox_store`) stores what these return in the same transaction as the event, and the sender
(`notify_service`) mails it.

| trigger | who |
|---|---|
| submitted / resubmitted | every active reviewer; the applicant gets a receipt |
| returned with comments | the applicant and project members |
| decided / appeal decided | the applicant and project members |
| offer made (with its deadline) | the applicant and project members |
| delivery ready | the applicant and project members |
| 30-day deadline near (≤ `REVIEW_WARNING_DAYS` left) | the reviewers |
| deletion date near (≤ `DELETION_WARNING_DAYS` ahead) | the applicant and project members (the users behind the data's recipients) |

What a mail may say: the case number, the project title, dates, amounts, the outcome and how many
comments there are. Free text that people type (comments, reasons, statements) stays in the app;
the title is the only free text, and any run of 11 digits in it (a fødselsnummer-shaped number) is
masked. No event of a case carries a pseudonym or key, and none of their hashes is quoted.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from iplos.cases import events as ev
from iplos.cases.state import Case

Language = str
LANGUAGES: tuple[Language, ...] = ("nb", "en")
REVIEW_WARNING_DAYS = 5
"""A reviewer is reminded when this many days or fewer are left of the 30."""
DELETION_WARNING_DAYS = 30
"""Recipients are reminded when the deletion date is this many days away or fewer."""

_FNR = re.compile(r"\d(?:[\s.-]?\d){10}")


@dataclass(frozen=True)
class Notice:
    """One message to one person: `trigger` names what caused it (unique per case and recipient)."""

    recipient: str
    kind: str
    trigger: str
    language: Language
    subject: str
    text: str
    html: str


# (subject, body) per kind and language; {title} is the masked project title, {case} the case id.
_TEXTS: dict[str, dict[Language, tuple[str, str]]] = {
    "submitted": {
        "nb": (
            "Ny søknad {case} til behandling",
            "Søknaden {case} «{title}» er sendt inn og venter på behandling.",
        ),
        "en": (
            "New application {case} to review",
            "The application {case} “{title}” was submitted and awaits review.",
        ),
    },
    "resubmitted": {
        "nb": (
            "Søknad {case} sendt inn på nytt",
            "Søknaden {case} «{title}» er endret og sendt inn på nytt.",
        ),
        "en": (
            "Application {case} resubmitted",
            "The application {case} “{title}” was changed and resubmitted.",
        ),
    },
    "receipt": {
        "nb": (
            "Søknaden {case} er mottatt",
            "Vi har mottatt søknaden {case} «{title}». Fristen for vedtak er 30 dager.",
        ),
        "en": (
            "Application {case} received",
            "We have received the application {case} “{title}”. A decision is due within 30 days.",
        ),
    },
    "returned": {
        "nb": (
            "Søknaden {case} er returnert med merknader",
            "Søknaden {case} «{title}» er returnert til deg med {count} merknad(er). Les dem og send inn på nytt i løsningen.",
        ),
        "en": (
            "Application {case} returned with comments",
            "The application {case} “{title}” was returned to you with {count} comment(s). Read them and resubmit in the app.",
        ),
    },
    "decided": {
        "nb": (
            "Vedtak i sak {case}",
            "Det er fattet vedtak i saken {case} «{title}»: {outcome}. Vedtaksbrevet ligger i løsningen.",
        ),
        "en": (
            "Decision on case {case}",
            "A decision was made on the case {case} “{title}”: {outcome}. The letter is in the app.",
        ),
    },
    "appeal_decided": {
        "nb": ("Klagen i sak {case} er avgjort", "Klagen i saken {case} «{title}» er avgjort: {outcome}."),
        "en": (
            "Appeal on case {case} decided",
            "The appeal on the case {case} “{title}” was decided: {outcome}.",
        ),
    },
    "offer": {
        "nb": (
            "Tilbud i sak {case}: svar innen {until}",
            "SSB har gitt tilbud nr. {number} i saken {case} «{title}»: {total}, forventet levering {delivery}. "
            "Tilbudet gjelder til {until}.",
        ),
        "en": (
            "Offer on case {case}: reply by {until}",
            "SSB made offer no. {number} on the case {case} “{title}”: {total}, expected delivery {delivery}. "
            "The offer is open until {until}.",
        ),
    },
    "delivered": {
        "nb": (
            "Dataene i sak {case} er klare",
            "Leveransen i saken {case} «{title}» er klar til nedlasting i løsningen.",
        ),
        "en": (
            "The data of case {case} are ready",
            "The delivery of the case {case} “{title}” is ready to download in the app.",
        ),
    },
    "review_due": {
        "nb": (
            "Frist nær: sak {case} må avgjøres innen {deadline}",
            "Saken {case} «{title}» har {days} dag(er) igjen av 30; vedtak må fattes innen {deadline}.",
        ),
        "en": (
            "Deadline near: case {case} must be decided by {deadline}",
            "The case {case} “{title}” has {days} day(s) left of 30; the decision is due by {deadline}.",
        ),
    },
    "deletion_due": {
        "nb": (
            "Sletting nær: dataene i sak {case} skal slettes innen {deadline}",
            "Dataene fra saken {case} «{title}» skal slettes senest {deadline}, og slettingen skal bekreftes i løsningen.",
        ),
        "en": (
            "Deletion near: the data of case {case} must be deleted by {deadline}",
            "The data of the case {case} “{title}” must be deleted by {deadline}, and the deletion confirmed in the app.",
        ),
    },
}
_FOOTER: dict[Language, str] = {
    "nb": "Sak: {link}\nDenne meldingen finner du også under Meldinger i løsningen.",
    "en": "Case: {link}\nYou will also find this message under Messages in the app.",
}
_OUTCOMES: dict[Language, dict[str, str]] = {
    "nb": {
        "approved": "innvilget",
        "partly_approved": "delvis innvilget",
        "rejected": "avslått",
        "upheld": "vedtaket står ved lag",
        "reopened": "saken behandles på nytt",
    },
    "en": {
        "approved": "approved",
        "partly_approved": "partly approved",
        "rejected": "rejected",
        "upheld": "the decision stands",
        "reopened": "the case is reviewed again",
    },
}
KINDS: tuple[str, ...] = tuple(_TEXTS)


def mask(text: str) -> str:
    """`text` with every fødselsnummer-shaped run of 11 digits replaced."""
    return _FNR.sub("[***********]", text)


def _date(d: date, lang: Language) -> str:
    return f"{d.day}.{d.month}.{d.year}" if lang == "nb" else d.isoformat()


def _amount(total: float, currency: str, lang: Language) -> str:
    if lang == "nb":
        whole = f"{total:,.2f}".replace(",", " ").replace(".", ",")
        return f"kr {whole}" if currency == "NOK" else f"{whole} {currency}"
    return f"{currency} {total:,.2f}"


def render(
    kind: str, recipient: str, trigger: str, lang: Language, case: Case, base_url: str, **values: object
) -> Notice:
    """The notice of `kind` in `lang` (unknown languages fall back to bokmål)."""
    lang = lang if lang in LANGUAGES else "nb"
    subject_t, body_t = _TEXTS[kind][lang]
    title = mask(case.content.project.title) or "–"
    fields = {"case": case.case_id, "title": title, **values}
    subject = subject_t.format(**fields)
    body = body_t.format(**fields)
    link = f"{base_url.rstrip('/')}/app/cases/{case.case_id}"
    text = f"{body}\n\n{_FOOTER[lang].format(link=link)}\n"
    esc = {k: html.escape(str(v)) for k, v in fields.items()}
    footer = html.escape(_FOOTER[lang].format(link=link)).replace("\n", "<br>")
    body_html = (
        f'<!DOCTYPE html><html lang="{lang}"><body><p>{body_t.format(**esc)}</p><p>{footer}</p></body></html>'
    )
    subject = " ".join(subject.split())  # one line: no header injection through a title
    return Notice(recipient, kind, trigger, lang, subject, text, body_html)


def messages_for_event(
    seq: int,
    event: ev.Event,
    case: Case,
    reviewers: Sequence[str],
    languages: Mapping[str, Language],
    base_url: str = "",
) -> list[Notice]:
    """The messages caused by the event numbered `seq` (`case`: the state after it; `reviewers`:
    the active reviewers' usernames; `languages`: each person's language, bokmål if absent)."""
    trigger = f"event:{seq}"
    members = sorted(case.members - {""})

    def to(people: Sequence[str], kind: str, **values: object) -> list[Notice]:
        return [render(kind, p, trigger, languages.get(p, "nb"), case, base_url, **values) for p in people]

    match event:
        case ev.Submitted() | ev.Resubmitted():
            kind = "submitted" if isinstance(event, ev.Submitted) else "resubmitted"
            return [*to(review_team(case, reviewers), kind), *to(members, "receipt")]
        case ev.ReturnedToApplicant():
            return to(members, "returned", count=len(event.comments))
        case ev.CaseDecided():
            return [
                render("decided", p, trigger, lang, case, base_url, outcome=_OUTCOMES[lang][event.outcome])
                for p in members
                for lang in [_lang(languages, p)]
            ]
        case ev.AppealDecided():
            return [
                render(
                    "appeal_decided", p, trigger, lang, case, base_url, outcome=_OUTCOMES[lang][event.outcome]
                )
                for p in members
                for lang in [_lang(languages, p)]
            ]
        case ev.OfferMade():
            return [
                render(
                    "offer",
                    p,
                    trigger,
                    lang,
                    case,
                    base_url,
                    number=event.number,
                    total=_amount(event.total, event.currency, lang),
                    delivery=_date(event.expected_delivery, lang),
                    until=_date(event.valid_until, lang),
                )
                for p in members
                for lang in [_lang(languages, p)]
            ]
        case ev.Delivered():
            return to(members, "delivered")
    return []


def _lang(languages: Mapping[str, Language], person: str) -> Language:
    lang = languages.get(person, "nb")
    return lang if lang in LANGUAGES else "nb"


def review_team(case: Case, reviewers: Sequence[str]) -> list[str]:
    """Who reviews the case: every active reviewer (the queue is shared; cases are not assigned)."""
    return sorted(set(reviewers))


def review_reminders(
    case: Case,
    days_left: int,
    deadline: date | None,
    running: bool,
    reviewers: Sequence[str],
    languages: Mapping[str, Language],
    base_url: str = "",
) -> list[Notice]:
    """Reminders to the reviewers when the 30-day clock runs with few days left (once per deadline)."""
    if not running or deadline is None or days_left > REVIEW_WARNING_DAYS:
        return []
    trigger = f"review_due:{deadline.isoformat()}"
    return [
        render(
            "review_due",
            p,
            trigger,
            lang,
            case,
            base_url,
            days=max(days_left, 0),
            deadline=_date(deadline, lang),
        )
        for p in review_team(case, reviewers)
        for lang in [_lang(languages, p)]
    ]


_HOLDING = frozenset({"delivered", "invoiced"})


def deletion_reminders(
    case: Case, today: date, languages: Mapping[str, Language], base_url: str = ""
) -> list[Notice]:
    """Reminders to the members while delivered data are held and the deletion date is near."""
    due = case.content.deletion_date
    if case.status not in _HOLDING or due is None or (due - today).days > DELETION_WARNING_DAYS:
        return []
    trigger = f"deletion_due:{due.isoformat()}"
    return [
        render("deletion_due", p, trigger, lang, case, base_url, deadline=_date(due, lang))
        for p in sorted(case.members - {""})
        for lang in [_lang(languages, p)]
    ]


__all__ = [
    "DELETION_WARNING_DAYS",
    "KINDS",
    "LANGUAGES",
    "REVIEW_WARNING_DAYS",
    "Notice",
    "deletion_reminders",
    "mask",
    "messages_for_event",
    "render",
    "review_reminders",
    "review_team",
]

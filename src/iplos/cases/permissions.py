"""Who may give which command in which status: `PERMISSIONS[role][status]` -> command names.

Besides this table, an applicant acts only on cases they own or whose project lists them as a
member (`Case.members`); other users' cases are invisible to them (the API answers 404, not 403,
so that an applicant cannot learn that a case exists). Reviewers, processors and administrators
see every case. Administrators manage accounts and close cases; they take no decisions, so the
separation of duties between reviewer (Helsedirektoratet) and processor (SSB) holds.
"""

from __future__ import annotations

from collections.abc import Mapping

from iplos.cases.model import ROLES, STATUSES, Role, Status

CREATE_ROLES: frozenset[Role] = frozenset({"applicant"})
"""Roles that may open a new case (`create_draft` has no status yet)."""

FINAL: frozenset[Status] = frozenset({"closed", "withdrawn"})
"""Statuses a case never leaves."""

_CLOSABLE: tuple[Status, ...] = tuple(s for s in STATUSES if s not in FINAL)
"""A reviewer or administrator may close a case, with a reason, from any status but a final one."""

DELIVERED: frozenset[Status] = frozenset({"delivered", "invoiced", "deletion_confirmed"})
"""Statuses after the data have left: the applicant can no longer withdraw (the invoice and the
deletion are still owed); the case ends by deletion and closing."""

_WITHDRAWABLE: tuple[Status, ...] = tuple(s for s in STATUSES if s not in FINAL | DELIVERED)
"""The applicant may withdraw from any status before the delivery."""


def _with(
    rules: dict[Status, tuple[str, ...]], command: str, statuses: tuple[Status, ...]
) -> dict[Status, tuple[str, ...]]:
    out = dict(rules)
    for s in statuses:
        if command not in out.get(s, ()):
            out[s] = (*out.get(s, ()), command)
    return out


_RULES: dict[Role, dict[Status, tuple[str, ...]]] = {
    "applicant": _with(
        {
            "draft": ("edit_draft", "submit", "add_attachment"),
            "returned": ("edit_draft", "resubmit", "add_attachment"),
            "submitted": ("add_attachment",),
            "under_review": ("add_attachment",),
            "approved": ("lodge_appeal",),
            "partly_approved": ("lodge_appeal",),
            "rejected": ("lodge_appeal",),
            "offered": ("accept_offer", "decline_offer"),
            "anonymisation": ("counter_anonymisation", "agree_anonymisation"),
            "invoiced": ("confirm_deletion",),
        },
        "withdraw",
        _WITHDRAWABLE,
    ),
    "reviewer": _with(
        {
            "submitted": ("start_review",),
            "under_review": ("return_to_applicant", "decide_variable", "decide_register", "decide_case"),
            "appealed": ("decide_appeal",),
        },
        "close",
        _CLOSABLE,
    ),
    "processor": {
        "approved": ("make_offer",),
        "partly_approved": ("make_offer",),
        "offered": ("make_offer",),
        "offer_declined": ("make_offer",),
        "accepted": ("record_linkage_done", "record_hours"),
        "linked": ("propose_anonymisation", "record_hours"),
        "anonymisation": ("propose_anonymisation", "agree_anonymisation", "record_hours"),
        "anonymisation_agreed": ("start_delivery", "record_delivery", "record_hours"),
        "delivered": ("issue_invoice", "record_hours"),
    },
    "administrator": {s: ("close",) for s in _CLOSABLE},
}

PERMISSIONS: Mapping[Role, Mapping[Status, frozenset[str]]] = {
    role: {status: frozenset(_RULES[role].get(status, ())) for status in STATUSES} for role in ROLES
}
"""role -> status -> names of the commands the role may give in that status."""

APPLICANT_ROLES: frozenset[Role] = frozenset({"applicant"})
"""Roles bound to their own cases (the case owner and project members)."""


def allowed(role: Role, status: Status) -> frozenset[str]:
    """Commands `role` may give a case in `status`."""
    return PERMISSIONS[role][status]


def commands_of(role: Role) -> frozenset[str]:
    """Every command `role` may give in some status (create_draft included for applicants)."""
    names = {c for cmds in PERMISSIONS[role].values() for c in cmds}
    if role in CREATE_ROLES:
        names.add("create_draft")
    return frozenset(names)


def statuses_allowing(role: Role, command: str) -> tuple[Status, ...]:
    """Statuses in which `role` may give `command`."""
    return tuple(s for s in STATUSES if command in PERMISSIONS[role][s])


def can_read(role: Role, username: str, members: frozenset[str]) -> bool:
    """Whether a user may see a case: staff see all, applicants only their own and their projects'."""
    return role not in APPLICANT_ROLES or username in members


def permissions_markdown() -> str:
    """The permission table as Markdown (one row per status, one column per role), for the docs."""
    lines = ["| status | " + " | ".join(ROLES) + " |", "|---|" + "---|" * len(ROLES)]
    for status in STATUSES:
        cells = [", ".join(sorted(PERMISSIONS[role][status])) or "-" for role in ROLES]
        lines.append(f"| {status} | " + " | ".join(cells) + " |")
    return "\n".join(lines)

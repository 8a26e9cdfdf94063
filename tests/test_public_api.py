"""Each package's public names are pinned (httpx-style): a change to the API is a deliberate one.

sdc, sdc.tables, catalog, engine, linkage and delivery pin theirs in their own test folders.
"""

from __future__ import annotations

import importlib

import pytest

PUBLIC_API: dict[str, list[str]] = {
    "iplos.ident": [
        "ENV_VAR",
        "KeyStore",
        "NumberKind",
        "PersonNumber",
        "PseudonymKey",
        "RECORD_KEY_DOMAIN",
        "RecordKeys",
        "Sex",
        "control_digits",
        "generate",
        "generate_array",
        "is_valid",
        "is_valid_array",
        "parse",
        "pseudonymise",
    ],
    "iplos.synth": ["CalibrationRow", "Progress", "SynthSummary", "generate", "report"],
    "iplos.cases": [
        "ANONYMISATION_PLAN_SCHEMA",
        "Actor",
        "AnonymisationRound",
        "Application",
        "COMMAND_TYPES",
        "Case",
        "CaseNotFound",
        "CaseService",
        "CaseSummary",
        "ChainReport",
        "Change",
        "Clock",
        "Command",
        "CommandRefused",
        "ConcurrencyError",
        "Context",
        "EVENT_TYPES",
        "EstimateLine",
        "Event",
        "Invoice",
        "LIMIT_DAYS",
        "LegalBasis",
        "Letter",
        "LinkageRequest",
        "Offer",
        "PERMISSIONS",
        "PermissionDenied",
        "PricedLine",
        "Project",
        "ROLES",
        "RateCard",
        "Rejected",
        "Role",
        "STATUSES",
        "Statistics",
        "Status",
        "StoredEvent",
        "User",
        "UserStore",
        "VariableDecision",
        "VariableRequest",
        "clock",
        "decide",
        "diff",
        "event_from_json",
        "event_to_json",
        "evolve",
        "from_json",
        "involved_registers",
        "letter",
        "replay",
        "statistics",
        "to_json",
        "validate_application",
    ],
    "iplos.web": ["Authenticator", "BearerTokens", "create_app"],
    "iplos.catalog.regions": [
        "Candidate",
        "County",
        "HistoryEvent",
        "Municipality",
        "counties",
        "county_of",
        "harmonise",
        "harmonise_many",
        "history",
        "kommune_centrality_hierarchy",
        "kommune_hierarchy",
        "municipalities",
        "municipality",
        "national_population",
        "population",
        "population_sources",
        "population_total",
    ],
}


@pytest.mark.parametrize("module", sorted(PUBLIC_API))
def test_public_api_is_pinned(module: str) -> None:
    mod = importlib.import_module(module)
    assert sorted(mod.__all__) == PUBLIC_API[module]
    for name in mod.__all__:
        assert hasattr(mod, name), f"{module} exports {name} but does not define it"

"""Texts of the applicant's and reviewer's additions, in bokmål and English: the risk preview, the
counter-proposal's consequences, PDF attachments, the PDF letter and the OpenID Connect login.

Kept apart from `_messages` (which merges them) so that page areas grow in their own modules.
"""

from __future__ import annotations

APPLICANT_ENTRIES: dict[str, tuple[str, str]] = {
    # risk preview while composing
    "preview.title": ("Risiko for gjenkjenning (forhåndsvisning)", "Re-identification risk (preview)"),
    "preview.show": ("Lagre og vis risikoen", "Save and show the risk"),
    "preview.refresh": ("Oppdater forhåndsvisningen", "Update the preview"),
    "preview.loading": ("Beregner på det syntetiske registeret …", "Computing on the synthetic register …"),
    "preview.synthetic_notice": (
        "Beregnet på et syntetisk register (omfang {scale} av Norge, ingen ekte personer), som om alt du "
        "ber om ble innvilget. I det ekte registeret er klassene større; tallene viser hvilke variabler som "
        "gjør personer gjenkjennelige.",
        "Computed on a synthetic register ({scale} of Norway's size, no real persons), as if everything you "
        "ask for were granted. In the real register the classes are larger; the figures show which "
        "variables make persons recognisable.",
    ),
    "preview.extract_notice": (
        "Beregnet på sakens koblede uttrekk.",
        "Computed on the case's linked extract.",
    ),
    "preview.qis": (
        "Kjennetegn en angriper kan kjenne (per person, alle årganger)",
        "What an attacker may know (per person, every årgang)",
    ),
    "preview.criteria": (
        "Krav: k = {k}, høyst {share} av personene undertrykt",
        "Criteria: k = {k}, at most {share} of the persons suppressed",
    ),
    "preview.figure": ("Mål", "Measure"),
    "preview.value": ("Verdi", "Value"),
    "preview.persons": ("Personer", "Persons"),
    "preview.records": ("Rader", "Records"),
    "preview.classes": ("Klasser av like personer", "Classes of equal persons"),
    "preview.uniques": ("Unike personer", "Unique persons"),
    "preview.small": ("Personer i klasser under k", "Persons in classes under k"),
    "preview.expected": ("Forventet antall gjenkjente (påtalemodell)", "Expected re-identified (prosecutor)"),
    "preview.highest": ("Høyeste risiko", "Highest risk"),
    "preview.anonymous": (
        "Uttrekket er anonymt slik du ber om det.",
        "The extract is anonymous as you ask for it.",
    ),
    "preview.not_anonymous": (
        "Slik du ber om det, måtte {n} personer undertrykkes: uttrekket er ikke anonymt.",
        "As you ask for it, {n} persons would have to be suppressed: the extract is not anonymous.",
    ),
    "preview.suggestion": (
        "Grovere nivåer som gjør uttrekket anonymt",
        "Coarser levels that make the extract anonymous",
    ),
    "preview.alternatives": ("Andre muligheter", "Other ways"),
    "preview.variable": ("Variabel", "Variable"),
    "preview.level": ("Nivå", "Level"),
    "preview.suppressed": ("Undertrykte personer", "Suppressed persons"),
    "preview.loss": ("Informasjonstap", "Information loss"),
    "preview.levels": ("Nivåer", "Levels"),
    "preview.none": (
        "Ingen kombinasjon av nivåer gjør uttrekket anonymt.",
        "No combination of levels makes the extract anonymous.",
    ),
    "preview.problems": ("Forhåndsvisningen kunne ikke beregnes", "The preview could not be computed"),
    # counter-proposal consequences
    "counter.consequences": ("Følger av motforslaget", "Consequences of the counter-proposal"),
    "counter.show": ("Vis følgene før innsending", "Show the consequences before filing"),
    "counter.acceptable": ("Oppfyller kravene", "Meets the criteria"),
    "counter.not_acceptable": ("Oppfyller ikke kravene", "Does not meet the criteria"),
    "counter.before": ("Før", "Before"),
    "counter.after": ("Etter", "After"),
    "counter.at_finest": (
        "Ikke nevnt i motforslaget, målt på fineste tillatte nivå",
        "Not named in the counter-proposal, measured at their finest allowed level",
    ),
    "counter.suppressed_share": ("Andel undertrykt", "Share suppressed"),
    # the decision letter as PDF
    "letter.pdf": ("Last ned vedtaksbrevet (PDF)", "Download the decision letter (PDF)"),
    "letter.pdf_preview": ("Forhåndsvis som PDF", "Preview as PDF"),
    "letter.pdf_draft": ("UTKAST - ikke et fattet vedtak", "DRAFT - not a decision made"),
    # OpenID Connect login
    "login.oidc": ("Logg inn med {name}", "Log in with {name}"),
    "login.oidc_failed": ("Innloggingen ble avvist: {reason}", "The login was refused: {reason}"),
    # attachments
    "attachment.title": ("Vedlegg", "Attachments"),
    "attachment.kind": ("Dokumenttype", "Kind of document"),
    "attachment.kind.rek_approval": ("REK-godkjenning", "REK approval"),
    "attachment.kind.dpia": (
        "Personvernkonsekvensvurdering (DPIA)",
        "Data protection impact assessment (DPIA)",
    ),
    "attachment.kind.register_decision": ("Vedtak fra et annet register", "Another register's decision"),
    "attachment.kind.other": ("Annet", "Other"),
    "attachment.file": ("PDF-fil", "PDF file"),
    "attachment.hint": ("Bare PDF, høyst 10 MiB.", "PDF only, at most 10 MiB."),
    "attachment.pages": ("Sider", "Pages"),
    "attachment.upload": ("Last opp vedlegget", "Upload the attachment"),
    "attachment.none": ("Ingen vedlegg ennå.", "No attachments yet."),
    "field.attachment.file": ("PDF-fil", "PDF file"),
    "field.attachment.kind": ("Dokumenttype", "Kind of document"),
    "rule.attachment_empty": ("Filen er tom.", "The file is empty."),
    "rule.attachment_size": ("Filen er større enn 10 MiB.", "The file is larger than 10 MiB."),
    "rule.attachment_not_pdf": ("Filen er ikke en lesbar PDF.", "The file is not a readable PDF."),
    "rule.attachment_encrypted": (
        "PDF-en er kryptert; legg den ved uten passord.",
        "The PDF is encrypted; attach it without a password.",
    ),
    "event.AttachmentAdded": ("Vedlegg lagt til", "Attachment added"),
}

"""The decision letter (vedtak) as PDF, in bokmål or English, from the same data as the letter page.

fpdf2 with its core fonts (no system fonts or libraries): they cover Latin-1, so Norwegian letters
(æ, ø, å, §) print as they are; the few typographic signs outside it are replaced by their plain
forms. A preview carries a "draft" line on every page, so it is never taken for the issued letter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from fpdf import FPDF

from iplos.web import _i18n
from iplos.web._i18n import Lang

_PLAIN = str.maketrans(
    {"–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "…": "...", "→": "->", "\u00a0": " "}
)
WIDTH = 180  # mm of text on an A4 page with 15 mm margins


def _latin1(text: object) -> str:
    return str(text).translate(_PLAIN).encode("latin-1", "replace").decode("latin-1")


class _LetterPdf(FPDF):
    def __init__(self, footer_text: str) -> None:
        super().__init__(format="A4")
        self.footer_text = footer_text
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(True, margin=18)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", size=8)
        self.cell(0, 5, _latin1(f"{self.footer_text} - {self.page_no()}"), align="C")


def _para(pdf: FPDF, text: object, size: int = 10, style: str = "") -> None:
    pdf.set_font("Helvetica", style=style, size=size)
    pdf.multi_cell(WIDTH, 5 if size <= 10 else 7, _latin1(text))
    pdf.ln(1)


def _heading(pdf: FPDF, text: str) -> None:
    pdf.ln(2)
    _para(pdf, text, 12, "B")


def _items(pdf: FPDF, items: Sequence[object]) -> None:
    for item in items:
        _para(pdf, f"- {item}")


def letter_pdf(
    letter: Mapping[str, Any],
    lang: Lang,
    *,
    draft: bool = False,
    attachments: Sequence[Mapping[str, Any]] = (),
) -> bytes:
    """The letter of `letter` (the data of `iplos.cases.letter`) as PDF bytes in `lang`.

    `attachments` (name, kind label, SHA-256) are listed as the documents the decision rests on.
    """

    def t(key: str, **values: object) -> str:
        return _i18n.translate(lang, key, **values)

    def day(value: date | str | None) -> str:
        return _i18n.day(lang, value)

    case_id = str(letter["case_id"])
    pdf = _LetterPdf(f"{t('letter.title')} {case_id}")
    pdf.set_title(_latin1(f"{t('letter.title')} {case_id}"))
    pdf.add_page()
    if draft:
        pdf.set_text_color(160, 0, 0)
        _para(pdf, t("letter.pdf_draft"), 12, "B")
        pdf.set_text_color(0, 0, 0)
    _para(pdf, f"{t('letter.title')}: {t('letter.outcome.' + str(letter['outcome']))}", 16, "B")
    _para(
        pdf,
        f"{t('case.number')} {case_id} - {t('kind.' + str(letter['kind']))} - "
        f"{t('case.decided_on')} {day(letter['decided_on'])}",
    )
    project = letter.get("project", {})
    _heading(pdf, t("edit.project"))
    _para(pdf, project.get("title", ""), style="B")
    _para(pdf, f"{project.get('institution', '')} - {project.get('leader', '')}")
    purposes = ", ".join(t("purpose." + p) for p in letter.get("purposes", []))
    years = ", ".join(str(y) for y in letter.get("aarganger", []))
    _para(pdf, f"{t('field.purposes')}: {purposes} - {t('field.aarganger')}: {years}")
    _heading(pdf, t("case.registers"))
    _items(
        pdf,
        [
            f"{t('register.' + str(r['register']))}: {t('outcome.' + str(r['outcome']))} "
            f"{r.get('reference', '')} {r.get('reason', '')}".strip()
            for r in letter.get("registers", [])
        ],
    )
    _heading(pdf, t("letter.granted"))
    _items(
        pdf,
        [
            f"{str(v['register']).upper()} {v['name']}: {t('letter.at_most')} "
            f"{_i18n.level_name(lang, v['level']) if v.get('level') else t('level.as_recorded')}"
            for v in letter.get("granted_variables", [])
        ],
    )
    if letter.get("denied_variables"):
        _heading(pdf, t("letter.denied"))
        _items(
            pdf,
            [
                f"{v['name']} ({str(v['register']).upper()}): {v.get('reason', '')}"
                for v in letter["denied_variables"]
            ],
        )
    _heading(pdf, t("field.reasons"))
    _items(pdf, letter.get("reasons", []))
    if letter.get("conditions"):
        _heading(pdf, t("field.conditions"))
        _items(pdf, letter["conditions"])
    if attachments:
        _heading(pdf, t("attachment.title"))
        _items(pdf, [f"{a['kind']}: {a['filename']} (SHA-256 {a['sha256']})" for a in attachments])
    _para(pdf, f"{t('field.deletion_date')}: {day(letter.get('deletion_date'))}")
    _heading(pdf, t("letter.appeal"))
    _para(pdf, t("letter.appeal_text", date=day(letter.get("appeal_deadline"))))
    return bytes(pdf.output())

"""The mediation agreement (调解书) of a complaint closed by agreement, as a PDF made on request.

Nothing is stored: the document is drawn from the case and its `record_agreement` event each time
it is asked for, and the same case always gives the same bytes (the PDF's creation date is the
agreement's), so a party who downloads it again years later gets the document they signed.

It names only what both parties may know: the county bureau in whose name the case was handled (a
station acts in its bureau's name, o121 Art. 30; internal routing is not public), the complainant
by name with the phone masked (never the ID number), and no officer by name.

The document is a Chinese administrative text, not page furniture: it is always in Chinese,
whatever the language of the request, so its wording is not marked for translation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from django.utils import translation

from accounts.identity import mask_phone
from cases.models import Case, Kind, Outcome, Rules
from cases.rules import local_date

if TYPE_CHECKING:
    from fpdf import FPDF


TITLE = "调解书"
# A face with Simplified Chinese glyphs, as (file, face index in the collection). Debian's
# fonts-wqy-microhei is installed in CI and in the image; fonts-wqy-zenhei would do as well.
CJK_FONTS: tuple[tuple[str, int], ...] = (
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
)
FONT = "cjk"
# The facts as submitted, cut here: the document records the agreement; the full account (with
# every supplement) stays on the case.
FACTS_LIMIT = 800
MARGIN = 20  # mm, all round
LINE = 7.5  # mm, body line height
INDENT = 8  # mm, for details under a party
# Never at the start of a line (the common core of the Chinese line-breaking rules, GB/T 15834).
NO_LINE_START = frozenset("，。、；：？！）》」』】〕”’…,.;:?!)%")


@dataclass(frozen=True)
class Agreement:
    """What the 调解书 says, read from the case and its `record_agreement` event."""

    number: str
    bureau: str
    rules: str
    complainant: str
    complainant_phone: str
    respondent: str
    respondent_uscc: str
    respondent_address: str
    facts: str
    demand: str
    terms: str
    amount_recovered: Decimal | None
    agreed_at: dt.datetime

    @property
    def agreed_on(self) -> str:
        return chinese_date(local_date(self.agreed_at))


def has_agreement(case: Case) -> bool:
    """A complaint closed by a mediation agreement has a 调解书; no other case does."""
    return case.kind == Kind.COMPLAINT and case.outcome == Outcome.MEDIATED


def agreement_url(case: Case) -> str | None:
    if not has_agreement(case):
        return None
    return reverse("cases:case_agreement_pdf", kwargs={"number": case.number})


def agreement_filename(number: str) -> str:
    return f"{number}-{TITLE}.pdf"


def agreement_of(case: Case) -> Agreement | None:
    """The agreement recorded on `case`, or None when it was not closed by one."""
    if not has_agreement(case):
        return None
    event = case.events.filter(action="record_agreement").order_by("-seq").first()
    if event is None:
        return None
    with translation.override("zh-hans"):
        rules = str(Rules(case.rules).label)
    return Agreement(
        number=case.number,
        bureau=case.public_department.bureau_name,
        rules=rules,
        complainant=case.party_name,
        complainant_phone=mask_phone(case.party_phone),
        respondent=case.respondent_name,
        respondent_uscc=case.respondent_uscc,
        respondent_address=case.respondent_address,
        facts=summary(case.facts, FACTS_LIMIT),
        demand=case.demand.strip(),
        terms=event.note.strip(),
        amount_recovered=case.amount_recovered,
        agreed_at=event.at,
    )


def summary(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[:limit].rstrip() + "……"


def chinese_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def cjk_font() -> tuple[str, int]:
    """The first installed CJK font (looked up on use: settings and files are never read at
    import time)."""
    for path, face in CJK_FONTS:
        if Path(path).is_file():
            return path, face
    raise ImproperlyConfigured(
        "No CJK font for PDF documents: install fonts-wqy-microhei (Debian/Ubuntu)."
    )


# --- The PDF ------------------------------------------------------------------------------------


def render_agreement(agreement: Agreement) -> bytes:
    """The 调解书 as A4 PDF bytes, the CJK font embedded (subset to the characters used)."""
    pdf = _new_document(f"本调解书依 12315 案件 {agreement.number} 的办理记录生成")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(auto=True, margin=MARGIN + 8)
    pdf.set_creation_date(agreement.agreed_at)
    pdf.set_title(f"{TITLE} {agreement.number}")
    pdf.set_author(agreement.bureau)
    pdf.set_lang("zh-CN")
    path, face = cjk_font()
    pdf.add_font(FONT, fname=path, collection_font_number=face)
    pdf.add_page()
    _heading(pdf, agreement)
    _parties(pdf, agreement)
    _case(pdf, agreement)
    _terms(pdf, agreement)
    _signatures(pdf, agreement)
    return bytes(pdf.output())


def _new_document(footer_text: str) -> FPDF:
    """An A4 page set with `footer_text` and the page number at the foot of every page. fpdf is
    imported here, on first use: it takes half a second, and every process loads this module
    with the URLconf."""
    from fpdf import FPDF

    class Document(FPDF):
        def footer(self) -> None:
            self.set_y(-MARGIN)
            self.set_font(FONT, size=9)
            self.set_text_color(90)
            page = f"第 {self.page_no()} 页 共 {self.str_alias_nb_pages} 页"
            self.cell(0, 6, f"{footer_text}　{page}", align="C")

    return Document(format="A4", unit="mm")


def _heading(pdf: FPDF, agreement: Agreement) -> None:
    pdf.set_font(FONT, size=16)
    pdf.cell(0, 10, agreement.bureau, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=24)
    pdf.cell(0, 16, TITLE, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=11)
    pdf.cell(0, 8, f"案件编号：{agreement.number}", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)


def _parties(pdf: FPDF, agreement: Agreement) -> None:
    pdf.set_font(FONT, size=12)
    _line(pdf, f"投诉人：{agreement.complainant}")
    _line(pdf, f"联系电话：{agreement.complainant_phone}", indent=True)
    _line(pdf, f"被投诉人：{agreement.respondent}")
    if agreement.respondent_uscc:
        _line(pdf, f"统一社会信用代码：{agreement.respondent_uscc}", indent=True)
    if agreement.respondent_address:
        _line(pdf, f"地址：{agreement.respondent_address}", indent=True)
    pdf.ln(3)


def _case(pdf: FPDF, agreement: Agreement) -> None:
    _section(pdf, "投诉事由", agreement.facts)
    if agreement.demand:
        _section(pdf, "投诉请求", agreement.demand)


def _terms(pdf: FPDF, agreement: Agreement) -> None:
    _section(
        pdf,
        "调解协议",
        f"经{agreement.bureau}主持调解，双方当事人在自愿、合法的基础上达成如下协议：",
    )
    _paragraph(pdf, agreement.terms)
    if agreement.amount_recovered is not None:
        _paragraph(pdf, f"挽回经济损失：人民币 {agreement.amount_recovered:.2f} 元。")
    pdf.ln(2)
    _line(pdf, f"达成协议日期：{agreement.agreed_on}")
    _line(pdf, f"适用规定：{agreement.rules}")


def _signatures(pdf: FPDF, agreement: Agreement) -> None:
    pdf.ln(10)
    half = (pdf.w - 2 * MARGIN) / 2
    pdf.cell(half, LINE, "投诉人（签名）：")
    pdf.cell(half, LINE, "被投诉人（盖章）：", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(14)
    pdf.cell(0, LINE, agreement.bureau, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, LINE, agreement.agreed_on, align="R", new_x="LMARGIN", new_y="NEXT")


def _section(pdf: FPDF, title: str, body: str) -> None:
    pdf.set_font(FONT, size=13)
    _line(pdf, title)
    pdf.set_font(FONT, size=12)
    _paragraph(pdf, body)
    pdf.ln(2)


def _paragraph(pdf: FPDF, text: str) -> None:
    for part in text.splitlines() or [""]:
        _line(pdf, f"　　{part.strip()}" if part.strip() else "")


def _line(pdf: FPDF, text: str, *, indent: bool = False) -> None:
    left = MARGIN + (INDENT if indent else 0)
    for part in wrap(pdf, text, pdf.w - MARGIN - left):
        pdf.set_x(left)
        pdf.cell(0, LINE, part, new_x="LMARGIN", new_y="NEXT")


def wrap(pdf: FPDF, text: str, width: float) -> list[str]:
    """Lines of at most `width` in the current font, broken at any character (Chinese has no
    spaces to break at), never before closing punctuation: it hangs in the margin instead."""
    lines: list[str] = []
    line = ""
    for char in text:
        if line and char not in NO_LINE_START and pdf.get_string_width(line + char) > width:
            lines.append(line)
            line = char
        else:
            line += char
    return [*lines, line]

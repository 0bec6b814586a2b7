"""The mediation agreement (调解书): a PDF made on request for a complaint closed by agreement,
for its parties and the staff who see the case, and 404 for everyone and everything else."""

from __future__ import annotations

import re
import shutil
import subprocess
import zlib
from urllib.parse import quote

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from cases.models import CaseEvent
from cases.rules import local_date
from tests.test_intake_api import complaint_body

PDFTOTEXT = shutil.which("pdftotext")  # poppler-utils: not needed, used when installed
TERMS = "被投诉人于七日内为投诉人办理退货，退还货款199.00元；投诉人退回电饭煲。"


@pytest.fixture(autouse=True)
def media_and_cache(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()


def act(api, user, number: str, action: str, **params) -> dict:
    version = api.as_user(user).get(f"/api/v1/cases/{number}").json()["version"]
    response = api.as_user(user).post_json(
        f"/api/v1/cases/{number}/actions", {"action": action, "version": version, **params}
    )
    assert response.status_code == 200, response.content
    return response.json()


def file_complaint(api, cast) -> str:
    """Alice complains about the shop Betty works for (the USCC names it)."""
    response = api.as_user(cast.alice).post_json("/api/v1/complaints", complaint_body())
    assert response.status_code == 201, response.content
    return response.json()["number"]


@pytest.fixture
def open_complaint(api, cast) -> str:
    """Accepted and handled by the Wenxin station: the station's name must never show."""
    number = file_complaint(api, cast)
    act(api, cast.ken, number, "accept", handler_unit="330106001")
    act(api, cast.sam, number, "start_mediation", note="双方同意调解")
    return number


@pytest.fixture
def mediated(api, cast, open_complaint) -> str:
    act(api, cast.sam, open_complaint, "record_agreement", terms=TERMS, amount_recovered="199")
    return open_complaint


def url(number: str) -> str:
    return reverse("cases:case_agreement_pdf", kwargs={"number": number})


def download(api, user, number: str):
    return api.as_user(user).get(url(number))


# --- reading the PDF back -------------------------------------------------------------------

STREAM = re.compile(rb"<<([^<>]*)>>\s*stream\r?\n")
TEXT_OBJECT = re.compile(rb"\bBT\b(.*?)\bET\b", re.DOTALL)
SHOWN = re.compile(rb"\(((?:\\.|[^\\()])*)\) Tj", re.DOTALL)
ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def streams(pdf: bytes) -> list[bytes]:
    found = []
    for match in STREAM.finditer(pdf):
        head = match.group(1)
        length = int(re.search(rb"/Length (\d+)", head).group(1))
        body = pdf[match.end() : match.end() + length]
        found.append(zlib.decompress(body) if b"/FlateDecode" in head else body)
    return found


def unescape(raw: bytes) -> bytes:
    def one(match: re.Match[bytes]) -> bytes:
        escaped = match.group(1)
        if escaped.isdigit():
            return bytes([int(escaped, 8)])
        return ESCAPES.get(escaped, escaped)

    return re.sub(rb"\\([0-7]{1,3}|.)", one, raw, flags=re.DOTALL)


def pdf_lines(pdf: bytes) -> list[str]:
    """Each line of text drawn, decoded through the embedded font's ToUnicode map: what a reader
    would copy out of the document."""
    parts = streams(pdf)
    cmap = next(part for part in parts if b"beginbfchar" in part)
    to_unicode = {
        int(code, 16): chr(int(char, 16))
        for code, char in re.findall(rb"<([0-9A-F]{4})> <([0-9A-F]{4})>", cmap)
    }
    codes = [
        b"".join(unescape(shown) for shown in SHOWN.findall(text_object))
        for part in parts
        for text_object in TEXT_OBJECT.findall(part)
    ]
    return [
        "".join(to_unicode[int.from_bytes(line[i : i + 2], "big")] for i in range(0, len(line), 2))
        for line in codes
        if line
    ]


def pdf_text(pdf: bytes) -> str:
    return "\n".join(pdf_lines(pdf))


# --- who may download it ----------------------------------------------------------------------


@pytest.mark.parametrize("who", ["alice", "betty", "ken", "sam", "cathy"])
def test_the_parties_and_the_staff_over_the_case_download_the_agreement(api, cast, mediated, who):
    response = download(api, getattr(cast, who), mediated)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")


@pytest.mark.parametrize("who", ["bob", "nick"])
def test_anyone_else_is_told_it_does_not_exist(api, cast, mediated, who):
    assert download(api, getattr(cast, who), mediated).status_code == 404


def test_without_signing_in_it_does_not_exist(api, mediated):
    assert download(api, None, mediated).status_code == 404


def test_the_consumer_downloads_it_with_her_browser_session(cast, mediated):
    client = Client()
    client.force_login(cast.alice)

    assert client.get(url(mediated)).status_code == 200


def test_a_complaint_still_in_mediation_has_no_agreement(api, cast, open_complaint):
    assert download(api, cast.alice, open_complaint).status_code == 404
    assert download(api, cast.ken, open_complaint).status_code == 404


def test_a_complaint_closed_without_agreement_has_none(api, cast, open_complaint):
    act(api, cast.sam, open_complaint, "terminate", ground="no_agreement_possible", note="未达成")

    assert download(api, cast.alice, open_complaint).status_code == 404


def test_an_unknown_case_number_is_404(api, cast, mediated):
    assert download(api, cast.ken, "T2099010100000001").status_code == 404


def test_it_is_only_read(cast, mediated):
    client = Client()
    client.force_login(cast.alice)

    assert client.post(url(mediated)).status_code == 405


# --- how it downloads ---------------------------------------------------------------------------


def test_it_downloads_as_an_attachment_named_for_the_case(api, cast, mediated):
    response = download(api, cast.alice, mediated)

    disposition = response["Content-Disposition"]
    assert disposition.startswith(f'attachment; filename="{mediated}.pdf"; ')
    assert f"filename*=UTF-8''{quote(f'{mediated}-调解书.pdf')}" in disposition
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"


def test_the_same_agreement_gives_the_same_bytes(api, cast, mediated):
    assert download(api, cast.alice, mediated).content == download(api, cast.ken, mediated).content


def test_the_chinese_font_is_embedded(api, cast, mediated):
    pdf = download(api, cast.alice, mediated).content

    assert b"/FontFile2" in pdf
    assert b"WenQuanYiMicroHei" in pdf


# --- what it says -----------------------------------------------------------------------------


def test_it_states_the_agreement_in_the_county_bureaus_name(api, cast, mediated):
    text = pdf_text(download(api, cast.betty, mediated).content)
    agreed = local_date(CaseEvent.objects.get(case__number=mediated, action="record_agreement").at)

    assert text.splitlines()[:2] == ["杭州市西湖区市场监督管理局", "调解书"]
    assert f"案件编号：{mediated}" in text
    assert TERMS in text
    assert "挽回经济损失：人民币 199.00 元。" in text
    assert f"达成协议日期：{agreed.year}年{agreed.month}月{agreed.day}日" in text
    assert "适用规定：市场监督管理投诉举报处理办法 (总局令第121号)" in text
    assert f"本调解书依 12315 案件 {mediated} 的办理记录生成　第 1 页 共 1 页" in text


def test_it_never_names_the_station_that_handled_the_case(api, cast, tree, mediated):
    text = pdf_text(download(api, cast.ken, mediated).content)

    assert tree.station.name not in text
    assert "市场监管所" not in text


def test_it_names_the_parties_without_the_complainants_id_or_phone(api, cast, mediated):
    text = pdf_text(download(api, cast.betty, mediated).content)

    assert "投诉人：张爱丽" in text
    assert "联系电话：138****0001" in text
    assert cast.alice.phone not in text
    assert "110101199003070011" not in text
    assert "被投诉人：杭州好运来电器有限公司" in text
    assert "地址：杭州市西湖区文三路90号" in text
    assert "在该店购买的电饭煲使用三天后无法加热。" in text


def test_long_terms_run_over_pages_each_with_its_footer(api, cast, open_complaint):
    terms = "\n".join(f"第{n}条：被投诉人应当按约定履行退货退款义务，不得拖延。" for n in range(80))
    act(api, cast.sam, open_complaint, "record_agreement", terms=terms, amount_recovered="1")

    lines = pdf_lines(download(api, cast.alice, open_complaint).content)

    footers = [line for line in lines if line.startswith("本调解书依")]
    assert len(footers) > 1
    assert all(line.endswith(f"页 共 {len(footers)} 页") for line in footers)
    assert not [line for line in lines if line[:1] in "，。、；：）"]


@pytest.mark.skipif(PDFTOTEXT is None, reason="poppler-utils is not installed")
def test_a_pdf_reader_extracts_the_same_text(api, cast, mediated):
    pdf = download(api, cast.alice, mediated).content
    extracted = subprocess.run(  # noqa: S603 - a fixed argument list
        [PDFTOTEXT, "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()

    assert "杭州市西湖区市场监督管理局" in extracted
    assert TERMS[:20] in extracted


# --- where it is offered ------------------------------------------------------------------------


def test_the_case_in_the_api_links_the_agreement(api, cast, mediated):
    case = api.as_user(cast.alice).get(f"/api/v1/cases/{mediated}").json()

    assert case["agreement_pdf"] == url(mediated)


def test_a_case_without_agreement_links_none(api, cast, open_complaint):
    case = api.as_user(cast.alice).get(f"/api/v1/cases/{open_complaint}").json()

    assert case["agreement_pdf"] is None


def page(user, path: str) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


def test_the_consumers_case_page_offers_the_agreement(cast, mediated):
    html = page(cast.alice, reverse("my_case", args=[mediated]))

    assert f'href="{url(mediated)}"' in html


def test_the_consumers_case_page_offers_none_before_agreement(cast, open_complaint):
    html = page(cast.alice, reverse("my_case", args=[open_complaint]))

    assert "agreement.pdf" not in html


def test_the_staff_case_page_offers_the_agreement(cast, mediated):
    html = page(cast.ken, reverse("staff:case", args=[mediated]))

    assert f'href="{url(mediated)}"' in html


def test_the_staff_case_page_offers_none_before_agreement(cast, open_complaint):
    html = page(cast.ken, reverse("staff:case", args=[open_complaint]))

    assert "agreement.pdf" not in html

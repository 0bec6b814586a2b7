"""Regressions found by the UI audit: a checkbox beside its label, short Chinese choice words kept
whole on a 375 px phone, and English pages without Chinese brackets and colons around names."""

from __future__ import annotations

import pytest

from cases.intake import submit_case
from cases.models import Kind
from tests.test_supervision_factories import complaint_payload

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SMALL_PHONE = {"width": 375, "height": 812}


def beside(page, label_selector: str) -> bool:
    """True when the label's box and its text share a line: the text starts right of the box
    and the box's middle lies within the text's height."""
    return page.evaluate(
        """(selector) => {
            const label = document.querySelector(selector);
            const box = label.querySelector('input').getBoundingClientRect();
            const text = label.querySelector('.choice__title').getBoundingClientRect();
            const middle = box.top + box.height / 2;
            return text.left >= box.right && middle >= text.top && middle <= text.bottom;
        }""",
        label_selector,
    )


def test_the_profile_checkbox_sits_beside_its_label_on_a_phone(signed_in, cast):
    page = signed_in(cast.alice.username, viewport=SMALL_PHONE)

    page.goto("/accounts/profile/")

    assert page.get_by_label("案件有新进展时发短信通知我").is_checked()
    assert beside(page, "label[for=id_notify_sms]")


def test_the_hotline_checkbox_sits_beside_its_label_on_a_phone(signed_in, cast):
    page = signed_in(cast.hank.username, viewport=SMALL_PHONE)

    page.goto("/staff/hotline/")

    assert beside(page, "label[for=id_notify_me]")


def test_the_hotline_kinds_keep_each_word_on_one_line_at_375px(signed_in, cast):
    page = signed_in(cast.hank.username, viewport=SMALL_PHONE)

    page.goto("/staff/hotline/")

    lines = page.eval_on_selector_all(
        "input[name=kind]",
        """inputs => inputs.map(input => {
            const title = input.closest('label').querySelector('.choice__title');
            const lineHeight = parseFloat(getComputedStyle(title).lineHeight);
            return Math.round(title.getBoundingClientRect().height / lineHeight);
        })""",
    )
    assert lines == [1, 1, 1]
    assert page.evaluate("document.documentElement.scrollWidth") <= SMALL_PHONE["width"]


def test_a_staff_case_page_in_english_has_no_chinese_brackets_around_names(signed_in, cast):
    payload = complaint_payload("330106")
    del payload["on_behalf_of"]  # Alice files it herself, on the website
    case = submit_case(kind=Kind.COMPLAINT, by=cast.alice, payload=payload)
    page = signed_in(cast.ken.username, language="en", viewport={"width": 1280, "height": 900})

    page.goto(f"/staff/cases/{case.number}/")

    received = page.locator("dt", has_text="Received at").locator("xpath=following-sibling::dd[1]")
    assert received.inner_text().endswith("(website)")
    record = page.locator(".timeline").inner_text()
    assert "张爱丽 (西湖区)" in record
    assert "Channel: website" in record
    assert not any(mark in record for mark in "（）：；")


def test_the_english_error_summary_uses_an_english_colon(signed_in, cast):
    page = signed_in(cast.alice.username, viewport=SMALL_PHONE, language="en")

    page.goto("/complaints/new/")
    page.get_by_role("button", name="Next").click()

    summary = page.locator(".error-summary li").all_inner_texts()
    assert summary
    assert all(": " in item and "：" not in item for item in summary)

"""The layout and the home page: language, navigation, landmarks, vendored assets."""

from __future__ import annotations

import re

from django.conf import settings as django_settings
from django.contrib.staticfiles import finders


def test_the_home_page_speaks_chinese_by_default(client, db):
    html = client.get("/").content.decode()

    assert '<html lang="zh-CN">' in html
    assert "全国12315平台" in html
    assert "Open12315" in html
    for entry in ("我要投诉", "我要举报", "我要咨询", "我的诉求"):
        assert entry in html
    assert "7 个工作日内决定是否受理" in html


def test_the_home_page_speaks_english_when_the_browser_asks(client, db):
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert '<html lang="en">' in html
    assert "Make a complaint" in html
    assert "National 12315 Platform" in html
    assert "within 7 working days" in html
    assert "我要投诉" not in html


def test_the_language_switch_remembers_english(client, db):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = client.get("/").content.decode()

    assert response.status_code == 302
    assert "Make a complaint" in html


def test_every_chinese_string_of_the_consumer_pages_has_an_english_translation(
    client, cast, settings
):
    """Walk the signed-in pages in English: no Han character may remain in the portal's own text,
    but for the consumer's name and the sample address (addresses are written in Chinese)."""
    client.force_login(cast.alice)
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    pages = ["/", "/my/cases/", "/complaints/new/", "/reports/new/", "/consultations/new/"]
    for path in pages:
        html = client.get(path).content.decode()
        text = re.sub(r"<option[^>]*lang=\"zh-hans\"[^>]*>.*?</option>", "", html)
        for data in (cast.alice.real_name, "浙江省杭州市西湖区文三路90号"):
            text = text.replace(data, "")
        assert not re.findall(r"[\u4e00-\u9fff]+", text), path


def test_the_layout_has_landmarks_a_skip_link_and_a_live_message_area(client, db):
    html = client.get("/").content.decode()

    assert 'href="#main"' in html
    assert '<main id="main"' in html
    assert '<nav class="site-nav"' in html
    assert "<footer" in html
    assert 'aria-live="polite"' in html


def test_assets_are_vendored_never_from_a_cdn(client, db):
    html = client.get("/").content.decode()

    sources = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', html)
    assert sources
    assert all(source.startswith("/static/") for source in sources)
    for asset in ("css/app.css", "js/app.js", "vendor/htmx/htmx.min.js"):
        assert finders.find(asset), asset
    for licence in (
        "vendor/htmx/LICENSE",
        "vendor/echarts/LICENSE",
        "vendor/echarts/echarts.min.js",
    ):
        assert finders.find(licence), licence


def test_visitors_see_login_and_register(client, db):
    html = client.get("/").content.decode()

    assert 'href="/accounts/login/' in html
    assert 'href="/accounts/register/"' in html
    assert 'action="/accounts/logout/"' not in html


def test_signed_in_consumers_see_their_account_and_log_out_by_post(client, cast):
    client.force_login(cast.alice)

    html = client.get("/").content.decode()

    assert 'href="/accounts/profile/"' in html
    assert re.search(r'<form action="/accounts/logout/" method="post">', html)
    assert 'href="/staff/"' not in html


def test_staff_get_a_link_to_the_workbench(client, cast):
    client.force_login(cast.ken)

    assert 'href="/staff/"' in client.get("/").content.decode()


def test_the_current_section_is_marked_in_the_navigation(client, cast):
    client.force_login(cast.alice)

    html = client.get("/my/cases/").content.decode()

    assert re.search(r'href="/my/cases/" aria-current="page"', html)

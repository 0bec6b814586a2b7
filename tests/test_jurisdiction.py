"""Address → county resolution, the jurisdiction rules and their API, on the whole country.

The packaged division table is loaded once for this module (committed, then removed at the end)
because the interesting cases — 西湖区 in two cities, 朝阳区 in Beijing and Changchun, 东莞 without
counties — only exist in the real table.
"""

from __future__ import annotations

import pytest
from django.db import connection

from departments.jurisdiction import (
    AmbiguousAddress,
    MissingAddress,
    UnknownAddress,
    invalidate_index,
    resolve_address,
    suggest_jurisdictions,
)
from departments.loading import load_divisions

HANGZHOU_SHOP = "浙江省杭州市西湖区文三路90号"
TMALL_DOMICILE = "浙江省杭州市余杭区文一西路969号"  # 330110
NANCHANG_SHOP = "江西省南昌市西湖区站前路1号"  # 360103


@pytest.fixture(scope="module")
def country(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        load_divisions()
    yield
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        # One statement, without the ORM's cascade collector (which reaches into other apps).
        cursor.execute("DELETE FROM departments_department")
    invalidate_index()


@pytest.fixture
def divisions(country, db):
    invalidate_index()


# --- resolve_address ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "county"),
    [
        ("杭州市西湖区文三路90号", "330106"),
        ("浙江省杭州市西湖区文三路90号", "330106"),
        ("浙江杭州西湖区", "330106"),
        ("中国浙江省 杭州市 西湖区", "330106"),
        ("浙江省，杭州市、西湖区（文三路）", "330106"),
        ("南昌市西湖区", "360103"),
        ("江西省南昌市西湖区", "360103"),
        ("北京市朝阳区建国路", "110105"),
        ("北京朝阳区", "110105"),
        ("长春市朝阳区", "220104"),
        ("吉林市船营区", "220204"),  # 吉林 is a province and a city
        ("济南市中区", "370103"),  # 济南 + 市中区
        ("上海市黄浦区南京东路", "310101"),
        ("内蒙古呼和浩特市新城区", "150102"),
        ("新疆乌鲁木齐市天山区", "650102"),
        ("黔东南凯里市", "522601"),  # autonomous prefecture by short name
        ("浙江省义乌市稠城街道", "330782"),  # county-level city, no prefecture written
    ],
)
def test_an_address_resolves_to_its_county(divisions, address, county):
    assert resolve_address(address).county.code == county


def test_a_resolution_names_the_province_and_city_above_the_county(divisions):
    resolution = resolve_address(HANGZHOU_SHOP)
    assert (resolution.province.code, resolution.city.code) == ("330000", "330100")
    assert resolution.department == resolution.county


def test_a_city_without_counties_is_its_own_county(divisions):
    resolution = resolve_address("广东省东莞市长安镇")
    assert resolution.county.code == "441900"
    assert resolution.county.is_county_level
    assert resolution.city.code == "441900"
    assert resolve_address("中山市石岐区").county.code == "442000"


def test_a_county_directly_under_a_province_has_no_city(divisions):
    resolution = resolve_address("湖北省仙桃市")
    assert resolution.county.code == "429004"
    assert resolution.city is None
    assert resolution.province.code == "420000"


def test_a_county_name_shared_by_two_cities_is_ambiguous_without_a_city(divisions):
    with pytest.raises(AmbiguousAddress) as raised:
        resolve_address("西湖区文三路")
    assert [d.code for d in raised.value.candidates] == ["330106", "360103"]


def test_chaoyang_alone_is_ambiguous_between_beijing_and_changchun(divisions):
    with pytest.raises(AmbiguousAddress) as raised:
        resolve_address("朝阳区")
    assert [d.code for d in raised.value.candidates] == ["110105", "220104"]


def test_a_city_short_name_does_not_swallow_a_longer_county_name(divisions):
    # 中山 is the county-level city 442000, but 中山区 is a district of Dalian (and Taipei).
    with pytest.raises(AmbiguousAddress) as raised:
        resolve_address("中山区人民路")
    assert "442000" not in [d.code for d in raised.value.candidates]


def test_an_address_outside_china_is_unknown(divisions):
    with pytest.raises(UnknownAddress) as raised:
        resolve_address("火星某地")
    assert raised.value.near is None


def test_a_city_without_a_county_is_unknown_but_names_the_city(divisions):
    with pytest.raises(UnknownAddress) as raised:
        resolve_address("浙江省杭州市文三路")
    assert raised.value.near.code == "330100"


def test_a_county_in_another_province_than_written_is_unknown(divisions):
    with pytest.raises(UnknownAddress):
        resolve_address("浙江省南昌市西湖区")


def test_a_blank_address_is_missing(divisions):
    with pytest.raises(MissingAddress):
        resolve_address("  ")


def test_the_lake_without_district_is_not_a_county(divisions):
    with pytest.raises(UnknownAddress):
        resolve_address("杭州西湖文化广场")


# --- suggest_jurisdictions ------------------------------------------------------------------


def _codes(suggestions):
    return [(s.basis.value, s.department.code if s.department else None) for s in suggestions]


def test_an_ordinary_operator_is_handled_where_it_does_business(divisions):
    suggestions = suggest_jurisdictions(
        rules="o121", kind="complaint", respondent_address=HANGZHOU_SHOP
    )
    assert _codes(suggestions) == [("operator_location", "330106")]
    assert suggestions[0].explanation == "经营者所在地"
    assert "第十三条" in suggestions[0].legal_basis


def test_o121_offers_the_sellers_displayed_address_and_the_platform_domicile(divisions):
    suggestions = suggest_jurisdictions(
        rules="o121",
        kind="complaint",
        respondent_address=NANCHANG_SHOP,
        platform_address=TMALL_DOMICILE,
        seller_on_platform=True,
    )
    assert _codes(suggestions) == [
        ("seller_displayed_address", "360103"),
        ("platform_domicile", "330110"),
    ]
    assert suggestions[1].explanation == "第三方平台所在地"
    assert "《市场监督管理投诉举报处理办法》" in suggestions[1].legal_basis


def test_o20_offers_the_sellers_place_of_business_and_the_platform_domicile(divisions):
    suggestions = suggest_jurisdictions(
        rules="o20",
        kind="complaint",
        respondent_address=NANCHANG_SHOP,
        platform_address=TMALL_DOMICILE,
        seller_on_platform=True,
    )
    assert _codes(suggestions) == [
        ("seller_business_location", "360103"),
        ("platform_domicile", "330110"),
    ]
    assert "暂行办法" in suggestions[0].legal_basis
    assert "第十二条" in suggestions[0].legal_basis


def test_a_platform_address_is_ignored_for_an_ordinary_operator(divisions):
    suggestions = suggest_jurisdictions(
        rules="o121",
        kind="complaint",
        respondent_address=HANGZHOU_SHOP,
        platform_address=TMALL_DOMICILE,
    )
    assert _codes(suggestions) == [("operator_location", "330106")]


def test_the_same_county_twice_is_suggested_once(divisions):
    suggestions = suggest_jurisdictions(
        rules="o121",
        kind="complaint",
        respondent_address="杭州市余杭区五常街道",
        platform_address=TMALL_DOMICILE,
        seller_on_platform=True,
    )
    assert _codes(suggestions) == [("seller_displayed_address", "330110")]


def test_a_report_goes_where_the_act_occurred(divisions):
    suggestions = suggest_jurisdictions(
        rules="o121", kind="report", respondent_address="北京朝阳区"
    )
    assert _codes(suggestions) == [("act_location", "110105")]
    assert suggestions[0].explanation == "违法行为发生地"


def test_a_report_on_a_platform_seller_also_offers_the_platform_domicile(divisions):
    suggestions = suggest_jurisdictions(
        rules="o20",
        kind="report",
        respondent_address=NANCHANG_SHOP,
        platform_address=TMALL_DOMICILE,
        seller_on_platform=True,
    )
    assert _codes(suggestions) == [
        ("seller_business_location", "360103"),
        ("platform_domicile", "330110"),
    ]


def test_an_unresolvable_address_is_kept_with_its_reason(divisions):
    suggestions = suggest_jurisdictions(
        rules="o121",
        kind="complaint",
        respondent_address="西湖区文三路",
        platform_address=None,
        seller_on_platform=True,
    )
    displayed, platform = suggestions
    assert displayed.department is None
    assert displayed.problem.code == "ambiguous_address"
    assert [d.code for d in displayed.problem.candidates] == ["330106", "360103"]
    assert platform.department is None
    assert platform.problem.code == "missing_address"


def test_unknown_rules_are_a_programming_error(divisions):
    with pytest.raises(ValueError, match="o99"):
        suggest_jurisdictions(rules="o99", kind="complaint", respondent_address=HANGZHOU_SHOP)


# --- GET /api/v1/jurisdiction/suggest -------------------------------------------------------


def test_suggest_answers_the_county_with_its_province_and_city(api, divisions):
    response = api.get("/api/v1/jurisdiction/suggest", {"address": "杭州市西湖区文三路90号"})
    assert response.status_code == 200
    assert response.json() == {
        "department": {"code": "330106", "name": "西湖区", "level": "county"},
        "province": "浙江省",
        "city": "杭州市",
        "county": "西湖区",
    }


def test_suggest_for_an_unknown_address_is_422_unknown_address(api, divisions):
    response = api.get("/api/v1/jurisdiction/suggest", {"address": "火星某地"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "unknown_address"
    assert error["message"] == "无法从地址中识别区县，请从列表中选择受理部门。"
    assert error["candidates"] == []


def test_suggest_for_an_ambiguous_address_lists_the_candidates(api, divisions):
    response = api.get("/api/v1/jurisdiction/suggest", {"address": "西湖区文三路"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "ambiguous_address"
    assert error["candidates"] == [
        {
            "code": "330106",
            "name": "西湖区",
            "level": "county",
            "parent_name": "杭州市",
            "full_name": "浙江省杭州市西湖区",
        },
        {
            "code": "360103",
            "name": "西湖区",
            "level": "county",
            "parent_name": "南昌市",
            "full_name": "江西省南昌市西湖区",
        },
    ]


def test_suggest_without_an_address_is_422_with_the_field(api, divisions):
    missing = api.get("/api/v1/jurisdiction/suggest")
    blank = api.get("/api/v1/jurisdiction/suggest", {"address": "  "})
    for response in (missing, blank):
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "invalid"
        assert "address" in response.json()["error"]["fields"]


# --- GET /api/v1/jurisdiction/candidates ----------------------------------------------------


def test_candidates_use_o121_for_a_case_received_from_15_april_2026(api, divisions):
    response = api.get(
        "/api/v1/jurisdiction/candidates",
        {
            "respondent_address": NANCHANG_SHOP,
            "platform_address": TMALL_DOMICILE,
            "seller_on_platform": "true",
            "received_on": "2026-04-15",
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert [(s["basis"], s["department"]["code"]) for s in body] == [
        ("seller_displayed_address", "360103"),
        ("platform_domicile", "330110"),
    ]
    assert body[1]["explanation"] == "第三方平台所在地"
    assert body[1]["city"] == "杭州市"
    assert body[0]["problem"] is None


def test_candidates_use_o20_for_a_case_received_before_15_april_2026(api, divisions):
    response = api.get(
        "/api/v1/jurisdiction/candidates",
        {
            "respondent_address": NANCHANG_SHOP,
            "platform_address": TMALL_DOMICILE,
            "seller_on_platform": "true",
            "received_on": "2026-04-14",
        },
    )
    assert [s["basis"] for s in response.json()] == [
        "seller_business_location",
        "platform_domicile",
    ]


def test_candidates_report_an_unresolvable_address_as_a_problem(api, divisions):
    response = api.get(
        "/api/v1/jurisdiction/candidates",
        {"respondent_address": "朝阳区", "kind": "report", "received_on": "2026-05-01"},
    )
    assert response.status_code == 200
    (only,) = response.json()
    assert only["basis"] == "act_location"
    assert only["department"] is None
    assert only["problem"]["code"] == "ambiguous_address"
    assert [c["code"] for c in only["problem"]["candidates"]] == ["110105", "220104"]


def test_candidates_without_any_address_is_422(api, divisions):
    response = api.get("/api/v1/jurisdiction/candidates", {"respondent_address": ""})
    assert response.status_code == 422
    assert "respondent_address" in response.json()["error"]["fields"]


def test_candidates_with_an_unknown_kind_is_422(api, divisions):
    response = api.get(
        "/api/v1/jurisdiction/candidates", {"respondent_address": HANGZHOU_SHOP, "kind": "praise"}
    )
    assert response.status_code == 422
    assert "kind" in response.json()["error"]["fields"]

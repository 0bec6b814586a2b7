"""The fixed cast every test uses: a small department tree across the five levels and named users.

Departments: national 100000 > Zhejiang 330000 > Hangzhou 330100 > West Lake 330106 > stations
330106001 (Wenxin), 330106002 (Lingyin); the neighbouring county Shangcheng 330102 (330102001).
"""

from __future__ import annotations

import os
import time
from types import SimpleNamespace

import pytest
from django.test import Client

from accounts.identity import encrypt_id_number, id_number_hash
from accounts.models import User
from accounts.services import create_staff
from accounts.tokens import issue_token
from businesses.models import Business
from departments.models import Department, Level

PASSWORD = "Open12315-test-pw"


def make_department(code: str, name: str, level: str, parent: Department | None) -> Department:
    return Department.objects.create(
        code=code,
        name=name,
        level=level,
        parent=parent,
        is_county_level=level == Level.COUNTY,
    )


@pytest.fixture
def tree(db) -> SimpleNamespace:
    national = make_department("100000", "国家市场监督管理总局", Level.NATIONAL, None)
    province = make_department("330000", "浙江省", Level.PROVINCE, national)
    city = make_department("330100", "杭州市", Level.CITY, province)
    county = make_department("330106", "西湖区", Level.COUNTY, city)
    station = make_department("330106001", "西湖区文新市场监管所", Level.STATION, county)
    station2 = make_department("330106002", "西湖区灵隐市场监管所", Level.STATION, county)
    neighbour = make_department("330102", "上城区", Level.COUNTY, city)
    neighbour_station = make_department(
        "330102001", "上城区湖滨市场监管所", Level.STATION, neighbour
    )
    return SimpleNamespace(
        national=national,
        province=province,
        city=city,
        county=county,
        station=station,
        station2=station2,
        neighbour=neighbour,
        neighbour_station=neighbour_station,
    )


def make_consumer(username: str, real_name: str, id_number: str) -> User:
    user = User.objects.create_user(
        username=username,
        password=PASSWORD,
        phone=username,
        real_name=real_name,
        id_number_encrypted=encrypt_id_number(id_number),
        id_number_hash=id_number_hash(id_number),
        is_verified=True,
    )
    return user


@pytest.fixture
def cast(tree) -> SimpleNamespace:
    """Alice and Bob are consumers; Betty works for the business Alice complains about; the officers
    sit at every level; Nick is in the neighbouring county and must see nothing of West Lake."""
    shop = Business.objects.create(
        name="杭州好运来电器有限公司",
        uscc="91330106MA2H7KQ4L5",
        address="杭州市西湖区文三路90号",
        county=tree.county,
    )
    betty = User.objects.create_user(username="betty", password=PASSWORD, business=shop)

    def staff(username: str, department: Department, roles: str) -> User:
        return create_staff(
            username=username,
            password=PASSWORD,
            department=department,
            roles=roles.split(","),
            real_name=username.capitalize(),
        )

    return SimpleNamespace(
        alice=make_consumer("13800000001", "张爱丽", "110101199003070011"),
        bob=make_consumer("13800000002", "李博", "11010119900307002X"),
        betty=betty,
        shop=shop,
        nora=staff("nora", tree.national, "supervisor,analyst"),
        paul=staff("paul", tree.province, "supervisor,intake"),
        cathy=staff("cathy", tree.city, "supervisor,intake,analyst"),
        ken=staff("ken", tree.county, "intake,handler"),
        helen=staff("helen", tree.county, "head,supervisor"),
        sam=staff("sam", tree.station, "handler"),
        nick=staff("nick", tree.neighbour, "intake,handler,head,supervisor"),
        hank=staff("hank", tree.county, "hotline"),
        dora=staff("dora", tree.province, "dept_admin"),
    )


class ApiClient(Client):
    """A test client that speaks JSON and signs in with a bearer token."""

    def as_user(self, user: User | None) -> ApiClient:
        self.defaults.pop("HTTP_AUTHORIZATION", None)
        if user is not None:
            self.defaults["HTTP_AUTHORIZATION"] = f"Bearer {issue_token(user=user)}"
        return self

    def post_json(self, path: str, data, **extra):
        return self.post(path, data, content_type="application/json", **extra)


@pytest.fixture
def api(db) -> ApiClient:
    return ApiClient()


@pytest.fixture
def in_ci() -> bool:
    return os.environ.get("CI") == "true"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """PBKDF2 at production strength costs seconds per user on this machine; tests need none."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _platform_language():
    """Each test starts in Chinese; a request in English must not leak into the next test."""
    from django.utils import translation

    translation.activate("zh-hans")
    yield
    translation.activate("zh-hans")


@pytest.fixture(autouse=True)
def _fresh_calendar_cache():
    """Years an admin entered in one test must not leak into the next through the cache."""
    from workdays.calendar import clear_cache

    clear_cache()
    yield
    clear_cache()


@pytest.fixture
def one_clock_minute(monkeypatch):
    """The rate limits count per clock minute (`cases.api.throttle`): their clock is held one
    second into a minute, so a test's requests all fall in one window."""
    now = time.time()
    second_one = now - now % 60 + 1
    monkeypatch.setattr("cases.api.time", SimpleNamespace(time=lambda: second_one))

"""The demo data `make run` starts with: stations, staff at every level, consumers, businesses and
a few cases in different states. Idempotent: running it again changes nothing."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from accounts.identity import check_digit, encrypt_id_number, id_number_hash
from accounts.models import User
from accounts.services import create_staff
from businesses.models import Business
from departments.models import Department

DEMO_PASSWORD = "Demo-12315"  # noqa: S105 - printed on purpose: demo logins
DEMO_COUNTIES = ("330106", "330102", "440305", "110105")


@dataclass(frozen=True)
class Login:
    username: str
    who: str


STAFF = (
    # username, department, roles, description
    ("nation_sup", "100000", "supervisor,analyst", "总局 12315 督办/统计"),
    ("zj_sup", "330000", "supervisor,intake,analyst", "浙江省局 督办/分送"),
    ("zj_admin", "330000", "dept_admin", "浙江省局 部门管理员"),
    ("hz_sup", "330100", "supervisor,intake,analyst", "杭州市局 督办/分送"),
    ("xihu_intake", "330106", "intake", "西湖区局 受理"),
    ("xihu_handler", "330106", "handler", "西湖区局 承办"),
    ("xihu_head", "330106", "head,supervisor", "西湖区局 负责人"),
    ("xihu_hotline", "330106", "hotline", "西湖区 12315 坐席"),
    ("wenxin_handler", "330106001", "handler", "西湖区文新所 承办"),
    ("sc_intake", "330102", "intake,handler,head", "上城区局 受理/承办"),
)


def demo_id_number(region: str, birth: str, seq: int) -> str:
    first17 = f"{region}{birth}{seq:03d}"
    return first17 + check_digit(first17)


CONSUMERS = (
    ("13900000001", "张三", demo_id_number("330106", "19900101", 1)),
    ("13900000002", "李四", demo_id_number("110105", "19851231", 2)),
)


def ensure_consumer(*, phone: str, real_name: str, id_number: str) -> User:
    user = User.objects.filter(username=phone).first()
    if user is None:
        user = User.objects.create_user(
            username=phone, password=DEMO_PASSWORD, phone=phone, real_name=real_name,
            id_number_encrypted=encrypt_id_number(id_number),
            id_number_hash=id_number_hash(id_number), is_verified=True,
        )  # fmt: skip
    return user


def ensure_stations() -> None:
    from departments.stations import ensure_demo_stations

    for code in DEMO_COUNTIES:
        county = Department.objects.filter(code=code).first()
        if county is not None:
            ensure_demo_stations(county, count=2)


def ensure_businesses() -> tuple[Business, Business]:
    county = Department.objects.get(code="330106")
    shop, _ = Business.objects.get_or_create(
        uscc="91330106MA27DEMO01",
        defaults={"name": "杭州好运来电器有限公司", "address": "杭州市西湖区文三路90号",
                  "county": county},
    )  # fmt: skip
    platform, _ = Business.objects.get_or_create(
        uscc="91330100MA27DEMO02",
        defaults={"name": "淘淘网络交易平台", "address": "杭州市余杭区文一西路969号",
                  "is_platform": True, "odr_enrolled": True},
    )  # fmt: skip
    return shop, platform


@transaction.atomic
def seed_demo() -> list[Login]:
    ensure_stations()
    logins = []
    admin = User.objects.filter(username="admin").first()
    if admin is None:
        User.objects.create_superuser(username="admin", password=DEMO_PASSWORD)
    logins.append(Login("admin", "超级管理员 (/admin/)"))
    for username, code, roles, who in STAFF:
        department = Department.objects.get(code=code)
        if not User.objects.filter(username=username).exists():
            user = create_staff(
                username=username, password=DEMO_PASSWORD, department=department,
                roles=roles.split(","), real_name=who.split(" ")[0],
            )  # fmt: skip
            if "dept_admin" in roles:
                User.objects.filter(pk=user.pk).update(is_staff=True)
        logins.append(Login(username, f"{who} ({code})"))
    consumers = [ensure_consumer(phone=p, real_name=n, id_number=i) for p, n, i in CONSUMERS]
    logins += [Login(c.username, f"消费者 {c.real_name}") for c in consumers]
    shop, _platform = ensure_businesses()
    if not User.objects.filter(username="haoyunlai").exists():
        User.objects.create_user(username="haoyunlai", password=DEMO_PASSWORD, business=shop)
    logins.append(Login("haoyunlai", f"经营者 {shop.name}"))
    return logins

"""The demo data `make run` starts with: stations, staff at every level, consumers, businesses and
a few cases in different states. Idempotent: running it again changes nothing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

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
    ("wenxin_handler", "330106001", "handler", "西湖区第一市场监管所 承办"),
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
        uscc="91330106MA27DEMX0G",
        defaults={"name": "杭州好运来电器有限公司", "address": "杭州市西湖区文三路90号",
                  "county": county},
    )  # fmt: skip
    platform, _ = Business.objects.get_or_create(
        uscc="91330100MA27DEMX0R",
        defaults={"name": "淘淘网络交易平台", "address": "杭州市余杭区文一西路969号",
                  "is_platform": True, "odr_enrolled": True},
    )  # fmt: skip
    return shop, platform


def _complaint(*, department: str, facts: str, demand: str, amount: str, shop: Business) -> dict:
    return {
        "department": department, "contact_address": "杭州市西湖区文三路100号3幢201室",
        "respondent": {"name": shop.name, "uscc": shop.uscc, "address": shop.address},
        "category": "G01", "amount": amount, "facts": facts, "demand": demand,
    }  # fmt: skip


def ensure_demo_cases(*, consumer: User, shop: Business, platform: Business) -> None:
    """A handful of cases in different states, made through the real services (intake, perform)."""
    from cases.intake import submit_case
    from cases.services import perform

    if consumer.cases.exists():
        return
    intake = User.objects.get(username="xihu_intake")
    handler = User.objects.get(username="xihu_handler")
    station = User.objects.get(username="wenxin_handler")
    hotline = User.objects.get(username="xihu_hotline")
    submit_case(kind="complaint", by=consumer, payload=_complaint(
        department="330106", shop=shop, amount="3299.00",
        facts="2026年11月在该店购买的空调安装后不制冷，多次联系未上门维修。",
        demand="要求更换同型号空调或全额退款。"))  # fmt: skip
    diverted = submit_case(kind="complaint", by=consumer, payload=_complaint(
        department="330106", shop=shop, amount="899.00",
        facts="购买的电饭煲使用一周后内胆涂层脱落。", demand="要求退货退款。"))  # fmt: skip
    diverted = perform(diverted, "accept", by=intake, handler_unit="330106001")
    perform(diverted, "start_mediation", by=station, note="双方同意调解")
    online = _complaint(
        department="330106", shop=shop, amount="159.00",
        facts="在网络平台购买的蓝牙耳机与描述不符。", demand="要求退款并赔偿。")  # fmt: skip
    online["respondent"]["platform"] = {"name": platform.name, "address": platform.address}
    settled = submit_case(kind="complaint", by=consumer, payload=online)
    settled = perform(settled, "accept", by=intake)
    settled = perform(settled, "start_mediation", by=handler)
    perform(settled, "record_agreement", by=handler, terms="经营者退款159元。",
            amount_recovered="159.00")  # fmt: skip
    submit_case(kind="report", by=consumer, payload={
        **_complaint(department="330106", shop=shop, amount="0",
                     facts="该店销售的插线板无3C认证标志。", demand=""),
        "notify_me": True})  # fmt: skip
    submit_case(
        kind="consultation",
        by=consumer,
        payload={"department": "330106", "question": "网购商品七天无理由退货的运费由谁承担？"},
    )
    late = _complaint(
        department="330106", shop=shop, amount="2100.00",
        facts="来电反映：预付的健身卡门店关闭，无法退费。",
        demand="要求退还剩余费用。")  # fmt: skip
    late["on_behalf_of"] = {"real_name": "王五", "phone": "13700000003",
                            "address": "杭州市西湖区天目山路1号"}  # fmt: skip
    late["channel"] = "hotline"
    late["received_at"] = (timezone.now() - dt.timedelta(days=20)).isoformat()
    submit_case(kind="complaint", by=hotline, payload=late)


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
    shop, platform = ensure_businesses()
    if not User.objects.filter(username="haoyunlai").exists():
        User.objects.create_user(username="haoyunlai", password=DEMO_PASSWORD, business=shop)
    logins.append(Login("haoyunlai", f"经营者 {shop.name}"))
    ensure_demo_cases(consumer=consumers[0], shop=shop, platform=platform)
    return logins

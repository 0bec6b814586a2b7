"""What the parties are told when a case moves, in plain Chinese.

Every notice names the county bureau (a station acts in its name, o121 Art. 30) and never the
internal routing. The SMS and in-app copies carry the same text; long answers are cut in the SMS
body with a pointer to the portal.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from accounts.models import User
from cases.models import Case, Deadline
from cases.workflow import REJECTION_GROUND_LABELS, TERMINATION_GROUND_LABELS
from notifications.models import Channel
from notifications.outbox import queue

OTHER_ROUTES = "与经营者协商、向消费者协会投诉、申请仲裁、向人民法院起诉"
SMS_ANSWER_CHARS = 120


@dataclass(frozen=True)
class Notice:
    subject: str
    body: str


def _facts(case: Case) -> dict[str, str]:
    return {
        "kind": str(case.get_kind_display()),
        "number": case.number,
        "bureau": case.public_department.bureau_name,
    }


def _accepted(case: Case, params: Mapping[str, Any]) -> Notice:
    facts = _facts(case)
    return Notice(
        _("您的%(kind)s已受理") % facts,
        _("您的%(kind)s（编号 %(number)s）已由%(bureau)s受理。") % facts,
    )


def _rejected(case: Case, params: Mapping[str, Any]) -> Notice:
    facts = {
        **_facts(case),
        "ground": str(REJECTION_GROUND_LABELS[params["ground"]]),
        "reason": params["reason"],
        "routes": _(OTHER_ROUTES),
    }
    return Notice(
        _("您的%(kind)s不予受理") % facts,
        _(
            "您的%(kind)s（编号 %(number)s）经%(bureau)s审查，决定不予受理。理由：%(ground)s。"
            "说明：%(reason)s。您还可以通过以下途径解决：%(routes)s。"
        )
        % facts,
    )


def _agreed(case: Case, params: Mapping[str, Any]) -> Notice:
    amount: Decimal = params["amount_recovered"]
    facts = {**_facts(case), "amount": f"{amount:.2f}"}
    return Notice(
        _("您的投诉已调解成功"),
        _(
            "您的投诉（编号 %(number)s）经%(bureau)s调解，双方已达成调解协议，"
            "挽回经济损失 %(amount)s 元。"
        )
        % facts,
    )


def _terminated(case: Case, params: Mapping[str, Any]) -> Notice:
    facts = {
        **_facts(case),
        "ground": str(TERMINATION_GROUND_LABELS[params["ground"]]),
        "routes": _(OTHER_ROUTES),
    }
    return Notice(
        _("您的投诉已终止调解"),
        _(
            "您的投诉（编号 %(number)s）经%(bureau)s调解，已终止调解。原因：%(ground)s。"
            "您还可以通过以下途径解决：%(routes)s。"
        )
        % facts,
    )


def _decided(case: Case, params: Mapping[str, Any]) -> Notice:
    filed = params["decision"] == "filed"
    facts = {**_facts(case), "decision": _("立案") if filed else _("不予立案")}
    return Notice(
        _("您的举报已有处理结果"),
        _("您的举报（编号 %(number)s）经%(bureau)s核查，决定%(decision)s。") % facts,
    )


def _referred(case: Case, params: Mapping[str, Any]) -> Notice:
    facts = {**_facts(case), "authority": params["authority"]}
    return Notice(
        _("您的举报请向其他部门反映"),
        _(
            "您的举报（编号 %(number)s）经%(bureau)s审查，不属于市场监督管理部门职责，"
            "请向%(authority)s反映。"
        )
        % facts,
    )


def _answered(case: Case, params: Mapping[str, Any]) -> Notice:
    answer: str = params["answer"]
    short = answer if len(answer) <= SMS_ANSWER_CHARS else answer[:SMS_ANSWER_CHARS] + "……"
    facts = {**_facts(case), "answer": short}
    return Notice(
        _("您的咨询已答复"),
        _("您的咨询（编号 %(number)s）已由%(bureau)s答复：%(answer)s（详情请登录平台查看）")
        % facts,
    )


BUILDERS: dict[str, Callable[[Case, Mapping[str, Any]], Notice]] = {
    "accept": _accepted,
    "reject": _rejected,
    "record_agreement": _agreed,
    "terminate": _terminated,
    "decide": _decided,
    "refer_out": _referred,
    "answer": _answered,
}


def case_notice(action: str, case: Case, params: Mapping[str, Any]) -> Notice | None:
    builder = BUILDERS.get(action)
    return builder(case, params) if builder else None


def send_to_consumer(case: Case, notice: Notice, *, deadline: Deadline | None = None) -> None:
    """In-app to the consumer's account, if any, and by SMS to the phone on the case unless the
    account holder turned SMS off (`notify_sms`); a caller without an account gets the SMS."""
    consumer = case.consumer
    texts_wanted = consumer is None or consumer.notify_sms
    queue(
        case,
        recipient_user=consumer,
        phone=case.party_phone if texts_wanted else "",
        subject=notice.subject,
        body=notice.body,
        deadline=deadline,
    )


def send_termination_to_business(
    case: Case, params: Mapping[str, Any], *, deadline: Deadline | None = None
) -> None:
    """Both parties are told of a termination: in-app to the business's users on the platform
    (businesses not on the platform are told by the handler through the usual letters)."""
    if case.respondent_id is None:
        return
    facts = {
        **_facts(case),
        "ground": str(TERMINATION_GROUND_LABELS[params["ground"]]),
    }
    subject = _("投诉终止调解告知")
    body = (
        _("针对贵单位的投诉（编号 %(number)s）经%(bureau)s调解，已终止调解。原因：%(ground)s。")
        % facts
    )
    for user in User.objects.filter(business_id=case.respondent_id, is_active=True):
        queue(
            case,
            recipient_user=user,
            subject=subject,
            body=body,
            channels=(Channel.INAPP,),
            deadline=deadline,
        )

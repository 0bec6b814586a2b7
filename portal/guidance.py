"""Plain-language "what happens next" for a consumer's case, by kind, status and rule set.

This is presentation text only: the periods it quotes are the ones WORKFLOW.md and
`cases.workflow` apply; the case page shows the real due dates beside it.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

NEXT_STEPS: dict[tuple[str, str], tuple[Promise, ...]] = {
    ("complaint", "submitted"): (
        _("受理部门应自收到投诉之日起 7 个工作日内决定是否受理，并告知您。"),
        _("不予受理的，会告诉您理由，以及协商、消费者协会调解、仲裁、诉讼等其他途径。"),
    ),
    ("complaint", "accepted"): (
        _("投诉已受理。承办单位会联系您和经营者，经双方同意后组织调解。"),
        _("请保持电话畅通，并留意短信通知。"),
    ),
    ("complaint", "mediating"): (
        _("调解进行中。检测、鉴定的时间不计入调解期限。"),
        _("双方达成协议、或调解终止后，本页会显示处理结果。"),
    ),
    ("complaint", "closed"): (
        _("本件已办结。您可以对处理结果进行一次评价。"),
        _("对结果不满意的，仍可通过消费者协会调解、仲裁或诉讼等途径解决。"),
    ),
    ("report", "submitted"): (
        _("受理部门应自收到举报之日起 15 个工作日内核查并决定是否立案，经批准可延长 15 个工作日。"),
        _("举报人的身份信息会被保密，不会告知被举报的经营者。"),
    ),
    ("report", "verifying"): (
        _("举报正在核查中，检测、鉴定的时间不计入核查期限。"),
        _("您选择了实名举报并要求告知的，作出是否立案的决定后会通知您。"),
    ),
    ("report", "closed"): (
        _("核查已结束，处理结果见下方办理进度。"),
        _("您可以对处理情况进行一次评价。"),
    ),
    ("consultation", "submitted"): (
        _("工作人员会尽快答复您的咨询，答复内容会显示在本页。"),
        _("如果需要维护自己的权益，可以直接提交投诉。"),
    ),
    ("consultation", "closed"): (_("咨询已答复，答复内容见下方办理进度。"),),
}

MEDIATION_PERIOD = {
    "o20": _("调解期限：自受理之日起 45 个工作日。"),
    "o121": _("调解期限：自受理之日起 60 日。"),
}

OPEN_CASE_HINT = _("办结前，您可以随时补充事实和证据，也可以撤回。")

# What each kind is for, shown on the home page and at the top of the form.
KIND_INTRO = {
    "complaint": _("与经营者发生消费纠纷，希望市场监管部门组织调解。"),
    "report": _("发现经营者有违法行为，向市场监管部门提供线索。"),
    "consultation": _("对消费维权、市场监管有疑问，需要工作人员解答。"),
}


def next_steps(kind: str, status: str, rules: str) -> list[str]:
    steps = [str(line) for line in NEXT_STEPS.get((kind, status), ())]
    if kind == "complaint" and status in ("accepted", "mediating") and rules in MEDIATION_PERIOD:
        steps.append(str(MEDIATION_PERIOD[rules]))
    if status != "closed":
        steps.append(str(OPEN_CASE_HINT))
    return steps

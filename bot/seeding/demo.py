"""The fixed demo customers and staff: the same names, IDs and numbers whatever --customers and --seed.

Dates are relative to the seeding day (a cooling-off policy must be recent), so the year inside a
fixed policy number need not match its issue date.
"""

from __future__ import annotations

from dataclasses import dataclass

DEMO_PASSWORD = "Demo@2026"  # noqa: S105 - local demo only; every demo staff login uses it


@dataclass(frozen=True)
class DemoPolicy:
    number: str
    product: str
    status: str  # PolicyStatus value
    note: str  # Chinese, what to try with it


@dataclass(frozen=True)
class DemoCustomer:
    key: str
    name: str
    id_number: str
    gender: str
    mobile: str
    email: str | None
    address: str
    policies: tuple[DemoPolicy, ...]
    claims: tuple[str, ...] = ()
    tickets: tuple[str, ...] = ()
    story: str = ""

    @property
    def id_last6(self) -> str:
        return self.id_number[-6:]


ZHANG_WEI = DemoCustomer(
    key="zhang_wei",
    name="张伟",
    id_number="110105198503157317",
    gender="M",
    mobile="13800138000",
    email="zhangwei85@163.com",
    address="北京市朝阳区望京街道望京西路48号阳光小区5栋2单元1502室",
    policies=(
        DemoPolicy(
            "LF2023000123",
            "安康终身寿险",
            "in_force",
            "受益人:配偶陈静50%、女儿张子涵50%;下期保费约45天后到期",
        ),
        DemoPolicy("AU2024000088", "机动车商业险", "in_force", "车牌京A8K2J6;理赔CL2600000088待补充材料"),
    ),
    claims=("CL2600000088",),
    tickets=("TK2600000123",),
    story="寿险有效(含受益人)、车险追尾理赔待补材料、受益人变更工单待处理",
)
LI_NA = DemoCustomer(
    key="li_na",
    name="李娜",
    id_number="31010419900722482X",
    gender="F",
    mobile="13912345678",
    email="lina0722@qq.com",
    address="上海市徐汇区湖滨街道漕溪北路88号锦绣小区12栋3单元801室",
    policies=(
        DemoPolicy("HE2025000456", "守护百万医疗险", "cooling_off", "犹豫期内(5天前承保),可试犹豫期退保"),
        DemoPolicy("HE2024000321", "康宁重大疾病保险", "in_force", "保费7天后到期,昨日预扣款失败(余额不足)"),
    ),
    tickets=("TK2600000456",),
    story="犹豫期保单、即将到期且扣款失败的保费",
)
WANG_FANG = DemoCustomer(
    key="wang_fang",
    name="王芳",
    id_number="440106197811032266",
    gender="F",
    mobile="13660001234",
    email=None,
    address="广东省广州市天河区龙华街道体育西路123号华府小区8栋1单元1202室",
    policies=(
        DemoPolicy("LF2021000234", "安康终身寿险", "grace_period", "保费逾期20天,宽限期内,自动扣款多次失败"),
        DemoPolicy("LF2020000567", "福寿定期寿险", "lapsed", "约200天前效力中止,仍在2年复效期内"),
    ),
    story="宽限期保单、可复效的失效保单",
)
LIU_YANG = DemoCustomer(
    key="liu_yang",
    name="刘洋",
    id_number="510107199301285179",
    gender="M",
    mobile="18628001234",
    email="liuyang93@outlook.com",
    address="四川省成都市武侯区金桥街道学府路66号书香小区3栋2单元602室",
    policies=(DemoPolicy("AC2024000345", "畅行意外险", "in_force", "意外理赔CL2600000345已赔付"),),
    claims=("CL2600000345",),
    story="意外险有效、已赔付的理赔",
)

DEMO_CUSTOMERS: tuple[DemoCustomer, ...] = (ZHANG_WEI, LI_NA, WANG_FANG, LIU_YANG)

# Family members of the demo customers (beneficiaries, not customers).
CHEN_JING = ("陈静", "配偶", "110105198705092646")
ZHANG_ZIHAN = ("张子涵", "子女", "110105201509011284")
ZHOU_JIANGUO = ("周建国", "配偶", "440106197602143955")
LIU_MOTHER = ("刘桂兰", "父母", "510107196506062426")

DEMO_ID_NUMBERS = frozenset(
    [c.id_number for c in DEMO_CUSTOMERS] + [CHEN_JING[2], ZHANG_ZIHAN[2], ZHOU_JIANGUO[2], LIU_MOTHER[2]]
)


@dataclass(frozen=True)
class DemoStaff:
    username: str
    display_name: str
    role: str  # StaffRole value
    team: str | None  # Team value


def demo_staff() -> tuple[DemoStaff, ...]:
    from bot.seeding.reference import STAFF

    return tuple(DemoStaff(*row) for row in STAFF)


DEMO_STAFF: tuple[DemoStaff, ...] = demo_staff()

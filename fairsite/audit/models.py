"""The audit log: who on the staff did what, and when. Written in the same transaction as the
action it records, so an entry exists exactly when the action happened. Never holds a phone
number (fairsite.audit.service.record strips any from the detail)."""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from fairsite.clock import utcnow
from fairsite.extensions import db

# Action codes and what the organiser's audit page calls them. record() takes any code; one
# missing here shows as the code itself, so add the label with the call.
ACTIONS = {
    "phone.reveal": _l("查看完整手机号"),
    "intents.export": _l("导出报名名单"),
    "intent.status": _l("更改跟进状态"),
    "booth.approve": _l("通过展位申请"),
    "booth.reject": _l("驳回展位申请"),
    "fair.status": _l("更改招聘会状态"),
    "desk.register": _l("现场代登记"),
    "desk.slip": _l("查看代登记回执"),
    "attendees.purge": _l("按期清除个人信息"),
    "employer.approve": _l("通过企业审核"),
    "account.create": _l("添加账号"),
    "account.password": _l("修改密码"),
    "account.activate": _l("启用账号"),
    "account.deactivate": _l("停用账号"),
    "account.role": _l("更改账号角色"),
    "live.take_down": _l("下线直播"),
    "live.bring_back": _l("重新上线直播"),
    "live.platforms": _l("修改直播平台名单"),
    "import.confirm": _l("表格导入企业和岗位"),
    "account.login_sent": _l("发送导入企业的登录信息"),
    "intent.invite": _l("发面试邀请短信"),
    "sms.budget": _l("设置短信预算"),
    "people.search": _l("查找求职者"),
    "people.view": _l("查看一人一档"),
    "followup.add": _l("记录回访"),
    "followups.export": _l("导出实名制台账"),
}
OBJECT_LABELS = {
    "intent": _l("求职意向"),
    "booth": _l("展位"),
    "fair": _l("招聘会"),
    "attendee": _l("求职者"),
    "employer": _l("企业"),
    "user": _l("账号"),
    "live_session": _l("直播"),
}
ROLE_LABELS = {
    "organiser": _l("主办方"),
    "employer": _l("企业"),
    "system": _l("系统"),
}


class AuditEntry(db.Model):
    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_action_created", "action", "created_at"),
        Index("ix_audit_entries_user_created", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # None for what the system did by itself (`flask purge`).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    role: Mapped[str] = mapped_column(String(20))
    # The employer the staff member acted for (employer staff), else None.
    employer_id: Mapped[int | None] = mapped_column(ForeignKey("employers.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(40))
    obj_type: Mapped[str | None] = mapped_column(String(30))
    obj_id: Mapped[int | None]
    detail: Mapped[str] = mapped_column(String(300), default="")

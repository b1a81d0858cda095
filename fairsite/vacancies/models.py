"""Vacancies (岗位): what an employer offers, shown at booths and in live sessions."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fairsite.clock import utcnow
from fairsite.extensions import db

if TYPE_CHECKING:
    from fairsite.employers.models import Employer

# The fixed list of categories: code -> label (labels are translated in templates).
CATEGORIES = {
    "production": _l("普工/操作工"),
    "technician": _l("技工/维修"),
    "quality": _l("质检/仓管"),
    "driver": _l("司机/物流"),
    "construction": _l("建筑/装修"),
    "service": _l("餐饮/服务"),
    "sales": _l("销售/客服"),
    "care": _l("家政/护理"),
    "office": _l("行政/文员"),
    "tech": _l("技术/研发"),
    "agriculture": _l("农业/养殖"),
    "other": _l("其他"),
}
EDUCATION = {
    "": _l("不限"),
    "primary": _l("小学"),
    "junior": _l("初中"),
    "senior": _l("高中/中专"),
    "college": _l("大专"),
    "bachelor": _l("本科及以上"),
}


class Vacancy(db.Model):
    __tablename__ = "vacancies"
    __table_args__ = (
        CheckConstraint("headcount >= 1", name="headcount_positive"),
        CheckConstraint("pay_min >= 0 AND pay_min <= pay_max", name="pay_range"),
        CheckConstraint(
            "age_min IS NULL OR age_max IS NULL OR age_min <= age_max", name="age_range"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    employer_id: Mapped[int] = mapped_column(ForeignKey("employers.id"), index=True)
    title: Mapped[str] = mapped_column(String(60))
    category: Mapped[str] = mapped_column(String(20), default="other")
    headcount: Mapped[int] = mapped_column(default=1)
    pay_min: Mapped[int]  # yuan a month
    pay_max: Mapped[int]
    location: Mapped[str] = mapped_column(String(100), default="")
    shifts: Mapped[str] = mapped_column(String(40), default="")  # e.g. 长白班, 两班倒
    age_min: Mapped[int | None]
    age_max: Mapped[int | None]
    education: Mapped[str] = mapped_column(String(20), default="")
    meals_lodging: Mapped[bool] = mapped_column(default=False)  # 包吃住
    social_insurance: Mapped[bool] = mapped_column(default=False)  # 五险一金
    description: Mapped[str] = mapped_column(Text, default="")
    is_open: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    employer: Mapped[Employer] = relationship(back_populates="vacancies")

    @property
    def pay_mid(self) -> float:
        """The monthly pay a vacancy counts with in averages: the middle of its range."""
        return (self.pay_min + self.pay_max) / 2

    @property
    def category_label(self) -> str:
        return CATEGORIES.get(self.category, CATEGORIES["other"])

    @property
    def benefits(self) -> list[str]:
        tags = []
        if self.meals_lodging:
            tags.append(_l("包吃住"))
        if self.social_insurance:
            tags.append(_l("五险一金"))
        if self.shifts:
            tags.append(self.shifts)
        return tags

"""The import spreadsheet's layout: its two sheets (企业, 岗位), their columns with what each
takes, and the template organisers download, with the notes sheet and the drop-down lists.
What a cell may hold is checked in fairsite/imports/service.py."""
from __future__ import annotations

import io
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from fairsite.employers.forms import INDUSTRIES
from fairsite.vacancies.forms import AGE_MAX, AGE_MIN, PAY_MAX, PAY_MIN
from fairsite.vacancies.models import CATEGORIES, EDUCATION

EMPLOYERS = "企业"
VACANCIES = "岗位"
NOTES = "填写说明"
LISTS = "选项"
MAX_HEADCOUNT = 9999
BENEFITS = {"包吃住": "meals_lodging", "五险一金": "social_insurance"}


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    required: bool
    note: str
    max_length: int = 0  # text columns: at most this many characters
    width: int = 16


EMPLOYER_COLUMNS = (
    Column("name", "企业名称", True, "营业执照上的全称，最多 100 字", 100, 30),
    Column("credit_code", "统一社会信用代码", True, "18 位，营业执照上的代码；校验位须正确", 0, 22),
    Column("industry", "所属行业", False, "可从下拉列表选择，也可自己填写，最多 40 字", 40, 14),
    Column("contact_name", "联系人", True, "企业招聘负责人姓名，最多 40 字；也是企业账号的姓名", 40, 12),
    Column("contact_phone", "联系电话（手机）", True,
           "11 位手机号；导入后作为企业的登录账号，每家企业须不同", 0, 16),
)
VACANCY_COLUMNS = (
    Column("credit_code", "企业统一社会信用代码", True,
           "岗位所属企业的信用代码：须在“企业”表中，或是平台上已有的企业", 0, 22),
    Column("title", "岗位名称", True,
           "最多 60 字；同一企业的同名岗位只能有一行（再次导入时按“信用代码 + 岗位名称”更新）", 60, 20),
    Column("category", "工种", True, "从下拉列表选择", 0, 14),
    Column("headcount", "招聘人数", True, f"1 至 {MAX_HEADCOUNT:,} 的整数", 0, 10),
    Column("pay_min", "月薪下限（元）", True, f"{PAY_MIN:,} 至 {PAY_MAX:,} 的整数，如 4000", 0, 12),
    Column("pay_max", "月薪上限（元）", True, "不低于月薪下限", 0, 12),
    Column("benefits", "福利", False, "可填“包吃住”“五险一金”，两项都有用顿号隔开；没有就留空", 0, 18),
    Column("age_min", "最低年龄", False, f"{AGE_MIN} 至 {AGE_MAX} 岁，可留空", 0, 10),
    Column("age_max", "最高年龄", False, "不低于最低年龄，可留空", 0, 10),
    Column("education", "学历要求", False, "从下拉列表选择，留空为不限", 0, 12),
    Column("location", "工作地点", False, "最多 100 字", 100, 16),
    Column("shifts", "班次", False, "如：长白班、两班倒，最多 40 字", 40, 12),
)
COLUMNS = {EMPLOYERS: EMPLOYER_COLUMNS, VACANCIES: VACANCY_COLUMNS}


def category_labels() -> list[str]:
    return [str(label) for label in CATEGORIES.values()]


def education_labels() -> list[str]:
    return [str(label) for label in EDUCATION.values()]


def _header_row(ws, columns) -> None:
    fill = PatternFill("solid", fgColor="DCE8F5")
    for n, column in enumerate(columns, start=1):
        cell = ws.cell(row=1, column=n, value=column.header + ("*" if column.required else ""))
        cell.font = Font(bold=True)
        cell.fill = fill
        ws.column_dimensions[get_column_letter(n)].width = column.width
    ws.freeze_panes = "A2"


def _validation(ws, columns, key: str, rows: int, **kw) -> None:
    letter = get_column_letter([c.key for c in columns].index(key) + 1)
    dv = DataValidation(allow_blank=True, showErrorMessage=True, **kw)
    dv.add(f"{letter}2:{letter}{rows + 1}")
    ws.add_data_validation(dv)


def _as_text(ws, columns, key: str, rows: int) -> None:
    """Cells Excel would turn into numbers (a code, a phone): formatted as text."""
    column = [c.key for c in columns].index(key) + 1
    for row in range(2, rows + 2):
        ws.cell(row=row, column=column).number_format = "@"


def template_workbook(max_rows: int) -> bytes:
    """The xlsx organisers fill in: sheets 企业 and 岗位 (a header row, drop-down lists and
    number checks on the data rows), 填写说明 (what each column takes), 选项 (the lists)."""
    wb = Workbook()
    employers = wb.active
    employers.title = EMPLOYERS
    vacancies = wb.create_sheet(VACANCIES)
    notes = wb.create_sheet(NOTES)
    lists = wb.create_sheet(LISTS)

    _header_row(employers, EMPLOYER_COLUMNS)
    _header_row(vacancies, VACANCY_COLUMNS)

    # The lists the drop-downs offer, on a sheet of their own (a list typed into the rule is
    # limited to 255 characters).
    for n, (title, values) in enumerate(
        (("工种", category_labels()), ("学历要求", education_labels()), ("所属行业", INDUSTRIES),
         ("福利", ["包吃住", "五险一金", "包吃住、五险一金"])), start=1):
        lists.cell(row=1, column=n, value=title).font = Font(bold=True)
        for r, value in enumerate(values, start=2):
            lists.cell(row=r, column=n, value=value)
        lists.column_dimensions[get_column_letter(n)].width = 18

    def listed(column: int, count: int) -> str:
        letter = get_column_letter(column)
        return f"'{LISTS}'!${letter}$2:${letter}${count + 1}"

    rows = max_rows
    _validation(vacancies, VACANCY_COLUMNS, "category", rows, type="list",
                formula1=listed(1, len(CATEGORIES)), error="请从下拉列表中选择工种", errorTitle="工种")
    _validation(vacancies, VACANCY_COLUMNS, "education", rows, type="list",
                formula1=listed(2, len(EDUCATION)), error="请从下拉列表中选择学历要求", errorTitle="学历要求")
    _validation(vacancies, VACANCY_COLUMNS, "benefits", rows, type="list", formula1=listed(4, 3),
                errorStyle="warning", error="福利只能填“包吃住”“五险一金”", errorTitle="福利")
    _validation(employers, EMPLOYER_COLUMNS, "industry", rows, type="list",
                formula1=listed(3, len(INDUSTRIES)), errorStyle="information",
                error="列表里没有这个行业：可以照填", errorTitle="所属行业")
    _validation(vacancies, VACANCY_COLUMNS, "headcount", rows, type="whole", operator="between",
                formula1="1", formula2=str(MAX_HEADCOUNT), error=f"请填写 1 至 {MAX_HEADCOUNT} 的整数")
    for key in ("pay_min", "pay_max"):
        _validation(vacancies, VACANCY_COLUMNS, key, rows, type="whole", operator="between",
                    formula1=str(PAY_MIN), formula2=str(PAY_MAX),
                    error=f"月薪应在 {PAY_MIN}–{PAY_MAX} 元之间")
    for key in ("age_min", "age_max"):
        _validation(vacancies, VACANCY_COLUMNS, key, rows, type="whole", operator="between",
                    formula1=str(AGE_MIN), formula2=str(AGE_MAX), error=f"年龄应在 {AGE_MIN}–{AGE_MAX} 岁之间")
    for ws, columns in ((employers, EMPLOYER_COLUMNS), (vacancies, VACANCY_COLUMNS)):
        _validation(ws, columns, "credit_code", rows, type="textLength", operator="equal",
                    formula1="18", error="统一社会信用代码应为 18 位")
        _as_text(ws, columns, "credit_code", rows)
        for column in columns:
            if column.max_length:
                _validation(ws, columns, column.key, rows, type="textLength", operator="lessThanOrEqual",
                            formula1=str(column.max_length), error=f"最多 {column.max_length} 字")
    _as_text(employers, EMPLOYER_COLUMNS, "contact_phone", rows)

    notes.column_dimensions["A"].width = 12
    notes.column_dimensions["B"].width = 24
    notes.column_dimensions["C"].width = 8
    notes.column_dimensions["D"].width = 70
    wrap = Alignment(wrap_text=True, vertical="top")
    lines = [
        ("填写说明", "", "", ""),
        (f"每张表第一行是表头，请勿修改；从第二行起每行一条，每张表最多 {max_rows:,} 行。"
         "带 * 的列必填。请直接填写文字或数字，不要用公式。", "", "", ""),
        ("先填“企业”表，再填“岗位”表；岗位用企业的统一社会信用代码对应到企业。"
         "同一文件可以反复导入：已有的企业按信用代码、已有的岗位按“信用代码 + 岗位名称”更新，不会重复。", "", "", ""),
        ("", "", "", ""),
        ("表", "列", "必填", "填写要求"),
    ]
    for sheet, columns in COLUMNS.items():
        for column in columns:
            lines.append((sheet, column.header, "是" if column.required else "", column.note))
    lines.append(("", "", "", ""))
    lines.append(("工种", "", "", "、".join(category_labels())))
    lines.append(("学历要求", "", "", "、".join(education_labels())))
    for r, values in enumerate(lines, start=1):
        for c, value in enumerate(values, start=1):
            cell = notes.cell(row=r, column=c, value=value)
            cell.alignment = wrap
    notes.merge_cells("A2:D2")
    notes.merge_cells("A3:D3")
    notes.row_dimensions[2].height = 36
    notes.row_dimensions[3].height = 36
    notes["A1"].font = Font(bold=True, size=14)
    for c in range(1, 5):
        notes.cell(row=5, column=c).font = Font(bold=True)

    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()

"""The spreadsheet import, as an organiser drives it: download the template, upload it filled,
read the preview (errors at their row and column), confirm, import again; and what a hostile
or broken file, or a wrong login, gets."""
from __future__ import annotations

import io
import re
import zipfile

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from fairsite.accounts.models import EMPLOYER, User
from fairsite.audit.models import AuditEntry
from fairsite.booths.models import Booth, BoothVacancy
from fairsite.employers.credit_code import make_credit_code
from fairsite.employers.models import Employer
from fairsite.extensions import db
from fairsite.fairs.search import Criteria, find
from fairsite.imports.models import ImportedLogin
from fairsite.imports.sheets import EMPLOYER_COLUMNS, VACANCY_COLUMNS
from fairsite.vacancies.models import Vacancy

CODE_A = make_credit_code("91511100MA6ABCDE1")
CODE_B = make_credit_code("91511100MA6ABCDE2")
EMPLOYERS = [
    [ "嘉禾电子科技有限公司", CODE_A, "电子制造", "王经理", "13900001111"],
    ["瑞丰食品有限公司", CODE_B, "食品加工", "李主管", "13900002222"],
]
VACANCIES = [
    [CODE_A, "SMT 操作工", "普工/操作工", 20, 3800, 5200, "包吃住、五险一金", 18, 45, "初中", "高新区", "两班倒"],
    [CODE_A, "品质检验员", "质检", 5, 3600, 4600, "五险一金", None, None, "", "高新区", "长白班"],
    [CODE_B, "食品包装工", "production", 30, 3000, 3800, "", 18, 55, "不限", "工业园区", ""],
]


def xlsx(employers=EMPLOYERS, vacancies=VACANCIES, *, employer_headers=None, vacancy_headers=None) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "企业"
    ws.append(employer_headers or [c.header for c in EMPLOYER_COLUMNS])
    for row in employers:
        ws.append(row)
    ws = wb.create_sheet("岗位")
    ws.append(vacancy_headers or [c.header for c in VACANCY_COLUMNS])
    for row in vacancies:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def upload(client, body: bytes, name: str = "企业岗位.xlsx"):
    return client.post("/manage/imports", data={"file": (io.BytesIO(body), name)},
                       content_type="multipart/form-data")


def preview(client, body: bytes, query: str = ""):
    response = upload(client, body)
    assert response.status_code == 303, response.get_data(as_text=True)
    location = response.headers["Location"]
    page = client.get(location + query)
    return location, page


def confirm(client, location: str, page, fair_id="", zone="A"):
    digest = re.search(r'name="digest"[^>]*value="([0-9a-f]+)"', page.get_data(as_text=True))
    assert digest, "the preview offers no confirm"
    return client.post(location + "/confirm", data={"fair_id": fair_id, "zone": zone, "digest": digest[1]})


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def organiser(login_as):
    return login_as("organiser")


@pytest.fixture(autouse=True)
def _own_instance_folder(app, tmp_path):
    """Uploads wait under the instance folder: each test has its own (they go with tmp_path)."""
    app.instance_path = str(tmp_path / "instance")


def test_template_opens_in_openpyxl_with_its_sheets_and_lists(client, organiser):
    response = client.get("/manage/imports/template.xlsx")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    wb = load_workbook(io.BytesIO(response.data))
    assert wb.sheetnames[:3] == ["企业", "岗位", "填写说明"]
    assert [c.value for c in wb["企业"][1]] == [c.header + ("*" if c.required else "") for c in EMPLOYER_COLUMNS]
    assert [c.value for c in wb["岗位"][1]][:3] == ["企业统一社会信用代码*", "岗位名称*", "工种*"]
    rules = {str(dv.sqref).split(":")[0]: dv for dv in wb["岗位"].data_validations.dataValidation}
    assert rules["C2"].type == "list" and "选项" in rules["C2"].formula1
    notes = " ".join(str(c.value) for row in wb["填写说明"].iter_rows() for c in row if c.value)
    assert "统一社会信用代码" in notes and "普工/操作工" in notes
    # The template itself imports as nothing to do (no rows, no errors).
    location, page = preview(client, response.data)
    assert "没有需要导入的" in page.get_data(as_text=True)


def test_preview_shows_each_error_at_its_row_and_column_and_writes_nothing(client, organiser):
    employers = EMPLOYERS + [
        ["坏码公司", CODE_A[:-1] + ("0" if CODE_A[-1] != "0" else "1"), "", "赵", "13900003333"],  # row 4
        ["重复公司", CODE_B, "", "钱", "13900004444"],  # row 5: CODE_B again
        ["", make_credit_code("91511100MA6ABCDE3"), "", "孙", "13900005555"],  # row 6: no name
        ["=HYPERLINK(\"http://x\",\"点我\")", make_credit_code("91511100MA6ABCDE4"), "", "周", "13900006666"],
    ]
    vacancies = VACANCIES + [
        [CODE_A, "焊工", "普工", 5, 6000, 5000, "", None, None, "", "", ""],  # row 5: pay range
        [CODE_A, "厨师", "大厨", 5, 4000, 5000, "", None, None, "", "", ""],  # row 6: category
        [CODE_A, "SMT 操作工", "普工", 5, 4000, 5000, "", None, None, "", "", ""],  # row 7: duplicate
        [CODE_A, "长" * 61, "普工", 5, 4000, 5000, "", None, None, "", "", ""],  # row 8: too long
        [CODE_A, "叉车工", "普工", "", 4000, 5000, "", None, None, "", "", ""],  # row 9: no headcount
        [CODE_A, "<script>alert(1)</script>", "普工", 5, 4000, 5000, "", None, None, "", "@cmd", ""],  # row 10
        [make_credit_code("91511100MA6YYYYY9"), "司机", "司机", 1, 4000, 5000, "", None, None, "", "", ""],  # 11
    ]
    before = (count(Employer), count(Vacancy), count(User))
    _location, page = preview(client, xlsx(employers, vacancies))
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for line in (
        "企业</strong> 第 4 行 · 统一社会信用代码：应为 18 位，且校验位正确",
        "企业</strong> 第 5 行 · 统一社会信用代码：与第 3 行是同一家企业",
        "企业</strong> 第 6 行 · 企业名称：必填",
        "企业</strong> 第 7 行 · 企业名称：不能使用公式",
        "岗位</strong> 第 5 行 · 月薪上限（元）：月薪上限不能低于下限",
        "岗位</strong> 第 6 行 · 工种：没有“大厨”这个工种",
        "岗位</strong> 第 7 行 · 岗位名称：与第 2 行重复",
        "岗位</strong> 第 8 行 · 岗位名称：最多 60 字，这里有 61 字",
        "岗位</strong> 第 9 行 · 招聘人数：请填写招聘人数",
        "岗位</strong> 第 10 行 · 岗位名称：不能含有 &lt; 开头的标记",
        "岗位</strong> 第 10 行 · 工作地点：不能以 = + - @ 开头",
        "岗位</strong> 第 11 行 · 企业统一社会信用代码：平台上没有这家企业",
    ):
        assert line in html, line
    assert "<script>alert(1)" not in html
    assert 'name="digest"' not in html  # no confirm while there are errors
    assert (count(Employer), count(Vacancy), count(User)) == before


def test_confirm_writes_employers_vacancies_logins_and_booths(client, organiser, make_fair):
    fair = make_fair()
    location, page = preview(client, xlsx(), f"?fair={fair.id}&zone=B")
    html = page.get_data(as_text=True)
    assert "新展位 B-01" in html and "新展位 B-02" in html
    assert count(Employer) == 0
    response = confirm(client, location, page, fair.id, "B")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/manage/imports/logins")
    firm = db.session.scalar(select(Employer).where(Employer.credit_code == CODE_A))
    assert firm.name == "嘉禾电子科技有限公司" and firm.is_approved
    smt = db.session.scalar(select(Vacancy).where(Vacancy.title == "SMT 操作工"))
    assert (smt.category, smt.headcount, smt.pay_min, smt.pay_max, smt.meals_lodging, smt.social_insurance,
            smt.age_min, smt.age_max, smt.education, smt.shifts) == \
        ("production", 20, 3800, 5200, True, True, 18, 45, "junior", "两班倒")
    assert count(Vacancy) == 3
    login = db.session.scalar(select(User).where(User.employer_id == firm.id))
    assert (login.login, login.role, login.active) == ("13900001111", EMPLOYER, False)
    assert db.session.get(ImportedLogin, login.id).sent_at is None
    booths = db.session.scalars(select(Booth).where(Booth.fair_id == fair.id).order_by(Booth.number)).all()
    assert [(b.number, b.status) for b in booths] == [("B-01", "approved"), ("B-02", "approved")]
    assert count(BoothVacancy) == 3
    # The fair's search index (kept by triggers) lists them, and the headline counts the posts.
    assert len(find(fair.id, Criteria(words=("包装",))).rows) == 1
    assert sum(b.posts for b in booths) == 55
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "import.confirm")) is not None
    # The upload is gone once imported.
    assert client.get(location).status_code == 404


def test_reimport_of_the_same_file_changes_nothing(client, organiser, make_fair):
    fair = make_fair()
    location, page = preview(client, xlsx(), f"?fair={fair.id}")
    assert confirm(client, location, page, fair.id).status_code == 303
    before = (count(Employer), count(Vacancy), count(User), count(Booth), count(BoothVacancy))
    _location, page = preview(client, xlsx(), f"?fair={fair.id}")
    html = page.get_data(as_text=True)
    assert "没有需要导入的" in html and 'name="digest"' not in html
    assert "不变 2" in html and "不变 3" in html
    assert (count(Employer), count(Vacancy), count(User), count(Booth), count(BoothVacancy)) == before


def test_a_changed_row_updates_its_employer_and_vacancy(client, organiser):
    location, page = preview(client, xlsx())
    assert confirm(client, location, page).status_code == 303
    smt_id = db.session.scalar(select(Vacancy.id).where(Vacancy.title == "SMT 操作工"))
    employers = [list(r) for r in EMPLOYERS]
    employers[0][0] = "嘉禾电子（集团）有限公司"
    vacancies = [list(r) for r in VACANCIES]
    vacancies[0][4] = 4000
    location, page = preview(client, xlsx(employers, vacancies), "?sheet=岗位&show=changed")
    html = page.get_data(as_text=True)
    assert "月薪下限（元）：<del>3800</del> → <ins>4000</ins>" in html
    assert 'id="row-2"' in html and 'id="row-3"' not in html  # only the changed row is listed
    assert confirm(client, location, page).status_code == 303
    db.session.expire_all()
    assert count(Employer) == 2 and count(Vacancy) == 3
    assert db.session.get(Vacancy, smt_id).pay_min == 4000
    assert db.session.scalar(select(Employer.name).where(Employer.credit_code == CODE_A)) == "嘉禾电子（集团）有限公司"


def test_confirm_after_the_data_changed_shows_the_new_preview(client, organiser, make_employer):
    location, page = preview(client, xlsx())
    make_employer(credit_code=CODE_A, name="先到的企业")  # someone else added it meanwhile
    response = confirm(client, location, page)
    assert response.status_code == 409
    assert "预览之后数据有了变化" in response.get_data(as_text=True)
    assert count(Vacancy) == 0 and count(Employer) == 1


def test_sending_the_login_switches_it_on_with_a_one_time_password(client, organiser):
    location, page = preview(client, xlsx())
    confirm(client, location, page)
    user = db.session.scalar(select(User).where(User.login == "13900001111"))
    listing = client.get("/manage/imports/logins").get_data(as_text=True)
    assert "139****1111" in listing and "未发送" in listing
    slip = client.post(f"/manage/imports/logins/{user.id}/send")
    assert slip.status_code == 200 and slip.headers["Cache-Control"] == "no-store"
    password = re.search(r'id="initial-password">([a-z0-9]{10})<', slip.get_data(as_text=True))[1]
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert user.active and user.must_change_password
    client.post("/logout")
    response = client.post("/login", data={"login": "13900001111", "password": password})
    assert response.status_code == 303 and response.headers["Location"].endswith("/account/password")
    assert client.post("/manage/imports/logins/999999/send").status_code == 404


# ---- hostile and broken files ---------------------------------------------------------

def test_a_file_that_is_not_an_xlsx_gets_a_clear_message(client, organiser):
    _location, page = preview(client, b"name,code\nfoo,bar\n")
    assert "这不是 Excel 表格（.xlsx）文件" in page.get_data(as_text=True)
    response = upload(client, b"name,code\n", "list.csv")
    assert response.status_code == 422 and "请上传 .xlsx 格式" in response.get_data(as_text=True)
    response = client.post("/manage/imports", data={}, content_type="multipart/form-data")
    assert response.status_code == 422 and "请选择要上传的 .xlsx 文件" in response.get_data(as_text=True)


def _with_sheet(sheet_xml: bytes) -> bytes:
    """A valid xlsx whose first sheet's XML is replaced by `sheet_xml`."""
    source = zipfile.ZipFile(io.BytesIO(xlsx()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = sheet_xml if item.filename == "xl/worksheets/sheet1.xml" else source.read(item)
            target.writestr(item.filename, data)
    return out.getvalue()


def test_a_zip_bomb_is_refused_before_it_is_read(client, organiser):
    head = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    body = head + b'<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row>' * 500_000
    bomb = _with_sheet(body + b"</sheetData></worksheet>")
    assert len(bomb) < 400_000
    _location, page = preview(client, bomb)
    assert "解压后过大" in page.get_data(as_text=True)


def test_a_huge_sheet_under_the_unpack_limit_stops_at_the_row_limit(client, organiser):
    header = "".join(f'<c r="{chr(65 + i)}1" t="inlineStr"><is><t>{c.header}</t></is></c>'
                     for i, c in enumerate(EMPLOYER_COLUMNS)).encode()
    rows = b"".join(b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>x</t></is></c></row>' % (n, n)
                    for n in range(2, 200_000))
    sheet = (b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
             b'<row r="1">' + header + b"</row>" + rows + b"</sheetData></worksheet>")
    _location, page = preview(client, _with_sheet(sheet))
    html = page.get_data(as_text=True)
    assert "企业</strong> 第 5002 行：表“企业”超过 5,000 行" in html
    assert 'name="digest"' not in html


def test_a_formula_is_refused_never_evaluated(client, organiser):
    vacancies = [list(r) for r in VACANCIES]
    vacancies[0][3] = "=10*2"
    vacancies[1][4] = "=WEBSERVICE(\"http://example.com\")"
    _location, page = preview(client, xlsx(vacancies=vacancies), "?sheet=岗位")
    html = page.get_data(as_text=True)
    assert "第 2 行 · 招聘人数：不能使用公式（导入不计算公式）" in html
    assert "第 3 行 · 月薪下限（元）：不能使用公式" in html


def test_5001_rows_are_refused(client, organiser):
    employers = [[f"企业{n}", make_credit_code(f"915111000{n:08d}"), "", "王", f"139{n:08d}"] for n in range(5001)]
    _location, page = preview(client, xlsx(employers, []))
    html = page.get_data(as_text=True)
    assert "企业</strong> 第 5002 行：表“企业”超过 5,000 行" in html
    assert 'name="digest"' not in html


def test_missing_headers_are_named(client, organiser):
    _location, page = preview(client, xlsx(employer_headers=["名字", "代码"]))
    assert "第一行缺少这些列：企业名称、统一社会信用代码、联系人、联系电话（手机）" in page.get_data(as_text=True)


@pytest.mark.parametrize("app_config", [{"IMPORT_MAX_BYTES": 50_000}])
def test_a_file_over_the_size_limit_gets_413(client, organiser, app_config):
    response = upload(client, b"x" * 60_000)
    assert response.status_code == 413
    assert "提交的内容太多" in response.get_data(as_text=True)


# ---- who may ----------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/manage/imports", "/manage/imports/template.xlsx", "/manage/imports/logins"])
def test_employers_get_404_and_anonymous_visitors_log_in(client, login_as, path):
    assert client.get(path).status_code == 302
    login_as(EMPLOYER)
    assert client.get(path).status_code == 404


def test_organiser_viewer_gets_403(client, login_as):
    login_as("organiser", staff_role="viewer")
    assert client.get("/manage/imports").status_code == 403
    assert upload(client, xlsx()).status_code == 403


def test_another_organisers_upload_and_bad_tokens_are_404(client, organiser, login_as, app):
    location, _page = preview(client, xlsx())
    for bad in ("..%2F..%2Fconfig", "A" * 31, "A" * 33, "%00" * 32):
        assert client.get(f"/manage/imports/{bad}").status_code == 404
    client.post("/logout")
    login_as("organiser")
    assert client.get(location).status_code == 404
    assert client.post(location + "/confirm", data={"digest": "x"}).status_code == 404
    assert client.post(location + "/cancel").status_code == 404


def test_cancel_removes_the_upload(client, organiser):
    location, _page = preview(client, xlsx())
    response = client.post(location + "/cancel")
    assert response.status_code == 303
    assert client.get(location).status_code == 404


def test_hostile_query_strings_change_nothing_and_say_so(client, organiser):
    location, _page = preview(client, xlsx())
    for query in ("?page=²", "?page=99999999999", "?sheet=../../etc", "?show=<script>", "?zone=<b>&fair=1",
                  "?fair=١", "?fair=2147483648", "?fair=-1"):
        page = client.get(location + query)
        assert page.status_code == 200, query
        assert "<script>" not in page.get_data(as_text=True).split("<main", 1)[1].split("</main>")[0].replace(
            "<script src", "")
    assert "没有这场招聘会" in client.get(location + "?fair=abc").get_data(as_text=True)
    response = client.post(location + "/confirm", data={"fair_id": "x", "digest": "nope"})
    assert response.status_code == 422 and count(Employer) == 0
    response = client.post(location + "/confirm", data={"fair_id": "", "digest": "nope"})
    assert response.status_code == 409 and count(Employer) == 0


def test_existing_employers_keep_their_booth_and_a_pending_one_gets_an_application(
        client, organiser, make_fair, make_booth, make_employer, make_vacancy):
    fair = make_fair()
    approved = make_employer(credit_code=CODE_A, name="嘉禾电子科技有限公司", industry="电子制造",
                             contact_name="王经理", contact_phone="13900001111")
    booth = make_booth(fair=fair, employer=approved, vacancies=2, number="C-07")
    make_employer(credit_code=CODE_B, name="瑞丰食品有限公司", industry="食品加工", contact_name="李主管",
                  contact_phone="13900002222", status="pending")
    location, page = preview(client, xlsx(), f"?fair={fair.id}")
    html = page.get_data(as_text=True)
    assert "已有展位 C-07" in html and "新展位（待企业通过审核后编号）" in html
    response = confirm(client, location, page, fair.id)
    assert response.status_code == 303, re.findall(r"(?s)<li>.*?</li>|flash[^>]*>[^<]*", response.get_data(as_text=True))[:5]
    db.session.expire_all()
    assert count(User) == 1  # only the organiser: existing employers get no new login
    pending_booth = db.session.scalar(select(Booth).where(Booth.fair_id == fair.id, Booth.id != booth.id))
    assert (pending_booth.status, pending_booth.number) == ("applied", None)
    positions = db.session.scalars(select(BoothVacancy.position).where(BoothVacancy.booth_id == booth.id)
                                   .order_by(BoothVacancy.position)).all()
    assert positions == [0, 1, 2, 3]

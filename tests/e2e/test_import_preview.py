"""The organiser's spreadsheet import on a desk screen (1280x800): download the template, upload
a file with a mistake and see it beside its row and column, upload it corrected, choose the demo
fair, confirm, and send a new employer its login. Screenshots go to /tmp/shots/ (and
tests/e2e/shots/) for people to look at."""
import io
from pathlib import Path

from openpyxl import Workbook, load_workbook

from fairsite.employers.credit_code import make_credit_code
from fairsite.imports.sheets import EMPLOYER_COLUMNS, VACANCY_COLUMNS
from tests.e2e.conftest import TABLET, login, shot

ORGANISER = ("organiser@demo.fairsite.cn", "demo-organiser")
SHOTS = Path("/tmp/shots")
CODE_1 = make_credit_code("91511100MA7E2E001")
CODE_2 = make_credit_code("91511100MA7E2E002")


def xlsx(path: Path, bad_pay: bool) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "企业"
    ws.append([c.header for c in EMPLOYER_COLUMNS])
    ws.append(["浏览器测试电子科技有限公司", CODE_1, "电子制造", "陈经理", "13912340001"])
    ws.append(["浏览器测试物流有限公司", CODE_2, "物流运输", "刘主管", "13912340002"])
    ws = wb.create_sheet("岗位")
    ws.append([c.header for c in VACANCY_COLUMNS])
    ws.append([CODE_1, "贴片操作工（导入）", "普工/操作工", 12, 4200, 5600, "包吃住、五险一金", 18, 45, "初中", "高新区", "两班倒"])
    ws.append([CODE_1, "设备维修（导入）", "技工/维修", 3, 6000 if bad_pay else 5000, 5500 if bad_pay else 7000,
               "五险一金", 20, 50, "高中/中专", "高新区", "长白班"])
    ws.append([CODE_2, "快递分拣员（导入）", "司机/物流", 20, 3800, 5000, "", 18, 55, "", "经开区", "夜班"])
    wb.save(path)
    return path


def keep(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)
    shot(page, name)


def test_import_preview_confirm_and_send_login_on_a_desk_screen(live_server, tablet, tmp_path):
    page = tablet.new_page()
    assert page.viewport_size == TABLET
    login(page, live_server, *ORGANISER)
    page.click("nav >> text=表格导入")
    page.wait_for_selector("h1:has-text('表格导入企业和岗位')")

    with page.expect_download() as download:
        page.click("text=下载导入模板")
    template = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    assert template.sheetnames[:2] == ["企业", "岗位"]

    # A file with a wrong pay range: the error sits in its row, at its column; no confirm.
    page.set_input_files("input[name=file]", str(xlsx(tmp_path / "bad.xlsx", bad_pay=True)))
    page.click("text=上传并预览")
    page.wait_for_selector("#import-errors")
    assert "岗位 第 3 行 · 月薪上限（元）：月薪上限不能低于下限" in page.inner_text("#import-errors")
    page.click(".manage-tabs >> text=岗位")
    cell = page.locator("#row-3 td.cell-error")
    assert "月薪上限不能低于下限" in cell.inner_text()
    assert page.locator("text=确认导入").count() == 0
    cell.scroll_into_view_if_needed()
    keep(page, "import-preview-errors-1280")
    page.click("text=取消导入")
    page.wait_for_selector("h1:has-text('表格导入企业和岗位')")

    # Corrected: choose the demo fair and a zone, see the booths planned, confirm.
    page.set_input_files("input[name=file]", str(xlsx(tmp_path / "good.xlsx", bad_pay=False)))
    page.click("text=上传并预览")
    page.wait_for_selector("h1:has-text('导入预览')")
    page.select_option("select[name=fair]", index=1)
    page.select_option("select[name=zone]", "G")
    page.click("text=更新预览")
    page.wait_for_selector("#import-rows >> text=新展位 G-01")
    page.click(".manage-tabs >> text=岗位")
    page.wait_for_selector("#import-rows >> text=贴片操作工（导入）")
    assert page.locator("#import-rows tr.import-new").count() == 3
    keep(page, "import-preview-1280")
    page.click("button:has-text('确认导入')")
    page.wait_for_selector("h1:has-text('导入企业的账号')")
    assert "导入完成" in page.inner_text("#main")
    keep(page, "import-logins-1280")

    page.locator("tr", has_text="浏览器测试电子科技有限公司").locator("button:has-text('发送登录信息')").click()
    page.wait_for_selector("#initial-password")
    password = page.inner_text("#initial-password").strip()
    assert len(password) == 10
    keep(page, "import-login-slip-1280")

    # The fair page now lists the imported vacancy at its new booth.
    page.goto(live_server + "/fairs/1?q=贴片")
    page.wait_for_selector("text=贴片操作工（导入）")

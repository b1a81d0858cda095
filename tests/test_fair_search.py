"""The fair page's vacancy search (fairs.show): Chinese words of any length through the index the
database keeps, filters combined with them, every match once across pages (plain links and
infinite scroll), bounded counts, and the cached page following every write at once."""
import html
import re

import pytest

from fairsite.extensions import db
from fairsite.fairs import search
from fairsite.vacancies.models import Vacancy

GOOD = {"title": "焊工", "category": "technician", "headcount": "5", "pay_min": "5000", "pay_max": "7500",
        "location": "高新区", "shifts": "长白班", "age_min": "18", "age_max": "50", "education": "",
        "meals_lodging": "y", "social_insurance": "y", "description": "有证优先"}


def titles(body: str) -> list[str]:
    return re.findall(r'<article class="card vacancy" id="vacancy-\d+">\s*<div class="row spread">\s*<h3>(.*?)</h3>',
                      body)


def vacancy_ids(body: str) -> list[int]:
    return [int(i) for i in re.findall(r'<article class="card vacancy" id="vacancy-(\d+)"', body)]


def next_link(body: str) -> str | None:
    m = re.search(r'<a class="button secondary" href="([^"]*after=[^"]*)#jobs">下一页</a>', body)
    return html.unescape(m.group(1)) if m else None


def count_line(body: str) -> str:
    return re.search(r"共 (\S+) 个职位符合条件", body).group(1)


@pytest.fixture
def fair_with_jobs(make_fair, make_employer, make_vacancy, make_booth):
    """A fair of three employers, with the titles, places and names the searches below look for."""
    fair = make_fair()
    huaxing = make_employer(name="华兴机械制造有限公司")
    ruifeng = make_employer(name="瑞丰食品有限公司")
    tianyi = make_employer(name="天一物流集团")
    make_booth(fair=fair, employer=huaxing, number="A-01", vacancies=[
        make_vacancy(huaxing, title="焊工", location="高新区", category="technician", pay_min=6000, pay_max=8000,
                     meals_lodging=False, social_insurance=True),
        make_vacancy(huaxing, title="SMT 操作员", location="城南片区", category="production", pay_min=3800,
                     pay_max=5200, meals_lodging=True, social_insurance=True),
        make_vacancy(huaxing, title="电子装配工", location="高新区", category="production", pay_min=3500,
                     pay_max=4800, meals_lodging=True, social_insurance=False),
    ])
    make_booth(fair=fair, employer=ruifeng, number="A-02", vacancies=[
        # Holds 装配 and 配工, never 装配工.
        make_vacancy(ruifeng, title="配工装配", location="县城", category="production", pay_min=3000,
                     pay_max=3800, meals_lodging=True, social_insurance=False),
        make_vacancy(ruifeng, title="食品包装员", location="工业园区", category="production", pay_min=3000,
                     pay_max=3800, meals_lodging=True, social_insurance=True),
    ])
    make_booth(fair=fair, employer=tianyi, number="B-01", vacancies=[
        make_vacancy(tianyi, title="货车司机（A2）", location="经开区", category="driver", pay_min=7000,
                     pay_max=9000, meals_lodging=True, social_insurance=True),
        make_vacancy(tianyi, title="仓库管理员", location="城南片区", category="quality", pay_min=3300,
                     pay_max=4200, meals_lodging=False, social_insurance=True),
    ])
    return fair


@pytest.mark.parametrize(("q", "expected"), [
    # One character: in titles (焊工, 电子装配工, 配工装配) and a location (工业园区).
    ("工", ["焊工", "电子装配工", "配工装配", "食品包装员"]),
    ("司机", ["货车司机（A2）"]),
    ("城南", ["SMT 操作员", "仓库管理员"]),  # a location
    ("华兴", ["焊工", "SMT 操作员", "电子装配工"]),  # an employer's name: all its vacancies
    ("装配工", ["电子装配工"]),  # three characters: not 配工装配, which holds both halves
    ("天一物流", ["货车司机（A2）", "仓库管理员"]),
    ("高新区", ["焊工", "电子装配工"]),
    ("smt", ["SMT 操作员"]),  # Latin letters in either case
    ("焊工 高新区", ["焊工"]),  # every word must match
    ("员 城南", ["SMT 操作员", "仓库管理员"]),
    ("不存在", []),
])
def test_show_search_finds_words_of_any_length_in_title_place_and_employer(client, fair_with_jobs, q, expected):
    body = client.get(f"/fairs/{fair_with_jobs.id}", query_string={"q": q}).get_data(as_text=True)
    assert titles(body) == expected
    assert count_line(body) == str(len(expected))
    if not expected:
        assert "没有找到符合条件的岗位" in body


def test_show_search_combines_with_category_pay_and_benefit_filters(client, fair_with_jobs):
    def found(**args):
        return titles(client.get(f"/fairs/{fair_with_jobs.id}", query_string=args).get_data(as_text=True))

    assert found(q="工", category="production") == ["电子装配工", "配工装配", "食品包装员"]
    assert found(q="工", category="production", insurance="1") == ["食品包装员"]
    assert found(q="员", min_pay="4000") == ["SMT 操作员", "仓库管理员"]
    assert found(q="员", min_pay="4500") == ["SMT 操作员"]  # between two of the page's choices
    assert found(min_pay="8000") == ["焊工", "货车司机（A2）"]
    assert found(meals="1", insurance="1") == ["SMT 操作员", "食品包装员", "货车司机（A2）"]
    assert found(q="城南", meals="1", insurance="1", category="production", min_pay="5000") == ["SMT 操作员"]
    assert found(category="driver", q="焊") == []


def test_show_pages_through_every_match_once_with_plain_links(client, make_fair, make_employer, make_vacancy,
                                                              make_booth):
    fair = make_fair()
    expected = []
    for number in ("C-02", "A-01", "B-07"):
        employer = make_employer()
        vacancies = [make_vacancy(employer, title=f"普工{number}-{i}") for i in range(25)]
        make_booth(fair=fair, employer=employer, number=number, vacancies=vacancies)
        expected += [(number, v.id) for v in vacancies]
    expected = [vid for _number, vid in sorted(expected)]
    url = f"/fairs/{fair.id}?q=普工"
    seen, pages = [], 0
    while url:
        response = client.get(url)
        body = response.get_data(as_text=True)
        assert response.status_code == 200
        # Without JavaScript each next page is the whole page: headline, filters, count, booths.
        assert "<html" in body and "个岗位 · 平均月薪" in body and "展位一览" in body
        assert count_line(body) == "75"
        if pages:
            assert "回到第一页" in body
        seen += vacancy_ids(body)
        url, pages = next_link(body), pages + 1
    assert seen == expected
    assert pages == 3


def test_show_infinite_scroll_sends_the_next_cards_alone(client, hx, make_fair, make_employer, make_vacancy,
                                                         make_booth):
    fair = make_fair()
    employer = make_employer()
    vacancies = [make_vacancy(employer, title=f"叉车工{i}") for i in range(65)]
    make_booth(fair=fair, employer=employer, vacancies=vacancies)
    first = hx.get(f"/fairs/{fair.id}?q=叉车").get_data(as_text=True)
    assert first.lstrip().startswith(f'<section id="fair-vacancies-{fair.id}"')
    seen = vacancy_ids(first)
    body = first
    while (url := next_link(body)) is not None:
        # The same link is htmx's trigger: revealed, it loads the next page in its own place.
        assert f'hx-get="{html.escape(url)}" hx-trigger="revealed" hx-swap="outerHTML"' in body
        response = hx.get(url)
        body = response.get_data(as_text=True)
        assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
        assert "<html" not in body and "<section" not in body and "个职位符合条件" not in body
        seen += vacancy_ids(body)
    assert seen == [v.id for v in vacancies]


def test_show_counts_up_to_a_bound(client, monkeypatch, make_booth):
    booth = make_booth(vacancies=7)
    monkeypatch.setattr(search, "COUNT_LIMIT", 5)
    page = client.get(f"/fairs/{booth.fair_id}").get_data(as_text=True)
    assert count_line(page) == "5+"
    page = client.get(f"/fairs/{booth.fair_id}?q=岗位7").get_data(as_text=True)
    assert count_line(page) == "1"


def test_show_rare_combination_beyond_the_walk_still_reaches_every_match(client, monkeypatch, make_fair,
                                                                          make_employer, make_vacancy, make_booth):
    """A search whose every term is common but whose matches are rare walks a bounded stretch
    of the index per page: a page may hold fewer rows than it could, says "N+", and links on."""
    fair = make_fair()
    employer = make_employer(name="远航人力资源有限公司")
    wanted = []
    vacancies = []
    for i in range(40):
        # Half are production jobs, a third pay 7,500: a sixth are both.
        v = make_vacancy(employer, title=f"操作工{i}", category="production" if i % 2 == 0 else "service",
                         pay_min=3000, pay_max=7500 if i % 3 == 0 else 4000)
        vacancies.append(v)
        if i % 6 == 0:
            wanted.append(v.id)
    make_booth(fair=fair, employer=employer, vacancies=vacancies)
    monkeypatch.setattr(search, "WALK", 6)
    monkeypatch.setattr(search, "PROBE", 6)
    url = f"/fairs/{fair.id}?q=操作&category=production&min_pay=7000"
    seen, counts = [], []
    while url:
        body = client.get(url).get_data(as_text=True)
        counts.append(count_line(body))
        seen += vacancy_ids(body)
        url = next_link(body)
    assert seen == wanted
    assert counts[0].endswith("+")


def test_show_vacancy_edit_shows_in_search_at_once(client, hx, login_as, make_booth):
    user = login_as("employer")
    booth = make_booth(employer=user.employer, vacancies=1)
    vacancy = booth.vacancies[0]
    fair_page = f"/fairs/{booth.fair_id}"
    assert titles(client.get(fair_page, query_string={"q": "岗位"}).get_data(as_text=True)) == ["岗位1"]
    assert titles(client.get(fair_page, query_string={"q": "冷库"}).get_data(as_text=True)) == []
    data = {f"v{vacancy.id}-{k}": v for k, v in {**GOOD, "title": "冷库搬运工", "location": "东区物流园"}.items()}
    assert hx.post(f"/employer/vacancies/{vacancy.id}", data=data).status_code == 200
    assert titles(client.get(fair_page, query_string={"q": "冷库"}).get_data(as_text=True)) == ["冷库搬运工"]
    assert titles(client.get(fair_page, query_string={"q": "物流园"}).get_data(as_text=True)) == ["冷库搬运工"]
    assert titles(client.get(fair_page, query_string={"q": "岗位"}).get_data(as_text=True)) == []
    # Closed, it leaves the search; reopened, it is back.
    hx.post(f"/employer/vacancies/{vacancy.id}/close")
    assert titles(client.get(fair_page, query_string={"q": "冷库"}).get_data(as_text=True)) == []
    hx.post(f"/employer/vacancies/{vacancy.id}/reopen")
    assert titles(client.get(fair_page, query_string={"q": "冷库"}).get_data(as_text=True)) == ["冷库搬运工"]


def test_show_follows_placement_booth_approval_and_employer_rename(client, hx, login_as, make_booth,
                                                                    make_vacancy):
    user = login_as("employer")
    booth = make_booth(employer=user.employer, vacancies=1)
    fair_page = f"/fairs/{booth.fair_id}"
    assert titles(client.get(fair_page).get_data(as_text=True)) == ["岗位1"]
    extra = make_vacancy(user.employer, title="新来的叉车工")
    hx.post(f"/employer/vacancies/{extra.id}/booths/{booth.id}", data={"show": "1"})
    assert titles(client.get(fair_page, query_string={"q": "叉车"}).get_data(as_text=True)) == ["新来的叉车工"]
    hx.post(f"/employer/vacancies/{extra.id}/booths/{booth.id}", data={"show": "0"})
    assert titles(client.get(fair_page, query_string={"q": "叉车"}).get_data(as_text=True)) == []
    # Any write reaches the index, the site's forms or not (here the ORM, as a script would).
    user.employer.name = "龙腾新材料有限公司"
    db.session.execute(db.update(Vacancy).where(Vacancy.id == booth.vacancies[0].id).values(location="北城"))
    db.session.commit()
    page = client.get(fair_page, query_string={"q": "龙腾"}).get_data(as_text=True)
    assert titles(page) == ["岗位1"] and "龙腾新材料有限公司" in page
    assert titles(client.get(fair_page, query_string={"q": "北城"}).get_data(as_text=True)) == ["岗位1"]
    booth.status, booth.number = "rejected", None
    db.session.commit()
    assert titles(client.get(fair_page).get_data(as_text=True)) == []


def test_show_cached_page_marks_what_this_device_signed(client, app, make_booth):
    booth = make_booth(vacancies=2)
    first, second = booth.vacancies
    fair_page = f"/fairs/{booth.fair_id}"
    assert client.get(fair_page).get_data(as_text=True).count("我有意向</button>") == 2
    data = {"vacancy_id": first.id, "fair": booth.fair_id, "name": "张三", "phone": "13800138000",
            "consent": "y", "step": "form"}
    assert client.post("/intents/sign", data=data).status_code == 303
    page = client.get(fair_page).get_data(as_text=True)
    assert page.count("已登记") == 1 and page.count("我有意向</button>") == 1
    assert f'aria-label="我有意向：{second.title}"' in page
    # Another phone sees both buttons as before.
    other = app.test_client()
    assert other.get(fair_page).get_data(as_text=True).count("我有意向</button>") == 2


@pytest.mark.parametrize("after", ["garbage", "~", "A-01~", "~5", "A-01~99999999999", "A-01~٣", "x" * 40 + "~1",
                                   "A-01~0"])
def test_show_bad_cursor_is_the_first_page(client, make_booth, after):
    booth = make_booth(vacancies=2)
    response = client.get(f"/fairs/{booth.fair_id}", query_string={"after": after})
    assert response.status_code == 200
    assert titles(response.get_data(as_text=True)) == ["岗位1", "岗位2"]


def test_show_cursor_past_the_end_shows_nothing_more(client, hx, make_booth):
    booth = make_booth(vacancies=2)
    body = hx.get(f"/fairs/{booth.fair_id}", query_string={"after": "ZZZ~1"}).get_data(as_text=True)
    assert vacancy_ids(body) == [] and next_link(body) is None


def test_show_headline_follows_vacancy_edits_at_once(client, hx, login_as, make_booth):
    user = login_as("employer")
    booth = make_booth(employer=user.employer, vacancies=1)  # 10 posts at 3,800-5,200
    vacancy = booth.vacancies[0]
    fair_page = f"/fairs/{booth.fair_id}"
    assert "1 家企业 · 10 个岗位 · 平均月薪 4,500 元" in client.get(fair_page).get_data(as_text=True)
    data = {f"v{vacancy.id}-{k}": v for k, v in GOOD.items()}  # 5 posts at 5,000-7,500
    hx.post(f"/employer/vacancies/{vacancy.id}", data=data)
    assert "1 家企业 · 5 个岗位 · 平均月薪 6,250 元" in client.get(fair_page).get_data(as_text=True)
    assert "5 个岗位 · 平均月薪 6,250 元" in client.get("/").get_data(as_text=True)
    hx.post(f"/employer/vacancies/{vacancy.id}/close")
    assert "1 家企业 · 0 个岗位 · 平均月薪 0 元" in client.get(fair_page).get_data(as_text=True)


def test_show_logged_in_staff_see_their_own_navigation(client, login_as, make_booth):
    booth = make_booth(vacancies=2)
    anonymous = client.get(f"/fairs/{booth.fair_id}").get_data(as_text=True)
    assert "工作人员登录" in anonymous and "data-logout" not in anonymous
    login_as("organiser")
    page = client.get(f"/fairs/{booth.fair_id}").get_data(as_text=True)
    assert "data-logout" in page and titles(page) == ["岗位1", "岗位2"]
    assert page.count("我有意向</button>") == 2
    for body in (anonymous, page):
        assert "__fs_" not in body and "fs-intent" not in body  # every slot and placeholder filled

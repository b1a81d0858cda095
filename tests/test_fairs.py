"""The public home and fair pages: headline, search, filters, booth list."""
from fairsite.extensions import db


def test_index_lists_published_fairs_only(client, make_fair):
    make_fair(title="春风行动专场", status="published")
    make_fair(title="还在筹备的草稿", status="draft")
    page = client.get("/").get_data(as_text=True)
    assert "春风行动专场" in page
    assert "还在筹备的草稿" not in page


def test_show_draft_fair_is_404(client, make_fair):
    fair = make_fair(status="draft")
    assert client.get(f"/fairs/{fair.id}").status_code == 404


def test_show_headline_is_computed_from_data(client, make_fair, make_booth, make_vacancy, make_employer):
    fair = make_fair()
    e1, e2 = make_employer(), make_employer()
    make_booth(fair=fair, employer=e1, vacancies=[
        make_vacancy(e1, headcount=10, pay_min=3000, pay_max=5000),   # mid 4000
        make_vacancy(e1, headcount=30, pay_min=4000, pay_max=6000),   # mid 5000
    ])
    make_booth(fair=fair, employer=e2, vacancies=[make_vacancy(e2, headcount=10, pay_min=2000, pay_max=2000)])
    # A closed vacancy and a rejected booth do not count.
    make_booth(fair=fair, vacancies=[make_vacancy(headcount=99)], status="rejected")
    e3 = make_employer()
    make_booth(fair=fair, employer=e3, vacancies=[make_vacancy(e3, headcount=7, is_open=False)])
    page = client.get(f"/fairs/{fair.id}").get_data(as_text=True)
    # (10*4000 + 30*5000 + 10*2000) / 50 = 4200; e3 has a booth but no open vacancy
    assert "3 家企业 · 50 个岗位 · 平均月薪 4,200 元" in page


def test_show_counts_intents_and_attendees(client, make_booth, make_intent):
    booth = make_booth(vacancies=2)
    for v in booth.vacancies:
        make_intent(booth, v, groups=["returnee"])
    page = client.get(f"/fairs/{booth.fair_id}").get_data(as_text=True)
    assert '<span class="num">2</span><span class="label">求职意向' in page


def test_show_search_narrows_list_and_returns_fragment_for_htmx(client, hx, make_fair, make_booth, make_vacancy, make_employer):
    fair = make_fair()
    e = make_employer()
    make_booth(fair=fair, employer=e, vacancies=[make_vacancy(e, title="焊工"), make_vacancy(e, title="缝纫工")])
    response = hx.get(f"/fairs/{fair.id}?q=焊")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "HX-Request" in response.headers.get("Vary", "")
    assert body.lstrip().startswith(f'<section id="fair-vacancies-{fair.id}"')
    assert "焊工" in body and "缝纫工" not in body
    # Without htmx the same URL is the whole page, filtered.
    full = client.get(f"/fairs/{fair.id}?q=焊").get_data(as_text=True)
    assert "<html" in full and "焊工" in full and "缝纫工" not in full


def test_show_filters_by_pay_category_and_benefits(client, make_fair, make_booth, make_vacancy, make_employer):
    fair = make_fair()
    e = make_employer()
    make_booth(fair=fair, employer=e, vacancies=[
        make_vacancy(e, title="高薪焊工", category="technician", pay_min=6000, pay_max=8000, meals_lodging=False),
        make_vacancy(e, title="包住普工", category="production", pay_min=3000, pay_max=4000, meals_lodging=True,
                     social_insurance=False),
    ])
    assert "包住普工" not in client.get(f"/fairs/{fair.id}?min_pay=5000").get_data(as_text=True)
    page = client.get(f"/fairs/{fair.id}?meals=1").get_data(as_text=True)
    assert "包住普工" in page and "高薪焊工" not in page
    page = client.get(f"/fairs/{fair.id}?category=technician").get_data(as_text=True)
    assert "高薪焊工" in page and "包住普工" not in page
    page = client.get(f"/fairs/{fair.id}?insurance=1").get_data(as_text=True)
    assert "高薪焊工" in page and "包住普工" not in page


def test_show_bad_filter_values_are_ignored_not_errors(client, make_booth):
    booth = make_booth()
    for query in ["min_pay=abc", "min_pay=99999999999", "q=%00", "q=" + "x" * 10000, "page=-3", "category=<script>"]:
        response = client.get(f"/fairs/{booth.fair_id}?{query}")
        assert response.status_code == 200, query
        assert "<script>" not in response.get_data(as_text=True).split("</head>")[1].replace("<script src", "")


def test_show_lists_booths_by_number(client, make_fair, make_booth):
    fair = make_fair()
    make_booth(fair=fair, number="B-02")
    make_booth(fair=fair, number="A-01")
    make_booth(fair=fair, status="applied")
    page = client.get(f"/fairs/{fair.id}").get_data(as_text=True)
    booths = page[page.index("展位一览"):]
    assert booths.index("A-01") < booths.index("B-02")
    assert db is not None

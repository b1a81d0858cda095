"""fair page search: an index of the vacancies each fair lists, kept by triggers; the fair
page's cache version

- search_terms: one row per (listing, term), where a listing is a vacancy shown at a fair (open,
  placed at an approved, numbered booth of an approved employer). Its key is (fair_id, term,
  booth_number, vacancy_id): the rows of one term at one fair are in the order the fair page lists
  vacancies, so a page is a range of the index (keyset from the last row shown), and a count
  stops after so many rows. Terms:
    ''               every listing (the page without a search)
    every 1 and 2 characters of the lowered title, location and employer name ('工', '司机'):
                     a search word of one or two characters is one term; a longer word is
                     found through its two-character terms, then checked against the text
    'c=<category>'   the category
    'b=meals', 'b=insurance'   包吃住, 五险一金
    'p=<yuan>'       pay_max >= yuan, for each of PAY_STEPS (the "最低月薪" choices)
  Special terms are never 1 or 2 characters long, so they never meet a piece of text.
  The listing's filter columns (category, pay_max, meals, insurance) ride along in each row, so
  that a filter is checked on the index row itself; its '' row also holds its lowered text
  (title, location, employer name), which the other words of a search are matched against.
- Triggers on booth_vacancies, vacancies, booths and employers keep it in step with every
  write (the site's forms, the demo, SQL typed by hand).
- booths.posts, booths.pay_total: the sum of headcount, and of headcount x (pay_min + pay_max),
  over the open vacancies placed at the booth, kept by triggers: the fair's headline (posts,
  average pay) sums its approved booths, not every vacancy.
- fairs.version: moves on with every change of the fair's own row (a trigger).
- tallies row ('fair-page:<fair id>', 'version', ''): moves on whenever a booth of the fair is
  added, changed (its version bumped by booths.service.touch_*, its status...) or removed. The
  fair page's cache is keyed by both. It is a counter row of its own, taken after the booth rows
  in every transaction (on PostgreSQL a statement trigger, run once the booths are updated), so
  that a fair edit (fair row, then its booths) and a booth approval (booth, then counter) never
  wait on each other in a circle.
- search_positions (SQLite only: the numbers 1..262, the longest indexed text): the positions
  the triggers take characters at. PostgreSQL has generate_series.

Revision ID: b50_search
Revises: c2728e08910c
"""
import sqlalchemy as sa
from alembic import op

revision = "b50_search"
down_revision = "c2728e08910c"
branch_labels = None
# employers.status (approved firms only reach the public) comes from b30_accounts.
depends_on = "b30_accounts"

# The "最低月薪" choices of the fair page (fairsite.fairs.service.PAY_STEPS holds the same).
PAY_STEPS = (3000, 4000, 5000, 6000, 8000)
# The indexed text, title + " " + location + " " + employer name: String(60), (100), (100).
MAX_LENGTH = 60 + 1 + 100 + 1 + 100

_COLUMNS = "fair_id, term, booth_number, vacancy_id, booth_id, category, pay_max, meals, insurance, txt"


def _index(scope: str, dialect: str) -> str:
    """INSERT the terms of the visible listings that `scope` (a condition on bv, b, v, e) picks."""
    # Each listing once, its text lowered (the search words are too), full-width spaces made
    # plain. Kept apart from the arms below (SQLite: LIMIT -1, PostgreSQL: OFFSET 0), so the
    # text is built once per listing rather than once per character.
    fence = "OFFSET 0" if dialect == "postgresql" else "LIMIT -1"
    listing = (
        "(SELECT b.fair_id, b.number AS booth_number, bv.vacancy_id, bv.booth_id, v.category, v.pay_max, "
        "v.meals_lodging AS meals, v.social_insurance AS insurance, "
        "replace(lower(v.title) || ' ' || lower(v.location) || ' ' || lower(e.name), '\u3000', ' ') AS txt "
        "FROM booth_vacancies bv JOIN booths b ON b.id = bv.booth_id "
        "JOIN vacancies v ON v.id = bv.vacancy_id JOIN employers e ON e.id = b.employer_id "
        f"WHERE {scope} AND b.status = 'approved' AND b.number IS NOT NULL AND v.is_open "
        f"AND e.status = 'approved' {fence}) l"
    )
    columns = ("l.fair_id, {}, l.booth_number, l.vacancy_id, l.booth_id, l.category, l.pay_max, l.meals, "
               "l.insurance, {}")
    steps = " UNION ALL ".join(f"SELECT {s} AS step" for s in PAY_STEPS)
    arms = [
        (columns.format("''", "l.txt"), ""),
        (columns.format("'c=' || l.category", "NULL"), ""),
        (columns.format("'b=meals'", "NULL"), " WHERE l.meals"),
        (columns.format("'b=insurance'", "NULL"), " WHERE l.insurance"),
        (columns.format("'p=' || s.step", "NULL"), f" JOIN ({steps}) s ON s.step <= l.pay_max"),
    ]
    arms = [f"SELECT {what} FROM {listing}{rest}" for what, rest in arms]
    # Every piece of one and two characters without a space (a space ends a field).
    if dialect == "postgresql":
        positions = "JOIN generate_series(1, length(l.txt) - z.k + 1) AS p(n) ON true"
    else:  # SQLite has no generate_series: a table of the numbers 1..MAX_LENGTH
        positions = "JOIN search_positions p ON p.n <= length(l.txt) - z.k + 1"
    arms.append(
        f"SELECT DISTINCT {columns.format('substr(l.txt, p.n, z.k)', 'NULL')} FROM {listing} "
        f"JOIN (SELECT 1 AS k UNION ALL SELECT 2) z ON true {positions} "
        "WHERE substr(l.txt, p.n, 1) <> ' ' AND (z.k = 1 OR substr(l.txt, p.n + 1, 1) <> ' ')"
    )
    # UNION ALL: the special terms are 0 or 3+ characters long, never a piece of text.
    return f"INSERT INTO search_terms ({_COLUMNS}) " + " UNION ALL ".join(arms)


# Which listings each write changes: (DELETE condition on search_terms, INSERT scope).
def _pair(rec: str) -> tuple[str, str]:
    return (f"vacancy_id = {rec}.vacancy_id AND booth_id = {rec}.booth_id",
            f"bv.booth_id = {rec}.booth_id AND bv.vacancy_id = {rec}.vacancy_id")


_OF_VACANCY = ("vacancy_id = NEW.id", "bv.vacancy_id = NEW.id")
_OF_BOOTH = ("booth_id = NEW.id AND vacancy_id IN (SELECT vacancy_id FROM booth_vacancies WHERE booth_id = NEW.id)",
             "bv.booth_id = NEW.id")
_OF_EMPLOYER = (
    "booth_id IN (SELECT id FROM booths WHERE employer_id = NEW.id) AND vacancy_id IN "
    "(SELECT x.vacancy_id FROM booth_vacancies x JOIN booths y ON y.id = x.booth_id WHERE y.employer_id = NEW.id)",
    "b.employer_id = NEW.id",
)
# Columns whose change changes a listing's terms (or whether it is listed at all).
_VACANCY_COLUMNS = ("title", "location", "category", "pay_max", "meals_lodging", "social_insurance", "is_open")
_BOOTH_COLUMNS = ("status", "number", "fair_id", "employer_id")
_EMPLOYER_COLUMNS = ("name", "status")


def _search_triggers(dialect: str) -> list[tuple[str, str, str, list[str], tuple]]:
    """(name, event, table, statements, columns whose change fires it) of the index's triggers."""

    def reindex(scope):
        return [f"DELETE FROM search_terms WHERE {scope[0]}", _index(scope[1], dialect)]

    old, new = _pair("OLD"), _pair("NEW")
    return [
        ("search_bv_insert", "INSERT", "booth_vacancies", [_index(new[1], dialect)], ()),
        ("search_bv_delete", "DELETE", "booth_vacancies", [f"DELETE FROM search_terms WHERE {old[0]}"], ()),
        ("search_bv_update", "UPDATE", "booth_vacancies",
         [f"DELETE FROM search_terms WHERE {old[0]}", _index(new[1], dialect)], ("booth_id", "vacancy_id")),
        ("search_vacancy_update", "UPDATE", "vacancies", reindex(_OF_VACANCY), _VACANCY_COLUMNS),
        ("search_booth_update", "UPDATE", "booths", reindex(_OF_BOOTH), _BOOTH_COLUMNS),
        ("search_employer_update", "UPDATE", "employers", reindex(_OF_EMPLOYER), _EMPLOYER_COLUMNS),
    ]


# A vacancy's part in its booths' totals, from the row `rec` (NEW or OLD, or the table's alias).
def _posts(rec: str) -> str:
    return f"CASE WHEN {rec}.is_open THEN {rec}.headcount ELSE 0 END"


def _pay(rec: str) -> str:
    return f"CASE WHEN {rec}.is_open THEN {rec}.headcount * CAST({rec}.pay_min + {rec}.pay_max AS BIGINT) ELSE 0 END"


def _recount(booth: str) -> str:
    """Sum a booth's totals afresh (after a vacancy left it: its row may be gone already)."""
    return (f"UPDATE booths SET posts = COALESCE((SELECT SUM({_posts('v')}) FROM booth_vacancies x "
            f"JOIN vacancies v ON v.id = x.vacancy_id WHERE x.booth_id = booths.id), 0), "
            f"pay_total = COALESCE((SELECT SUM({_pay('v')}) FROM booth_vacancies x "
            f"JOIN vacancies v ON v.id = x.vacancy_id WHERE x.booth_id = booths.id), 0) WHERE id = {booth}")


def _total_triggers() -> list[tuple[str, str, str, list[str], tuple]]:
    """(name, event, table, statements, columns whose change fires it) keeping booths' totals."""
    added = (f"UPDATE booths SET posts = posts + COALESCE((SELECT {_posts('v')} FROM vacancies v "
             "WHERE v.id = NEW.vacancy_id), 0), pay_total = pay_total + COALESCE((SELECT "
             f"{_pay('v')} FROM vacancies v WHERE v.id = NEW.vacancy_id), 0) WHERE id = NEW.booth_id")
    changed = (f"UPDATE booths SET posts = posts - ({_posts('OLD')}) + ({_posts('NEW')}), "
               f"pay_total = pay_total - ({_pay('OLD')}) + ({_pay('NEW')}) "
               "WHERE id IN (SELECT booth_id FROM booth_vacancies WHERE vacancy_id = NEW.id)")
    return [
        ("booth_totals_bv_insert", "INSERT", "booth_vacancies", [added], ()),
        ("booth_totals_bv_delete", "DELETE", "booth_vacancies", [_recount("OLD.booth_id")], ()),
        ("booth_totals_bv_update", "UPDATE", "booth_vacancies",
         [_recount("OLD.booth_id"), _recount("NEW.booth_id")], ("booth_id", "vacancy_id")),
        ("booth_totals_vacancy_update", "UPDATE", "vacancies", [changed],
         ("headcount", "pay_min", "pay_max", "is_open")),
    ]


def _create_tables(dialect: str) -> None:
    op.create_table(
        "search_terms",
        sa.Column("fair_id", sa.Integer(), nullable=False),
        sa.Column("term", sa.String(length=30), nullable=False),
        sa.Column("booth_number", sa.String(length=10), nullable=False),
        sa.Column("vacancy_id", sa.Integer(), nullable=False),
        sa.Column("booth_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("pay_max", sa.Integer(), nullable=False),
        sa.Column("meals", sa.Boolean(), nullable=False),
        sa.Column("insurance", sa.Boolean(), nullable=False),
        # The listing's lowered text, on its '' row only: what words are matched against.
        sa.Column("txt", sa.String(length=MAX_LENGTH), nullable=True),
        sa.PrimaryKeyConstraint("fair_id", "term", "booth_number", "vacancy_id", name=op.f("pk_search_terms")),
        # On SQLite the rows live in the key's own b-tree: a range of it holds everything a page reads.
        sqlite_with_rowid=False,
    )
    op.create_index("ix_search_terms_vacancy_booth", "search_terms", ["vacancy_id", "booth_id"])
    if dialect != "postgresql":
        op.create_table("search_positions", sa.Column("n", sa.Integer(), primary_key=True))
        op.bulk_insert(sa.table("search_positions", sa.column("n", sa.Integer())),
                       [{"n": n} for n in range(1, MAX_LENGTH + 1)])
    op.add_column("fairs", sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    op.add_column("booths", sa.Column("posts", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("booths", sa.Column("pay_total", sa.BigInteger(), nullable=False, server_default="0"))


# --- SQLite: row triggers (one writer at a time: no lock order to keep) --------------------

_BUMP = ("INSERT INTO tallies (scope, dim, key, n) VALUES ('fair-page:' || {rec}.fair_id, 'version', '', 1) "
         "ON CONFLICT (scope, dim, key) DO UPDATE SET n = tallies.n + 1")


def _sqlite_trigger(name: str, event: str, table: str, body: list[str], when: str = "") -> None:
    statements = "".join(f"  {s};\n" for s in body)
    when = f" WHEN {when}" if when else ""
    op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW{when}\nBEGIN\n{statements}END")


def _upgrade_sqlite() -> None:
    for name, event, table, body, columns in _search_triggers("sqlite") + _total_triggers():
        _sqlite_trigger(name, event, table, body,
                        when=" OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in columns))
    # The fair page's counter: every booth written.
    _sqlite_trigger("fair_page_booth_insert", "INSERT", "booths", [_BUMP.format(rec="NEW")])
    _sqlite_trigger("fair_page_booth_update", "UPDATE", "booths",
                    [_BUMP.format(rec="NEW"), _BUMP.format(rec="OLD")])
    _sqlite_trigger("fair_page_booth_delete", "DELETE", "booths", [_BUMP.format(rec="OLD")])
    # The fair's own row: its version moves with any other change.
    _sqlite_trigger("fair_version", "UPDATE", "fairs",
                    ["UPDATE fairs SET version = OLD.version + 1 WHERE id = NEW.id"],
                    when="NEW.version = OLD.version")


# --- PostgreSQL: the same statements in trigger functions ----------------------------------

def _pg_function(name: str, body: list[str], returns: str = "NULL") -> None:
    statements = "".join(f"  {s};\n" for s in body)
    op.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $fn$\nBEGIN\n{statements}"
               f"  RETURN {returns};\nEND\n$fn$")


def _pg_bump(rows: str) -> str:
    # Each fair once, in order: two statements bumping the same fairs take them in one order.
    return ("INSERT INTO tallies (scope, dim, key, n) SELECT DISTINCT 'fair-page:' || fair_id, 'version', '', 1 "
            f"FROM ({rows}) AS touched ORDER BY 1 "
            "ON CONFLICT (scope, dim, key) DO UPDATE SET n = tallies.n + 1")


def _upgrade_postgresql() -> None:
    for name, event, table, body, columns in _search_triggers("postgresql") + _total_triggers():
        _pg_function(name, body)
        when = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in columns)
        op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW"
                   + (f" WHEN ({when})" if when else "") + f" EXECUTE FUNCTION {name}()")
    # The fair page's counter, once per statement, after the statement has locked its booths.
    for event, tables, rows in (
        ("INSERT", "NEW TABLE AS new_rows", "SELECT fair_id FROM new_rows"),
        ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows",
         "SELECT fair_id FROM new_rows UNION SELECT fair_id FROM old_rows"),
        ("DELETE", "OLD TABLE AS old_rows", "SELECT fair_id FROM old_rows"),
    ):
        name = f"fair_page_booth_{event.lower()}"
        _pg_function(name, [_pg_bump(rows)])
        op.execute(f"CREATE TRIGGER {name} AFTER {event} ON booths REFERENCING {tables} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()")
    # The fair's own row, within its own write (no second row lock).
    _pg_function("fair_version", ["IF NEW.version = OLD.version THEN NEW.version := OLD.version + 1; END IF"],
                 returns="NEW")
    op.execute("CREATE TRIGGER fair_version BEFORE UPDATE ON fairs FOR EACH ROW EXECUTE FUNCTION fair_version()")


_OTHER_TRIGGERS = (("fair_page_booth_insert", "booths"), ("fair_page_booth_update", "booths"),
                   ("fair_page_booth_delete", "booths"), ("fair_version", "fairs"))


def upgrade():
    dialect = op.get_bind().dialect.name
    _create_tables(dialect)
    # What is already there.
    op.execute(_index("1 = 1", dialect))
    op.execute(_recount("booths.id"))
    if dialect == "postgresql":
        _upgrade_postgresql()
    else:
        _upgrade_sqlite()


def downgrade():
    dialect = op.get_bind().dialect.name
    triggers = [(t[0], t[2]) for t in _search_triggers(dialect) + _total_triggers()] + list(_OTHER_TRIGGERS)
    for name, table in triggers:
        if dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DELETE FROM tallies WHERE scope LIKE 'fair-page:%'")
    # Natively on both (SQLite 3.35+): a batch copy of fairs would, with foreign keys on,
    # cascade its DROP TABLE to every booth.
    op.execute("ALTER TABLE fairs DROP COLUMN version")
    op.execute("ALTER TABLE booths DROP COLUMN pay_total")
    op.execute("ALTER TABLE booths DROP COLUMN posts")
    if dialect != "postgresql":
        op.drop_table("search_positions")
    op.drop_index("ix_search_terms_vacancy_booth", table_name="search_terms")
    op.drop_table("search_terms")

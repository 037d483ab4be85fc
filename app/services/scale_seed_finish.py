"""seed-scale, last phases: the cached balances and versions of the ledger
accounts and the rewards' stock (the sums of what was written), the id
sequences and fresh planner statistics on PostgreSQL; at the very end the
indexes dropped for the load."""

from app.extensions import db


def finish(world, books, advance) -> None:
    w = world.w
    w.flush_all()
    accounts = [(books.balance[a], books.version[a], a) for a in sorted(books.balance)]
    stock = [(world.stock[r], r) for r in sorted(world.stock)]
    if w.dialect == "postgresql":
        _finish_postgresql(w, accounts, stock)
    else:
        with db.engine.begin() as conn:
            conn.exec_driver_sql("UPDATE ledger_account SET balance = ?, version = ? WHERE id = ?", accounts)
            if stock:
                conn.exec_driver_sql("UPDATE reward SET stock = ? WHERE id = ?", stock)
    advance(1)


def _finish_postgresql(w, accounts, stock) -> None:
    connection = db.engine.raw_connection()
    try:
        raw = connection.driver_connection
        with raw.cursor() as cursor:
            cursor.execute(
                "CREATE TEMP TABLE scale_account (balance bigint, version int, id int) ON COMMIT DROP"
            )
            with cursor.copy("COPY scale_account (balance, version, id) FROM STDIN") as copy:
                for row in accounts:
                    copy.write_row(row)
            cursor.execute(
                "UPDATE ledger_account a SET balance = s.balance, version = s.version"
                " FROM scale_account s WHERE a.id = s.id"
            )
            cursor.execute("CREATE TEMP TABLE scale_stock (stock int, id int) ON COMMIT DROP")
            with cursor.copy("COPY scale_stock (stock, id) FROM STDIN") as copy:
                for row in stock:
                    copy.write_row(row)
            cursor.execute("UPDATE reward r SET stock = s.stock FROM scale_stock s WHERE r.id = s.id")
            for table, last in sorted(w.last_ids().items()):
                cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", (table, max(last, 1)))
        raw.commit()
        raw.autocommit = True
        with raw.cursor() as cursor:  # the honour tallies are built next from these tables
            cursor.execute("ANALYZE " + ", ".join(sorted(t for t, n in w.counts.items() if n)))
        raw.autocommit = False
    finally:
        connection.close()


TALLIES = "honour_tally, team_tally, honour_total, team_total"


def index_and_analyze(indexes, advance) -> None:
    """Build the indexes dropped for the load, then the statistics of the tallies built since."""
    indexes.restore()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(f"ANALYZE {TALLIES}")
    advance(1)

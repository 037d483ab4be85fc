"""A city's worth of synthetic rows for PostgreSQL plan and speed checks.

`fill(connection, scale)` adds, beside the demo data, in one transaction
and with plain INSERT … SELECT: new streets, communities and grids, and in
them `scale` × (2 000 volunteers, 1 000 households with 2 members, a need,
a category, a measure and an event each, 6 000 tasks with claims, events
and paid awards, 6 000 notifications, 3 000 audit entries, teams), then the
honour tallies rebuilt from the ledger (as a bulk loader does) and ANALYZE.
The rows are spread over many grids and accounts, as in a real city, so
the planner sees realistic selectivity for any one grid or volunteer.
"""

import sqlalchemy as sa

GRIDS = 80  # in 10 communities of 2 streets


def _statements(scale: int) -> list[str]:
    volunteers, households = 2000 * scale, 1000 * scale
    return [
        "INSERT INTO street (city_id, name) SELECT (SELECT min(id) FROM city), 'SYN街道' || s FROM generate_series(1, 2) s",
        """INSERT INTO community (street_id, name)
           SELECT st.id, 'SYN社区' || st.id || '-' || c FROM street st, generate_series(1, 5) c
           WHERE st.name LIKE 'SYN%'""",
        """INSERT INTO grid (community_id, name)
           SELECT co.id, 'SYN网格' || co.id || '-' || g FROM community co, generate_series(1, 8) g
           WHERE co.name LIKE 'SYN%'""",
        """CREATE TEMP TABLE syn_grid ON COMMIT DROP AS
           SELECT row_number() OVER (ORDER BY id) AS n, id, community_id FROM grid WHERE name LIKE 'SYN%'""",
        f"""INSERT INTO user_account (name, phone, password_hash, auth_epoch, active, show_full_name,
                                      created_at, grid_id, failed_logins)
            SELECT '志愿者' || i, '199' || lpad(i::text, 8, '0'), 'x', 0, true, false,
                   now() - interval '400 days', g.id, 0
            FROM generate_series(1, {volunteers}) i JOIN syn_grid g ON g.n = 1 + i % {GRIDS}""",
        """CREATE TEMP TABLE syn_user ON COMMIT DROP AS
           SELECT row_number() OVER (ORDER BY id) AS n, id, grid_id FROM user_account WHERE phone LIKE '199%'""",
        "ANALYZE syn_user",
        "INSERT INTO user_role (user_id, role) SELECT id, 'VOLUNTEER' FROM syn_user",
        f"""INSERT INTO household (grid_id, building, unit, room, contact_phone, register_type, lives_alone,
                                   income_stable, property_within_limits, status, next_review_on, created_at)
            SELECT g.id, 'SYN楼', '1', i::text, '188' || lpad(i::text, 8, '0'), 'LOCAL', i % 7 = 0, false, true,
                   CASE WHEN i % 20 = 0 THEN 'EXITED' ELSE 'ACTIVE' END, current_date + (i % 200 - 100),
                   now() - interval '300 days'
            FROM generate_series(1, {households}) i JOIN syn_grid g ON g.n = 1 + i % {GRIDS}""",
        """CREATE TEMP TABLE syn_household ON COMMIT DROP AS
           SELECT id, grid_id FROM household WHERE building = 'SYN楼'""",
        "ANALYZE syn_household",
        """INSERT INTO member (household_id, name, relation, work_capacity, schooling, birth_date, serious_illness)
           SELECT h.id, '成员', CASE WHEN k = 1 THEN 'HEAD' ELSE 'SPOUSE' END, 'FULL', 'NONE',
                  date '1940-01-01' + (h.id % 20000), h.id % 11 = 0
           FROM syn_household h, generate_series(1, 2) k""",
        """INSERT INTO need (household_id, service_type_code, description, urgency, status, created_at, close_note)
           SELECT id, 'visiting', 'SYN', 'NORMAL', 'OPEN', now() - interval '30 days', '' FROM syn_household""",
        """INSERT INTO category_assignment (household_id, category, status, proposed_by_id, proposed_at)
           SELECT id, 'DIBAO', 'APPROVED', (SELECT min(id) FROM user_account), now() FROM syn_household""",
        """INSERT INTO measure (household_id, kind, description, "on", recorded_by_id, recorded_at)
           SELECT id, 'MEASURE', 'SYN', current_date - (id % 200), (SELECT min(id) FROM user_account), now()
           FROM syn_household""",
        """INSERT INTO household_event (household_id, kind, "on", reason, approved_by_id, recorded_at)
           SELECT id, 'ENTERED', current_date - 300, '', (SELECT min(id) FROM user_account), now()
           FROM syn_household""",
        # Six tasks per household: five verified in the past, one open in the coming month.
        """INSERT INTO task (household_id, grid_id, service_type_code, description, starts_at, ends_at,
                             expected_minutes, slots, taken, urgency, status, flagged, created_by_id,
                             created_at, escalation_level)
           SELECT h.id, h.grid_id, 'visiting', 'SYN', t.at, t.at + interval '1 hour', 60, 1,
                  CASE WHEN k = 6 THEN 0 ELSE 1 END, 'NORMAL', CASE WHEN k = 6 THEN 'OPEN' ELSE 'VERIFIED' END,
                  false, (SELECT min(id) FROM user_account), t.at - interval '2 days', 0
           FROM syn_household h, generate_series(1, 6) k,
                LATERAL (SELECT CASE WHEN k = 6 THEN now() + ((h.id % 30) + 1) * interval '1 day'
                                     ELSE now() - ((h.id % 300) + 7 * k) * interval '1 day' END AS at) t""",
        f"""INSERT INTO claim (task_id, volunteer_id, status, claimed_at, release_reason, check_in_at,
                               check_out_at, confirmed_at, confirmed_via, rating, comment, follow_up_note, flagged)
            SELECT t.id, u.id, 'CONFIRMED', t.created_at, '', t.starts_at, t.ends_at, t.ends_at, 'QR', 5, '', '',
                   false
            FROM task t JOIN syn_user u ON u.n = 1 + t.id % {volunteers}
            WHERE t.description = 'SYN' AND t.status = 'VERIFIED'""",
        """INSERT INTO task_event (task_id, from_status, to_status, at, note)
           SELECT id, NULL, 'OPEN', created_at, '' FROM task WHERE description = 'SYN'
           UNION ALL SELECT id, 'OPEN', 'CLAIMED', created_at, '' FROM task WHERE description = 'SYN'""",
        """INSERT INTO ledger_account (kind, owner_id, balance, version, created_at)
           SELECT 'VOLUNTEER', id, 0, 0, now() FROM syn_user""",
        """INSERT INTO ledger_transaction (key, kind, reason, created_at, claim_id, earner_id, community_id, details)
           SELECT 'syn:' || c.id, 'AWARD', 'syn', c.confirmed_at, c.id, c.volunteer_id, g.community_id, '{}'
           FROM claim c JOIN task t ON t.id = c.task_id JOIN grid g ON g.id = t.grid_id
           WHERE t.description = 'SYN'""",
        """INSERT INTO ledger_entry (transaction_id, account_id, amount, created_at)
           SELECT x.id, a.id, 10, x.created_at
           FROM ledger_transaction x JOIN ledger_account a ON a.kind = 'VOLUNTEER' AND a.owner_id = x.earner_id
           WHERE x.key LIKE 'syn:%'
           UNION ALL
           SELECT x.id, (SELECT id FROM ledger_account WHERE kind = 'ISSUE'), -10, x.created_at
           FROM ledger_transaction x WHERE x.key LIKE 'syn:%'""",
        """UPDATE ledger_account a SET balance = s.total
           FROM (SELECT earner_id, 10 * count(*) AS total FROM ledger_transaction WHERE key LIKE 'syn:%'
                 GROUP BY earner_id) s
           WHERE a.kind = 'VOLUNTEER' AND a.owner_id = s.earner_id""",
        """INSERT INTO notification (user_id, kind, params, created_at, read_at)
           SELECT u.id, 'VISIT_CONFIRMED', '{}', now() - k * interval '1 day', CASE WHEN k > 1 THEN now() END
           FROM syn_user u, generate_series(1, 3) k""",
        """INSERT INTO audit_entry (at, actor_id, action, object_type, object_id, household_id, grid_id, fields, note)
           SELECT now() - k * interval '1 hour', (SELECT min(id) FROM user_account), 'view', 'household', h.id,
                  h.id, h.grid_id, '', ''
           FROM syn_household h, generate_series(1, 3) k""",
        """INSERT INTO team (community_id, name, motto, active, created_by_id, created_at)
           SELECT g.community_id, 'SYN队' || g.id, '', true, (SELECT min(id) FROM syn_user), now() - interval '1 year'
           FROM syn_grid g""",
        f"""INSERT INTO team_membership (team_id, user_id, joined_at)
            SELECT t.id, u.id, now() - interval '1 year'
            FROM syn_user u JOIN syn_grid g ON g.id = u.grid_id JOIN team t ON t.name = 'SYN队' || g.id
            WHERE u.n % 10 = 0 AND u.n <= {volunteers}""",
    ]


LARGE_TABLES = [
    "user_account",
    "user_role",
    "household",
    "member",
    "need",
    "category_assignment",
    "measure",
    "household_event",
    "task",
    "claim",
    "task_event",
    "ledger_account",
    "ledger_transaction",
    "ledger_entry",
    "notification",
    "audit_entry",
    "team",
    "team_membership",
    "honour_tally",
    "team_tally",
    "grid",
    "community",
    "street",
]


def fill(session, scale: int = 1) -> None:
    """Add the synthetic city in the session's transaction, rebuild the tallies, ANALYZE."""
    from app.services import honour_tally

    for statement in _statements(scale):
        session.execute(sa.text(statement))
    honour_tally.rebuild_tallies()
    for table in LARGE_TABLES:
        session.execute(sa.text(f"ANALYZE {table}"))

"""The authorization matrix: who may do what on every route of the URL map.

One line per (endpoint, method). The columns after the owner are the
answers to a request with an empty body (or the minimal body in BODIES), by
caller:

    anon   nobody logged in
    vol    the volunteer (grid 1, community 1): holds the world's claims, voucher and invitation
    vol2   a second volunteer of community 1 (grid 2): holds the full task's one place
    res    the resident (of a demo household; the world household's family proxy)
    part   the partner user of the demo shop (a partner of the street)
    gw2    the grid worker of grid 2: the world's objects are in another grid
    cw2    the community worker of community 2: another community of the same street
    own    the owner column's staff member of the world's grid: its grid worker
           (grid), community worker (community) or street officer (street);
           "-" when the owner is a column already (volunteer, resident,
           partner, admin), any logged-in user (user) or anybody (anyone)
    adm    the administrator (passes every role check, sees every scope)

Answers: a status code; `L` is 302 to the login page (web, not logged in);
a plain 302 must go anywhere but the login page. A trailing `+` lets a
caller other than the owner and the administrator write (a volunteer
claiming a task for themself); every other refused or read-only answer
must leave the database as it was.

Placeholders in paths are filled from tests/authz_world.py.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

CALLERS = ("anon", "vol", "vol2", "res", "part", "gw2", "cw2", "own", "adm")
# The demo login (tests/conftest.py DEMO) behind each caller; `own` is the row's owner.
LOGINS = {
    "vol": "volunteer",
    "vol2": "volunteer_2",
    "res": "resident",
    "part": "partner",
    "gw2": "grid_worker_2",
    "cw2": "community_worker_2",
    "adm": "admin",
}
OWNERS = {"grid": "grid_worker", "community": "community_worker", "street": "street_officer"}
# Owners already a column: the `own` column is then "-".
OWNED_BY_COLUMN = {
    "volunteer": "vol",
    "resident": "res",
    "partner": "part",
    "admin": "adm",
    "anyone": None,
    "user": None,
}

TABLE = """
# endpoint                        method owner     anon vol  vol2 res  part gw2  cw2  own  adm  path
# --- JSON API: public --------------------------------------------------------------------------------------
api-docs.openapi_json             GET    anyone    200  200  200  200  200  200  200  -    200  /api/v1/openapi.json
api_auth.issue_token              POST   anyone    422  422  422  422  422  422  422  -    422  /api/v1/auth/token
api_auth.register                 POST   anyone    422  422  422  422  422  422  422  -    422  /api/v1/auth/register
api_catalogue.service_types       GET    anyone    200  200  200  200  200  200  200  -    200  /api/v1/service-types
api_honour.honour_board           GET    anyone    200  200  200  200  200  200  200  -    200  /api/v1/honour-board?scope=community:{community}
api_org.grids                     GET    anyone    200  200  200  200  200  200  200  -    200  /api/v1/org/grids
api_org.skills                    GET    anyone    200  200  200  200  200  200  200  -    200  /api/v1/skills
# --- JSON API: bearer token ---------------------------------------------------------------------------------
api_me.me                         GET    user      401  200  200  200  200  200  200  -    200  /api/v1/me
api_points.my_points              GET    volunteer 401  200  200  403  403  403  403  -    200  /api/v1/me/points
api_households.list_households    GET    grid      401  403  403  403  403  200  200  200  200  /api/v1/households
api_households.create_household   POST   grid      401  403  403  403  403  422  422  201  201  /api/v1/households
api_households.get_household      GET    grid      401  403  403  403  403  404  404  200  200  /api/v1/households/{household}
api_households.list_needs         GET    grid      401  403  403  403  403  404  404  200  200  /api/v1/households/{household}/needs
api_households.add_need           POST   grid      401  403  403  403  403  404  404  201  201  /api/v1/households/{household}/needs
api_tasks.list_tasks              GET    grid      401  200  200  403  403  200  200  200  200  /api/v1/tasks
api_tasks.create_task             POST   grid      401  403  403  403  403  404  404  201  201  /api/v1/tasks
api_tasks.get_task                GET    grid      401  200  200  403  403  404  404  200  200  /api/v1/tasks/{task_open}
# the administrator passes every role check: it may claim and wait like a volunteer
api_tasks.claim_task              POST   volunteer 401  200  200+ 403  403  403  403  -    200  /api/v1/tasks/{task_open}/claim
api_tasks.unclaim_task            POST   volunteer 401  200  404  403  403  403  403  -    404  /api/v1/tasks/{task_claimed}/unclaim
api_tasks.join_waitlist           POST   volunteer 401  409  409  403  403  403  403  -    201  /api/v1/tasks/{task_full}/waitlist
api_tasks.leave_waitlist          DELETE volunteer 401  204  404  403  403  403  403  -    404  /api/v1/tasks/{task_full}/waitlist
api_visits.check_in               POST   volunteer 401  409  404  403  403  403  403  -    404  /api/v1/tasks/{task_claimed}/check-in
api_visits.check_out              POST   volunteer 401  409  404  403  403  403  403  -    404  /api/v1/tasks/{task_claimed}/check-out
api_visits.confirmation           POST   volunteer 401  200  404  403  403  403  403  -    404  /api/v1/tasks/{task_awaiting}/confirmation
api_visits.confirmation_png       GET    volunteer 401  200  404  403  403  403  403  -    404  /api/v1/tasks/{task_awaiting}/confirmation.png
api_visits.door_card_png          GET    grid      401  403  403  403  403  404  404  200  200  /api/v1/households/{household}/door-card.png
# --- accounts and public pages ------------------------------------------------------------------------------
auth.login                        GET    anyone    200  302  302  302  302  302  302  -    302  /auth/login
auth.login                        POST   anyone    200  302  302  302  302  302  302  -    302  /auth/login
auth.logout                       POST   anyone    302  302  302  302  302  302  302  -    302  /auth/logout
auth.register                     GET    anyone    200  302  302  302  302  302  302  -    302  /auth/register
auth.register                     POST   anyone    200  302  302  302  302  302  302  -    302  /auth/register
auth.password                     GET    user      L    200  200  200  200  200  200  -    200  /auth/password
auth.password                     POST   user      L    200  200  200  200  200  200  -    200  /auth/password
auth.profile                      GET    user      L    200  200  200  200  200  200  -    200  /auth/profile
# an empty form keeps a non-volunteer's name (302); a volunteer's needs a grid too (200, errors)
auth.profile                      POST   user      L    200  200  302  302  302  302  -    302  /auth/profile
public.index                      GET    anyone    200  200  200  200  200  200  200  -    200  /
public.livez                      GET    anyone    200  200  200  200  200  200  200  -    200  /livez
public.healthz                    GET    anyone    200  200  200  200  200  200  200  -    200  /healthz
public.set_language               POST   anyone    302  302  302  302  302  302  302  -    302  /lang/en
public.set_text_size              POST   anyone    302  302  302  302  302  302  302  -    302  /text-size/large
help.choose                       GET    anyone    200  200  200  200  200  200  200  -    200  /help
help.ask                          GET    anyone    200  200  200  200  200  200  200  -    200  /help/g/{grid}
help.ask                          POST   anyone    200  200  200  200  200  200  200  -    200  /help/g/{grid}
help.thanks                       GET    anyone    200  200  200  200  200  200  200  -    200  /help/g/{grid}/thanks
board.honour_board                GET    anyone    200  200  200  200  200  200  200  -    200  /honour-board
board.display                     GET    anyone    200  200  200  200  200  200  200  -    200  /board/{community}
board.display_data                GET    anyone    200  200  200  200  200  200  200  -    200  /board/{community}/data.json
board.display_qr                  GET    anyone    200  200  200  200  200  200  200  -    200  /board/{community}/qr/join.png
notice.public_notices             GET    anyone    200  200  200  200  200  200  200  -    200  /notices/{community}
notice.object_to                  POST   anyone    422  422  422  422  422  422  422  -    422  /notices/{community}/{notice}/objection
notice.objection_sent             GET    anyone    200  200  200  200  200  200  200  -    200  /notices/{community}/thanks
calendar.feed                     GET    anyone    200  200  200  200  200  200  200  -    200  /calendar/{calendar_token}.ics
# --- the visit: door card, confirmation, proxies ------------------------------------------------------------
visits.door_by_code               GET    anyone    302  302  302  302  302  302  302  -    302  /d?code=ABC123
visits.door                       GET    anyone    200  200  200  200  200  200  200  -    200  /d/{door_token}
visits.door_action                POST   volunteer L    302  302  403  403  403  403  -    302  /d/{door_token}/check-in
# the confirmation link is for the household at the door: its own volunteer is refused
visits.confirm                    GET    anyone    200  403  200  200  200  200  200  -    200  /c/{confirm_token}
visits.confirm                    POST   anyone    422  403  422  422  422  422  422  -    422  /c/{confirm_token}
visits.confirmed                  GET    anyone    200  200  200  200  200  200  200  -    200  /c/thanks
visits.confirm_qr                 GET    volunteer L    200  404  403  403  403  403  -    404  /visits/{task_awaiting}/confirm-qr
visits.new_confirm_qr             POST   volunteer L    302  404  403  403  403  403  -    404  /visits/{task_awaiting}/confirm-qr
visits.confirmation_png           GET    volunteer L    200  404  403  403  403  403  -    404  /visits/{task_awaiting}/confirmation.png
visits.pending                    GET    resident  L    200  200  200  200  200  200  -    200  /visits/pending
# only the household's family proxy (the resident) confirms; nobody else finds the claim
visits.confirm_pending            POST   resident  L    404  404  302  404  404  404  -    404  /visits/pending/{claim_awaiting}
visits.awaiting                   GET    grid      L    403  403  403  403  200  200  200  200  /registry/visits/awaiting
visits.follow_up_call             GET    grid      L    403  403  403  403  404  404  200  200  /registry/visits/{claim_awaiting}/follow-up-call
visits.follow_up_call             POST   grid      L    403  403  403  403  404  404  200  200  /registry/visits/{claim_awaiting}/follow-up-call
visits.door_card                  GET    grid      L    403  403  403  403  404  404  200  200  /registry/{household}/door-card
visits.door_card_png              GET    grid      L    403  403  403  403  404  404  200  200  /registry/{household}/door-card.png
visits.door_card_svg              GET    grid      L    403  403  403  403  404  404  200  200  /registry/{household}/door-card.svg
visits.change_door_card           POST   grid      L    403  403  403  403  404  404  302  302  /registry/{household}/door-card/issue
visits.link_proxy                 POST   grid      L    403  403  403  403  404  404  302  302  /registry/{household}/proxies
visits.unlink_proxy               POST   grid      L    403  403  403  403  404  404  302  302  /registry/{household}/proxies/{proxy}/unlink
visits.door_card_sheet            GET    grid      L    403  403  403  403  404  404  200  200  /registry/grids/{grid}/door-cards
visits.issue_missing_cards        POST   grid      L    403  403  403  403  404  404  302  302  /registry/grids/{grid}/door-cards
# --- volunteers: tasks, teams, organisations, calendar, points, bank ----------------------------------------
volunteer.board                   GET    volunteer L    200  200  403  403  403  403  -    200  /tasks/
volunteer.mine                    GET    volunteer L    200  200  403  403  403  403  -    200  /tasks/mine
volunteer.history                 GET    volunteer L    200  200  403  403  403  403  -    200  /tasks/history
volunteer.task                    GET    volunteer L    200  200  403  403  403  403  -    200  /tasks/{task_open}
volunteer.claim                   POST   volunteer L    302  302+ 403  403  403  403  -    302  /tasks/{task_open}/claim
volunteer.unclaim                 POST   volunteer L    302  302  403  403  403  403  -    302  /tasks/{task_claimed}/unclaim
volunteer.join_waitlist           POST   volunteer L    302  302  403  403  403  403  -    302  /tasks/{task_full}/waitlist
volunteer.leave_waitlist          POST   volunteer L    302  302  403  403  403  403  -    302  /tasks/{task_full}/waitlist/leave
board.team_list                   GET    user      L    200  200  200  200  200  200  -    200  /teams
board.create_team                 POST   volunteer L    302  302+ 403  403  403  403  -    403  /teams
board.join_team                   POST   volunteer L    302  302+ 403  403  403  403  -    403  /teams/{team}/join
board.leave_team                  POST   volunteer L    302  302  302  302  302  302  -    302  /teams/leave
supply_me.organisations           GET    volunteer L    200  200  403  403  403  403  -    200  /me/organisations
supply_me.accept                  POST   volunteer L    302  404  403  403  403  403  -    404  /me/organisations/{partner_member}/accept
supply_me.decline                 POST   volunteer L    302  404  403  403  403  403  -    404  /me/organisations/{partner_member}/decline
supply_me.leave                   POST   volunteer L    302  404  403  403  403  403  -    404  /me/organisations/{partner_member}/leave
me.notification_list              GET    user      L    200  200  200  200  200  200  -    200  /me/notifications
me.mark_read                      POST   user      L    302+ 302+ 302+ 302+ 302+ 302+ -    302  /me/notifications/read
me.notification_settings          GET    user      L    200  200  200  200  200  200  -    200  /me/notifications/settings
me.notification_settings          POST   user      L    302+ 302+ 302+ 302+ 302+ 302+ -    302  /me/notifications/settings
me.calendar                       GET    volunteer L    200  200  403  403  403  403  -    200  /me/calendar
me.calendar_enable                POST   volunteer L    302  302+ 403  403  403  403  -    302  /me/calendar/enable
me.calendar_disable               POST   volunteer L    302  302+ 403  403  403  403  -    302  /me/calendar/disable
points.statement                  GET    volunteer L    200  200  403  403  403  403  -    200  /me/points
points.statement_xlsx             GET    volunteer L    200  200  403  403  403  403  -    200  /me/points.xlsx
bank.catalogue                    GET    volunteer L    200  200  403  403  403  403  -    200  /bank
# the reward is community 1's: volunteer 2 may redeem it too; the administrator has no community
bank.redeem                       POST   volunteer L    302  302+ 403  403  403  403  -    404  /bank/rewards/{reward}/redeem
bank.my_vouchers                  GET    volunteer L    200  200  403  403  403  403  -    200  /bank/vouchers
bank.voucher_qr                   GET    volunteer L    200  404  403  403  403  403  -    404  /bank/vouchers/{voucher}/qr.png
bank.cancel_voucher               POST   volunteer L    302  404  403  403  403  403  -    404  /bank/vouchers/{voucher}/cancel
bank.donate                       GET    volunteer L    200  200  403  403  403  403  -    200  /bank/donate
bank.donate                       POST   volunteer L    422  422  403  403  403  403  -    422  /bank/donate
# --- partners: the bank desk and the organisation desk ------------------------------------------------------
bank.partner_home                 GET    partner   L    403  403  403  200  403  403  -    200  /bank/partner
bank.partner_home                 POST   partner   L    403  403  403  422  403  403  -    422  /bank/partner
# a voucher is handed over by its partner's own accounts only (not the administrator)
bank.handover                     GET    partner   L    403  403  403  200  403  403  -    404  /bank/v/{voucher_token}
bank.handover                     POST   partner   L    403  403  403  302  403  403  -    404  /bank/v/{voucher_token}
# the administrator and street officers see the desk; only the organisation's accounts change its members
supply.desk_home                  GET    partner   L    403  403  403  302  403  403  -    302  /supply/org
supply.desk                       GET    partner   L    403  403  403  200  403  403  -    200  /supply/org/{partner}
supply.matches                    GET    partner   L    403  403  403  200  403  403  -    200  /supply/org/{partner}/matches
supply.members                    GET    partner   L    403  403  403  200  403  403  -    200  /supply/org/{partner}/members
supply.members                    POST   partner   L    403  403  403  422  403  403  -    422  /supply/org/{partner}/members
supply.remove_member              POST   partner   L    403  403  403  302  403  403  -    404  /supply/org/{partner}/members/{partner_member_user}/remove
supply.new_offer                  GET    partner   L    403  403  403  200  403  403  -    200  /supply/org/{partner}/offers/new
supply.new_offer                  POST   partner   L    403  403  403  422  403  403  -    422  /supply/org/{partner}/offers/new
supply.offer                      GET    partner   L    403  403  403  200  403  403  -    200  /supply/org/{partner}/offers/{offer}
supply.offer                      POST   partner   L    403  403  403  422  403  403  -    422  /supply/org/{partner}/offers/{offer}
supply.close_offer                POST   partner   L    403  403  403  302  403  403  -    302  /supply/org/{partner}/offers/{offer}/close
supply.street_offers              GET    street    L    403  403  403  403  403  403  200  200  /supply/offers
# --- staff: overview, dashboard, jobs -----------------------------------------------------------------------
staff.overview                    GET    grid      L    403  403  403  403  200  200  200  200  /staff/
staff.volunteers                  GET    grid      L    403  403  403  403  200  200  200  200  /staff/volunteers
staff.grid                        GET    grid      L    403  403  403  403  404  404  200  200  /staff/grids/{grid}
dashboard.index                   GET    grid      L    403  403  403  403  404  404  200  200  /dashboard/?unit=grid:{grid}
dashboard.export                  GET    grid      L    403  403  403  403  404  404  200  200  /dashboard/summary.xlsx?unit=grid:{grid}
jobs.index                        GET    admin     L    403  403  403  403  403  403  -    200  /staff/jobs
# --- staff: the registry ------------------------------------------------------------------------------------
registry.index                    GET    grid      L    403  403  403  403  200  200  200  200  /registry/
registry.warning_list             GET    grid      L    403  403  403  403  200  200  200  200  /registry/warnings
registry.reviews_due              GET    grid      L    403  403  403  403  200  200  200  200  /registry/reviews
# exports hold the caller's own households: gw2's and cw2's hold none of the world's (audit-logged)
registry.ledger_export            GET    grid      L    403  403  403  403  200+ 200+ 200  200  /registry/ledger.xlsx
registry.ledger_import            GET    grid      L    403  403  403  403  200  200  200  200  /registry/import
registry.ledger_import            POST   grid      L    403  403  403  403  200  200  200  200  /registry/import
registry.new_household            GET    grid      L    403  403  403  403  200  200  200  200  /registry/new
registry.new_household            POST   grid      L    403  403  403  403  200  200  200  200  /registry/new
registry.household                GET    grid      L    403  403  403  403  404  404  200  200  /registry/{household}
registry.edit_household           GET    grid      L    403  403  403  403  404  404  200  200  /registry/{household}/edit
# an empty form keeps the saved values: saved unchanged (302)
registry.edit_household           POST   grid      L    403  403  403  403  404  404  302  302  /registry/{household}/edit
registry.record_consent           GET    grid      L    403  403  403  403  404  404  200  200  /registry/{household}/consent
registry.record_consent           POST   grid      L    403  403  403  403  404  404  200  200  /registry/{household}/consent
registry.withdraw_consent         GET    grid      L    403  403  403  403  404  404  200  200  /registry/{household}/consent/withdraw
registry.withdraw_consent         POST   grid      L    403  403  403  403  404  404  200  200  /registry/{household}/consent/withdraw
registry.set_finances             GET    grid      L    403  403  403  403  404  404  200  200  /registry/{household}/finances
registry.set_finances             POST   grid      L    403  403  403  403  404  404  200  200  /registry/{household}/finances
registry.add_member               GET    grid      L    403  403  403  403  404  404  200  200  /registry/{household}/members/new
registry.add_member               POST   grid      L    403  403  403  403  404  404  200  200  /registry/{household}/members/new
registry.edit_member              GET    grid      L    403  403  403  403  404  404  200  200  /registry/{household}/members/{member}/edit
registry.edit_member              POST   grid      L    403  403  403  403  404  404  302  302  /registry/{household}/members/{member}/edit
registry.remove_member            GET    grid      L    403  403  403  403  404  404  200  200  /registry/{household}/members/{member}/remove
registry.remove_member            POST   grid      L    403  403  403  403  404  404  200  200  /registry/{household}/members/{member}/remove
registry.propose_category         GET    grid      L    403  403  403  403  404  404  200  200  /registry/{household}/categories/new
registry.propose_category         POST   grid      L    403  403  403  403  404  404  200  200  /registry/{household}/categories/new
registry.add_cause                GET    grid      L    403  403  403  403  404  404  200  200  /registry/{household}/causes/new
registry.add_cause                POST   grid      L    403  403  403  403  404  404  200  200  /registry/{household}/causes/new
registry.add_need                 GET    grid      L    403  403  403  403  404  404  200  200  /registry/{household}/needs/new
registry.add_need                 POST   grid      L    403  403  403  403  404  404  200  200  /registry/{household}/needs/new
registry.close_need               GET    grid      L    403  403  403  403  404  404  200  200  /registry/{household}/needs/{need}/close
registry.close_need               POST   grid      L    403  403  403  403  404  404  200  200  /registry/{household}/needs/{need}/close
registry.add_measure              GET    grid      L    403  403  403  403  404  404  200  200  /registry/{household}/measures/new
registry.add_measure              POST   grid      L    403  403  403  403  404  404  200  200  /registry/{household}/measures/new
registry.add_follow_up            GET    grid      L    403  403  403  403  404  404  200  200  /registry/{household}/follow-ups/new
registry.add_follow_up            POST   grid      L    403  403  403  403  404  404  200  200  /registry/{household}/follow-ups/new
registry.record_review            GET    grid      L    403  403  403  403  404  404  200  200  /registry/{household}/reviews/new
registry.record_review            POST   grid      L    403  403  403  403  404  404  200  200  /registry/{household}/reviews/new
registry.inbox                    GET    grid      L    403  403  403  403  200  200  200  200  /registry/inbox
registry.inbox_request            GET    grid      L    403  403  403  403  404  404  200  200  /registry/inbox/{help_request}
registry.accept                   POST   grid      L    403  403  403  403  404  404  200  200  /registry/inbox/{help_request}/accept
registry.dismiss                  POST   grid      L    403  403  403  403  404  404  200  200  /registry/inbox/{help_request}/dismiss
registry.exit_household           GET    community L    403  403  403  403  403  404  200  200  /registry/{household}/exit
registry.exit_household           POST   community L    403  403  403  403  403  404  200  200  /registry/{household}/exit
registry.reenter_household        GET    community L    403  403  403  403  403  404  200  200  /registry/{household}/reenter
registry.reenter_household        POST   community L    403  403  403  403  403  404  200  200  /registry/{household}/reenter
registry.reveal_id_number         GET    community L    403  403  403  403  403  404  200  200  /registry/{household}/members/{head_member}/reveal
registry.reveal_id_number         POST   community L    403  403  403  403  403  404  200  200  /registry/{household}/members/{head_member}/reveal
registry.decide_category          GET    community L    403  403  403  403  403  404  200  200  /registry/{household}/categories/{assignment}/review
registry.decide_category          POST   community L    403  403  403  403  403  404  302  302  /registry/{household}/categories/{assignment}/review
registry.approvals                GET    community L    403  403  403  403  403  200  200  200  /registry/approvals
registry.audit_log                GET    community L    403  403  403  403  403  200  200  200  /registry/audit?household_id={household}
registry.civil_affairs_ledger     GET    community L    403  403  403  403  200+ 404  200  200  /registry/communities/{community}/ledger-report.xlsx
registry.city_standards           GET    admin     L    403  403  403  403  403  403  -    200  /registry/standards
registry.city_standards           POST   admin     L    403  403  403  403  403  403  -    200  /registry/standards
registry.service_types            GET    admin     L    403  403  403  403  403  403  -    200  /registry/service-types
registry.service_types            POST   admin     L    403  403  403  403  403  403  -    200  /registry/service-types
# --- staff: tasks and matching ------------------------------------------------------------------------------
tasks_staff.index                 GET    grid      L    403  403  403  403  200  200  200  200  /staff/tasks/
tasks_staff.new_task              GET    grid      L    403  403  403  403  404  404  200  200  /staff/tasks/new?household_id={household}
tasks_staff.new_task              POST   grid      L    403  403  403  403  404  404  200  200  /staff/tasks/new?household_id={household}
tasks_staff.task                  GET    grid      L    403  403  403  403  404  404  200  200  /staff/tasks/{task_open}
tasks_staff.cancel                POST   grid      L    403  403  403  403  404  404  302  302  /staff/tasks/{task_open}/cancel
matching.task                     GET    grid      L    403  403  403  403  404  404  200  200  /staff/matching/tasks/{task_open}
matching.invite                   POST   grid      L    403  403  403  403  404  404  302  302  /staff/matching/tasks/{task_open}/invite
matching.claim_follow_up          GET    grid      L    403  403  403  403  404  404  200  200  /staff/matching/claims/{claim_done}/follow-up
matching.claim_follow_up          POST   grid      L    403  403  403  403  404  404  200  200  /staff/matching/claims/{claim_done}/follow-up
# staff of one community are sent on to it; gw2 sees community 1's page with grid 2's needs only
supply.communities                GET    grid      L    403  403  403  403  302  302  302  200  /supply/communities
supply.community                  GET    grid      L    403  403  403  403  200  404  200  200  /supply/communities/{community}
supply.invite                     POST   grid      L    403  403  403  403  404  404  302  302  /supply/communities/{community}/invite
supply.match                      GET    grid      L    403  403  403  403  404  404  200  200  /supply/needs/{need}/offers/{offer}
supply.accept                     POST   grid      L    403  403  403  403  404  404  422  422  /supply/needs/{need}/offers/{offer}/accept
supply.decline                    POST   grid      L    403  403  403  403  404  404  422  422  /supply/needs/{need}/offers/{offer}/decline
# --- staff: notices, points, the bank -----------------------------------------------------------------------
notice.index                      GET    community L    403  403  403  403  403  200  200  200  /staff/notices/
notice.new                        GET    community L    403  403  403  403  403  200  200  200  /staff/notices/new
notice.new                        POST   community L    403  403  403  403  403  200  200  200  /staff/notices/new
notice.detail                     GET    community L    403  403  403  403  403  404  200  200  /staff/notices/{notice}
notice.save_items                 POST   community L    403  403  403  403  403  404  422  422  /staff/notices/{notice}/items
notice.publish                    POST   community L    403  403  403  403  403  404  422  422  /staff/notices/{notice}/publish
notice.withdraw                   POST   community L    403  403  403  403  403  404  422  422  /staff/notices/{notice}/withdraw
notice.handle_objection           POST   community L    403  403  403  403  403  404  302  302  /staff/notices/{notice}/objections/{objection}
points.accounts                   GET    community L    403  403  403  403  403  200  200  200  /staff/points/accounts
points.account                    GET    community L    403  403  403  403  403  404  200  200  /staff/points/accounts/volunteer/{user_volunteer}
points.awards                     GET    community L    403  403  403  403  403  200  200  200  /staff/points/awards
points.reverse                    GET    community L    403  403  403  403  403  404  200  200  /staff/points/visits/{claim_done}/reverse
points.reverse                    POST   community L    403  403  403  403  403  404  422  422  /staff/points/visits/{claim_done}/reverse
points.export                     GET    street    L    403  403  403  403  403  403  200  200  /staff/points/export
points.export                     POST   street    L    403  403  403  403  403  403  422  422  /staff/points/export
points.rules                      GET    admin     L    403  403  403  403  403  403  -    200  /staff/points/rules
points.add_rate                   POST   admin     L    403  403  403  403  403  403  -    422  /staff/points/rules/rates
points.add_policy                 POST   admin     L    403  403  403  403  403  403  -    422  /staff/points/rules/policies
# partners belong to the street: every community worker of the street manages them (cw2 too)
bank.partners                     GET    community L    403  403  403  403  403  200  200  200  /bank/staff/partners
bank.partners                     POST   community L    403  403  403  403  403  422  422  422  /bank/staff/partners
bank.partner                      GET    community L    403  403  403  403  403  200  200  200  /bank/staff/partners/{partner}
bank.partner                      POST   community L    403  403  403  403  403  302+ 302  302  /bank/staff/partners/{partner}
bank.link_user                    POST   community L    403  403  403  403  403  422  422  422  /bank/staff/partners/{partner}/users
bank.unlink_user                  POST   community L    403  403  403  403  403  302+ 302  302  /bank/staff/partners/{partner}/users/{user_partner}/remove
bank.rewards                      GET    community L    403  403  403  403  403  200  200  200  /bank/staff/rewards
bank.new_reward                   GET    community L    403  403  403  403  403  200  200  200  /bank/staff/rewards/new
bank.new_reward                   POST   community L    403  403  403  403  403  422  422  422  /bank/staff/rewards/new
bank.reward                       GET    community L    403  403  403  403  403  404  200  200  /bank/staff/rewards/{reward}
bank.reward                       POST   community L    403  403  403  403  403  404  422  422  /bank/staff/rewards/{reward}
bank.receive                      POST   community L    403  403  403  403  403  404  422  422  /bank/staff/rewards/{reward}/receive
bank.write_off                    POST   community L    403  403  403  403  403  404  422  422  /bank/staff/rewards/{reward}/write-off
"""


def _api_time(days: int, hour: int) -> str:
    day = datetime.now(UTC).date() + timedelta(days=days)
    return datetime.combine(day, time(hour), UTC).isoformat()


# Minimal bodies where an empty one would be refused for its shape before the
# caller's right to the object is even looked at. Values are formatted with
# the world, like paths.
BODIES = {
    ("api_households.create_household", "POST"): lambda: {
        "grid_id": "{grid}",
        "building": "矩阵新楼",
        "room": "1",
        "contact_phone": "13977770003",
        "head": {"name": "矩阵新户"},
        "consent": {"on": datetime.now(UTC).date().isoformat(), "scope": "帮扶"},
    },
    ("api_households.add_need", "POST"): lambda: {"service_type_code": "errands", "description": "矩阵新需"},
    ("api_tasks.create_task", "POST"): lambda: {
        "household_id": "{household}",
        "service_type": "visiting",
        "starts_at": _api_time(6, 2),
        "ends_at": _api_time(6, 4),
        "description": "矩阵新任务",
    },
    ("api_tasks.unclaim_task", "POST"): lambda: {"reason": "临时有事"},
    ("board.create_team", "POST"): lambda: {"name": "矩阵新队", "motto": ""},
    ("api_visits.check_in", "POST"): lambda: {"door_token": "{door_token}"},
    ("api_visits.check_out", "POST"): lambda: {"door_token": "{door_token}"},
    ("matching.invite", "POST"): lambda: {"volunteer_id": "{user_volunteer}"},
    ("notice.handle_objection", "POST"): lambda: {"o{objection}-note": "已核实并答复"},
    ("supply.invite", "POST"): lambda: {"task_id": "{task_open}", "volunteer_id": "{user_volunteer}"},
    ("visits.confirm_pending", "POST"): lambda: {"c{claim_awaiting}-rating": "5"},
    ("visits.door_action", "POST"): lambda: {"task_id": "{task_claimed}"},
}


@dataclass(frozen=True)
class Expect:
    status: int
    to_login: bool = False  # a 302 to the login page
    may_write: bool = False


@dataclass(frozen=True)
class Row:
    endpoint: str
    method: str
    owner: str
    path: str
    expect: dict  # caller → Expect; "own" absent when the owner is another column

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/api/")

    @property
    def key(self) -> tuple[str, str]:
        return self.endpoint, self.method

    @property
    def rightful(self) -> str:
        """The column of the caller the route is for: the volunteer stands for any user."""
        if self.owner in OWNERS:
            return "own"
        return OWNED_BY_COLUMN[self.owner] or ("vol" if self.owner == "user" else "anon")

    def login_of(self, caller: str) -> str | None:
        """The demo login (an attribute of tests/conftest.py's DEMO) of `caller`; None for nobody."""
        return OWNERS[self.owner] if caller == "own" else LOGINS.get(caller)


def _expect(token: str, caller: str, owner: str) -> Expect:
    may_write = token.endswith("+") or caller in ("own", "adm", OWNED_BY_COLUMN.get(owner))
    token = token.rstrip("+")
    if token == "L":
        return Expect(302, to_login=True, may_write=may_write)
    return Expect(int(token), may_write=may_write)


def parse(table: str = TABLE) -> list[Row]:
    rows = []
    for line in table.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        endpoint, method, owner, *tokens = line.split()
        statuses, path = tokens[: len(CALLERS)], tokens[len(CALLERS)]
        assert len(tokens) == len(CALLERS) + 1, f"{endpoint} {method}: {len(CALLERS)} answers and a path"
        assert owner in OWNERS or owner in OWNED_BY_COLUMN, f"{endpoint} {method}: unknown owner {owner}"
        by_column = owner in OWNED_BY_COLUMN
        assert (statuses[CALLERS.index("own")] == "-") == by_column, f"{endpoint} {method}: own column"
        expect = {c: _expect(t, c, owner) for c, t in zip(CALLERS, statuses, strict=True) if t != "-"}
        rows.append(Row(endpoint, method, owner, path, expect))
    return rows


ROWS = parse()

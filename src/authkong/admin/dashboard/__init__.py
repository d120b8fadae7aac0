"""The browser dashboard at /admin: Starlette routes over the admin service.

Pages are Jinja2 templates (autoescaped) under a strict Content-Security-Policy, with
their stylesheet and one small script served from /admin/static.
"""

from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from authkong.admin.dashboard import accounts, sites, team
from authkong.admin.dashboard.render import STATIC_DIR

GET, POST, BOTH = ["GET"], ["POST"], ["GET", "POST"]


def routes() -> list[BaseRoute]:
    return [
        Route("/admin", accounts.home, methods=GET),
        Route("/admin/setup", accounts.setup, methods=POST),
        Route("/admin/login", accounts.login, methods=BOTH),
        Route("/admin/logout", accounts.logout, methods=POST),
        Route("/admin/org", accounts.switch_org, methods=POST),
        Route("/admin/invite/{token}", accounts.invitation, methods=BOTH),
        Route("/admin/account", accounts.account, methods=BOTH),
        Route("/admin/sites", sites.site_list, methods=GET),
        Route("/admin/sites/new", sites.site_new, methods=BOTH),
        Route("/admin/sites/{sitekey}", sites.site_page, methods=BOTH),
        Route("/admin/sites/{sitekey}/rotate", sites.site_rotate, methods=POST),
        Route("/admin/sites/{sitekey}/delete", sites.site_delete, methods=BOTH),
        Route("/admin/sites/{sitekey}/analytics", sites.site_analytics, methods=GET),
        Route("/admin/analytics", sites.org_analytics, methods=GET),
        Route("/admin/members", team.members, methods=GET),
        Route("/admin/members/invite", team.invite, methods=POST),
        Route("/admin/members/add", team.add_member, methods=POST),
        Route("/admin/invitations/{invitation_id}/revoke", team.revoke_invitation, methods=POST),
        Route("/admin/members/{user_id}/role", team.set_role, methods=POST),
        Route("/admin/members/{user_id}/remove", team.remove_member, methods=POST),
        Route("/admin/tokens", team.tokens, methods=BOTH),
        Route("/admin/tokens/{token_id}/revoke", team.revoke_token, methods=POST),
        Route("/admin/audit", team.audit, methods=GET),
        Mount("/admin/static", StaticFiles(directory=STATIC_DIR), name="admin-static"),
    ]

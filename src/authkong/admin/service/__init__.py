"""The one service layer under the dashboard, the admin API and the CLI.

Every operation takes the Actor asking, checks its scope (model.Scope) and role, keeps
it inside the actor's organization (another organization's ids raise NotFound, never
Forbidden) and writes the audit log for logins, member, token, key and site changes.
Methods that hash a password (Argon2id, tens of milliseconds) or touch the ephemeral
store (login throttling) are async; they must not block the event loop, so their
database work runs in worker threads too (SQLite may wait seconds for another process's
lock). A change and its audit entry commit in one transaction.

The CLI acts as `cli_actor()`: every scope, on every organization's sites (it is run by
whoever holds the data directory, who could edit the database anyway).

The operations live in one mixin per area (accounts.py, members.py, sites.py, tokens.py,
reports.py) over ServiceBase (_base.py), which holds the shared state and the permission
checks; AdminService combines them.
"""

from authkong.admin.service._base import ANY_ORG, CLI_LABEL, AnalyticsSource, cli_actor
from authkong.admin.service.accounts import AccountsMixin
from authkong.admin.service.members import LOG_IN_TO_JOIN, MembersMixin
from authkong.admin.service.reports import ReportsMixin
from authkong.admin.service.sites import SiteChanges, SitesMixin
from authkong.admin.service.tokens import TokensMixin

__all__ = [
    "ANY_ORG",
    "CLI_LABEL",
    "LOG_IN_TO_JOIN",
    "AdminService",
    "AnalyticsSource",
    "SiteChanges",
    "cli_actor",
]


class AdminService(AccountsMixin, MembersMixin, SitesMixin, TokensMixin, ReportsMixin):
    """Every admin operation; the constructor is ServiceBase's."""

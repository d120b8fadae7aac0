"""The dashboard (/admin) and the admin API (/api/admin/v1) over one service layer.

model.py holds the values and errors every surface shares; service/ the operations
(each checks the actor's permission and writes the audit log); the dashboard, the API and
the CLI only translate between their medium and the service.
"""

"""The console: web pages for the people in the loop (reviewers, counsel, admins).

Server-side rendered (Starlette through FastAPI, Jinja2 templates, no inline script); it reads the
same database as the CLI and takes decisions through the same bodies and the same outbox
(``workers.console.deciding``), as the user who is logged in.
"""

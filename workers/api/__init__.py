"""The HTTP api: the front door for upstream services that do not speak Celery's protocol.

``bulkguard api serve`` runs it (``workers.api.server``). A request is authenticated by its
client's api key (``infra.api_keys``), its body read within limits (``body``), validated with
the same payload types the tasks validate with, and the accepted work committed with its outbox
row before the answer: a 202 means the work is durable, whatever the broker is doing. docs/api.md
is the upstream teams' guide.
"""

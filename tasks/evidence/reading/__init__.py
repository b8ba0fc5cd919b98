"""Reading evidence: what a document says, from its text alone.

Pure functions over strings: HTML reduced to text (``html_text``, with ``json_ld``), contacts
(``contacts``), the publisher's hosts and the link hosts (``hosts``), the publisher's brand
(``brand``) and the document's own date (``document_facts``), claims of bulk or automated
sending (``claims``), all of them together for one document (``analysis``), and the normal forms
findings are compared in (``indicators``, ``shared_domains``). No database, no Redis, no Celery:
the evidence stage's bodies beside this package store and link what it reads, and a test pins
that nothing here imports them.
"""

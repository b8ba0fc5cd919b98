"""The harness: the whole pipeline run on one machine (``demo``), the scoring benchmark
(``bench``), fault trials (``chaos``), starting and stopping worker and Flower processes as an
operator would (``processes``) and the counts that describe a run (``report``).

It drives the runtime (``workers``) and the stage bodies (``tasks``) as they run in production;
the runtime never imports it.
"""

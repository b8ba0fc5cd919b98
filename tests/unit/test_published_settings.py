"""What a worker publishes of its settings, how ``bulkguard status`` compares the publications of
a deployment's workers, and when it calls beat alive."""

from __future__ import annotations

import hashlib
from pathlib import Path

from infra.settings import Settings
from tasks.enforcement.policy_file import DEFAULT_POLICY, PolicyFile
from workers.beat_heartbeat import STALE_SECONDS, BeatTick
from workers.published_settings import (
    Setting,
    WorkerReport,
    agreed,
    disagreements,
    settings_in_force,
)
from workers.status import beat_status, worker_settings


def report(node: str, queues: tuple[str, ...], **settings: Setting) -> WorkerReport:
    published = {"enforcement_mode": "enforce", "breaker_min_bans": 200, **settings}
    return WorkerReport(node, 1, queues, 100.0, 990.0, published)


def test_a_worker_publishes_its_settings_and_the_policy_it_accepted(tmp_path: Path) -> None:
    settings = Settings(
        enforcement_mode="shadow",
        breaker_min_bans=52,
        release_delay_min_seconds=0,
        release_delay_max_seconds=5,
    )
    shown = settings_in_force(settings, PolicyFile(DEFAULT_POLICY))
    assert shown["enforcement_mode"] == "shadow"
    assert shown["breaker_min_bans"] == 52
    assert (shown["release_delay_min_seconds"], shown["release_delay_max_seconds"]) == (0, 5)
    assert shown["policy_file"] is None  # the shipped one
    assert (
        shown["enforcement_policy_sha256"]
        == hashlib.sha256(DEFAULT_POLICY.read_bytes()).hexdigest()
    )
    assert shown["enforcement_policy_version"]
    assert shown["enforcement_policy_error"] is None
    assert shown["legal_policy_version"] == settings.policy_version

    missing = tmp_path / "policy.toml"
    broken = settings_in_force(Settings(policy_file=missing), PolicyFile(missing))
    assert broken["policy_file"] == str(missing)
    assert broken["enforcement_policy_version"] is None
    assert "cannot be read" in str(broken["enforcement_policy_error"])


def test_workers_that_run_alike_agree_and_others_are_named_by_value() -> None:
    a = report("enforcement@a", ("enforcement",), breaker_min_bans=52)
    b = report("enforcement@b", ("enforcement",))
    c = report("enforcement@c", ("enforcement",), breaker_min_bans=52)
    assert disagreements([a, c]) == {}
    assert agreed([a, c]) == {"enforcement_mode": "enforce", "breaker_min_bans": 52}
    assert disagreements([a, b, c]) == {
        "breaker_min_bans": [
            {"value": 52, "workers": ["enforcement@a", "enforcement@c"]},
            {"value": 200, "workers": ["enforcement@b"]},
        ]
    }
    assert agreed([a, b, c]) == {"enforcement_mode": "enforce"}
    # A setting an older release does not publish is a difference, not an agreement.
    older = WorkerReport(
        "enforcement@d", 1, ("enforcement",), 0.0, 0.0, {"enforcement_mode": "enforce"}
    )
    assert disagreements([b, older])["breaker_min_bans"][1] == {
        "value": None,
        "workers": ["enforcement@d"],
    }


def test_status_compares_workers_queue_by_queue() -> None:
    shadow = report("enforcement@a", ("enforcement",), enforcement_mode="shadow")
    scoring = report("scoring@b", ("scoring",))
    online = {"enforcement": ["enforcement@a", "enforcement@old"], "scoring": ["scoring@b"]}
    by_queue = worker_settings(1000.0, [shadow, scoring], online)

    enforcement = by_queue["enforcement"]
    assert enforcement["settings"]["enforcement_mode"] == "shadow"
    assert enforcement["disagreements"] == {}
    assert enforcement["not_reported"] == ["enforcement@old"]
    (worker,) = enforcement["workers"]
    assert (worker["node"], worker["last_seen_seconds"]) == ("enforcement@a", 10.0)
    assert by_queue["scoring"]["settings"]["enforcement_mode"] == "enforce"
    assert by_queue["legal"] == {
        "settings": {},
        "disagreements": {},
        "workers": [],
        "not_reported": [],
    }
    # Across the deployment, the two disagree.
    assert set(disagreements([shadow, scoring])) == {"enforcement_mode"}


def test_beat_is_alive_while_its_last_tick_is_recent() -> None:
    assert beat_status(1000.0, None)["alive"] is False
    assert beat_status(1000.0, None)["last_tick"] is None
    tick = BeatTick("beat-host", 7, 0.0, 1000.0)
    recent = beat_status(1000.0 + STALE_SECONDS, tick)
    assert (recent["alive"], recent["seconds_ago"], recent["host"]) == (
        True,
        STALE_SECONDS,
        "beat-host",
    )
    stale = beat_status(1000.0 + STALE_SECONDS + 1, tick)
    assert stale["alive"] is False
    assert stale["last_tick"] == "1970-01-01T00:16:40+00:00"

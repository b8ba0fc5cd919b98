"""``bulkguard bench scoring`` end to end, on a small population: every figure it reports is
measured for real (workers, Redis, SQLite), beside the baseline it is a ratio of."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from workers.harness.bench import STEPS, bench_scoring


def test_bench_reports_every_figure_beside_its_baseline(
    trained_model_dir: Path, tmp_path: Path, spare_redis_url: str
) -> None:
    cache = tmp_path / "bench-model"
    shutil.copytree(trained_model_dir, cache / trained_model_dir.name)
    # The bench empties the Redis database it is given: its own, beside the tests' one.
    result = bench_scoring(
        model_cache=cache, accounts=300, latency_samples=20, redis_url=spare_redis_url
    )

    baseline = result["raw_predict_rows_per_s_all_cores"]
    assert baseline == pytest.approx(
        max(result["raw_predict_rows_per_s_all_cores_measured"]), abs=1
    )
    assert baseline > 0
    assert result["model_version"] == trained_model_dir.name
    for batch in ("1", "100", "1000"):
        run = result["end_to_end"][batch]
        assert run["accounts"] == 300
        assert run["accounts_per_s"] > 0
        assert run["ratio_to_raw_all_cores"] == pytest.approx(
            run["accounts_per_s"] / baseline, abs=1e-4
        )
        # Solo scoring workers: all the work in the workers' own processes, no pool.
        assert run["cpu_us_per_account"]["worker_processes"] > 0
        assert run["cpu_us_per_account"]["pool_processes"] == 0
    drain = result["drain"]["1000"]
    assert drain["accounts"] == 3 * 300  # a longer window for the steady rate
    assert drain["accounts_per_s"] > 0
    assert drain["ratio_to_raw_all_cores"] == pytest.approx(
        drain["accounts_per_s"] / baseline, abs=1e-4
    )
    assert drain["cpu_us_per_account"]["worker_processes"] > 0
    capacity = result["per_core"]
    assert capacity["worker_accounts_per_core_s"] > 0
    assert capacity["redis_accounts_per_core_s"] > 0
    assert 300 < capacity["broker_body_bytes_per_account"] < 2000
    assert (
        1.0 < capacity["database_rows_per_account"] < 3.0
    )  # a score, an account, a share of a snapshot
    latency = result["single_account_latency_ms"]
    assert latency["samples"] == 20
    assert 0 < latency["p50"] <= latency["p99"]
    assert list(result["task_step_us_per_account"]) == list(STEPS)
    assert result["worker_peak_rss_mib"] > 50
    assert result["neighbourhood_bytes_per_registration"] > 0
    assert (
        0
        < result["neighbourhood_redelivery_bytes_per_registration"]
        < (result["neighbourhood_bytes_per_registration"])
    )


def test_bench_envelopes_pops_through_both_clients_and_leaves_nothing(redis_url: str) -> None:
    import redis

    from workers.harness.envelope_bench import bench_envelopes

    client = redis.Redis.from_url(redis_url)
    keys_before = set(client.keys("*"))
    result = bench_envelopes(redis_url, count=200, rounds=1)
    small, batch = result["messages"]
    assert small["popped"] == 200
    assert batch["bytes"] > 500_000  # a thousand accounts
    for row in (small, batch):
        assert row["plain_us"] > 0
        assert row["guarded_us"] > 0
        assert row["ratio"] == pytest.approx(row["guarded_us"] / row["plain_us"], rel=1e-9)
        assert row["consumer_check_us"] > 0
    assert set(client.keys("*")) == keys_before  # its list popped empty and deleted

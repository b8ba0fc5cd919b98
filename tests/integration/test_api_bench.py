"""``bulkguard bench api`` end to end on a small run: a real api process and real workers, every
accepted record scored, each figure measured beside its send_task counterpart."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from workers.harness.api_bench import bench_api


def test_bench_api_loses_nothing_and_reports_both_paths(
    trained_model_dir: Path, tmp_path: Path, spare_redis_url: str
) -> None:
    cache = tmp_path / "bench-model"
    shutil.copytree(trained_model_dir, cache / trained_model_dir.name)
    result = bench_api(
        model_cache=cache, requests=6, batch=20, concurrency=3, redis_url=spare_redis_url
    )
    assert result["statuses"] == {202: 6}
    assert result["accepted"] == 120
    assert result["lost"] == 0
    api, direct = result["api"], result["send_task"]
    assert 0 < api["p50_ms"] <= api["p99_ms"]
    assert api["accepted_records_per_s"] > 0
    assert direct["sent_records_per_s"] > 0
    assert result["intake_ratio"] == pytest.approx(
        api["accepted_records_per_s"] / direct["sent_records_per_s"], rel=0.01
    )
    assert result["end_to_end_ratio"] == pytest.approx(
        api["scored_records_per_s"] / direct["scored_records_per_s"], rel=0.01
    )

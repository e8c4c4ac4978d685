"""The hourly disk sampler keeps working while files come and go under it."""

from __future__ import annotations

import asyncio
import logging
import shutil
from pathlib import Path

import pytest

from roost.config import load_settings
from roost.ops import disk


def test_given_a_directory_removed_under_the_probe_then_its_parent_volume_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a directory that exists when checked but is gone when measured
    doomed = tmp_path / "doomed"
    doomed.mkdir()
    real = shutil.disk_usage

    def removed_first(path: object) -> object:
        if Path(str(path)) == doomed:
            raise FileNotFoundError(str(path))
        return real(path)  # type: ignore[arg-type]

    monkeypatch.setattr(disk.shutil, "disk_usage", removed_first)
    # When its volume's free space is asked for
    space = disk.space(doomed)
    # Then the parent's volume answers
    assert space.total == real(tmp_path).total


def test_given_sampling_fails_then_one_line_names_it_and_no_traceback_is_logged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    settings = load_settings(data_dir=tmp_path, secret_key="s" * 40)

    def broken(_settings: object) -> None:
        raise PermissionError("history not writable")

    monkeypatch.setattr(disk, "record_sample", broken)

    async def one_round() -> None:
        task = asyncio.create_task(disk.sample_forever(settings, every_s=3600))
        await asyncio.sleep(0.2)
        task.cancel()

    with caplog.at_level(logging.WARNING, logger=disk.log.name):
        asyncio.run(one_round())
    [record] = [r for r in caplog.records if "sampling disk use failed" in r.getMessage()]
    assert "PermissionError: history not writable" in record.getMessage()
    assert record.exc_info is None

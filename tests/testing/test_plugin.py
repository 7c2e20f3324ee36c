"""The pytest plugin, as a user's suite sees it: installed by the entry point, no conftest needed."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

USER_TEST = '''
from hypothesis import settings

def test_profile_and_device(device, pytestconfig):
    assert device in ("cpu", "cuda")
    expected = {"heavy": 400, "ci": 25}[pytestconfig.getoption("--tapegrad-profile")]
    assert settings.default.max_examples == expected
'''


def _pytest(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    (tmp_path / "test_user.py").write_text(USER_TEST)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path), *args,
         str(tmp_path / "test_user.py")],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )


def test_profile_option_and_device_fixture_reach_a_user_suite(tmp_path: Path) -> None:
    for profile in ("ci", "heavy"):
        result = _pytest(tmp_path, "--tapegrad-profile", profile)
        assert result.returncode == 0, result.stdout + result.stderr
        # cpu passes; cuda passes on a (real or emulated) device, else it is skipped
        assert re.search(r"\b(2 passed|1 passed, 1 skipped)\b", result.stdout), result.stdout


def test_bad_profile_is_refused_with_the_choices(tmp_path: Path) -> None:
    result = _pytest(tmp_path, "--tapegrad-profile", "fast")
    assert result.returncode != 0
    assert "invalid choice: 'fast'" in result.stderr and "'ci', 'heavy'" in result.stderr

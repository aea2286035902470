"""The background model's session on a new instance: no numba compile on the way."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import mediajobs

LOAD = (
    "import sys; from mediajobs.photos.processing import session_for; session_for('u2netp', 1); "
    "import numba; print(numba.config.DISABLE_JIT, 'pymatting' in sys.modules)"
)


def test_a_new_instance_creates_the_session_without_compiling_pymatting(tmp_path: Path) -> None:
    """An empty numba cache stands for a new instance's disk. Importing rembg used to compile
    pymatting's kernels into it: 90 CPU-seconds before the first photo."""
    cache = tmp_path / "numba-cache"
    cache.mkdir()
    functions_dir = Path(mediajobs.__file__).resolve().parents[1]
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_DISABLE_JIT"}
    env.update(NUMBA_CACHE_DIR=str(cache), PYTHONPATH=str(functions_dir))
    done = subprocess.run(
        [sys.executable, "-c", LOAD], env=env, capture_output=True, text=True, timeout=300, check=True
    )
    assert done.stdout.split() == ["1", "True"]  # rembg and pymatting imported, numba's JIT off
    assert list(cache.iterdir()) == []  # nothing compiled, nothing cached

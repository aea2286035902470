"""`python -m mediajobs.cli export --download DIR`: the original `DIR/{user}/images|voices/` layout."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from mediajobs.exports.archive import safe_email
from tests.integration.export_seed import SeededUser, add_file, save_user, seed_users


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mediajobs.cli", *args], capture_output=True, text=True, timeout=300, check=False
    )


def on_disk(user_dir: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(user_dir)): p.read_bytes()
        for p in sorted(user_dir.rglob("*"))
        if p.is_file() and p.name != "manifest.json"
    }


def test_export_download_unpacks_every_user_in_the_original_layout_and_resumes(tmp_path: Path) -> None:
    users = seed_users(3, seed=19)
    prefix = users[0].id.split("-")[0]
    styled = SeededUser(id=f"{prefix}-styled", email=f"Styled+{prefix}@Example.com")
    styled.files = [
        add_file(styled, "images", "../../escape.jpg", b"camel bytes" * 300, style="camel"),
        add_file(styled, "voices", "memo.wav", b"url bytes" * 300, style="url"),
        add_file(styled, "images", "memo.wav", b"same name, other kind" * 30, style="gs"),
    ]
    save_user(styled)
    everyone = [*users, styled]
    dest = tmp_path / "downloads"

    ids = [a for u in everyone for a in ("--user-id", u.id)]
    run = cli("export", *ids, "--download", str(dest), "--timeout", "120")

    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    job_id = run.stdout.split("media_export job ")[1].split()[0]
    expected: dict[str, dict[str, bytes]] = {}
    for user in everyone:
        assert user.email is not None
        files: dict[str, bytes] = {}
        for seeded in user.files:
            name = seeded.filename.rsplit("/", 1)[-1]
            stem, dot, ext = name.rpartition(".")
            key, counter = f"{seeded.kind}/{name}", 2
            while key in files:
                key, counter = f"{seeded.kind}/{stem} ({counter}){dot}{ext}", counter + 1
            files[key] = seeded.data
        expected[safe_email(user.email)] = files
    assert sorted(p.name for p in dest.iterdir()) == sorted(expected)
    for folder, files in expected.items():
        assert on_disk(dest / folder) == files, folder
        assert (dest / folder / "manifest.json").is_file()
    assert on_disk(dest / safe_email(styled.email or ""))["images/escape.jpg"] == b"camel bytes" * 300
    assert not any(p.name == "escape.jpg" for p in tmp_path.iterdir())
    assert "download" in run.stderr and "files written" in run.stdout

    # Interrupted or damaged: run again; intact files are skipped, the rest restored.
    victim_dir = dest / safe_email(styled.email or "")
    (victim_dir / "voices/memo.wav").unlink()
    (victim_dir / "images/escape.jpg").write_bytes(b"half a file")
    kept = victim_dir / "images/memo.wav"
    kept_mtime = kept.stat().st_mtime_ns
    total = sum(len(u.files) for u in everyone)

    again = cli("download", job_id, str(dest))

    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    assert f"2 files written ({len(b'url bytes' * 300) + len(b'camel bytes' * 300):,} bytes)" in again.stdout
    assert f"{total - 2} already there" in again.stdout
    assert kept.stat().st_mtime_ns == kept_mtime
    for folder, files in expected.items():
        assert on_disk(dest / folder) == files, folder

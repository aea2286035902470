"""Which provider output URLs are fetched: public https only (loopback over http when allowed)."""

from __future__ import annotations

import pytest

from mediajobs.scenes.providers.replicate_provider import refused_output_url


@pytest.mark.parametrize(
    ("url", "allow_loopback", "fragment"),
    [
        ("http://8.8.8.8/out.png", False, "not https"),
        ("ftp://8.8.8.8/out.png", True, "not https"),
        ("https://127.0.0.1/out.png", False, "loopback"),
        ("https://localhost/out.png", False, "loopback"),
        ("https://[::1]/out.png", False, "loopback"),
        ("https://10.1.2.3/out.png", False, "private"),
        ("https://192.168.0.10/out.png", True, "private"),
        ("https://172.16.0.1/out.png", True, "private"),
        ("https://169.254.169.254/computeMetadata/v1/", True, "private, link-local"),
        ("https://[fe80::1]/out.png", True, "private, link-local"),
        ("https://[::ffff:10.0.0.1]/out.png", True, "private"),
        ("https://0.0.0.0/out.png", True, "private"),
        ("https:///out.png", False, "no host"),
        ("https://8.8.8.8:99999/out.png", False, "not a valid URL"),
    ],
)
def test_refused_output_urls(url: str, allow_loopback: bool, fragment: str) -> None:
    problem = refused_output_url(url, allow_loopback)
    assert problem is not None and fragment in problem, problem


@pytest.mark.parametrize(
    ("url", "allow_loopback"),
    [("https://8.8.8.8/out.png", False), ("http://127.0.0.1:8000/files/x", True), ("https://127.0.0.1/x", True)],
)
def test_allowed_output_urls(url: str, allow_loopback: bool) -> None:
    assert refused_output_url(url, allow_loopback) is None

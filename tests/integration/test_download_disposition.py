"""download_url never lets an uploaded page run: attachments unless the type is plain media."""

from __future__ import annotations

from collections.abc import Callable

import requests

from mediajobs import cloud
from mediajobs.cli import client

SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.domain)</script></svg>'
HTML = b"<!doctype html><script>alert(document.domain)</script>"


def test_script_carrying_uploads_download_as_attachments(new_user: Callable[..., client.User]) -> None:
    user = new_user()
    folder = f"users/{user.uid}/files"
    objects = {
        f"{folder}/drawing.svg": (SVG, "image/svg+xml", "attachment"),
        f"{folder}/page.html": (HTML, "text/html", "attachment"),
        f"{folder}/unknown.bin": (HTML, "application/x-whatever", "attachment"),
        f"{folder}/photo.png": (b"\x89PNG\r\n\x1a\n" + b"0" * 64, "image/png", "inline"),
        f"{folder}/clip.mp4": (b"\x00\x00\x00\x18ftypisom" + b"0" * 64, "video/mp4", "inline"),
    }
    for path, (data, content_type, _) in objects.items():
        cloud.bucket().blob(path).upload_from_string(data, content_type=content_type)

    urls = client.call("download_url", {"paths": list(objects)}, user.id_token)["urls"]

    for path, (data, content_type, disposition) in objects.items():
        reply = requests.get(urls[path], timeout=30)
        assert reply.status_code == 200 and reply.content == data
        header = reply.headers.get("Content-Disposition", "")
        name = path.rsplit("/", 1)[1]
        assert header.startswith(f'{disposition}; filename="{name}"'), (path, header)
        assert reply.headers["Content-Type"].startswith(content_type)

"""The dashboard's pages reach the backend only through web/src/client.js, the typed client of
the contract (README: no page calls onSnapshot or a callable itself)."""

from __future__ import annotations

import pathlib
import re

WEB = pathlib.Path(__file__).resolve().parents[2] / "web" / "src"
THE_CLIENT = {"client.js", "firebase.ts"}  # the typed client, and where the SDK is set up for it
DIRECT = re.compile(r"\b(onSnapshot|httpsCallable|getDocs?|setDoc|updateDoc|deleteDoc|addDoc)\b")


def test_no_page_talks_to_firestore_or_callables_itself() -> None:
    pages = [p for p in WEB.iterdir() if p.suffix in (".ts", ".js") and p.name not in THE_CLIENT]
    assert len(pages) >= 5, "the pages are found"
    direct = {p.name: sorted(set(DIRECT.findall(p.read_text(encoding="utf-8")))) for p in pages}
    assert not {name: calls for name, calls in direct.items() if calls}, direct


def test_the_client_declares_the_callables_it_calls() -> None:
    source = (WEB / "client.js").read_text(encoding="utf-8")
    declared = set(re.findall(r"^ \*   ([a-z_]+): \[", source, re.M))
    called = set(re.findall(r'\bcall\("([a-z_]+)"', source))
    assert called and called <= declared, called - declared
    assert {"generate_storyboard", "delete_scene"} <= declared

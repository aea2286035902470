"""Every error code raised in functions/ is in the catalogue (mediajobs/error_codes.py), from
which the contract's error tables are generated: a code the contract does not list cannot be
raised. Literal codes are found by reading the source (AST); `CodedError` refuses any other at
run time."""

from __future__ import annotations

import ast
import dataclasses
import pathlib

import pytest

from mediajobs import error_codes
from mediajobs.error_codes import Scope
from mediajobs.errors import CodedError

FUNCTIONS = pathlib.Path(__file__).resolve().parents[2] / "functions"
ANY = tuple(Scope)
# Raising helpers and records that carry a code: (positional index of the code, its scopes).
CODE_CARRIERS: dict[str, tuple[int, tuple[Scope, ...]]] = {
    "CodedError": (0, ANY),
    "ItemFailed": (0, (Scope.ITEM,)),
    "JobFailed": (0, (Scope.JOB, Scope.CALLABLE)),
    "UserProblem": (0, (Scope.ITEM,)),
    "LocationProblem": (0, (Scope.FILE,)),
    "FileProblem": (0, (Scope.FILE,)),
    "FileError": (2, (Scope.FILE, Scope.WARNING)),
    "ProviderError": (0, (Scope.ITEM,)),
    "VideoError": (0, (Scope.ITEM, Scope.JOB)),
    "PhotoError": (0, (Scope.ITEM,)),
    "ArchiveRefused": (0, (Scope.ITEM, Scope.JOB)),
    "Skipped": (2, (Scope.SKIP,)),
    "UploadError": (1, (Scope.CALLABLE,)),
    "ErrorInfo": (0, (Scope.JOB, Scope.ITEM)),
    "incident": (0, (Scope.JOB, Scope.ITEM)),  # ErrorInfo.incident(code, message, incident_id)
}
NOT_CODES = {"CallableError"}  # the CLI's view of a callable's answer, not a raise site


@dataclasses.dataclass(frozen=True)
class Site:
    where: str
    code: str
    scopes: tuple[Scope, ...]


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _literal(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def raise_sites() -> list[Site]:
    """Every literal error code in functions/ (mediajobs and main.py; the generator excluded)."""
    sites: list[Site] = []
    files = [FUNCTIONS / "main.py", *sorted((FUNCTIONS / "mediajobs").rglob("*.py"))]
    for path in files:
        if "contract" in path.parts or path.name == "error_codes.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            where = f"{path.relative_to(FUNCTIONS)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Call):
                name = _name(node.func)
                if name in ("HttpsError",) and node.args:  # https_fn.HttpsError(Code.NOT_FOUND, ...)
                    member = _name(node.args[0])
                    if member and member.isupper():
                        sites.append(Site(where, member.lower().replace("_", "-"), (Scope.CALLABLE,)))
                if name in CODE_CARRIERS:
                    index, scopes = CODE_CARRIERS[name]
                    argument = node.args[index] if len(node.args) > index else None
                    keyword = next((k.value for k in node.keywords if k.arg == "code"), None)
                    if (code := _literal(argument) or _literal(keyword)) is not None:
                        sites.append(Site(where, code, scopes))
            elif isinstance(node, ast.Dict):  # {"code": "too-large", "message": ...} payloads
                for key, value in zip(node.keys, node.values, strict=True):
                    if _literal(key) == "code" and (code := _literal(value)) is not None:
                        sites.append(Site(where, code, ANY))
    return sites


def test_every_literal_code_raised_in_functions_is_in_the_catalogue() -> None:
    sites = raise_sites()
    assert len(sites) > 100, "the scan finds the raise sites (if this fails, the scan is broken)"
    unknown = [s for s in sites if s.code not in error_codes.codes(*s.scopes)]
    assert not unknown, "codes the contract does not list (add them to mediajobs/error_codes.py):\n" + "\n".join(
        f"{s.where}: {s.code!r} (scope {'/'.join(s.scopes)})" for s in unknown
    )


def test_every_coded_error_class_is_known_to_the_scan() -> None:
    """A new raising helper must be added to CODE_CARRIERS, or its codes would go unchecked."""
    unknown = []
    for path in sorted((FUNCTIONS / "mediajobs").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ClassDef) or node.name in CODE_CARRIERS or node.name in NOT_CODES:
                continue
            if any(_name(base) in CODE_CARRIERS for base in node.bases):
                unknown.append(f"{path.name}: {node.name}")
    assert not unknown, f"add these to CODE_CARRIERS: {unknown}"


def test_the_scan_catches_a_code_outside_the_catalogue(tmp_path: pathlib.Path) -> None:
    source = 'raise ItemFailed("made-up-code", "x")\nraise https_fn.HttpsError(Code.DATA_LOSS, "x")\n'
    tree = ast.parse(source)
    found = [_literal(n.args[0]) or _name(n.args[0]) for n in ast.walk(tree) if isinstance(n, ast.Call)]
    assert "made-up-code" in found and "DATA_LOSS" in found
    assert "made-up-code" not in error_codes.codes(Scope.ITEM)
    assert "data-loss" not in error_codes.codes(Scope.CALLABLE)


def test_coded_errors_refuse_codes_outside_the_catalogue() -> None:
    assert CodedError("internal", "x").code == "internal"
    with pytest.raises(ValueError, match="not in the catalogue"):
        CodedError("made-up-code", "x")


def test_catalogue_rows_are_unique_and_described() -> None:
    keys = [(e.scope, e.code) for e in error_codes.CATALOGUE]
    assert len(keys) == len(set(keys))
    assert all(e.when for e in error_codes.CATALOGUE)
    assert all(e.code == e.code.lower() and " " not in e.code for e in error_codes.CATALOGUE)

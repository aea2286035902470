"""python -m mediajobs.contract [ROOT]: regenerates ROOT/contract/schemas, contract/types and the
reference sections of contract/CONTRACT.md (ROOT: the repository)."""

from __future__ import annotations

import pathlib
import sys

from mediajobs.contract import reference
from mediajobs.contract.generate import write

if __name__ == "__main__":
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).parents[3])
    names = [*write(root), reference.write(root)]
    print(f"wrote {len(names)} files under {root / 'contract'}")

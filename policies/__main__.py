"""Entry point of the policy pack: `python policies/__main__.py` or `python -m policies`.

`pulumi preview --policy-pack policies` starts it this way; so does `afrex plan`.
The project root goes first on the import path so the pack reads the same
`afrex` catalog as the component, installed or not.
"""

from __future__ import annotations

import sys
from pathlib import Path

PROJECT_ROOT = str(Path(__file__).resolve().parent.parent)
PACK_DIR = str(Path(__file__).resolve().parent)

if __name__ == "__main__":
    # Run as a script, Python puts this folder first on the path, where a rule module
    # could shadow a standard-library one; the project root replaces it.
    sys.path[:] = [p for p in sys.path if str(Path(p or ".").resolve()) != PACK_DIR]
    if PROJECT_ROOT not in sys.path:
        sys.path.insert(0, PROJECT_ROOT)

    from policies.pack import serve

    serve()

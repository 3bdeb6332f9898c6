"""Statement coverage of firmware code as MicroPython runs it (the unix port has no sys.settrace).

`instrument()` copies firmware/ and puts, before every statement of the measured modules,
``_mpcov_hit[L] = 1`` (L: that statement's line in the original file); a small MicroPython module,
``mpcov``, owns those arrays and appends the lines that ran to ``$MOVECOACH_COVERAGE`` when the
process exits (sys.atexit, also on sys.exit from the test harness's halt). `report()` reads that
file back against the statements of the original sources. Docstrings are not statements here.

    .venv/bin/python tests/mpcoverage.py      # runs the BLE coverage scenario, prints the figures
"""

from __future__ import annotations

import ast
import shutil
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

MPCOV = '''"""Coverage hits of instrumented modules (see tests/mpcoverage.py)."""
import os
import sys

_files = {}


def hits(name, last_line):
    b = bytearray(last_line + 1)
    _files[name] = b
    return b


def write():
    path = os.getenv("MOVECOACH_COVERAGE")
    if not path:
        return
    with open(path, "a") as f:
        for name, b in _files.items():
            f.write(name + " " + " ".join([str(i) for i in range(len(b)) if b[i]]) + "\\n")


sys.atexit(write)
'''


def _is_docstring(node: ast.stmt) -> bool:
    return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str))


def statements(source: str, exclude_functions: tuple[str, ...] = ()) -> set[int]:
    """Lines of the executable statements, without docstrings and without the bodies (and the
    definitions) of the named top-level functions."""
    tree = ast.parse(source)
    skip: set[int] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in exclude_functions:
            skip |= {n.lineno for n in ast.walk(node) if isinstance(n, ast.stmt)}
    return {n.lineno for n in ast.walk(tree) if isinstance(n, ast.stmt)
            and not _is_docstring(n)} - skip


class _Instrument(ast.NodeTransformer):
    def generic_visit(self, node: ast.AST) -> ast.AST:
        super().generic_visit(node)
        for field in ("body", "orelse", "finalbody"):
            stmts = getattr(node, field, None)
            if isinstance(stmts, list) and stmts and isinstance(stmts[0], ast.stmt):
                setattr(node, field, self._hit_each(stmts))
        return node

    @staticmethod
    def _hit_each(stmts: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for s in stmts:
            if not _is_docstring(s):
                out.append(ast.parse(f"_mpcov_hit[{s.lineno}] = 1").body[0])
            out.append(s)
        return out


def instrument_source(name: str, source: str) -> str:
    tree = _Instrument().visit(ast.parse(source))
    last = max(n.lineno for n in ast.walk(tree) if isinstance(n, ast.stmt))
    at = 1 if tree.body and _is_docstring(tree.body[0]) else 0
    tree.body[at:at] = ast.parse(f"import mpcov as _mpcov\n_mpcov_hit = _mpcov.hits({name!r}, "
                                 f"{last})\n").body
    return ast.unparse(ast.fix_missing_locations(tree)) + "\n"


def instrument(root: Path, modules: tuple[str, ...], src: Path = REPO / "firmware") -> Path:
    """A copy of firmware/ under root/firmware with `modules` (file names) instrumented, and
    root/mpcov.py; returns root (the firmware_root for EmulatedBoard)."""
    dst = root / "firmware"
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__"))
    for m in modules:
        (dst / m).write_text(instrument_source(m, (src / m).read_text()))
    (root / "mpcov.py").write_text(MPCOV)
    return root


@dataclass
class FileCoverage:
    name: str
    statements: set[int]
    hit: set[int]

    @property
    def percent(self) -> float:
        return 100.0 * len(self.statements & self.hit) / len(self.statements)

    @property
    def missed(self) -> list[int]:
        return sorted(self.statements - self.hit)

    def __str__(self) -> str:
        ranges = _ranges(self.missed)
        return (f"{self.name}: {len(self.statements & self.hit)}/{len(self.statements)} "
                f"statements, {self.percent:.1f} %; missed lines {ranges or '-'}")


def report(hits_file: Path, measure: dict[str, tuple[str, ...]],
           src: Path = REPO / "firmware") -> list[FileCoverage]:
    """Coverage per file. measure: file name -> top-level functions to leave out (e.g. main.py's
    serial path when measuring its BLE path)."""
    hits: dict[str, set[int]] = {}
    if hits_file.exists():
        for line in hits_file.read_text().splitlines():
            name, *lines = line.split()
            hits.setdefault(name, set()).update(map(int, lines))
    return [FileCoverage(f"{name} (without {', '.join(ex)})" if ex else name,
                         statements((src / name).read_text(), ex), hits.get(name, set()))
            for name, ex in measure.items()]


def _ranges(lines: list[int]) -> str:
    out, start, prev = [], None, None
    for n in lines + [None]:
        if start is not None and (n is None or n != prev + 1):
            out.append(str(start) if start == prev else f"{start}-{prev}")
            start = None
        if n is not None and start is None:
            start = n
        prev = n
    return ", ".join(out)


if __name__ == "__main__":
    import asyncio
    import shutil as _sh
    import sys
    import tempfile

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from test_firmware_coverage import scenario

    micropython = _sh.which("micropython") or str(Path(sys.executable).with_name("micropython"))
    with tempfile.TemporaryDirectory() as tmp:
        result = asyncio.run(scenario(micropython, Path(tmp)))
        for cov in result:
            print(cov)

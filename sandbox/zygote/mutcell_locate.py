#!/usr/bin/env python3
"""Where each mutmut mutant is: source file, changed range, replacement, diff.

    python mutcell_locate.py --out FILE [--cache FILE]

Runs in a mutmut project directory after `mutmut run` / `mutcell mutmut`
generated mutants/. For every mutant named in mutants/**/*.meta it asks
mutmut's own code for the mutant's unified diff (get_diff_for_mutant: the
`x_f__mutmut_orig` copy against `x_f__mutmut_N`) and places the change in
the original source file. Writes JSON to FILE:

  {"version": 1, "mutmut_version": "3.8.1",
   "files": {"src/pkg/mod.py": {"source": "...", "digest": "sha256 hex"}},
   "mutants": {"pkg.mod.x_f__mutmut_1": {
       "file": "src/pkg/mod.py",
       "start": [line, column], "end": [line, column],   # 1-based, end exclusive
       "original": "-", "replacement": "+", "diff": "--- ...", "mutator": "..."}},
   "errors": ["pkg.mod.x_g__mutmut_3: why it could not be placed"]}

A mutant that cannot be placed is listed in "errors" and left out of
"mutants"; the exit status is still 0. --cache FILE keeps the results of a
source file while the file and its mutants/ copy are byte-identical (sha256
of both), so a report of an unchanged project does not parse it again.
Exit status: 2 not a mutmut project or mutmut missing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
from pathlib import Path

VERSION = 1


def digest(*paths: Path) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(p.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def meta_files(root: Path):
    for dirpath, _, names in os.walk(root):
        for n in sorted(names):
            if n.endswith(".py.meta"):
                yield Path(dirpath) / n


def mutator_name(original: str, replacement: str) -> str:
    """A coarse category of the change (mutmut does not record its operator)."""
    o, r = original.strip(), replacement.strip()
    if re.fullmatch(r"[-+*/%<>=!&|^~@]+|and|or|not|is|in|is not|not in", o or "x") and \
       re.fullmatch(r"[-+*/%<>=!&|^~@]*|and|or|not|is|in|is not|not in", r):
        return "OperatorMutation"
    if re.fullmatch(r"-?[0-9][0-9_.xXa-fA-FjJeE+-]*", o):
        return "NumberMutation"
    if re.fullmatch(r"[rbfuRBFU]*(\"|').*(\"|')", o, re.S) or \
            (o and (r == "XX" + o + "XX" or r in (o.upper(), o.lower()))):
        return "StringMutation"
    if o in ("True", "False") or r in ("True", "False"):
        return "BooleanMutation"
    if r in ("None", "") or o == "None":
        return "NoneMutation"
    if "(" in o or "(" in r:
        return "CallMutation"
    return "mutmut"


def place(orig_code: str, mutant_code: str):
    """The changed span of two versions of one function: (start, end) offsets
    into orig_code as (line index, column) pairs, the original and the
    replacement text."""
    o, m = orig_code, mutant_code
    p = 0
    while p < len(o) and p < len(m) and o[p] == m[p]:
        p += 1
    s = 0
    while s < len(o) - p and s < len(m) - p and o[len(o) - 1 - s] == m[len(m) - 1 - s]:
        s += 1
    # Widen to whole tokens so "a - b" -> "a + b" reads "-" -> "+", and
    # "x < 1" -> "x <= 1" reads "<" -> "<=" rather than "" -> "=".
    def cls(c: str):
        if re.match(r"\w", c):
            return "w"
        return "o" if c in "<>=!+-*/%&|^~@" else None

    def changed_classes(start: int) -> set:
        out = set()
        if start < len(o) - s:
            out.add(cls(o[start]))
        if start < len(m) - s:
            out.add(cls(m[start]))
        return out

    while p > 0 and cls(o[p - 1]) and cls(o[p - 1]) in changed_classes(p):
        p -= 1

    def changed_end_classes() -> set:
        out = set()
        if len(o) - s > p:
            out.add(cls(o[len(o) - s - 1]))
        if len(m) - s > p:
            out.add(cls(m[len(m) - s - 1]))
        return out

    while s > 0 and cls(o[len(o) - s]) and cls(o[len(o) - s]) in changed_end_classes():
        s -= 1
    if p == len(o) - s and p == len(m) - s:
        return None

    def pos(offset: int):
        line = o.count("\n", 0, offset)
        col = offset - (o.rfind("\n", 0, offset) + 1)
        return line, col

    return pos(p), pos(len(o) - s), o[p:len(o) - s], m[p:len(m) - s]


def function_start(module, name: str, class_name):
    """1-based line of `def` (or its first decorator) of the original function."""
    import libcst as cst
    from libcst.metadata import MetadataWrapper, PositionProvider

    wrapper = MetadataWrapper(module)
    positions = wrapper.resolve(PositionProvider)
    body = wrapper.module.body
    if class_name:
        for node in body:
            if isinstance(node, cst.ClassDef) and node.name.value == class_name and \
                    isinstance(node.body, cst.IndentedBlock):
                body = node.body.body
                break
        else:
            return None
    for node in body:
        if isinstance(node, cst.FunctionDef) and node.name.value == name:
            return positions[node].start.line
    return None


def locate_file(rel: str, names: list[str], out: dict, errors: list[str]) -> None:
    from mutmut.mutation.diff_apply import get_diff_for_mutant, read_functions_from_index, \
        read_mutants_module, read_original_function, read_mutant_function
    from mutmut.utils.format_utils import orig_function_and_class_names_from_key
    import libcst as cst

    source = Path(rel).read_text()
    src_lines = source.split("\n")
    module = cst.parse_module(source)
    mutants_module = None
    starts: dict[tuple, int | None] = {}
    for name in names:
        try:
            functions = read_functions_from_index(name, rel)
            if functions is None:
                if mutants_module is None:
                    mutants_module = read_mutants_module(rel)
                functions = (read_original_function(mutants_module, name), read_mutant_function(mutants_module, name))
            orig_code, mutant_code = (cst.Module([f]).code.strip() for f in functions)
            diff = get_diff_for_mutant(name, path=rel)
            fname, cname = orig_function_and_class_names_from_key(name)
            key = (fname, cname)
            if key not in starts:
                starts[key] = function_start(module, fname, cname)
            first = starts[key]
            if first is None:
                raise LookupError(f"function {fname} not found in {rel}")
            span = place(orig_code, mutant_code)
            if span is None:
                raise LookupError("the mutant does not differ from the original")
            (l0, c0), (l1, c1), original, replacement = span
            func_lines = orig_code.split("\n")

            def to_source(line: int, col: int):
                # Lines keep their structure; a method's body is emitted
                # dedented, so shift columns by what the source line has more.
                src = src_lines[first - 1 + line] if first - 1 + line < len(src_lines) else ""
                shift = len(src) - len(func_lines[line]) if line < len(func_lines) else 0
                return [first + line, col + max(shift, 0) + 1]

            out[name] = {"file": rel, "start": to_source(l0, c0), "end": to_source(l1, c1),
                         "original": original, "replacement": replacement, "diff": diff,
                         "mutator": mutator_name(original, replacement)}
        except Exception as e:  # one mutant's trouble must not hide the others
            errors.append(f"{name}: {type(e).__name__}: {e}")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--cache")
    args = ap.parse_args(argv)
    try:
        import mutmut
    except ImportError:
        print(f"mutcell: mutmut is not installed in this Python ({sys.executable})", file=sys.stderr)
        return 2
    root = Path("mutants")
    if not root.is_dir():
        print(f"mutcell: {Path.cwd()}: no mutants/ directory (not a mutmut project, or mutmut has not run)",
              file=sys.stderr)
        return 2
    cache: dict = {}
    if args.cache:
        try:
            c = json.loads(Path(args.cache).read_text())
            if c.get("version") == VERSION and c.get("mutmut_version") == mutmut.__version__:
                cache = c.get("files", {})
        except (OSError, ValueError):
            cache = {}
    result = {"version": VERSION, "mutmut_version": mutmut.__version__, "files": {}, "mutants": {}, "errors": []}
    new_cache: dict = {}
    for meta in meta_files(root):
        rel = str(meta.relative_to(root))[: -len(".meta")]
        src, mutated = Path(rel), root / rel
        try:
            names = sorted(json.loads(meta.read_text()).get("exit_code_by_key", {}))
        except (OSError, ValueError) as e:
            result["errors"].append(f"{meta}: {e}")
            continue
        if not src.is_file() or not mutated.is_file():
            result["errors"].append(f"{rel}: source or mutated file missing")
            continue
        d = digest(src, mutated)
        hit = cache.get(rel)
        if hit and hit.get("digest") == d and sorted(hit.get("mutants", {})) == names:
            mutants, errors = hit["mutants"], hit.get("errors", [])
        else:
            mutants, errors = {}, []
            locate_file(rel, names, mutants, errors)
        new_cache[rel] = {"digest": d, "mutants": mutants, "errors": errors}
        result["files"][rel] = {"source": src.read_text(), "digest": d}
        result["mutants"].update(mutants)
        result["errors"].extend(errors)
    text = json.dumps(result)
    tmp = args.out + ".tmp"
    Path(tmp).write_text(text)
    os.replace(tmp, args.out)
    if args.cache:
        tmp = args.cache + ".tmp"
        Path(tmp).write_text(json.dumps({"version": VERSION, "mutmut_version": mutmut.__version__,
                                         "files": new_cache}))
        os.replace(tmp, args.cache)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

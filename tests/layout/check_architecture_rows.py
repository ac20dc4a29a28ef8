#!/usr/bin/env python3
"""Checks that docs/architecture.md's row of each layer folder names every
source file in it (as `name.c`, `name.h` or `name.*`).

  check_architecture_rows.py --root SRC --layers "platform:;protocol:;..." [--pretend FOLDER/FILE]

--pretend adds a file that is not in the tree, so a test can show that a
missing name is caught. Exits 1 and names every file a row leaves out.
"""
import argparse
import os
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--layers", required=True)
    ap.add_argument("--pretend", action="append", default=[])
    a = ap.parse_args()
    layers = [e.partition(":")[0] for e in a.layers.split(";") if e]
    doc = open(os.path.join(a.root, "docs", "architecture.md"), encoding="utf-8").read().splitlines()
    problems, checked = [], 0
    for layer in layers:
        row = next((l for l in doc if l.startswith(f"| `{layer}/`")), None)
        if row is None:
            problems.append(f"docs/architecture.md: no row for {layer}/")
            continue
        files = [f for f in os.listdir(os.path.join(a.root, layer))
                 if f.endswith((".c", ".h", ".h.in", ".def", ".rc.in"))]
        files += [p.split("/", 1)[1] for p in a.pretend if p.startswith(layer + "/")]
        for f in sorted(files):
            checked += 1
            stem = f.split(".", 1)[0]
            if f"`{f}`" not in row and f"`{stem}.*`" not in row and f"`{stem}.h`" not in row \
                    and f"`{stem}.c`" not in row:
                problems.append(f"docs/architecture.md: the {layer}/ row does not name {f}")
    for p in problems:
        print(p)
    print(f"{checked} files in {len(layers)} layer folders checked, {len(problems)} not named")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Checks every #include "..." of the layered folders against the layer map.

A layer may include the public headers (include/), its own headers and those
of the layers it depends on, directly or through them; nothing else. A header
name may live in one folder only, so a bare #include "x.h" always means one
file. Exits 1 and names every offending line.

  check_includes.py --root SRC --layers "platform:;winusb:platform;..." \
                    [--below-canal LAYER ...] [--pretend FOLDER/FILE:HEADER ...]

--below-canal names layers that know nothing of CANAL: they may not include
the public CANAL headers (canal.h, usb2can.h) either.

--pretend adds an include that is not in the tree (the test that proves the
check can fail plants a wrong-way include this way).
"""
import argparse
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def parse_layers(text):
    deps = {}
    for entry in filter(None, text.split(";")):
        name, _, rest = entry.partition(":")
        deps[name] = [d for d in rest.split(",") if d]
    return deps


def closure(deps, name):
    seen, todo = set(), [name]
    while todo:
        for d in deps.get(todo.pop(), []):
            if d not in seen:
                seen.add(d)
                todo.append(d)
    return seen


def header_owners(root, folders):
    owners, problems = {}, []
    for folder in folders:
        for entry in sorted(os.listdir(os.path.join(root, folder))):
            if not entry.endswith((".h", ".h.in")):
                continue
            name = entry[:-3] if entry.endswith(".in") else entry
            if name in owners:
                problems.append(f"{name} exists in both {owners[name]}/ and {folder}/")
            owners[name] = folder
    return owners, problems


def includes_of(root, folder):
    for entry in sorted(os.listdir(os.path.join(root, folder))):
        if not entry.endswith((".c", ".h", ".h.in")):
            continue
        path = os.path.join(root, folder, entry)
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                m = INCLUDE.match(line)
                if m:
                    yield f"{folder}/{entry}:{number}", m.group(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--layers", required=True)
    ap.add_argument("--below-canal", action="append", default=[])
    ap.add_argument("--pretend", action="append", default=[])
    args = ap.parse_args()

    deps = parse_layers(args.layers)
    owners, problems = header_owners(args.root, ["include"] + list(deps))
    found = []
    for layer in deps:
        found.extend((where, header, layer) for where, header in includes_of(args.root, layer))
    for planted in args.pretend:
        where, _, header = planted.partition(":")
        found.append((where + " (planted)", header, where.split("/")[0]))

    checked = 0
    for where, header, layer in found:
        checked += 1
        owner = owners.get(header)
        if owner is None:
            problems.append(f'{where}: #include "{header}" is no header of a layer or include/')
        elif owner == "include" and layer in args.below_canal:
            problems.append(f'{where}: #include "{header}" brings CANAL into {layer}/, '
                            "which knows nothing of CANAL")
        elif owner not in ("include", layer) and owner not in closure(deps, layer):
            allowed = ", ".join(sorted(closure(deps, layer))) or "none"
            problems.append(
                f'{where}: #include "{header}" reaches up into {owner}/ '
                f"({layer}/ may include include/ and: {allowed})")
    for p in problems:
        print(p)
    print(f"{checked} includes in {len(deps)} folders checked, {len(problems)} against the layers")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

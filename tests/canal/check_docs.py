#!/usr/bin/env python3
"""Checks what the documentation states against the code's own lists.

  check_docs.py --facts FILE --exports FILE --root SRC [--plant WHAT]

--facts: the output of print_facts (each export's return codes, each
firmware's bit-timing limits); --exports: "ordinal name" lines made from
canal/usb2can.def. Compared with include/canal.h's "Returns:" lines,
docs/canal-semantics.md (return-code table, export table) and
docs/setup-string.md (bit-timing table). --plant changes one documented fact
in memory first, so a test can show that a wrong document is caught.
Exits 1 and names every difference.
"""
import argparse
import re
import sys


def read_facts(path):
    results, limits = {}, {}
    for line in open(path, encoding="utf-8"):
        words = line.split()
        if words and words[0] == "returns":
            results[words[1]] = set(words[2:])
        elif words and words[0] == "limits":
            v = words[2:]
            limits[words[1]] = {v[i]: tuple(v[i + 1:i + 3]) for i in range(0, 9, 3)}
            limits[words[1]]["brp"] = (v[10], v[11], v[12])
    return results, limits


def header_results(text):
    found = {}
    for m in re.finditer(r"Returns: ([A-Z_, ]+)\.\s*\*/\s*CANAL_API \w+ CANAL_CALL (\w+)\(", text):
        found[m.group(2)] = {w.strip() for w in m.group(1).split(",")}
    return found


def table_rows(text, heading_cells):
    """Rows of the markdown table whose header row is heading_cells."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells == heading_cells:
            rows = []
            for row in lines[i + 2:]:
                if not row.startswith("|"):
                    break
                rows.append([c.strip() for c in row.strip().strip("|").split("|")])
            return rows
    return None


def names(cell):
    return {w.strip().strip("`") for w in cell.split(",")}


def expected_limit_cell(lim, field):
    lo, hi = lim[field][0], lim[field][1]
    if field == "brp" and lim["brp"][2] == "2":
        return f"{lo}..{hi}, even"
    return f"{lo}..{hi}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--facts", required=True)
    ap.add_argument("--exports", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--plant", choices=["header-code", "docs-code", "docs-export", "docs-limit"])
    a = ap.parse_args()
    results, limits = read_facts(a.facts)
    header = open(f"{a.root}/include/canal.h", encoding="utf-8").read()
    semantics = open(f"{a.root}/docs/canal-semantics.md", encoding="utf-8").read()
    setup = open(f"{a.root}/docs/setup-string.md", encoding="utf-8").read()
    exports = [line.split() for line in open(a.exports, encoding="utf-8") if line.strip()]
    if a.plant == "header-code":
        header = header.replace("Returns: SUCCESS, NOT_OPEN.", "Returns: SUCCESS.", 1)
    elif a.plant == "docs-code":
        semantics = semantics.replace("| `CanalClose` | `SUCCESS`, `NOT_OPEN` |", "| `CanalClose` | `SUCCESS` |")
    elif a.plant == "docs-export":
        semantics = semantics.replace("| 2 | `CanalClose` |", "| 2 | `CanalShut` |")
    elif a.plant == "docs-limit":
        setup = setup.replace("| tseg1 | 2..16 |", "| tseg1 | 1..16 |")

    problems = []
    in_header = header_results(header)
    doc_rows = table_rows(semantics, ["call", "returns"]) or []
    in_docs = {r[0].strip("`"): names(r[1]) for r in doc_rows}
    for function, codes in sorted(results.items()):
        for where, listed in (("include/canal.h", in_header), ("docs/canal-semantics.md", in_docs)):
            if function not in listed:
                problems.append(f"{where}: no return-code list for {function}")
            elif listed[function] != codes:
                problems.append(
                    f"{where}: {function} lists {sorted(listed[function])}, the code returns "
                    f"{sorted(codes)}")
    for where, listed in (("include/canal.h", in_header), ("docs/canal-semantics.md", in_docs)):
        for extra in sorted(set(listed) - set(results)):
            problems.append(f"{where}: lists return codes for {extra}, which canal_results.h does not know")

    doc_exports = [[r[0], r[1].strip("`")] for r in (table_rows(semantics, ["ordinal", "export"]) or [])]
    if doc_exports != exports:
        problems.append(f"docs/canal-semantics.md: export table {doc_exports} differs from "
                        f"canal/usb2can.def {exports}")

    limit_rows = table_rows(setup, ["field", "vendor firmware", "CANalyze"]) or []
    doc_limits = {r[0]: (r[1], r[2]) for r in limit_rows}
    for field in ("tseg1", "tseg2", "sjw", "brp"):
        want = (expected_limit_cell(limits["vendor"], field),
                expected_limit_cell(limits["canalyze"], field))
        if doc_limits.get(field) != want:
            problems.append(f"docs/setup-string.md: {field} is {doc_limits.get(field)}, "
                            f"the code's limits are {want}")

    for p in problems:
        print(p)
    print(f"{len(results)} return-code lists, {len(exports)} exports, 4 timing limits checked; "
          f"{len(problems)} differences")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Puts pushmail-bench's generated Markdown into the docs, between markers, leaving everything
else (the hand-written analysis, a Tray section) untouched.

Usage: publish.py OUT_DIR docs/benchmarks.md README.md
  OUT_DIR/report.md  → docs/benchmarks.md between <!-- bench:results:begin/end -->
  OUT_DIR/summary.md → README.md between <!-- bench:summary:begin/end -->
"""

import sys


def splice(path, name, text):
    begin, end = f"<!-- bench:{name}:begin -->", f"<!-- bench:{name}:end -->"
    with open(path, encoding="utf-8") as f:
        doc = f.read()
    if begin not in doc or end not in doc:
        sys.exit(f"publish.py: {path} has no {begin} … {end} markers; add them where the results go")
    head, rest = doc.split(begin, 1)
    _, tail = rest.split(end, 1)
    new = f"{head}{begin}\n{text.strip()}\n{end}{tail}"
    with open(path, "w", encoding="utf-8") as f:
        f.write(new)


def main():
    out, benchmarks, readme = sys.argv[1:4]
    with open(f"{out}/report.md", encoding="utf-8") as f:
        splice(benchmarks, "results", f.read())
    with open(f"{out}/summary.md", encoding="utf-8") as f:
        splice(readme, "summary", f.read())


if __name__ == "__main__":
    main()

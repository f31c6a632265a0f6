#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes a C file that defines `const char NAME[]` holding the exact bytes of
a text file, so a built-in default cannot drift from the file it comes from."""
import sys


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: embed_text.py NAME INPUT OUTPUT")
    name, src, dst = sys.argv[1:]
    with open(src, "rb") as f:
        data = f.read()
    if b"\0" in data:
        sys.exit(f"{src}: contains a NUL byte")
    lines = []
    for line in data.splitlines(keepends=True):
        lit = "".join(c if 32 <= ord(c) < 127 and c not in '"\\?' else f"\\{ord(c):03o}"
                      for c in line.decode("latin-1"))
        lines.append(f'\t"{lit}"')
    body = "\n".join(lines) if lines else '\t""'
    with open(dst, "w") as f:
        f.write(f"/* Generated from {src.rsplit('/', 1)[-1]} by embed_text.py: do not edit. */\n")
        f.write('#include "kmod/sim/sim.h"\n\n')
        f.write(f"const char {name}[] =\n{body};\n")


if __name__ == "__main__":
    main()

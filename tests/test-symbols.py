#!/usr/bin/env python3
"""test-symbols.py LIBRARY HEADER — the shared library exports exactly the
functions its public header declares BOUNCE_PUBLIC: nothing internal leaks
out, and nothing declared is missing. TAP output."""
import re
import subprocess
import sys

lib, header = sys.argv[1], sys.argv[2]
text = open(header).read()
text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
text = re.sub(r"^\s*#.*$", " ", text, flags=re.M)
declared = set()
for decl in re.findall(r"BOUNCE_PUBLIC\b(.*?);", text, flags=re.S):
    m = re.search(r"(\w+)\s*\(", decl)
    if m:
        declared.add(m.group(1))
    else:  # a variable
        declared.add(re.findall(r"\w+", decl)[-1])

out = subprocess.run(["nm", "-D", "--defined-only", lib], capture_output=True,
                     text=True, check=True).stdout
exported = {line.split()[-1] for line in out.splitlines()
            if len(line.split()) == 3 and line.split()[1] in "TDBR"}
exported = {s for s in exported if not s.startswith("_")}

n = 0
def check(ok, what, extra):
    global n
    n += 1
    print(("ok %d - %s" if ok else "not ok %d - %s") % (n, what))
    for s in sorted(extra):
        print("#   " + s)

check(len(declared) > 50, "the header declares the public functions (%d)" % len(declared), [])
check(not exported - declared, "every exported symbol is declared public",
      exported - declared)
check(not declared - exported, "every public declaration is exported",
      declared - exported)
print("1..%d" % n)

#!/usr/bin/env python3
"""make-malformed.py — generate the hostile inputs too large to commit.

    make-malformed.py large OUTDIR
        the big ones: a 20 MB header line, 20,000-deep multipart nesting,
        50,000 nested message/rfc822, 200,000 recipients in a DSN, and kin
        (about 150 MB in all; written once per test run, then deleted).

    make-malformed.py mutate OUTDIR COUNT SEED SOURCE...
        COUNT mutants of the messages under the SOURCE files and folders:
        truncations, byte flips, duplicated runs, line-ending changes and
        NUL bytes. Deterministic: the same SEED and sources give the same
        files, named after the source and the mutation, so that a failure
        can be reproduced (and then committed to testdata/malformed/).

    make-malformed.py swell OUTDIR SOURCE...
        each message under SOURCE swollen to about 300 KB: the first line
        of its body that names an address, repeated with a different
        address each time, in place. A rule that searches forward from
        each recipient, or anything else that costs more per recipient as
        the report grows, shows up here as a slow answer.

The small malformed samples are committed files in testdata/malformed/.
"""
import os
import random
import re
import sys

DSN_HEAD = (b"From: MAILER-DAEMON@example.net\n"
            b"To: me@example.org\n"
            b"Subject: Undelivered Mail Returned to Sender\n"
            b"MIME-Version: 1.0\n")


def report(boundary, parts):
    """A multipart/report made of (content type, body) parts."""
    out = [DSN_HEAD,
           b"Content-Type: multipart/report; report-type=delivery-status;\n"
           b" boundary=\"" + boundary + b"\"\n\n"]
    for ctype, body in parts:
        out.append(b"--" + boundary + b"\nContent-Type: " + ctype + b"\n\n")
        out.append(body)
        out.append(b"\n")
    out.append(b"--" + boundary + b"--\n")
    return b"".join(out)


def write(outdir, name, chunks):
    with open(os.path.join(outdir, name), "wb") as f:
        for c in chunks:
            f.write(c)


def large(outdir):
    mb20 = 20 * 1024 * 1024
    # One 20 MB header line, then a normal report.
    write(outdir, "header-line-20mb.msg",
          [b"From: MAILER-DAEMON@example.net\nSubject: Undelivered ",
           b"x" * mb20, b"\n\nbody\n"])
    # 20 MB with no line break at all: no end of the header block.
    write(outdir, "no-newline-20mb.msg", [b"From: MAILER-DAEMON@example.net ", b"y" * mb20])
    # A header folded over a million lines.
    write(outdir, "header-folded-1m-lines.msg",
          [b"From: MAILER-DAEMON@example.net\nX-Failed-Recipients: a@example.com",
           b",\n b@example.com" * 1000000, b"\n\nbody\n"])
    # Half a million header fields.
    write(outdir, "headers-500k-fields.msg",
          [b"From: MAILER-DAEMON@example.net\n", b"Received: from x by y; Mon, 1 Jan 2024\n" * 500000,
           b"\nbody\n"])

    # 20,000-deep multipart nesting, each level its own boundary.
    depth = 20000
    chunks = [DSN_HEAD]
    for i in range(depth):
        chunks.append(b"Content-Type: multipart/mixed; boundary=\"b%d\"\n\n--b%d\n" % (i, i))
    chunks.append(b"Content-Type: message/delivery-status\n\n"
                  b"Final-Recipient: rfc822; deep@example.com\nAction: failed\nStatus: 5.1.1\n")
    for i in reversed(range(depth)):
        chunks.append(b"\n--b%d--\n" % i)
    write(outdir, "multipart-20000-deep.msg", chunks)
    # The same, every level with the same boundary.
    chunks = [DSN_HEAD]
    chunks += [b"Content-Type: multipart/mixed; boundary=\"same\"\n\n--same\n"] * depth
    chunks.append(b"Content-Type: text/plain\n\nhello\n")
    chunks += [b"\n--same--\n"] * depth
    write(outdir, "multipart-20000-deep-same-boundary.msg", chunks)
    # 20,000 levels opened and never closed.
    chunks = [DSN_HEAD]
    chunks += [b"Content-Type: multipart/report; boundary=\"u%d\"\n\n--u%d\n" % (i, i) for i in range(depth)]
    write(outdir, "multipart-20000-deep-unclosed.msg", chunks)

    # 50,000 nested message/rfc822.
    depth = 50000
    chunks = [DSN_HEAD, b"Content-Type: multipart/report; boundary=\"r\"\n\n--r\n"
              b"Content-Type: message/delivery-status\n\n"
              b"Final-Recipient: rfc822; deep@example.com\nAction: failed\n\n--r\n"]
    chunks += [b"Content-Type: message/rfc822\n\nSubject: level\n"] * depth
    chunks.append(b"Content-Type: text/plain\n\nthe innermost body\n--r--\n")
    write(outdir, "rfc822-50000-deep.msg", chunks)
    # The same, each level a multipart/report forwarding the next one.
    chunks = [DSN_HEAD]
    for i in range(depth):
        chunks.append(b"Content-Type: multipart/report; boundary=\"f%d\"\n\n--f%d\n"
                      b"Content-Type: message/rfc822\n\nFrom: MAILER-DAEMON@example.net\n" % (i, i))
    chunks.append(b"Content-Type: text/plain\n\nend\n")
    write(outdir, "report-in-rfc822-50000-deep.msg", chunks)

    # 200,000 recipients in a delivery-status part.
    n = 200000
    body = [b"Reporting-MTA: dns; mx.example.net\n\n"]
    body += [b"Final-Recipient: rfc822; user%d@example.com\nAction: failed\nStatus: 5.1.1\n"
             b"Diagnostic-Code: smtp; 550 5.1.1 user unknown\n\n" % i for i in range(n)]
    write(outdir, "dsn-200000-recipients.msg",
          [report(b"r200k", [(b"text/plain", b"Delivery failed.\n"),
                             (b"message/delivery-status", b"".join(body))])])
    # The same recipients without blank lines between the groups.
    body = [b"Reporting-MTA: dns; mx.example.net\n"]
    body += [b"Final-Recipient: rfc822; user%d@example.com\nAction: failed\n" % i for i in range(n)]
    write(outdir, "dsn-200000-recipients-no-blank.msg",
          [report(b"r200kb", [(b"message/delivery-status", b"".join(body))])])
    # 200,000 recipients in the report text (the generic fallback).
    text = b"".join(b"<user%d@example.com>: host mx.example.com said: 550 5.1.1 unknown\n" % i
                    for i in range(n))
    write(outdir, "text-200000-recipients.msg",
          [DSN_HEAD, b"Content-Type: text/plain\n\n", text])
    # 200,000 addresses in an X-Failed-Recipients header.
    write(outdir, "x-failed-recipients-200000.msg",
          [b"From: MAILER-DAEMON@example.net\nSubject: failure\nX-Failed-Recipients: ",
           b", ".join(b"user%d@example.com" % i for i in range(n)), b"\n\n550 5.1.1 unknown\n"])

    # 100,000 sibling parts.
    parts = [(b"text/plain", b"part %d" % i) for i in range(100000)]
    write(outdir, "parts-100000-siblings.msg", [report(b"sib", parts)])
    # A message over the 32 MB read limit: a report, then padding.
    write(outdir, "message-33mb.msg",
          [report(b"big", [(b"message/delivery-status",
                             b"Final-Recipient: rfc822; a@example.com\nAction: failed\n"),
                            (b"text/plain", b"z" * (33 * 1024 * 1024))])])
    # A 20 MB delivery-status body on one line, and a 20 MB diagnostic.
    write(outdir, "dsn-line-20mb.msg",
          [report(b"l", [(b"message/delivery-status",
                          b"Final-Recipient: rfc822; a@example.com\nDiagnostic-Code: smtp; 550 "
                          + b"w" * mb20)])])
    # A 20 MB base64 original.
    write(outdir, "base64-original-20mb.msg",
          [report(b"b64", [(b"message/delivery-status",
                            b"Final-Recipient: rfc822; a@example.com\nAction: failed\n"),
                           (b"message/rfc822\nContent-Transfer-Encoding: base64",
                            b"QUJD\n" * (4 * 1024 * 1024))])])
    # Originals base64-encoded inside base64-encoded originals, 12 deep.
    import base64
    inner = b"From: me@example.org\nMessage-ID: <inner@example.org>\nSubject: x\n\nbody\n"
    for i in range(12):
        inner = (b"From: MAILER-DAEMON@example.net\nMessage-ID: <l%d@example.org>\n"
                 b"Content-Type: multipart/report; boundary=\"n%d\"\n\n--n%d\n"
                 b"Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n" % (i, i, i)
                 + base64.encodebytes(inner) + b"\n--n%d--\n" % i)
    write(outdir, "base64-rfc822-12-deep.msg", [inner])


# ---- mutation ------------------------------------------------------------

def sources(paths):
    out = []
    for p in paths:
        if os.path.isdir(p):
            for root, dirs, files in os.walk(p):
                dirs.sort()
                if os.path.basename(root) == "malformed":
                    continue
                for f in sorted(files):
                    if f.endswith((".eml", ".msg")) or "." not in f:
                        out.append(os.path.join(root, f))
        elif os.path.isfile(p):
            out.append(p)
    return out


def mutate(data, rnd):
    """One mutation of @data: (name, bytes)."""
    n = len(data)
    kind = rnd.choice(["truncate", "flip", "duplicate", "crlf", "cr", "mixed", "nul",
                       "delete", "splice-boundary"])
    if n == 0:
        return "nul", b"\0"
    if kind == "truncate":
        at = rnd.randrange(n)
        return "truncate%d" % at, data[:at]
    if kind == "flip":
        b = bytearray(data)
        for _ in range(rnd.randint(1, 32)):
            i = rnd.randrange(n)
            b[i] = rnd.choice([b[i] ^ (1 << rnd.randrange(8)), rnd.randrange(256), 0x0a, 0x2d, 0x3a])
        return "flip", bytes(b)
    if kind == "duplicate":
        i = rnd.randrange(n)
        j = min(n, i + rnd.randint(1, 4096))
        k = rnd.choice([2, 10, 100, 1000])
        return "dup%dx%d" % (j - i, k), data[:j] + data[i:j] * k + data[j:]
    if kind == "crlf":
        return "crlf", data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    if kind == "cr":
        return "cr", data.replace(b"\r\n", b"\n").replace(b"\n", b"\r")
    if kind == "mixed":
        lines = data.replace(b"\r\n", b"\n").split(b"\n")
        ends = [b"\n", b"\r\n", b"\r", b"\n\r", b"\r\r\n"]
        return "mixed", b"".join(l + rnd.choice(ends) for l in lines)
    if kind == "nul":
        b = bytearray(data)
        for _ in range(rnd.randint(1, 16)):
            b.insert(rnd.randrange(n), 0)
        return "nul", bytes(b)
    if kind == "delete":
        i = rnd.randrange(n)
        j = min(n, i + rnd.randint(1, 512))
        return "delete%d-%d" % (i, j), data[:i] + data[j:]
    # splice-boundary: cut at a boundary line, or inside one
    at = data.find(b"\n--", rnd.randrange(n))
    if at < 0:
        at = rnd.randrange(n)
    return "boundary%d" % at, data[:at + rnd.randint(1, 12)]


def mutants(outdir, count, seed, paths):
    files = sources(paths)
    if not files:
        return
    rnd = random.Random(seed)
    for i in range(count):
        src = files[rnd.randrange(len(files))]
        with open(src, "rb") as f:
            data = f.read()
        name, out = mutate(data, rnd)
        if rnd.random() < 0.2:  # a second mutation on top
            name2, out = mutate(out, rnd)
            name += "+" + name2
        base = os.path.basename(os.path.dirname(src)) + "-" + os.path.basename(src)
        with open(os.path.join(outdir, "%04d-%s-%s.msg" % (i, base, name)), "wb") as f:
            f.write(out)


# ---- swelling --------------------------------------------------------------

ADDRESS = re.compile(rb"([A-Za-z0-9._%+-]+)@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")


def swell(data, size=300 * 1024):
    """@data with its first body line that names an address repeated to
    about @size bytes, or None when no body line names one."""
    text = data.replace(b"\r\n", b"\n")
    head_end = text.find(b"\n\n")
    if head_end < 0:
        return None
    lines = text[head_end + 2:].split(b"\n")
    for i, line in enumerate(lines):
        m = ADDRESS.search(line)
        if m is None or len(line) > 400:
            continue
        copies = []
        k = 0
        while sum(map(len, copies)) < size:
            copies.append(line[:m.start()] + b"person%d@%s" % (k, m.group(2)) + line[m.end():] + b"\n")
            k += 1
        body = b"\n".join(lines[:i]) + (b"\n" if i else b"") + b"".join(copies) + b"\n".join(lines[i + 1:])
        return text[:head_end + 2] + body
    return None


def swollen(outdir, paths):
    for src in sources(paths):
        with open(src, "rb") as f:
            out = swell(f.read())
        if out is None:
            continue
        base = os.path.basename(os.path.dirname(src)) + "-" + os.path.basename(src)
        with open(os.path.join(outdir, "swell-%s.msg" % base), "wb") as f:
            f.write(out)


def main(argv):
    if len(argv) >= 3 and argv[1] == "large":
        os.makedirs(argv[2], exist_ok=True)
        large(argv[2])
        return 0
    if len(argv) >= 6 and argv[1] == "mutate":
        os.makedirs(argv[2], exist_ok=True)
        mutants(argv[2], int(argv[3]), int(argv[4]), argv[5:])
        return 0
    if len(argv) >= 4 and argv[1] == "swell":
        os.makedirs(argv[2], exist_ok=True)
        swollen(argv[2], argv[3:])
        return 0
    sys.stderr.write(__doc__)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv))

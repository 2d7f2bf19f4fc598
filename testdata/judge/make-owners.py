#!/usr/bin/env python3
"""Write owners who send mail several ways, and the bounces they get back.

    make-owners.py OUTDIR [SEED]

For each owner, OUTDIR/NAME/ holds:
  Sent/            a Maildir holding 20-80% of what the owner sent (what a
                   mail client or a provider files there: a desktop client
                   files its own copy, with no Received header; a phone's
                   or webmail's copy is filed by the server and shows the
                   hops it took)
  bounces/real-*.eml     real delivery failures of mail the owner sent and
                         the Sent folder does not hold, each returning the
                         original as message/rfc822 or text/rfc822-headers
  bounces/forged-*.eml   bounces of mail that worms and bots sent in the
                         owner's name, with and without attachments
  bounces/few-*.eml      a third of each, as a report that returns only
                         the From, To, Subject, Date and Message-ID of the
                         original (as Exchange and many gateways do)
  plain.conf       the owner's address and Sent folder, complete = false
  relay.conf       the same, and the relay of one of the ways they send
  relays.conf      the owner's address and the relays of all the ways they
                   send, no Sent folder (what a relay list alone says)

Ways of sending: a desktop client through the owner's own submission
server, a phone through the mail provider's, a webmail. Owners have one,
two or three of them. Names and addresses are RFC 2606 domains and
documentation networks; every message is made up here.
"""
import os
import random
import sys
import uuid

OUT = sys.argv[1]
rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 17)
DAY0 = 1709251200  # 2024-03-01 00:00 UTC
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
import time


def rfc2822(t, zone):
    sign = 1 if zone[0] == "+" else -1
    off = sign * (int(zone[1:3]) * 3600 + int(zone[3:5]) * 60)
    tm = time.gmtime(t + off)
    return "%s, %02d %s %d %02d:%02d:%02d %s" % (WEEKDAYS[tm.tm_wday], tm.tm_mday, MONTHS[tm.tm_mon - 1],
                                                 tm.tm_year, tm.tm_hour, tm.tm_min, tm.tm_sec, zone)


def hexid(n):
    return "".join(rng.choice("0123456789ABCDEF") for _ in range(n))


class Way:
    """One way the owner sends: its client, Message-IDs and first hops."""

    def __init__(self, kind, owner):
        self.kind = kind
        self.owner = owner
        d = owner.domain
        if kind == "desktop":
            self.agent = rng.choice(["Mozilla Thunderbird", "Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Thunderbird/115.9.0",
                                     "Evolution 3.46.4-2", "Claws Mail 4.1.1 (GTK 3.24.36; x86_64-pc-linux-gnu)"])
            self.relay = "smtp." + d
            self.client_ip = "198.51.100.%d" % rng.randint(2, 250)
            self.zone = owner.zone
        elif kind == "phone":
            self.agent = rng.choice(["K-9 Mail for Android", "Android Mail", "Mutt/2.2.9 (2022-11-12)"])
            self.relay = "submit.%s" % owner.provider
            self.client_ip = "100.64.%d.%d" % (rng.randint(0, 255), rng.randint(1, 254))
            self.zone = owner.zone
        else:
            self.agent = None
            self.relay = "mail." + d
            self.client_ip = None
            self.zone = "+0000"

    def message_id(self, t):
        d = self.owner.domain
        if self.kind == "desktop":
            return "<%s@%s>" % (uuid.UUID(int=rng.getrandbits(128)), d)
        if self.kind == "phone":
            return "<%s.%d@%s>" % (hexid(16).lower(), rng.randint(1000, 99999), "mobile." + self.owner.provider)
        return "<%d.%s@webmail.%s>" % (t, hexid(10), d)

    def hops(self, rcpt, t):
        """The Received headers this way adds, newest first."""
        date = rfc2822(t, "+0000")
        qid = hexid(10)
        if self.kind == "desktop":
            return ["Received: from [%s] (home-%s.isp.example [%s])\n\tby %s (Postfix) with ESMTPSA id %s\n\tfor <%s>; %s\n"
                    % (self.client_ip, self.client_ip.split(".")[-1], self.client_ip, self.relay, qid, rcpt, date)]
        if self.kind == "phone":
            return ["Received: from [%s] (helo=[10.1.2.3])\n\tby %s with esmtpsa (TLS1.3) tls TLS_AES_256_GCM_SHA384\n"
                    "\t(Exim 4.96)\n\t(envelope-from <%s>)\n\tid 1r%s-000%s-5x\n\tfor %s; %s\n"
                    % (self.client_ip, self.relay, self.owner.address, hexid(5), hexid(3), rcpt, date)]
        return ["Received: from webmail.%s (localhost [127.0.0.1])\n\tby %s (Postfix) with ESMTP id %s\n\tfor <%s>; %s\n"
                % (self.owner.domain, self.relay, qid, rcpt, date)]

    def headers(self, rcpt, t, mid, subject):
        h = "From: %s <%s>\nTo: %s\nSubject: %s\nDate: %s\nMessage-ID: %s\n" % (
            self.owner.name, self.owner.address, rcpt, subject, rfc2822(t, self.zone), mid)
        if self.agent:
            h += ("User-Agent: %s\n" if self.kind != "webmail" else "X-Mailer: %s\n") % self.agent
        return h + "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"


class Owner:
    def __init__(self, i, ways):
        self.name = rng.choice(["Ada", "Bo", "Cleo", "Dan", "Eva", "Finn"]) + " Example"
        self.domain = "owner%d.example" % i
        self.address = "me@" + self.domain
        self.provider = rng.choice(["provider.example.net", "mail.example.com"])
        self.zone = rng.choice(["+0100", "+0200", "-0500", "+0530"])
        self.ways = [Way(k, self) for k in ways]


def mx_of(rcpt):
    return "mx." + rcpt.split("@")[1]


def deliver_hop(sender_host, rcpt, t):
    return ("Received: from %s (%s [192.0.2.%d])\n\tby %s (Postfix) with ESMTPS id %s\n\tfor <%s>; %s\n"
            % (sender_host, sender_host, rng.randint(2, 250), mx_of(rcpt), hexid(10), rcpt, rfc2822(t + 2, "+0000")))


def bounce(owner, rcpt, original_headers, body, t, carry, to=None):
    mx = mx_of(rcpt)
    b = "B%s.%d/%s" % (hexid(8), t, mx)
    diag = rng.choice(["550 5.1.1 <%s>: Recipient address rejected: User unknown in virtual mailbox table",
                       "552 5.2.2 <%s>: Mailbox full", "550 5.1.1 The email account that you tried to reach does not exist (%s)"]) % rcpt
    text = ("Return-Path: <>\nDelivered-To: %s\nReceived: from %s (%s [203.0.113.9])\n\tby mx.%s (Postfix) with ESMTP id %s\n\tfor <%s>; %s\n"
            "Date: %s\nFrom: MAILER-DAEMON@%s (Mail Delivery System)\nSubject: Undelivered Mail Returned to Sender\nTo: %s\n"
            "Auto-Submitted: auto-replied\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status;\n\tboundary=\"%s\"\n"
            "Message-Id: <%d.%s@%s>\n\nThis is a MIME-encapsulated message.\n\n--%s\nContent-Description: Notification\n"
            "Content-Type: text/plain; charset=us-ascii\n\nThis is the mail system at host %s.\n\nI'm sorry to have to inform you that your message could not\n"
            "be delivered to one or more recipients.\n\n<%s>: %s\n\n--%s\nContent-Description: Delivery report\nContent-Type: message/delivery-status\n\n"
            "Reporting-MTA: dns; %s\nArrival-Date: %s\n\nFinal-Recipient: rfc822; %s\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; %s\n\n"
            % (to or owner.address, mx, mx, owner.domain, hexid(10), owner.address, rfc2822(t + 60, "+0000"),
               rfc2822(t + 60, "+0000"), mx, to or owner.address, b, t, hexid(8), mx, b, mx, rcpt, diag, b, mx,
               rfc2822(t + 3, "+0000"), rcpt, diag))
    if carry == "few":
        few = "".join(line + "\n" for line in original_headers.split("\n")
                      if line.split(":")[0] in ("From", "To", "Subject", "Date", "Message-ID"))
        text += "--%s\nContent-Description: Undelivered Message Headers\nContent-Type: text/rfc822-headers\n\n%s\n" % (b, few)
    elif carry == "message/rfc822":
        text += "--%s\nContent-Description: Undelivered Message\nContent-Type: message/rfc822\n\n%s\n%s\n" % (b, original_headers, body)
    else:
        text += "--%s\nContent-Description: Undelivered Message Headers\nContent-Type: text/rfc822-headers\n\n%s\n" % (b, original_headers)
    return text + "--%s--\n" % b


def person():
    return rng.choice(["olga", "piet", "quinn", "rosa", "sven", "tara", "ugo", "vera", "wim", "xena"]) + str(rng.randint(1, 40))


def make_owner(i, ways, outdir):
    o = Owner(i, ways)
    home = os.path.join(outdir, "owner%d" % i)
    for d in ("Sent/cur", "Sent/new", "Sent/tmp", "bounces"):
        os.makedirs(os.path.join(home, d), exist_ok=True)
    kept = rng.uniform(0.2, 0.8)
    friends = ["%s@example.%s" % (person(), rng.choice(["com", "net", "org"])) for _ in range(30)]
    n_real = 0
    for w in o.ways:
        for k in range(rng.randint(110, 160)):
            t = DAY0 + rng.randint(0, 60 * 86400)
            rcpt = rng.choice(friends)
            mid = w.message_id(t)
            head = w.headers(rcpt, t, mid, "Note %d" % k)
            if rng.random() < kept:
                # The Sent copy: the client's own (no hop), or the server's.
                hops = "" if w.kind == "desktop" else "".join(w.hops(rcpt, t))
                name = "%d.M%dP%d.host.example:2,S" % (t, k, i * 10 + len(w.kind))
                with open(os.path.join(home, "Sent/cur", name), "w") as f:
                    f.write(hops + head + "\nHello.\n")
                continue
            if rng.random() > 0.25:
                continue
            # Not in the Sent folder, and it bounced: often a first message
            # to a mistyped or new address.
            if rng.random() < 0.6:
                rcpt = "%s@example.%s" % (person(), rng.choice(["com", "net", "org"]))
                head = w.headers(rcpt, t, mid, "Note %d" % k)
            orig = deliver_hop(w.relay, rcpt, t) + "".join(w.hops(rcpt, t)) + head
            carry = "message/rfc822" if n_real % 2 == 0 else "text/rfc822-headers"
            with open(os.path.join(home, "bounces", "real-%s-%03d.eml" % (w.kind, n_real)), "w") as f:
                f.write(bounce(o, rcpt, orig, "Hello.\n", t, carry))
            if n_real % 3 == 0:
                with open(os.path.join(home, "bounces", "few-real-%s-%03d.eml" % (w.kind, n_real)), "w") as f:
                    f.write(bounce(o, rcpt, orig, "Hello.\n", t, "few"))
            n_real += 1
    for k in range(rng.randint(30, 45)):
        make_forgery(o, home, k)
    with open(os.path.join(home, "plain.conf"), "w") as f:
        f.write("[identity]\naddresses = %s\n[sent]\nfolders = %s\ncomplete = false\n"
                % (o.address, os.path.join(home, "Sent")))
    with open(os.path.join(home, "relay.conf"), "w") as f:
        f.write("[identity]\naddresses = %s\nrelays = %s\n[sent]\nfolders = %s\ncomplete = false\n"
                % (o.address, o.ways[0].relay, os.path.join(home, "Sent")))
    with open(os.path.join(home, "relays.conf"), "w") as f:
        f.write("[identity]\naddresses = %s\nrelays = %s\n"
                % (o.address, "; ".join(w.relay for w in o.ways)))


WORM_AGENTS = [None, "Microsoft Outlook Express 6.00.2600.0000", "Microsoft Outlook, Build 10.0.2627", "The Bat! (v3.51)"]


def make_forgery(o, home, k):
    """Mail a worm or a bot sent with the owner's address as From."""
    t = DAY0 + rng.randint(0, 70 * 86400)
    victim = "%s@victim%d.example" % (person(), rng.randint(1, 50))
    bot_ip = "203.0.113.%d" % rng.randint(10, 250)
    style = rng.choice(["worm", "spam", "spam", "phish"])
    shape = rng.random()
    if shape < 0.3:
        mid = "<%s@%s>" % ("".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(16)), o.domain)
    elif shape < 0.6:
        mid = "<%s$%s$%s@%s>" % (hexid(12).lower(), hexid(8).lower(), hexid(8).lower(), rng.choice([o.domain, "pc%d" % k]))
    else:
        mid = "<%d.%d.qmail@%s>" % (t, rng.randint(100, 9999), rng.choice([o.domain, "host%d.example.com" % k]))
    zone = rng.choice(["+0300", "-0800", "+0800", o.zone])
    date_t = t - rng.choice([0, 0, 0, 40 * 86400])
    to = victim
    if style == "spam" and rng.random() < 0.5:
        to = ", ".join([victim] + ["%s@victim%d.example" % (person(), rng.randint(1, 50)) for _ in range(rng.randint(4, 9))])
    agent = rng.choice(WORM_AGENTS)
    helo = rng.choice([o.domain, "mail." + o.domain, "[%s]" % bot_ip, "pc-%d" % k])
    # Mostly straight to the victim's server; now and then through an
    # open relay or a hacked web server's mailer.
    if rng.random() < 0.9:
        hops = ("Received: from %s (unknown [%s])\n\tby %s (Postfix) with ESMTP id %s\n\tfor <%s>; %s\n"
                % (helo, bot_ip, mx_of(victim), hexid(10), victim, rfc2822(t, "+0000")))
    else:
        hops = ("Received: from relay.isp%d.example (relay.isp%d.example [198.51.100.200])\n\tby %s with SMTP id %s\n\tfor <%s>; %s\n"
                "Received: from %s ([%s]) by relay.isp%d.example with SMTP; %s\n"
                % (k, k, mx_of(victim), hexid(10), victim, rfc2822(t, "+0000"), helo, bot_ip, k, rfc2822(t - 5, "+0000")))
    head = "%sFrom: %s\nTo: %s\nSubject: %s\nDate: %s\nMessage-ID: %s\n" % (
        hops, o.address, to, rng.choice(["Your document", "Re: invoice", "Mail delivery failed", "Account notice"]),
        rfc2822(date_t, zone), mid)
    if agent:
        head += "X-Mailer: %s\n" % agent
    head += "MIME-Version: 1.0\n"
    if style == "worm" or rng.random() < 0.2:
        name = rng.choice(["document.zip", "invoice.pif", "photo.scr", "details.exe"])
        head += 'Content-Type: multipart/mixed; boundary="----=_NextPart_%s"\n' % hexid(6)
        bnd = head.split('boundary="')[1].split('"')[0]
        body = ("--%s\nContent-Type: text/plain\n\nPlease see the attached file.\n\n--%s\nContent-Type: application/octet-stream; name=\"%s\"\n"
                "Content-Transfer-Encoding: base64\nContent-Disposition: attachment; filename=\"%s\"\n\nTVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAA\n--%s--\n"
                % (bnd, bnd, name, name, bnd))
    else:
        head += "Content-Type: text/plain; charset=us-ascii\n"
        body = "Click here to claim.\n"
    carry = "message/rfc822" if k % 3 else "text/rfc822-headers"
    with open(os.path.join(home, "bounces", "forged-%s-%03d.eml" % (style, k)), "w") as f:
        f.write(bounce(o, victim, head, body, t, carry))
    if k % 3 == 1:
        with open(os.path.join(home, "bounces", "few-forged-%s-%03d.eml" % (style, k)), "w") as f:
            f.write(bounce(o, victim, head, body, t, "few"))


WAYS = [["desktop"], ["phone"], ["desktop", "phone"], ["phone", "webmail"], ["desktop", "phone", "webmail"],
        ["webmail", "desktop", "phone"]]
for i, ways in enumerate(WAYS, 1):
    make_owner(i, ways, OUT)

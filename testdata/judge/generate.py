#!/usr/bin/env python3
"""Write the judgement samples of this folder: bounces of mail the owner of
../owner.conf really sent (their Message-IDs are in ../maildir-sent) and of
mail forged in their name, covering each piece of evidence both ways.
BATV tags are made with ../batv.key as draft-levine-smtp-batv describes."""
import hmac, hashlib, os

KEY = open(os.path.join(os.path.dirname(__file__), "..", "batv.key"), "rb").read().rstrip(b"\r\n")
BOUNCE_DAY = 19821  # 2024-04-08, the day the bounces below arrive


def batv(mailbox, day, key=KEY, k=0):
    src = f"{k}{day % 1000:03d}{mailbox}".lower().encode()
    sig = hmac.new(key, src, hashlib.sha1).digest()[:3].hex()
    local, domain = mailbox.split("@")
    return f"prvs={k}{day % 1000:03d}{sig}={local}@{domain}"


def dsn(name, to, rcpt, original, diag="550 5.1.1 <{r}>: Recipient address rejected: User unknown", extra=""):
    diag = diag.format(r=rcpt)
    text = f"""Return-Path: <>
Delivered-To: {to}
Received: from mx.example.net (mx.example.net [198.51.100.25])
\tby mail.example.org (Postfix) with ESMTP id 4VDX1Q2c3Dz9x
\tfor <{to}>; Mon,  8 Apr 2024 11:02:17 +0200 (CEST)
Date: Mon,  8 Apr 2024 11:02:16 +0200 (CEST)
From: MAILER-DAEMON@mx.example.net (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: {to}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="B0A11C2D3E.1712566936/mx.example.net"
Message-Id: <20240408090216.B0A11C2D3E@mx.example.net>
{extra}
This is a MIME-encapsulated message.

--B0A11C2D3E.1712566936/mx.example.net
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.example.net.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

<{rcpt}>: {diag}

--B0A11C2D3E.1712566936/mx.example.net
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net
Arrival-Date: Mon,  8 Apr 2024 11:02:15 +0200 (CEST)

Final-Recipient: rfc822; {rcpt}
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; {diag}

"""
    if original is not None:
        text += f"""--B0A11C2D3E.1712566936/mx.example.net
Content-Description: Undelivered Message
Content-Type: message/rfc822

{original}
"""
    text += "--B0A11C2D3E.1712566936/mx.example.net--\n"
    with open(os.path.join(os.path.dirname(__file__), name), "w") as f:
        f.write(text)


def real_original(mid, rcpt, subject, date, dkim=True):
    sig = ("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org;\n"
           "\ts=mail2024; t=1712566930; h=from:to:subject:date:message-id;\n"
           "\tbh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=; b=dGVzdA==\n") if dkim else ""
    return f"""Received: from smtp.example.org (smtp.example.org [192.0.2.10])
\tby mx.example.net (Postfix) with ESMTPS id 9F3E1C2D3E
\tfor <{rcpt}>; {date}
{sig}Received: from [192.0.2.55] (dhcp-55.home.example.org [192.0.2.55])
\tby smtp.example.org (Postfix) with ESMTPSA id 576E7851
\tfor <{rcpt}>; {date}
From: Me Example <me@example.org>
To: {rcpt}
Subject: {subject}
Date: {date}
Message-ID: {mid}
User-Agent: Mozilla Thunderbird
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Hello.
"""


def forged_original(mid, rcpt, frm="me@example.org", subject="Your account", attach=False):
    head = f"""Received: from mail.example.org ([203.0.113.77])
\tby mx.example.net (Postfix) with ESMTP id 7C1D2E3F4A
\tfor <{rcpt}>; Mon,  8 Apr 2024 11:02:14 +0200
From: {frm}
To: {rcpt}
Subject: {subject}
Date: Mon, 8 Apr 2024 12:02:10 +0300
Message-ID: {mid}
X-Mailer: Microsoft Outlook Express 6.00.2600.0000
MIME-Version: 1.0
"""
    if not attach:
        return head + "Content-Type: text/plain; charset=us-ascii\n\nPlease read the attached notice.\n"
    return head + """Content-Type: multipart/mixed; boundary="----=_NextPart_000_0001"

------=_NextPart_000_0001
Content-Type: text/plain; charset=us-ascii

Please read the attached document.

------=_NextPart_000_0001
Content-Type: application/octet-stream; name="document.zip"
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="document.zip"

UEsDBBQAAAAIAHRlc3QgZmlsZSBub3QgYSByZWFsIHdvcm0K
------=_NextPart_000_0001--
"""


OLGA = "<7a2e3d4c-5b6f-4071-8c8b-9d0e1f2a3b42@mail.example.org>"
DORA = "<a5b6c7d8-e9f0-4a1b-8c2d-3e4f5a6b7c75@mail.example.org>"

# The owner's own mail: every kind of evidence says so.
dsn("real-batv-valid.eml", batv("me@example.org", BOUNCE_DAY + 7), "olga@example.net",
    real_original(OLGA, "olga@example.net", "Re: Flat viewing", "Wed, 03 Apr 2024 09:12:40 +0200"))
# A late bounce of real mail: the BATV tag has expired, the rest still holds.
dsn("real-batv-expired.eml", batv("me@example.org", BOUNCE_DAY - 40), "dora@example.net",
    real_original(DORA, "dora@example.net", "Re: Saturday dinner", "Sat, 06 Apr 2024 10:02:00 +0200"))
# Sent from a phone that keeps no sent folder: not in the index, but the
# relay and the DKIM signature vouch for it.
dsn("real-not-in-sent.eml", "me@example.org", "ulla@example.com",
    real_original("<CAJ7y1x0phone4242@mail.example.org>", "ulla@example.com", "On my way",
                  "Mon, 08 Apr 2024 10:55:00 +0200"))
# Relayed but not signed: the relay vouches, the missing signature doubts.
dsn("real-unsigned.eml", "me@example.org", "olga@example.net",
    real_original(OLGA, "olga@example.net", "Re: Flat viewing", "Wed, 03 Apr 2024 09:12:40 +0200", dkim=False))
# Forgeries.
dsn("forged-batv-invalid.eml", "prvs=0828a1b2c3=me@example.org", "x.walker@example.com",
    forged_original("<20240408090210.4711@example.org>", "x.walker@example.com"))
dsn("forged-untagged.eml", "me@example.org", "y.zhang@example.com",
    forged_original("<KQWERTZUIOPASDF@example.org>", "y.zhang@example.com", attach=True))
dsn("forged-from-stranger.eml", "me@example.org", "z.bauer@example.net",
    forged_original("<000801c4a1b2$c3d4e5f6$0100a8c0@example.com>", "z.bauer@example.net",
                    frm='"Account Service" <service@example.com>', subject="Verify your account"))
# Nothing of the original came back.
dsn("no-original.eml", "me@example.org", "anna@example.com", None)


def autoreply(name, in_reply_to, subject):
    with open(os.path.join(os.path.dirname(__file__), name), "w") as f:
        f.write(f"""Return-Path: <>
Delivered-To: me@example.org
From: Nina Example <nina@example.net>
To: Me Example <me@example.org>
Subject: Out of office: {subject}
Date: Mon, 08 Apr 2024 11:20:00 +0200
Message-ID: <ooo-20240408112000@example.net>
In-Reply-To: {in_reply_to}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

I am out of the office until 15 April and will answer your message then.
""")


autoreply("autoreply-real.eml", DORA, "Re: Saturday dinner")
autoreply("autoreply-forged.eml", "<PQOWIEURYTALSKDJ@example.org>", "Invoice 4471")

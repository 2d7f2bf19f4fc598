/* test-profile.c — how the owner sends, learned from the sent mail, and
 * the evidence the judge draws from it: Received headers as Postfix,
 * Exim, Exchange, Gmail, qmail and sendmail write them; Message-ID
 * shapes; the learner; each new piece of evidence on the owner's side
 * and on the forger's; weights.rules naming every piece of evidence. */
#include "test-common.h"
#include "bounce-private.h"

#include <glib/gstdio.h>
#include <string.h>

/* ---- hops -------------------------------------------------------------- */

typedef struct
{
  const char *what;
  const char *received;
  const char *by_host;
  BounceSubmission submission;
  const char *key;
  const char *found; /* the client's name as the server found it, "-" none; NULL: not checked */
} HopCase;

static const HopCase hop_cases[] = {
  { "postfix-submission",
    "from [192.168.1.20] (dsl-20.example.net [198.51.100.20])\n\tby smtp.example.org (Postfix) with ESMTPSA id "
    "4VDX1Q2c3Dz9x\n\tfor <ann@example.com>; Mon,  8 Apr 2024 11:02:17 +0200 (CEST)",
    "smtp.example.org", BOUNCE_SUBMISSION_AUTHENTICATED, "s:example.org" },
  { "postfix-authenticated-sender",
    "from laptop.example.org (laptop.example.org [198.51.100.31])\n\t(Authenticated sender: me)\n\tby mail.example.org "
    "(Postfix) with ESMTP id 1A2B3C4D5E\n\tfor <ann@example.com>; Tue, 9 Apr 2024 10:00:00 +0000",
    "mail.example.org", BOUNCE_SUBMISSION_AUTHENTICATED, "s:example.org" },
  { "postfix-pickup",
    "by host.example.org (Postfix, from userid 1000)\n\tid 4F3E2D1C0B; Tue,  9 Apr 2024 10:00:00 +0200 (CEST)",
    "host.example.org", BOUNCE_SUBMISSION_LOCAL, "s:example.org" },
  { "postfix-relay",
    "from smtp.example.org (smtp.example.org [192.0.2.10])\n\tby mx.example.net (Postfix) with ESMTPS id "
    "9F3E1C2D3E\n\tfor <olga@example.net>; Wed, 03 Apr 2024 09:12:40 +0200",
    "mx.example.net", BOUNCE_SUBMISSION_NONE, "n:192.0.2.0/24" },
  { "exim-esmtpsa",
    "from [100.64.12.7] (helo=[10.1.2.3])\n\tby submit.example.net with esmtpsa  (TLS1.3) tls "
    "TLS_AES_256_GCM_SHA384\n\t(Exim 4.96)\n\t(envelope-from <me@example.org>)\n\tid 1rABCD-000123-5x\n\tfor "
    "ann@example.com; Mon, 08 Apr 2024 09:00:00 +0000",
    "submit.example.net", BOUNCE_SUBMISSION_AUTHENTICATED, "s:example.net" },
  { "exim-local",
    "from me by host.example.co.uk with local (Exim 4.96)\n\t(envelope-from <me@example.co.uk>)\n\tid "
    "1rABCE-000124-6y; Mon, 08 Apr 2024 09:00:00 +0100",
    "host.example.co.uk", BOUNCE_SUBMISSION_LOCAL, "s:example.co.uk" },
  { "exim-esmtp-from-bot",
    "from [203.0.113.77] (helo=example.org)\n\tby mx.example.com with esmtp (Exim 4.96)\n\t(envelope-from "
    "<me@example.org>)\n\tid 1rABCF-000125-7z\n\tfor ann@example.com; Mon, 08 Apr 2024 09:00:00 +0000",
    "mx.example.com", BOUNCE_SUBMISSION_NONE, "n:203.0.113.0/24" },
  { "exchange-mapi",
    "from DB7PR04MB4567.eurprd04.prod.example.com ([fe80::1c2d:3e4f:5a6b:7c8d]) by\n "
    "DB7PR04MB4567.eurprd04.prod.example.com ([fe80::1c2d:3e4f:5a6b:7c8d%5]) with\n mapi id 15.20.7452.049; Mon, 8 Apr "
    "2024 09:00:00 +0000",
    "db7pr04mb4567.eurprd04.prod.example.com", BOUNCE_SUBMISSION_WEBMAIL, "s:example.com" },
  { "exchange-internal",
    "from EXCH01.corp.example.org (10.20.30.40) by EXCH02.corp.example.org\n (10.20.30.41) with Microsoft SMTP Server "
    "(version=TLS1_2,\n cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.1.2507.35; Mon, 8 Apr\n 2024 11:00:00 "
    "+0200",
    "exch02.corp.example.org", BOUNCE_SUBMISSION_PRIVATE, "s:example.org" },
  { "gmail-web",
    "by 2002:a05:6a10:8e42:b0:4a3:1234:5678 with SMTP id ab12csp345678pxb;\n        Mon, 8 Apr 2024 02:00:00 -0700 "
    "(PDT)",
    "2002:a05:6a10:8e42:b0:4a3:1234:5678", BOUNCE_SUBMISSION_LOCAL, "s:[address]" },
  { "gmail-client",
    "from [192.168.178.22] (p5b1c2d3e.dip0.example.net. [198.51.100.62])\n        by smtp.gmail.com with ESMTPSA id "
    "h12-20020a05600c350c00b004162a9f03cbsm12345678wmq.1.2024.04.08.02.00.00\n        for <ann@example.com>\n        "
    "(version=TLS1_3 cipher=TLS_AES_256_GCM_SHA384 bits=256/256);\n        Mon, 08 Apr 2024 02:00:00 -0700 (PDT)",
    "smtp.gmail.com", BOUNCE_SUBMISSION_AUTHENTICATED, "s:gmail.com" },
  { "qmail-local", "(qmail 12345 invoked by uid 1000); 8 Apr 2024 09:00:00 -0000", NULL, BOUNCE_SUBMISSION_LOCAL,
    "s:[local]" },
  { "no-receiving-host", "from somewhere.example.org; 8 Apr 2024 09:00:00 -0000", "-", 0, NULL },
  { "qmail-network",
    "from unknown (HELO example.org) (203.0.113.9)\n  by mail.example.com with SMTP; 8 Apr 2024 09:00:00 -0000",
    "mail.example.com", BOUNCE_SUBMISSION_NONE, "n:203.0.113.0/24" },
  { "qmail-smtp-auth",
    "from unknown (HELO laptop) (me@example.org@198.51.100.44)\n  by mail.example.org with ESMTPA; 8 Apr 2024 09:00:00 "
    "-0000",
    "mail.example.org", BOUNCE_SUBMISSION_AUTHENTICATED, "s:example.org" },
  { "sendmail-authenticated",
    "from laptop.example.org (dsl-7.example.net [198.51.100.7])\n\t(authenticated bits=0)\n\tby mail.example.org "
    "(8.17.1/8.17.1) with ESMTP id 438901aB012345\n\t(version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 bits=256 "
    "verify=NO)\n\tfor <ann@example.com>; Mon, 8 Apr 2024 11:00:00 +0200",
    "mail.example.org", BOUNCE_SUBMISSION_AUTHENTICATED, "s:example.org" },
  { "sendmail-submit",
    "(from me@localhost)\n\tby host.example.org (8.17.1/8.17.1/Submit) id 438901aC012346;\n\tMon, 8 Apr 2024 11:00:00 "
    "+0200",
    "host.example.org", BOUNCE_SUBMISSION_LOCAL, "s:example.org" },
  /* a name in HELO and no reverse DNS: what a bot says, not what the server found */
  { "sendmail-helo-only",
    "from mail.example.org ([203.0.113.155])\n\tby relay.example.net (8.17.1/8.17.1) with ESMTP id "
    "43890AA01234;\n\tMon, 8 Apr 2024 11:00:00 +0200",
    "relay.example.net", BOUNCE_SUBMISSION_NONE, "n:203.0.113.0/24", "-" },
  { "exim-name-found",
    "from mail.example.org ([198.51.100.9])\n\tby mx.example.com with esmtp (Exim 4.96)\n\t(envelope-from "
    "<me@example.org>)\n\tid 1rABCG-000126-8a\n\tfor ann@example.com; Mon, 08 Apr 2024 09:00:00 +0000",
    "mx.example.com", BOUNCE_SUBMISSION_NONE, "n:198.51.100.0/24", "mail.example.org" },
  { "postfix-name-found",
    "from helo.example.net (mail.example.org [198.51.100.9])\n\tby mx.example.com (Postfix) with ESMTPS id "
    "4VDX1Q2c3Dz9y\n\tfor <ann@example.com>; Mon,  8 Apr 2024 11:02:17 +0200",
    "mx.example.com", BOUNCE_SUBMISSION_NONE, "n:198.51.100.0/24", "mail.example.org" },
};

static void
test_hop (gconstpointer data)
{
  const HopCase *c = data;
  BounceHop hop;
  gboolean ok = bounce_hop_parse (c->received, &hop);
  g_autofree char *key = NULL;

  if (g_strcmp0 (c->by_host, "-") == 0)
    {
      g_assert_false (ok);
      bounce_hop_clear (&hop);
      return;
    }
  g_assert_true (ok);
  g_assert_cmpstr (hop.by_host, ==, c->by_host);
  g_assert_cmpint (hop.submission, ==, c->submission);
  key = bounce_hop_key (&hop);
  g_assert_cmpstr (key, ==, c->key);
  if (c->found)
    g_assert_cmpstr (hop.from_name, ==, g_strcmp0 (c->found, "-") == 0 ? NULL : c->found);
  bounce_hop_clear (&hop);
}

static void
test_shapes (void)
{
  static const char *const cases[][2] = {
    { "<7a2e3d4c-5b6f-4071-8c8b-9d0e1f2a3b42@mail.example.org>", "x-x-x-x-x@mail.example.org" },
    /* a UUID word with no letter keeps the shape of the others */
    { "<12345678-5b6f-4071-8c8b-9d0e1f2a3b42@Mail.Example.org>", "x-x-x-x-x@mail.example.org" },
    { "<5A1B2C3D-1111-4E5F-8A9B-0C1D2E3F4A5B@example.org>", "X-X-X-X-X@example.org" },
    { "<KXRPQVGTDSXWBQJF@example.org>", "A+@example.org" },
    { "<20240408090216.B0A11C2D3E@mx.example.net>", "X+.X@mx.example.net" },
    { "<CAJ7y1x0phone4242@mail.example.org>", "m+@mail.example.org" },
    { "<000801c4a1b2$c3d4e5f6$0100a8c0@example.com>", "x$x$x@example.com" },
    { "no at sign", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *s = bounce_message_id_shape (cases[i][0]);

      g_assert_cmpstr (s, ==, cases[i][1]);
    }
}

static void
test_zones (void)
{
  g_autofree char *a = bounce_date_zone ("Mon, 08 Apr 2024 10:55:00 +0200");
  g_autofree char *b = bounce_date_zone ("Mon, 8 Apr 2024 02:00:00 -0700 (PDT)");
  g_autofree char *c = bounce_date_zone ("8 Apr 2024 09:00:00 -0000");
  g_autofree char *d = bounce_date_zone ("Mon, 8 Apr 2024 09:00:00 GMT");

  g_assert_cmpstr (a, ==, "+0200");
  g_assert_cmpstr (b, ==, "-0700");
  g_assert_null (c);
  g_assert_cmpstr (d, ==, "+0000");
}

/* ---- the learner and the evidence ---------------------------------------- */

static BounceRules *rules;

typedef struct
{
  char *dir;
  BounceIndex *idx;
  BounceIdentity *id;
} Owner;

#define PHONE_HOP                                                                                                      \
  "Received: from [100.64.1.2] (helo=[10.0.0.2])\n\tby submit.provider.example with esmtpsa (TLS1.3)\n\t(Exim "        \
  "4.96)\n\tid 1rAAAA-000001-aa; Mon, 01 Apr 2024 09:00:00 +0000\n"

/* An owner who sends with Thunderbird (the client files its own copy: no
 * Received) and from a phone through the provider (the server files the
 * copy: its hop shows), 30 messages each, in time zone +0200. */
static void
owner_init (Owner *o, gconstpointer unused)
{
  g_autofree char *db = NULL;
  g_autoptr (GError) error = NULL;

  o->dir = g_dir_make_tmp ("profile-XXXXXX", NULL);
  db = g_build_filename (o->dir, "sent.db", NULL);
  o->idx = bounce_index_open (db, FALSE, &error);
  g_assert_no_error (error);
  o->id = bounce_identity_new ();
  bounce_identity_add_address (o->id, "me@example.org", NULL);
  for (guint i = 0; i < 60; i++)
    {
      gboolean phone = i % 2;
      g_autofree char *msg =
          g_strdup_printf ("%sFrom: Me <me@example.org>\nTo: friend%u@example.net\nSubject: note\n"
                           "Date: Mon, %02u Apr 2024 09:00:00 +0200\nMessage-ID: %s\n%s\nhi\n",
                           phone ? PHONE_HOP : "", i % 10, 1 + i % 28,
                           phone ? "<a1b2c3d4e5f60718.4242@mobile.provider.example>"
                                 : "<0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b@example.org>",
                           phone ? "User-Agent: K-9 Mail for Android\n" : "User-Agent: Mozilla Thunderbird\n");
      char *at = strstr (msg, "4242@") ? strstr (msg, "4242@") : strstr (msg, "4a5b@");

      /* each Message-ID of its own, same shape */
      at[0] = '0' + i % 10;
      at[1] = '0' + i / 10;
      g_assert_true (bounce_index_add_message (o->idx, msg, strlen (msg), NULL, &error));
      g_assert_no_error (error);
    }
}

static void
owner_clear (Owner *o, gconstpointer unused)
{
  g_autofree char *db = g_build_filename (o->dir, "sent.db", NULL);
  g_autofree char *wal = g_strconcat (db, "-wal", NULL);
  g_autofree char *shm = g_strconcat (db, "-shm", NULL);

  bounce_index_unref (o->idx);
  bounce_identity_unref (o->id);
  g_unlink (db);
  g_unlink (wal);
  g_unlink (shm);
  g_rmdir (o->dir);
  g_free (o->dir);
}

static void
test_learner (Owner *o, gconstpointer unused)
{
  g_assert_cmpuint (bounce_index_count (o->idx, BOUNCE_INDEX_HOP, "s:provider.example"), ==, 30);
  g_assert_cmpuint (bounce_index_count_kind (o->idx, BOUNCE_INDEX_HOP), ==, 30);
  g_assert_cmpuint (bounce_index_count (o->idx, BOUNCE_INDEX_ID_SHAPE, "x-x-x-x-x@example.org"), ==, 30);
  g_assert_cmpuint (bounce_index_count (o->idx, BOUNCE_INDEX_ID_SHAPE, "x+.x@mobile.provider.example"), ==, 30);
  g_assert_cmpuint (bounce_index_count (o->idx, BOUNCE_INDEX_TIME_ZONE, "+0200"), ==, 60);
  /* two ways of sending, kept apart */
  g_assert_cmpuint (bounce_index_count (o->idx, BOUNCE_INDEX_STYLE, "-|x-x-x-x-x@example.org|mozilla thunderbird"), ==,
                    30);
  g_assert_cmpuint (bounce_index_count (o->idx, BOUNCE_INDEX_STYLE,
                                        "s:provider.example|x+.x@mobile.provider.example|k-"),
                    ==, 30);
  /* each key counts its own values, whatever their case */
  g_assert_cmpuint (bounce_index_count (o->idx, BOUNCE_INDEX_FROM, "Me@Example.ORG"), ==, 60);
  g_assert_cmpuint (bounce_index_count (o->idx, BOUNCE_INDEX_RECIPIENT, "friend3@example.net"), ==, 6);
  g_assert_cmpuint (bounce_index_count (o->idx, BOUNCE_INDEX_RECIPIENT, "me@example.org"), ==, 0);
  g_assert_cmpuint (bounce_index_count (o->idx, BOUNCE_INDEX_FROM, "friend3@example.net"), ==, 0);
  g_assert_cmpuint (bounce_index_count (o->idx, BOUNCE_INDEX_AGENT, "mozilla thunderbird"), ==, 30);
  g_assert_cmpuint (bounce_index_count (o->idx, BOUNCE_INDEX_ID_DOMAIN, "mobile.provider.example"), ==, 30);
  g_assert_cmpuint (bounce_index_count (o->idx, BOUNCE_INDEX_ID_DOMAIN, "example.org"), ==, 30);
  g_assert_cmpuint (bounce_index_count (o->idx, BOUNCE_INDEX_ID_DOMAIN, NULL), ==, 0);
  /* no message was signed: the only key without a value */
  for (BounceIndexKey k = BOUNCE_INDEX_RECIPIENT; k <= BOUNCE_INDEX_STYLE; k++)
    g_assert_cmpuint (bounce_index_count_kind (o->idx, k) > 0, ==, k != BOUNCE_INDEX_DKIM);
}

/* What bounce_index_learn() read, in a structure the caller allocated
 * (here full of garbage): every field set, the reserved room zero. */
static void
test_learn_counts (Owner *o, gconstpointer unused)
{
  g_autofree char *sent = g_build_filename (o->dir, "Sent", NULL);
  static const char mbox[] =
      "From me@example.org Mon Apr  8 09:00:00 2024\n"
      "From: me@example.org\nTo: ann@example.net\nMessage-ID: <learn-1@example.org>\n\none\n\n"
      "From me@example.org Mon Apr  8 09:10:00 2024\n"
      "From: other@example.net\nTo: ann@example.net\nMessage-ID: <learn-2@example.net>\n\ntwo\n\n"
      "From me@example.org Mon Apr  8 09:20:00 2024\n"
      "From: Me <me@example.org>\nTo: ann@example.net\nMessage-ID: <learn-3@example.org>\n\nthree\n";
  g_autoptr (GError) error = NULL;
  BounceLearnCounts c;

  g_assert_true (g_file_set_contents (sent, mbox, -1, NULL));
  memset (&c, 0xff, sizeof c);
  g_assert_true (bounce_index_learn (o->idx, sent, 0, o->id, NULL, NULL, &c, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (c.read, ==, 3);
  g_assert_cmpuint (c.added, ==, 3);
  g_assert_cmpuint (c.not_owner, ==, 1);
  g_assert_true (test_is_zero (c.reserved, sizeof c.reserved));
  /* Unchanged since: nothing read. */
  memset (&c, 0xff, sizeof c);
  g_assert_true (bounce_index_learn (o->idx, sent, 0, o->id, NULL, NULL, &c, &error));
  g_assert_true (test_is_zero (&c, sizeof c));
  g_unlink (sent);
}

/* A bounce from mx.example.com of an original with these headers. */
static BounceReport *
bounce_of (const char *original_headers, const char *date)
{
  g_autofree char *text = g_strdup_printf (
      "From: MAILER-DAEMON@mx.example.com\nTo: me@example.org\nDate: %s\nSubject: Undelivered Mail Returned to Sender\n"
      "MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\n\n"
      "--b\nContent-Type: text/plain\n\nCould not deliver.\n\n"
      "--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.com\n\n"
      "Final-Recipient: rfc822; ann@example.com\nAction: failed\nStatus: 5.1.1\n\n"
      "--b\nContent-Type: text/rfc822-headers\n\n%s\n--b--\n",
      date ? date : "Mon, 08 Apr 2024 09:05:00 +0000", original_headers);
  g_autoptr (GError) error = NULL;
  BounceReport *r = bounce_report_new_from_data (text, strlen (text), rules, 0, &error);

  g_assert_no_error (error);
  return r;
}

static const BounceEvidence *
find (BounceJudgement *jm, const char *rule)
{
  for (guint i = 0; i < bounce_judgement_get_n_evidence (jm); i++)
    if (strcmp (bounce_judgement_get_evidence (jm, i)->rule, rule) == 0)
      return bounce_judgement_get_evidence (jm, i);
  return NULL;
}

static BounceJudgement *
judge (Owner *o, const char *headers, const char *date)
{
  g_autoptr (BounceReport) r = bounce_of (headers, date);
  g_autoptr (BounceJudge) j = bounce_judge_new (o->id, o->idx, rules);

  return bounce_judge_report (j, r);
}

#define TO_MX                                                                                                          \
  "Received: from submit.provider.example (submit.provider.example [198.51.100.5])\n\tby mx.example.com with ESMTPS "  \
  "id 1; Mon, 08 Apr 2024 09:00:01 +0000\n"

static void
test_phone_bounce (Owner *o, gconstpointer unused)
{
  /* Not in the Sent folder, but the phone's way: legitimate. */
  g_autoptr (BounceJudgement) jm =
      judge (o,
             TO_MX PHONE_HOP
             "From: me@example.org\nTo: ann@example.com\nDate: Mon, 08 Apr 2024 11:00:00 +0200\n"
             "Message-ID: <ffffeeeeddddcccc.1@mobile.provider.example>\nUser-Agent: K-9 Mail for Android\n",
             NULL);

  g_assert_nonnull (find (jm, "path-known"));
  g_assert_nonnull (find (jm, "sent-id-missing-known-path"));
  g_assert_null (find (jm, "sent-id-missing-incomplete"));
  g_assert_null (find (jm, "no-submission-hop"));
  g_assert_null (find (jm, "id-shape-unknown"));
  g_assert_null (find (jm, "zone-unknown"));
  /* a first message to ann: says nothing in a failure report */
  g_assert_nonnull (find (jm, "recipient-new"));
  g_assert_cmpfloat (find (jm, "recipient-new")->weight, ==, 0);
  g_assert_null (find (jm, "recipient-stranger"));
  g_assert_cmpint (bounce_judgement_get_verdict (jm), ==, BOUNCE_VERDICT_LEGITIMATE);
}

static void
test_desktop_bounce (Owner *o, gconstpointer unused)
{
  /* The desktop's copies show no path; its style speaks. */
  g_autoptr (BounceJudgement) jm =
      judge (o,
             "Received: from smtp.example.org (smtp.example.org [192.0.2.10])\n\tby mx.example.com with ESMTPS id 2; "
             "Mon, 08 Apr 2024 09:00:01 +0000\n"
             "Received: from [192.168.1.20] (dsl.example.net [198.51.100.20])\n\tby smtp.example.org (Postfix) with "
             "ESMTPSA id 3; Mon, 08 Apr 2024 09:00:00 +0000\n"
             "From: me@example.org\nTo: ann@example.com\nDate: Mon, 08 Apr 2024 11:00:00 +0200\n"
             "Message-ID: <1a2b3c4d-3333-4444-8555-66667777888f@example.org>\nUser-Agent: Mozilla Thunderbird\n",
             NULL);

  g_assert_nonnull (find (jm, "style-known"));
  g_assert_nonnull (find (jm, "path-new-submission"));
  g_assert_cmpfloat (find (jm, "path-new-submission")->weight, <, 1);
  g_assert_null (find (jm, "no-submission-hop"));
  g_assert_cmpint (bounce_judgement_get_verdict (jm), ==, BOUNCE_VERDICT_LEGITIMATE);
}

static void
test_new_way (Owner *o, gconstpointer unused)
{
  /* A webmail never used before, no relays configured: at worst unknown. */
  g_autoptr (BounceJudgement) jm =
      judge (o,
             "Received: from mail-ej1-f41.example.net (mail-ej1-f41.example.net [198.51.100.41])\n\tby mx.example.com "
             "with ESMTPS id 4; Mon, 08 Apr 2024 09:00:01 +0000\n"
             "Received: by 2002:a05:6a10:8e42:b0:4a3:1234:5678 with SMTP id ab12csp3456;\n\tMon, 08 Apr 2024 09:00:00 "
             "+0000\n"
             "From: me@example.org\nTo: ann@example.com\nDate: Mon, 08 Apr 2024 09:00:00 +0000\n"
             "Message-ID: <CAJ7y1x0webmail4242@mail.example.net>\n",
             NULL);

  g_assert_nonnull (find (jm, "path-new-submission"));
  g_assert_nonnull (find (jm, "id-shape-unknown"));
  g_assert_nonnull (find (jm, "zone-unknown"));
  g_assert_null (find (jm, "no-submission-hop"));
  g_assert_cmpint (bounce_judgement_get_verdict (jm), !=, BOUNCE_VERDICT_BACKSCATTER);
}

static void
test_worm (Owner *o, gconstpointer unused)
{
  g_autoptr (BounceJudgement) jm =
      judge (o,
             "Received: from example.org (unknown [203.0.113.77])\n\tby mx.example.com (Postfix) with ESMTP id 5; Mon, "
             "08 Apr 2024 09:00:00 +0000\n"
             "From: me@example.org\nTo: ann@example.com, bob@example.com, cy@example.com, di@example.net, "
             "ed@example.net\n"
             "Date: Fri, 01 Mar 2024 09:00:00 +0800\nMessage-ID: <KXRPQVGTDSXWBQJF@example.org>\n"
             "X-Mailer: Microsoft Outlook Express 6.00.2600.0000\n",
             NULL);

  g_assert_nonnull (find (jm, "no-submission-hop"));
  g_assert_cmpfloat (find (jm, "no-submission-hop")->weight, >=, 6);
  g_assert_nonnull (find (jm, "id-shape-unknown"));
  g_assert_nonnull (find (jm, "agent-bulk"));
  g_assert_nonnull (find (jm, "zone-unknown"));
  g_assert_nonnull (find (jm, "recipients-harvested"));
  g_assert_nonnull (find (jm, "date-far-from-bounce"));
  g_assert_nonnull (find (jm, "sent-id-missing-incomplete"));
  g_assert_null (find (jm, "path-known"));
  g_assert_null (find (jm, "style-known"));
  g_assert_cmpint (bounce_judgement_get_verdict (jm), ==, BOUNCE_VERDICT_BACKSCATTER);
}

static void
test_relayed_bot (Owner *o, gconstpointer unused)
{
  /* Through another server, no submission hop: every way the owner's
   * sent mail shows has one, so this one says so too. */
  g_autoptr (BounceJudgement) jm =
      judge (o,
             "Received: from relay.isp.example (relay.isp.example [198.51.100.200])\n\tby mx.example.com with SMTP id "
             "6; Mon, 08 Apr 2024 09:00:01 +0000\n"
             "Received: from pc-7 ([203.0.113.7]) by relay.isp.example with SMTP; Mon, 08 Apr 2024 09:00:00 +0000\n"
             "From: me@example.org\nTo: ann@example.com\nDate: Mon, 08 Apr 2024 09:00:00 +0000\nMessage-ID: "
             "<1712566800.4711.qmail@example.org>\n",
             NULL);

  g_assert_nonnull (find (jm, "no-submission-hop"));
  g_assert_cmpint (bounce_judgement_get_verdict (jm), ==, BOUNCE_VERDICT_BACKSCATTER);
}

static void
test_relays_add (Owner *o, gconstpointer unused)
{
  /* A configured relay adds to the learned ways: the phone's way is not
   * "missing" for it; and a HELO naming the relay proves nothing. */
  g_autoptr (BounceJudgement) phone = NULL, helo = NULL;

  g_assert_true (bounce_identity_add_relay (o->id, "smtp.example.org", NULL));
  phone = judge (o,
                 TO_MX PHONE_HOP
                 "From: me@example.org\nTo: ann@example.com\nDate: Mon, 08 Apr 2024 11:00:00 +0200\n"
                 "Message-ID: <ffffeeeeddddcccc.2@mobile.provider.example>\nUser-Agent: K-9 Mail for Android\n",
                 NULL);
  g_assert_null (find (phone, "relay-missing"));
  g_assert_cmpint (bounce_judgement_get_verdict (phone), ==, BOUNCE_VERDICT_LEGITIMATE);
  helo = judge (o,
                "Received: from smtp.example.org (unknown [203.0.113.77])\n\tby mx.example.com (Postfix) with ESMTP id "
                "7; Mon, 08 Apr 2024 09:00:00 +0000\n"
                "From: me@example.org\nTo: ann@example.com\nDate: Mon, 08 Apr 2024 09:00:00 +0000\nMessage-ID: "
                "<QWERTZUIOPASDFGH@example.org>\n",
                NULL);
  g_assert_null (find (helo, "relay-found"));
  g_assert_nonnull (find (helo, "relay-missing"));
  g_assert_cmpint (bounce_judgement_get_verdict (helo), ==, BOUNCE_VERDICT_BACKSCATTER);
  /* the name the server found by reverse DNS counts, as Postfix and Exim write it */
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr (BounceJudgement) rdns =
          judge (o,
                 i == 0 ? "Received: from laptop (smtp.example.org [198.51.100.9])\n\tby mx.example.com (Postfix) with "
                          "ESMTP id 8; Mon, 08 Apr 2024 09:00:00 +0000\n"
                          "From: me@example.org\nTo: ann@example.com\nDate: Mon, 08 Apr 2024 09:00:00 "
                          "+0000\nMessage-ID: <QWERTZUIOPASDFGH@example.org>\n"
                        : "Received: from smtp.example.org ([198.51.100.9] helo=laptop)\n\tby mx.example.com with "
                          "esmtp (Exim 4.96) id 1rX; Mon, 08 Apr 2024 09:00:00 +0000\n"
                          "From: me@example.org\nTo: ann@example.com\nDate: Mon, 08 Apr 2024 09:00:00 "
                          "+0000\nMessage-ID: <QWERTZUIOPASDFGH@example.org>\n",
                 NULL);

      g_assert_nonnull (find (rdns, "relay-found"));
    }
}

static void
test_dkim_learned (Owner *o, gconstpointer unused)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BounceJudgement) signed_ = NULL, other = NULL;
  const char *sent =
      "Received: from [100.64.1.2] by submit.provider.example with esmtpsa; Mon, 01 Apr 2024 09:00:00 +0000\n"
      "DKIM-Signature: v=1; a=rsa-sha256; d=provider.example; s=s1; h=from; bh=x; b=y\n"
      "From: me@example.org\nTo: z@example.net\nDate: Mon, 01 Apr 2024 11:00:00 +0200\nMessage-ID: "
      "<dk1@example.org>\n\nhi\n";
#define ORIG(d)                                                                                                        \
  "Received: from pc ([203.0.113.5]) by mx.example.com with ESMTP; Mon, 08 Apr 2024 09:00:00 +0000\n"                  \
  "DKIM-Signature: v=1; a=rsa-sha256; d=" d "; s=s1; h=from; bh=x; b=y\n"                                              \
  "From: me@example.org\nTo: ann@example.com\nDate: Mon, 08 Apr 2024 11:00:00 +0200\nMessage-ID: <dk2@example.org>\n"
  const char *a = ORIG ("provider.example");
  const char *b = ORIG ("elsewhere.example");

  g_assert_true (bounce_index_add_message (o->idx, sent, strlen (sent), NULL, &error));
  signed_ = judge (o, a, NULL);
  other = judge (o, b, NULL);
  g_assert_nonnull (find (signed_, "dkim-learned"));
  g_assert_cmpfloat (find (signed_, "dkim-learned")->weight, <, 0);
  g_assert_null (find (other, "dkim-learned"));
}

static void
test_date_near (Owner *o, gconstpointer unused)
{
  g_autoptr (BounceJudgement) jm =
      judge (o,
             TO_MX PHONE_HOP
             "From: me@example.org\nTo: ann@example.com\nDate: Sat, 06 Apr 2024 11:00:00 +0200\n"
             "Message-ID: <ffffeeeeddddcccc.3@mobile.provider.example>\nUser-Agent: K-9 Mail for Android\n",
             NULL);

  g_assert_null (find (jm, "date-far-from-bounce"));
  g_assert_null (find (jm, "agent-bulk"));
  g_assert_null (find (jm, "recipients-harvested"));
}

/* Every piece of evidence the judge knows has its weight in
 * rules/weights.rules, and that file names nothing else. */
static void
test_weights_file (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "rules", "weights.rules", NULL);
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  g_autoptr (GHashTable) named = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  const char *name;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    {
      g_auto (GStrv) w = g_strsplit (g_strstrip (lines[i]), " ", 3);

      if (g_strv_length (w) == 3 && strcmp (w[0], "weight") == 0)
        g_hash_table_add (named, g_strdup (w[1]));
    }
  for (guint i = 0; (name = bounce_judge_evidence_name (i)) != NULL; i++)
    {
      if (!g_hash_table_remove (named, name))
        g_error ("weights.rules has no weight for %s", name);
    }
  g_hash_table_remove (named, "threshold-backscatter");
  g_hash_table_remove (named, "threshold-legitimate");
  g_hash_table_remove (named, "veto");
  g_assert_cmpuint (g_hash_table_size (named), ==, 0);
}

int
main (int argc, char **argv)
{
  g_autofree char *rdir = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  rdir = g_test_build_filename (G_TEST_DIST, "..", "rules", NULL);
  rules = bounce_rules_new ();
  g_assert_true (bounce_rules_load_dir (rules, rdir, FALSE, NULL));
  for (guint i = 0; i < G_N_ELEMENTS (hop_cases); i++)
    {
      g_autofree char *p = g_strdup_printf ("/profile/hop/%s", hop_cases[i].what);

      g_test_add_data_func (p, &hop_cases[i], test_hop);
    }
  g_test_add_func ("/profile/shapes", test_shapes);
  g_test_add_func ("/profile/zones", test_zones);
  g_test_add ("/profile/learner", Owner, NULL, owner_init, test_learner, owner_clear);
  g_test_add ("/profile/learn-counts", Owner, NULL, owner_init, test_learn_counts, owner_clear);
  g_test_add ("/profile/evidence/phone", Owner, NULL, owner_init, test_phone_bounce, owner_clear);
  g_test_add ("/profile/evidence/desktop", Owner, NULL, owner_init, test_desktop_bounce, owner_clear);
  g_test_add ("/profile/evidence/new-way", Owner, NULL, owner_init, test_new_way, owner_clear);
  g_test_add ("/profile/evidence/worm", Owner, NULL, owner_init, test_worm, owner_clear);
  g_test_add ("/profile/evidence/relayed-bot", Owner, NULL, owner_init, test_relayed_bot, owner_clear);
  g_test_add ("/profile/evidence/relays-add", Owner, NULL, owner_init, test_relays_add, owner_clear);
  g_test_add ("/profile/evidence/dkim-learned", Owner, NULL, owner_init, test_dkim_learned, owner_clear);
  g_test_add ("/profile/evidence/date-near", Owner, NULL, owner_init, test_date_near, owner_clear);
  g_test_add_func ("/profile/weights-file", test_weights_file);
  status = g_test_run ();
  bounce_rules_unref (rules);
  return status;
}

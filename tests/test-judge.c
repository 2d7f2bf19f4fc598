/* test-judge.c — the judge without the shared corpus: delivery reports
 * written here, an owner with a BATV key, a relay and an address, and
 * weights given as rule text, so that each test says which evidence a
 * report gives and what the thresholds and the veto make of it.
 *
 * The reports are parsed with the installed rules (rules/); the judge
 * gets a rule set holding only the weights each test names. */
#include "bounce-private.h"
#include "test-common.h"

#include <glib/gstdio.h>

#define BOUNCE_DATE "Mon, 08 Apr 2024 10:00:00 +0000"
#define BOUNCE_TIME G_GINT64_CONSTANT (1712570400) /* BOUNCE_DATE */
#define KEY "correct horse battery staple"

static BounceRules *parse_rules;

/* A delivery status notification to @to for an original from @from
 * dated @date, with @received (whole header lines, or "") before its
 * other header fields. */
static char *
make_dsn (const char *to, const char *from, const char *date, const char *received)
{
  return g_strdup_printf ("From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\n"
                          "To: %s\n"
                          "Date: " BOUNCE_DATE "\n"
                          "Subject: Undelivered Mail Returned to Sender\n"
                          "Message-ID: <dsn-1@mx.example.net>\n"
                          "MIME-Version: 1.0\n"
                          "Content-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\n"
                          "\n"
                          "--b1\n"
                          "Content-Type: text/plain\n"
                          "\n"
                          "Your message could not be delivered to one or more recipients.\n"
                          "\n"
                          "--b1\n"
                          "Content-Type: message/delivery-status\n"
                          "\n"
                          "Reporting-MTA: dns; mx.example.net\n"
                          "\n"
                          "Final-Recipient: rfc822; carol@example.net\n"
                          "Action: failed\n"
                          "Status: 5.1.1\n"
                          "Diagnostic-Code: smtp; 550 5.1.1 <carol@example.net>: user unknown\n"
                          "\n"
                          "--b1\n"
                          "Content-Type: message/rfc822\n"
                          "\n"
                          "%s"
                          "From: %s\n"
                          "To: carol@example.net\n"
                          "Subject: the minutes\n"
                          "Date: %s\n"
                          "Message-ID: <minutes-7@example.org>\n"
                          "\n"
                          "The minutes of Tuesday.\n"
                          "\n"
                          "--b1--\n",
                          to, received, from, date);
}

static BounceReport *
report_of (const char *data)
{
  g_autoptr (GError) error = NULL;
  BounceReport *r = bounce_report_new_from_data (data, strlen (data), parse_rules, 0, &error);

  g_assert_no_error (error);
  g_assert_nonnull (r);
  return r;
}

static BounceRules *
weights (const char *text)
{
  g_autoptr (GError) error = NULL;
  BounceRules *w = bounce_rules_new ();

  g_assert_true (bounce_rules_load_data (w, "weights", text, -1, FALSE, &error));
  g_assert_no_error (error);
  return w;
}

/* The owner: bob@example.org, relay smtp.example.org, a BATV key
 * (written with a key file's newline, which is not part of it). */
static BounceIdentity *
owner (void)
{
  BounceIdentity *id = bounce_identity_new ();
  g_autoptr (GBytes) key = g_bytes_new_static (KEY "\n", strlen (KEY) + 1);

  g_assert_true (bounce_identity_add_address (id, "bob@example.org", NULL));
  g_assert_true (bounce_identity_add_relay (id, "smtp.example.org", NULL));
  bounce_identity_set_batv_key (id, key);
  return id;
}

/* Whether @jm holds the evidence @name (and every piece of it, its
 * reserved room zero). */
static gboolean
has_evidence (BounceJudgement *jm, const char *name)
{
  gboolean found = FALSE;

  for (guint i = 0; i < bounce_judgement_get_n_evidence (jm); i++)
    {
      const BounceEvidence *e = bounce_judgement_get_evidence (jm, i);

      g_assert_true (test_is_zero (e->reserved, sizeof e->reserved));
      found |= g_strcmp0 (e->rule, name) == 0;
    }
  return found;
}

static BounceJudgement *
judge (BounceIdentity *id, BounceRules *w, const char *data)
{
  g_autoptr (BounceJudge) j = bounce_judge_new (id, NULL, w);
  g_autoptr (BounceJudge) shared = bounce_judge_ref (j);
  g_autoptr (BounceReport) r = report_of (data);

  /* A second reference judges as the first. */
  return bounce_judge_report (shared, r);
}

#define STANDARD_WEIGHTS                                                                                               \
  "weight threshold-backscatter 6\n"                                                                                   \
  "weight threshold-legitimate -4\n"                                                                                   \
  "weight veto -6\n"                                                                                                   \
  "weight batv-valid -8\n"                                                                                             \
  "weight batv-invalid 8\n"                                                                                            \
  "weight batv-expired 3\n"                                                                                            \
  "weight batv-untagged 5\n"                                                                                           \
  "weight relay-found -8\n"                                                                                            \
  "weight relay-missing 6\n"                                                                                           \
  "weight from-not-owner 4\n"

/* A bounce to a tag the owner's key made that day is the owner's mail. */
static void
test_batv_valid (void)
{
  g_autoptr (GBytes) key = g_bytes_new_static (KEY, strlen (KEY));
  g_autoptr (BounceIdentity) id = owner ();
  g_autoptr (BounceRules) w = weights (STANDARD_WEIGHTS);
  g_autofree char *to = bounce_batv_sign (key, "bob@example.org", BOUNCE_TIME - 3600, 7);
  g_autofree char *dsn = make_dsn (to, "bob@example.org", BOUNCE_DATE, "");
  BounceJudgement *jm = judge (id, w, dsn);

  g_assert_true (g_str_has_prefix (to, "prvs="));
  g_assert_true (has_evidence (jm, "batv-valid"));
  g_assert_cmpfloat (bounce_judgement_get_score (jm), ==, -8);
  g_assert_cmpint (bounce_judgement_get_verdict (jm), ==, BOUNCE_VERDICT_LEGITIMATE);
  bounce_judgement_free (jm);
}

/* A tag of the right shape that the key did not make: backscatter. */
static void
test_batv_invalid (void)
{
  g_autoptr (BounceIdentity) id = owner ();
  g_autoptr (BounceRules) w = weights (STANDARD_WEIGHTS);
  g_autofree char *dsn = make_dsn ("prvs=0123abcdef=bob@example.org", "bob@example.org", BOUNCE_DATE, "");
  BounceJudgement *jm = judge (id, w, dsn);

  g_assert_true (has_evidence (jm, "batv-invalid"));
  g_assert_false (has_evidence (jm, "batv-valid"));
  g_assert_cmpfloat (bounce_judgement_get_score (jm), ==, 8);
  g_assert_cmpint (bounce_judgement_get_verdict (jm), ==, BOUNCE_VERDICT_BACKSCATTER);
  bounce_judgement_free (jm);
}

/* A tag the key made, whose day passed a month before the bounce. */
static void
test_batv_expired (void)
{
  g_autoptr (GBytes) key = g_bytes_new_static (KEY, strlen (KEY));
  g_autoptr (BounceIdentity) id = owner ();
  g_autoptr (BounceRules) w = weights (STANDARD_WEIGHTS);
  g_autofree char *to = bounce_batv_sign (key, "bob@example.org", BOUNCE_TIME - 30 * 86400, 7);
  g_autofree char *dsn = make_dsn (to, "bob@example.org", BOUNCE_DATE, "");
  BounceJudgement *jm = judge (id, w, dsn);

  g_assert_true (has_evidence (jm, "batv-expired"));
  g_assert_cmpfloat (bounce_judgement_get_score (jm), ==, 3);
  g_assert_cmpint (bounce_judgement_get_verdict (jm), ==, BOUNCE_VERDICT_UNKNOWN);
  bounce_judgement_free (jm);
}

/* All the owner's mail leaves tagged: a failure report to the bare
 * address answers mail they did not send. */
static void
test_batv_untagged (void)
{
  g_autoptr (BounceIdentity) id = owner ();
  g_autoptr (BounceRules) w = weights (STANDARD_WEIGHTS);
  g_autofree char *dsn = make_dsn ("Bob <bob@example.org>", "bob@example.org", BOUNCE_DATE, "");
  BounceJudgement *jm = judge (id, w, dsn);

  g_assert_true (has_evidence (jm, "batv-untagged"));
  g_assert_cmpint (bounce_judgement_get_verdict (jm), ==, BOUNCE_VERDICT_UNKNOWN);
  bounce_judgement_free (jm);
}

/* Evidence at or below the veto forbids "backscatter" whatever the sum:
 * the original passed the owner's relay. */
static void
test_veto (void)
{
  g_autoptr (BounceIdentity) id = owner ();
  g_autoptr (BounceRules) w = weights ("weight threshold-backscatter 6\n"
                                       "weight threshold-legitimate -4\n"
                                       "weight veto -6\n"
                                       "weight batv-invalid 20\n"
                                       "weight relay-found -8\n");
  g_autofree char *dsn = make_dsn ("prvs=0123abcdef=bob@example.org", "bob@example.org", BOUNCE_DATE,
                                   "Received: from client.example.org (client.example.org [192.0.2.10])\n"
                                   "\tby smtp.example.org with ESMTPSA id 4Vd2; " BOUNCE_DATE "\n");
  BounceJudgement *jm = judge (id, w, dsn);

  g_assert_true (has_evidence (jm, "relay-found"));
  g_assert_true (has_evidence (jm, "batv-invalid"));
  g_assert_cmpfloat (bounce_judgement_get_score (jm), ==, 12);
  g_assert_cmpint (bounce_judgement_get_verdict (jm), ==, BOUNCE_VERDICT_UNKNOWN);
  bounce_judgement_free (jm);

  /* With the veto lower than the relay's weight, the sum decides. */
  {
    g_autoptr (BounceRules) w2 = weights ("weight threshold-backscatter 6\n"
                                          "weight veto -9\n"
                                          "weight batv-invalid 20\n"
                                          "weight relay-found -8\n");

    jm = judge (id, w2, dsn);
    g_assert_cmpint (bounce_judgement_get_verdict (jm), ==, BOUNCE_VERDICT_BACKSCATTER);
    bounce_judgement_free (jm);
  }
}

/* A score past the threshold made only of evidence that is not about
 * the owner's mail (the dates) is not enough for "backscatter". */
static void
test_owner_evidence_needed (void)
{
  g_autoptr (BounceIdentity) id = bounce_identity_new ();
  g_autoptr (BounceRules) w = weights ("weight threshold-backscatter 6\n"
                                       "weight threshold-legitimate -4\n"
                                       "weight date-far-from-bounce 10\n"
                                       "weight from-not-owner 4\n");
  g_autofree char *dsn = make_dsn ("bob@example.org", "mallory@example.com", "Mon, 01 Jan 2024 10:00:00 +0000", "");
  BounceJudgement *jm = judge (id, w, dsn);

  g_assert_true (has_evidence (jm, "date-far-from-bounce"));
  g_assert_false (has_evidence (jm, "from-not-owner")); /* no address configured */
  g_assert_cmpfloat (bounce_judgement_get_score (jm), ==, 10);
  g_assert_cmpint (bounce_judgement_get_verdict (jm), ==, BOUNCE_VERDICT_UNKNOWN);
  bounce_judgement_free (jm);

  /* The owner's address makes the From speak, and about the owner. */
  g_assert_true (bounce_identity_add_address (id, "bob@example.org", NULL));
  jm = judge (id, w, dsn);
  g_assert_true (has_evidence (jm, "from-not-owner"));
  g_assert_cmpfloat (bounce_judgement_get_score (jm), ==, 14);
  g_assert_cmpint (bounce_judgement_get_verdict (jm), ==, BOUNCE_VERDICT_BACKSCATTER);
  bounce_judgement_free (jm);
}

/* The thresholds are data: without them nothing is decided, and a score
 * exactly at one decides. */
static void
test_thresholds (void)
{
  g_autoptr (BounceIdentity) id = owner ();
  g_autofree char *dsn = make_dsn ("prvs=0123abcdef=bob@example.org", "bob@example.org", BOUNCE_DATE, "");
  g_autoptr (BounceRules) none = weights ("weight batv-invalid 8\n");
  g_autoptr (BounceRules) at = weights ("weight batv-invalid 8\nweight threshold-backscatter 8\n");
  g_autoptr (BounceRules) above = weights ("weight batv-invalid 8\nweight threshold-backscatter 8.5\n");
  g_autoptr (BounceRules) empty = bounce_rules_new ();
  BounceJudgement *jm;

  jm = judge (id, none, dsn);
  g_assert_cmpint (bounce_judgement_get_verdict (jm), ==, BOUNCE_VERDICT_UNKNOWN);
  bounce_judgement_free (jm);
  jm = judge (id, at, dsn);
  g_assert_cmpint (bounce_judgement_get_verdict (jm), ==, BOUNCE_VERDICT_BACKSCATTER);
  bounce_judgement_free (jm);
  jm = judge (id, above, dsn);
  g_assert_cmpint (bounce_judgement_get_verdict (jm), ==, BOUNCE_VERDICT_UNKNOWN);
  bounce_judgement_free (jm);
  /* No weights at all: the evidence is still found, and weighs nothing. */
  jm = judge (id, empty, dsn);
  g_assert_true (has_evidence (jm, "batv-invalid"));
  g_assert_cmpfloat (bounce_judgement_get_score (jm), ==, 0);
  g_assert_cmpint (bounce_judgement_get_verdict (jm), ==, BOUNCE_VERDICT_UNKNOWN);
  bounce_judgement_free (jm);
}

/* Ordinary mail is no bounce: no evidence, no score. */
static void
test_not_bounce (void)
{
  static const char mail[] = "From: Alice <alice@example.net>\n"
                             "To: bob@example.org\n"
                             "Subject: lunch\n"
                             "Date: " BOUNCE_DATE "\n"
                             "Message-ID: <lunch-1@example.net>\n"
                             "\n"
                             "Tuesday at noon?\n";
  g_autoptr (BounceIdentity) id = owner ();
  g_autoptr (BounceRules) w = weights (STANDARD_WEIGHTS);
  BounceJudgement *jm = judge (id, w, mail);

  g_assert_cmpint (bounce_judgement_get_verdict (jm), ==, BOUNCE_VERDICT_NOT_BOUNCE);
  g_assert_cmpuint (bounce_judgement_get_n_evidence (jm), ==, 0);
  bounce_judgement_free (jm);
}

/* The header lines filter and tag add: verdict, score, kind, format, and
 * each piece of evidence with its weight, in the order found (the
 * original came back without a Received header, and its Message-ID is
 * under the domain of the owner's relay). */
static void
test_headers (void)
{
  g_autoptr (BounceIdentity) id = owner ();
  g_autoptr (BounceRules) w = weights (STANDARD_WEIGHTS);
  g_autofree char *dsn = make_dsn ("prvs=0123abcdef=bob@example.org", "bob@example.org", BOUNCE_DATE, "");
  g_autoptr (BounceJudge) j = bounce_judge_new (id, NULL, w);
  g_autoptr (BounceReport) r = report_of (dsn);
  BounceJudgement *jm = bounce_judge_report (j, r);
  g_autofree char *lines = bounce_judgement_to_headers (jm, r, "\r\n");
  g_autofree char *want = g_strdup_printf ("X-Backscatter: backscatter; score=8.0; kind=failure; format=%s\r\n"
                                           "X-Backscatter-Evidence: relay-id-domain (+0.0), batv-invalid (+8.0)\r\n",
                                           bounce_report_get_format (r));

  g_assert_cmpstr (lines, ==, want);
  bounce_judgement_free (jm);
}

/* The judge holds the sent-mail index it was given: the caller may drop
 * its reference right away, and the judge still asks the index (the
 * original's Message-ID is found there) until the judge itself goes. */
static void
test_index_outlives_opener (void)
{
  static const char sent[] = "From: bob@example.org\n"
                             "To: carol@example.net\n"
                             "Subject: the minutes\n"
                             "Date: Mon, 08 Apr 2024 09:00:00 +0000\n"
                             "Message-ID: <minutes-7@example.org>\n"
                             "\n"
                             "The minutes of Tuesday.\n";
  g_autofree char *tmp = g_dir_make_tmp ("judge-index-XXXXXX", NULL);
  g_autofree char *db = g_build_filename (tmp, "sent.db", NULL);
  g_autoptr (BounceIdentity) id = bounce_identity_new ();
  g_autoptr (BounceRules) w = weights ("weight threshold-legitimate -4\n"
                                       "weight sent-id-found -10\n");
  g_autofree char *dsn = make_dsn ("bob@example.org", "bob@example.org", BOUNCE_DATE, "");
  g_autoptr (BounceReport) r = report_of (dsn);
  g_autoptr (GError) error = NULL;
  BounceIndex *idx = bounce_index_open (db, FALSE, &error);
  g_autoptr (BounceJudge) j = NULL;
  g_autoptr (BounceJudgement) jm = NULL;
  gboolean added = FALSE;

  g_assert_no_error (error);
  g_assert_true (bounce_index_add_message (idx, sent, strlen (sent), &added, &error));
  g_assert_no_error (error);
  g_assert_true (added);
  j = bounce_judge_new (id, idx, w);
  bounce_index_unref (idx);
  jm = bounce_judge_report (j, r);
  g_assert_true (has_evidence (jm, "sent-id-found"));
  g_assert_cmpfloat (bounce_judgement_get_score (jm), ==, -10);
  g_assert_cmpint (bounce_judgement_get_verdict (jm), ==, BOUNCE_VERDICT_LEGITIMATE);

  /* The last reference, the judge's, closes the database. */
  g_clear_pointer (&j, bounce_judge_unref);
  for (const char *const *suffix = (const char *const[]){ "", "-wal", "-shm", NULL }; *suffix; suffix++)
    {
      g_autofree char *f = g_strconcat (db, *suffix, NULL);

      g_unlink (f);
    }
  g_assert_cmpint (g_rmdir (tmp), ==, 0);
}

/* The verdicts' names, both ways. */
static void
test_verdict_names (void)
{
  BounceVerdict v = BOUNCE_VERDICT_UNKNOWN;

  for (BounceVerdict i = BOUNCE_VERDICT_NOT_BOUNCE; i <= BOUNCE_VERDICT_BACKSCATTER; i++)
    {
      g_assert_true (bounce_verdict_from_string (bounce_verdict_to_string (i), &v));
      g_assert_cmpint (v, ==, i);
    }
  g_assert_cmpstr (bounce_verdict_to_string (BOUNCE_VERDICT_BACKSCATTER), ==, "backscatter");
  g_assert_false (bounce_verdict_from_string ("Backscatter", &v));
  g_assert_false (bounce_verdict_from_string (NULL, &v));
}

int
main (int argc, char **argv)
{
  g_autofree char *rdir = NULL;
  int rc;

  g_test_init (&argc, &argv, NULL);
  rdir = g_test_build_filename (G_TEST_DIST, "..", "rules", NULL);
  parse_rules = bounce_rules_new ();
  g_assert_true (bounce_rules_load_dir (parse_rules, rdir, FALSE, NULL));
  g_test_add_func ("/judge/batv-valid", test_batv_valid);
  g_test_add_func ("/judge/batv-invalid", test_batv_invalid);
  g_test_add_func ("/judge/batv-expired", test_batv_expired);
  g_test_add_func ("/judge/batv-untagged", test_batv_untagged);
  g_test_add_func ("/judge/veto", test_veto);
  g_test_add_func ("/judge/owner-evidence-needed", test_owner_evidence_needed);
  g_test_add_func ("/judge/thresholds", test_thresholds);
  g_test_add_func ("/judge/not-bounce", test_not_bounce);
  g_test_add_func ("/judge/headers", test_headers);
  g_test_add_func ("/judge/verdict-names", test_verdict_names);
  g_test_add_func ("/judge/index-outlives-opener", test_index_outlives_opener);
  rc = g_test_run ();
  bounce_rules_unref (parse_rules);
  return rc;
}

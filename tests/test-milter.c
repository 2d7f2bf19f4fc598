/* test-milter.c — the BATV signer and verifier, and the decisions of
 * `backscatter milter` step by step (cli/milter-policy.c) without an MTA:
 * the same calls libmilter's callbacks make, with real messages, rules
 * and a real sent-mail index in a temporary folder. */
#include "config.h"
#include "milter-policy.h"

#include <glib/gstdio.h>
#include <string.h>

static GBytes *
test_key (void)
{
  static const char k[] = "a secret shared by every MX host";

  return g_bytes_new_static (k, sizeof k - 1);
}

/* The tag as draft-levine-smtp-batv defines it, computed here on its own:
 * K, DDD, then the first three bytes of HMAC-SHA1("KDDD" address). */
static char *
draft_tag (GBytes *key, int k, int day, const char *address)
{
  g_autofree char *src = g_strdup_printf ("%d%03d%s", k, day, address);
  g_autofree char *lower = g_ascii_strdown (src, -1);
  g_autofree char *hmac =
      g_compute_hmac_for_string (G_CHECKSUM_SHA1, g_bytes_get_data (key, NULL), g_bytes_get_size (key), lower, -1);

  return g_strdup_printf ("%d%03d%.6s", k, day, hmac);
}

static void
test_batv_sign_format (void)
{
  g_autoptr (GBytes) key = test_key ();
  gint64 now = 1712570535; /* 2024-04-08 */
  int day = (int) ((now / 86400 + 7) % 1000);
  g_autofree char *tagged = bounce_batv_sign (key, "bob@example.org", now, 7);
  g_autofree char *want_tag = draft_tag (key, 0, day, "bob@example.org");
  g_autofree char *want = g_strdup_printf ("prvs=%s=bob@example.org", want_tag);

  g_assert_cmpstr (tagged, ==, want);
  g_assert_true (g_regex_match_simple ("^prvs=0[0-9]{3}[0-9a-f]{6}=bob@example\\.org$", tagged, 0, 0));
}

static void
test_batv_round_trip (void)
{
  g_autoptr (GBytes) key = test_key ();
  g_autoptr (GBytes) other = g_bytes_new_static ("another key", 11);
  gint64 now = 1712570535;
  g_autofree char *tagged = bounce_batv_sign (key, "Bob.Smith@Example.org", now, 7);
  g_autofree char *plain = NULL;
  g_autofree char *upper = g_ascii_strup (tagged, -1);
  g_autofree char *resigned = bounce_batv_sign (key, tagged, now, 7);
  g_autofree char *forged = g_strdup (tagged);

  g_assert_cmpint (bounce_batv_verify (key, tagged, now, &plain), ==, BOUNCE_BATV_VALID);
  g_assert_cmpstr (plain, ==, "Bob.Smith@Example.org");
  g_assert_cmpint (bounce_batv_verify (key, upper, now, NULL), ==, BOUNCE_BATV_VALID);
  /* the last day of validity, and the day after */
  g_assert_cmpint (bounce_batv_verify (key, tagged, now + 7 * 86400, NULL), ==, BOUNCE_BATV_VALID);
  g_assert_cmpint (bounce_batv_verify (key, tagged, now + 8 * 86400, NULL), ==, BOUNCE_BATV_EXPIRED);
  g_assert_cmpint (bounce_batv_verify (other, tagged, now, NULL), ==, BOUNCE_BATV_INVALID);
  forged[12] = forged[12] == '0' ? '1' : '0'; /* a hash digit */
  g_assert_cmpint (bounce_batv_verify (key, forged, now, NULL), ==, BOUNCE_BATV_INVALID);
  forged[12] = tagged[12];
  forged[7] = forged[7] == '0' ? '1' : '0'; /* the day: the hash covers it */
  g_assert_cmpint (bounce_batv_verify (key, forged, now, NULL), ==, BOUNCE_BATV_INVALID);
  g_assert_cmpint (bounce_batv_verify (key, "bob@example.org", now, NULL), ==, BOUNCE_BATV_NONE);
  g_assert_cmpint (bounce_batv_verify (key, "prvs=nonsense@example.org", now, NULL), ==, BOUNCE_BATV_INVALID);
  /* signing a tagged address signs its plain form */
  g_assert_cmpstr (resigned, ==, tagged);
  g_assert_null (bounce_batv_sign (key, "no-domain", now, 7));
  g_assert_null (bounce_batv_sign (key, "bob@example.org", now, 0));
  g_assert_null (bounce_batv_sign (key, "bob@example.org", now, 61));
}

/* The older order some signers use, prvs=user=tag, is read too. */
static void
test_batv_old_order (void)
{
  g_autoptr (GBytes) key = test_key ();
  gint64 now = 1712570535;
  g_autofree char *tag = draft_tag (key, 0, (int) ((now / 86400 + 3) % 1000), "bob@example.org");
  g_autofree char *addr = g_strdup_printf ("prvs=bob=%s@example.org", tag);

  g_assert_cmpint (bounce_batv_verify (key, addr, now, NULL), ==, BOUNCE_BATV_VALID);
}

/* ---- the milter's decisions ------------------------------------------ */

typedef struct
{
  char *dir;
  MilterConfig *cfg;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  const char *extra = data ? data : "";
  g_autofree char *conf = NULL, *key = NULL, *text = NULL;
  CliSettings s = { 0 };
  g_autoptr (GError) error = NULL;
  char *rules[] = { (char *) g_test_get_filename (G_TEST_DIST, "..", "rules", NULL), NULL };

  f->dir = g_dir_make_tmp ("backscatter-milter-XXXXXX", &error);
  g_assert_no_error (error);
  key = g_build_filename (f->dir, "batv.key", NULL);
  g_file_set_contents (key, "a secret shared by every MX host\n", -1, &error);
  g_assert_no_error (error);
  conf = g_build_filename (f->dir, "config", NULL);
  text = g_strdup_printf ("[identity]\naddresses = *@example.org; *@example.net\nrelays = mx.example.org\n"
                          "batv-key-file = %s\n[sent]\ncomplete = true\nindex = %s/sent.db\n"
                          "[milter]\noutgoing-networks = 192.0.2.0/24\noutgoing-daemons = ORIGINATING\n"
                          "batv-sign = example.org\n%s",
                          key, f->dir, extra);
  g_file_set_contents (conf, text, -1, &error);
  g_assert_no_error (error);
  s.config = conf;
  s.rules_dirs = rules;
  f->cfg = milter_config_load (&s, &error);
  g_assert_no_error (error);
  g_assert_true (milter_config_open_index (f->cfg, &error));
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", f->dir);

  milter_config_unref (f->cfg);
  g_assert_cmpint (system (cmd), ==, 0);
  g_free (f->dir);
}

/* Feed a whole message as an MTA does: header by header (folded values
 * keep their line breaks), then the body in pieces. */
static void
send_message (MilterSession *s, const char *msg)
{
  g_auto (GStrv) parts = g_strsplit (msg, "\n\n", 2);
  g_auto (GStrv) lines = g_strsplit (parts[0], "\n", -1);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) values = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *body = NULL;

  for (guint i = 0; lines[i]; i++)
    {
      if ((lines[i][0] == ' ' || lines[i][0] == '\t') && values->len)
        {
          char *v = g_strconcat (values->pdata[values->len - 1], "\r\n", lines[i], NULL);

          g_free (values->pdata[values->len - 1]);
          values->pdata[values->len - 1] = v;
          continue;
        }
      {
        const char *colon = strchr (lines[i], ':');

        g_assert_nonnull (colon);
        g_ptr_array_add (names, g_strndup (lines[i], colon - lines[i]));
        g_ptr_array_add (values, g_strdup (colon[1] == ' ' ? colon + 2 : colon + 1));
      }
    }
  for (guint i = 0; i < names->len; i++)
    milter_session_header (s, names->pdata[i], values->pdata[i]);
  milter_session_eoh (s);
  {
    g_auto (GStrv) bl = g_strsplit (parts[1] ? parts[1] : "", "\n", -1);

    body = g_strjoinv ("\r\n", bl);
  }
  /* in pieces, as libmilter passes them */
  for (gsize at = 0, n = strlen (body); at < n; at += 100)
    milter_session_body (s, body + at, MIN (100, n - at));
}

static char *
original_headers (const char *mid, const char *received)
{
  return g_strdup_printf ("%s\nFrom: Alice <alice@example.net>\nTo: carol@example.com\n"
                          "Subject: the minutes of Tuesday\nDate: Mon, 8 Apr 2024 10:00:00 +0000\n"
                          "Message-ID: <%s>\n",
                          received, mid);
}

static char *
make_dsn (const char *to, const char *mid, const char *received)
{
  g_autofree char *orig = original_headers (mid, received);

  return g_strdup_printf ("From: Mail Delivery System <MAILER-DAEMON@mail.example.com>\nTo: %s\n"
                          "Subject: Undelivered Mail Returned to Sender\nDate: Mon, 8 Apr 2024 11:00:00 +0000\n"
                          "Message-ID: <bounce.%s>\nMIME-Version: 1.0\n"
                          "Content-Type: multipart/report; report-type=delivery-status;\n\tboundary=\"B\"\n\n"
                          "--B\nContent-Type: text/plain\n\nI could not deliver your message.\n\n"
                          "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mail.example.com\n\n"
                          "Final-Recipient: rfc822; carol@example.com\nAction: failed\nStatus: 5.1.1\n"
                          "Diagnostic-Code: smtp; 550 5.1.1 User unknown\n\n"
                          "--B\nContent-Type: text/rfc822-headers\n\n%s\n--B--\n",
                          to, mid, orig);
}

#define OURS "Received: from [192.0.2.10] by mx.example.org with ESMTPSA; Mon, 8 Apr 2024 10:00:01 +0000"
#define THEIRS "Received: from infected.example.com ([203.0.113.9]) by mail.example.com; Mon, 8 Apr 2024 10:00:01 +0000"

static const char outgoing_msg[] =
    "From: Alice <alice@example.net>\nTo: carol@example.com\nSubject: the minutes of Tuesday\n"
    "Date: Mon, 8 Apr 2024 10:00:00 +0000\nMessage-ID: <real-1@example.net>\n\nHere they are.\n";

static const char ordinary_msg[] =
    "From: Dan <dan@example.com>\nTo: alice@example.net\nSubject: results\n"
    "Date: Mon, 8 Apr 2024 10:00:00 +0000\nMessage-ID: <o-1@example.com>\n\nThe results.\n";

static MilterResult *
run (MilterConfig *cfg, const char *ip, const char *daemon, const char *auth, const char *from, const char *rcpt,
     const char *msg, MilterAction *rcpt_action, char **rcpt_reply)
{
  g_autoptr (MilterSession) s = milter_session_new (cfg, ip, "client.example", daemon);
  g_autofree char *reply = NULL, *log = NULL;
  MilterAction a;

  milter_session_mail (s, from, auth);
  a = milter_session_rcpt (s, rcpt, &reply, &log);
  if (rcpt_action)
    *rcpt_action = a;
  if (rcpt_reply)
    *rcpt_reply = g_steal_pointer (&reply);
  if (a == MILTER_REJECT)
    {
      g_assert_nonnull (log);
      return NULL;
    }
  send_message (s, msg);
  return milter_session_eom (s, "QID1");
}

static gboolean
has_header (MilterResult *r, const char *name, const char *value_prefix)
{
  for (guint i = 0; i + 1 < r->headers->len; i += 2)
    if (g_ascii_strcasecmp (r->headers->pdata[i], name) == 0
        && g_str_has_prefix (r->headers->pdata[i + 1], value_prefix))
      return TRUE;
  return FALSE;
}

static void
test_outgoing_recorded_then_bounce (Fixture *f, gconstpointer data)
{
  g_autoptr (MilterResult) out =
      run (f->cfg, "192.0.2.10", NULL, NULL, "<alice@example.net>", "<carol@example.com>", outgoing_msg, NULL, NULL);
  g_autofree char *real = make_dsn ("alice@example.net", "real-1@example.net", OURS);
  g_autofree char *forged = make_dsn ("alice@example.net", "worm-1@example.net", THEIRS);
  g_autoptr (MilterResult) r1 = NULL;
  g_autoptr (MilterResult) r2 = NULL;

  g_assert_cmpint (out->action, ==, MILTER_ACCEPT);
  g_assert_null (out->new_sender); /* example.net does not sign */
  g_assert_nonnull (strstr (out->log, "sent-index=recorded"));
  /* the bounce of what was recorded: delivered, tagged legitimate */
  r1 = run (f->cfg, "198.51.100.7", NULL, NULL, "<>", "<alice@example.net>", real, NULL, NULL);
  g_assert_cmpint (r1->action, ==, MILTER_TAG);
  g_assert_true (has_header (r1, "X-Backscatter", "legitimate;"));
  g_assert_true (has_header (r1, "X-Backscatter-Evidence", "sent-id-found"));
  g_assert_nonnull (strstr (r1->log, "queue=QID1 "));
  g_assert_nonnull (strstr (r1->log, "verdict=legitimate"));
  /* a forged one: refused with the reason */
  r2 = run (f->cfg, "198.51.100.7", NULL, NULL, "<>", "<alice@example.net>", forged, NULL, NULL);
  g_assert_cmpint (r2->action, ==, MILTER_REJECT);
  g_assert_true (g_str_has_prefix (r2->reply, "backscatter: "));
  g_assert_nonnull (strstr (r2->log, "verdict=backscatter"));
  g_assert_nonnull (strstr (r2->log, "sent-id-missing"));
  g_assert_nonnull (strstr (r2->log, "action=reject"));
}

static void
test_outgoing_kinds (Fixture *f, gconstpointer data)
{
  g_autofree char *forged = make_dsn ("alice@example.net", "worm-2@example.net", THEIRS);
  const struct
  {
    const char *ip, *daemon, *auth;
    gboolean outgoing;
  } cases[] = {
    { "192.0.2.99", NULL, NULL, TRUE }, /* outgoing-networks */
    { "198.51.100.7", "ORIGINATING", NULL, TRUE },
    { "198.51.100.7", NULL, "alice", TRUE }, /* {auth_authen} */
    { NULL, NULL, NULL, TRUE },              /* submitted on the host */
    { "198.51.100.7", "smtpd", "", FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (MilterResult) r =
          run (f->cfg, cases[i].ip, cases[i].daemon, cases[i].auth, "<>", "<alice@example.net>", forged, NULL, NULL);

      /* outgoing mail is recorded, never judged */
      g_assert_cmpint (r->action, ==, cases[i].outgoing ? MILTER_ACCEPT : MILTER_REJECT);
      g_assert_true ((strstr (r->log, " outgoing ") != NULL) == cases[i].outgoing);
    }
}

static void
test_batv_sign_and_check (Fixture *f, gconstpointer data)
{
  static const char bob_msg[] = "From: Bob <bob@example.org>\nTo: carol@example.com\nSubject: hello\n"
                                "Date: Mon, 8 Apr 2024 10:00:00 +0000\nMessage-ID: <b-1@example.org>\n\nHello.\n";
  g_autoptr (MilterResult) out =
      run (f->cfg, "192.0.2.10", NULL, NULL, "<bob@example.org>", "<carol@example.com>", bob_msg, NULL, NULL);
  g_autofree char *tagged = NULL, *forged = NULL, *dsn = NULL, *reply = NULL;
  g_autoptr (MilterResult) back = NULL;
  g_autoptr (MilterResult) none = NULL;
  g_autoptr (GBytes) key = test_key ();
  MilterAction a;

  g_assert_nonnull (out->new_sender);
  g_assert_true (g_str_has_prefix (out->new_sender, "<prvs="));
  tagged = g_strndup (out->new_sender + 1, strlen (out->new_sender) - 2);
  g_assert_cmpint (bounce_batv_verify (key, tagged, g_get_real_time () / G_USEC_PER_SEC, NULL), ==, BOUNCE_BATV_VALID);
  g_assert_nonnull (strstr (out->log, "batv=signed"));

  /* a bounce to the tag: accepted, the tag taken off */
  dsn = make_dsn (tagged, "b-1@example.org", OURS);
  {
    g_autofree char *rcpt = g_strdup_printf ("<%s>", tagged);

    back = run (f->cfg, "198.51.100.7", NULL, NULL, "<>", rcpt, dsn, &a, NULL);
    g_assert_cmpint (a, ==, MILTER_ACCEPT);
    g_assert_nonnull (back);
    g_assert_cmpint (back->del_rcpt->len, ==, 1);
    g_assert_cmpstr (back->del_rcpt->pdata[0], ==, rcpt);
    g_assert_cmpstr (back->add_rcpt->pdata[0], ==, "<bob@example.org>");
  }
  /* a forged tag: refused at RCPT */
  forged = g_strdup_printf ("<%s>", tagged);
  forged[13] = forged[13] == 'a' ? 'b' : 'a';
  g_assert_null (run (f->cfg, "198.51.100.7", NULL, NULL, "<>", forged, dsn, &a, &reply));
  g_assert_cmpint (a, ==, MILTER_REJECT);
  g_assert_nonnull (strstr (reply, "BATV"));
  g_clear_pointer (&reply, g_free);
  /* the same address from an ordinary sender is none of the milter's business */
  none = run (f->cfg, "198.51.100.7", NULL, NULL, "<dan@example.com>", forged, ordinary_msg, &a, NULL);
  g_assert_cmpint (a, ==, MILTER_ACCEPT);
  g_assert_cmpint (none->del_rcpt->len, ==, 0);
  /* a bounce to an untagged address of a signing domain */
  g_assert_null (run (f->cfg, "198.51.100.7", NULL, NULL, "<MAILER-DAEMON@mail.example.com>", "<bob@example.org>", dsn,
                      &a, &reply));
  g_assert_cmpint (a, ==, MILTER_REJECT);
}

static void
test_untagged_tag (Fixture *f, gconstpointer data)
{
  g_autofree char *dsn = make_dsn ("bob@example.org", "x-1@example.org", OURS);
  MilterAction a;
  g_autoptr (MilterResult) r = run (f->cfg, "198.51.100.7", NULL, NULL, "<>", "<bob@example.org>", dsn, &a, NULL);

  g_assert_cmpint (a, ==, MILTER_ACCEPT);
  g_assert_true (has_header (r, "X-Backscatter-BATV", "untagged"));
}

static void
test_ordinary_untouched (Fixture *f, gconstpointer data)
{
  g_autoptr (MilterResult) r =
      run (f->cfg, "198.51.100.7", NULL, NULL, "<dan@example.com>", "<alice@example.net>", ordinary_msg, NULL, NULL);

  g_assert_cmpint (r->action, ==, MILTER_ACCEPT);
  g_assert_cmpint (r->headers->len, ==, 0);
  g_assert_null (r->new_sender);
  g_assert_nonnull (strstr (r->log, "verdict=not-bounce"));
}

static void
test_actions_configured (Fixture *f, gconstpointer data)
{
  g_autofree char *forged = make_dsn ("alice@example.net", "worm-3@example.net", THEIRS);
  g_autoptr (MilterResult) r =
      run (f->cfg, "198.51.100.7", NULL, NULL, "<>", "<alice@example.net>", forged, NULL, NULL);

  g_assert_cmpint (r->action, ==, MILTER_QUARANTINE);
  g_assert_nonnull (r->quarantine);
  g_assert_true (has_header (r, "X-Backscatter", "backscatter;"));
}

/* A message larger than max-message-size is kept up to the limit only
 * and still judged from its start. */
static void
test_memory_bound (Fixture *f, gconstpointer data)
{
  g_autofree char *forged = make_dsn ("alice@example.net", "worm-4@example.net", THEIRS);
  g_autoptr (MilterSession) s = milter_session_new (f->cfg, "198.51.100.7", NULL, NULL);
  g_autoptr (MilterResult) r = NULL;
  g_autofree char *reply = NULL, *log = NULL;
  g_autofree char *chunk = g_malloc (65536);

  memset (chunk, 'x', 65536);
  milter_session_mail (s, "<>", NULL);
  milter_session_rcpt (s, "<alice@example.net>", &reply, &log);
  send_message (s, forged);
  for (guint i = 0; i < 160; i++) /* 10 MiB more */
    milter_session_body (s, chunk, 65536);
  g_assert_cmpuint (milter_session_buffered (s), <=, 65536 * 2);
  r = milter_session_eom (s, NULL);
  g_assert_cmpint (r->action, ==, MILTER_REJECT);
  g_assert_nonnull (strstr (r->log, "truncated=yes"));
}

static void
test_config_mistakes (void)
{
  static const char *const bad[] = {
    "action-backscatter = drop\n",
    "action-untagged = quarantine\n",
    "outgoing-networks = 192.0.2.0/99\n",
    "batv-days = 90\n",
    "batv-sign = not a domain\n",
    "socket-mode = rw\n",
    "max-message-size = 10\n",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *dir = g_dir_make_tmp ("backscatter-milter-XXXXXX", NULL);
      g_autofree char *conf = g_build_filename (dir, "config", NULL);
      g_autofree char *text = g_strdup_printf ("[milter]\n%s", bad[i]);
      char *rules[] = { (char *) g_test_get_filename (G_TEST_DIST, "..", "rules", NULL), NULL };
      CliSettings s = { .config = conf, .rules_dirs = rules };
      MilterConfig *cfg;

      g_file_set_contents (conf, text, -1, NULL);
      cfg = milter_config_load (&s, &error);
      g_assert_null (cfg);
      g_assert_error (error, BOUNCE_ERROR, BOUNCE_ERROR_CONFIG);
      g_assert_nonnull (strstr (error->message, ":2: ")); /* names the line */
      g_unlink (conf);
      g_rmdir (dir);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/batv/sign-format", test_batv_sign_format);
  g_test_add_func ("/batv/round-trip", test_batv_round_trip);
  g_test_add_func ("/batv/old-order", test_batv_old_order);
  g_test_add_func ("/milter/config-mistakes", test_config_mistakes);
  g_test_add ("/milter/outgoing-recorded-then-bounce", Fixture, NULL, fixture_set_up,
              test_outgoing_recorded_then_bounce, fixture_tear_down);
  g_test_add ("/milter/outgoing-kinds", Fixture, NULL, fixture_set_up, test_outgoing_kinds, fixture_tear_down);
  g_test_add ("/milter/batv", Fixture, NULL, fixture_set_up, test_batv_sign_and_check, fixture_tear_down);
  g_test_add ("/milter/untagged-tag", Fixture, "action-untagged = tag\n", fixture_set_up, test_untagged_tag,
              fixture_tear_down);
  g_test_add ("/milter/ordinary-untouched", Fixture, NULL, fixture_set_up, test_ordinary_untouched, fixture_tear_down);
  g_test_add ("/milter/action-quarantine", Fixture, "action-backscatter = quarantine\n", fixture_set_up,
              test_actions_configured, fixture_tear_down);
  g_test_add ("/milter/memory-bound", Fixture, "max-message-size = 65536\n", fixture_set_up, test_memory_bound,
              fixture_tear_down);
  return g_test_run ();
}

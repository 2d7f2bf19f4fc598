/* test-scenario.c — the judge on real bounces, as an owner would meet
 * them. From the bounces of ../shared/corpus that return an original with
 * a Message-ID, every other one is taken as mail the owner really sent
 * (its original goes into a complete Sent folder) and the rest as
 * forgeries in the owner's name (same From addresses, not in the Sent
 * folder). No real bounce may be called backscatter; at least 95% of the
 * forged must be, and at least 95% of the real must be called legitimate.
 *
 * A second scenario configures only the owner's relays, as SpamAssassin's
 * VBounce does: a bounce whose original passed a relay of the owner's is
 * never backscatter, and one whose original never touched them is.
 * Skipped when the corpus is absent. */
#include "test-common.h"
#include "bounce-private.h"

#include <glib/gstdio.h>

typedef struct
{
  char *path;
  BounceReport *report;
} Sample;

static GPtrArray *samples; /* Sample, bounces with an original and Message-ID */
static BounceRules *rules;

static void
sample_free (gpointer p)
{
  Sample *s = p;

  g_free (s->path);
  bounce_report_unref (s->report);
  g_free (s);
}

static void
load_samples (void)
{
  g_autofree char *dir = test_corpus_path ("bounces", NULL);
  g_autofree char *rdir = g_test_build_filename (G_TEST_DIST, "..", "rules", NULL);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GHashTable) seen = NULL;
  const char *name;

  samples = g_ptr_array_new_with_free_func (sample_free);
  rules = bounce_rules_new ();
  g_assert_true (bounce_rules_load_dir (rules, rdir, FALSE, NULL));
  if (d == NULL)
    return;
  seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  while ((name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, bounce_compare_strings);
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *path = g_build_filename (dir, g_ptr_array_index (names, i), NULL);
      BounceReport *r = bounce_report_new_from_file (path, rules, 0, NULL);
      BounceOriginal *o = r ? bounce_report_get_original (r) : NULL;
      Sample *s;

      if (o == NULL || bounce_original_get_message_id (o) == NULL || bounce_original_get_from (o) == NULL
          || bounce_report_get_kind (r) != BOUNCE_KIND_FAILURE
          /* The corpus holds some originals twice: one message is one sample. */
          || g_hash_table_contains (seen, bounce_original_get_message_id (o)))
        {
          g_clear_pointer (&r, bounce_report_unref);
          continue;
        }
      g_hash_table_add (seen, g_strdup (bounce_original_get_message_id (o)));
      s = g_new0 (Sample, 1);
      s->path = g_steal_pointer (&path);
      s->report = r;
      g_ptr_array_add (samples, s);
    }
}

/* A sent message standing for the original of @r. */
static void
append_sent (GString *mbox, BounceOriginal *o)
{
  const char *date = bounce_original_get_header (o, "Date");
  const char *to = bounce_original_get_header (o, "To");
  const char *subject = bounce_original_get_header (o, "Subject");

  g_string_append (mbox, "From owner@example.org Thu Jan  1 00:00:00 2004\n");
  g_string_append_printf (mbox, "From: %s\n", bounce_original_get_from (o));
  if (to)
    g_string_append_printf (mbox, "To: %s\n", to);
  if (subject)
    g_string_append_printf (mbox, "Subject: %s\n", subject);
  if (date)
    g_string_append_printf (mbox, "Date: %s\n", date);
  g_string_append_printf (mbox, "Message-ID: %s\n\nsent\n\n", bounce_original_get_message_id (o));
}

static void
test_sent_folder (void)
{
  g_autofree char *tmp = NULL, *mbox_path = NULL, *db = NULL;
  g_autoptr (GString) mbox = g_string_new (NULL);
  g_autoptr (BounceIdentity) id = bounce_identity_new ();
  g_autoptr (BounceIndex) idx = NULL;
  g_autoptr (BounceJudge) judge = NULL;
  g_autoptr (GError) error = NULL;
  guint real = 0, forged = 0, real_legit = 0, real_bs = 0, forged_bs = 0, forged_legit = 0;

  if (samples->len == 0)
    {
      g_test_skip ("no shared corpus (../shared/corpus or BACKSCATTER_CORPUS)");
      return;
    }
  tmp = g_dir_make_tmp ("scenario-XXXXXX", NULL);
  mbox_path = g_build_filename (tmp, "Sent", NULL);
  db = g_build_filename (tmp, "sent.db", NULL);
  for (guint i = 0; i < samples->len; i++)
    {
      Sample *s = g_ptr_array_index (samples, i);
      BounceOriginal *o = bounce_report_get_original (s->report);
      g_autofree char *from = bounce_addr_spec (bounce_original_get_from (o));

      /* The forger uses the owner's own address: every From is the owner's. */
      if (from)
        bounce_identity_add_address (id, from, NULL);
      if (i % 2 == 0)
        append_sent (mbox, o);
    }
  g_assert_true (g_file_set_contents (mbox_path, mbox->str, mbox->len, NULL));
  bounce_identity_add_sent_folder (id, mbox_path);
  bounce_identity_set_complete (id, TRUE);
  idx = bounce_index_open (db, FALSE, &error);
  g_assert_no_error (error);
  g_assert_true (bounce_index_learn_folder (idx, mbox_path, NULL, NULL, &error));
  g_assert_no_error (error);
  judge = bounce_judge_new (id, idx, rules);
  for (guint i = 0; i < samples->len; i++)
    {
      Sample *s = g_ptr_array_index (samples, i);
      g_autoptr (BounceJudgement) jm = bounce_judge_report (judge, s->report);
      BounceVerdict v = bounce_judgement_get_verdict (jm);

      if (i % 2 == 0)
        {
          real++;
          real_legit += v == BOUNCE_VERDICT_LEGITIMATE;
          real_bs += v == BOUNCE_VERDICT_BACKSCATTER;
          if (v == BOUNCE_VERDICT_BACKSCATTER)
            g_test_message ("real bounce called backscatter: %s", s->path);
        }
      else
        {
          forged++;
          forged_bs += v == BOUNCE_VERDICT_BACKSCATTER;
          forged_legit += v == BOUNCE_VERDICT_LEGITIMATE;
          if (v != BOUNCE_VERDICT_BACKSCATTER)
            {
              g_test_message ("forged bounce called %s (score %.1f): %s", bounce_verdict_to_string (v),
                              bounce_judgement_get_score (jm), s->path);
              for (guint e = 0; e < bounce_judgement_get_n_evidence (jm); e++)
                g_test_message ("  %+.1f %s", bounce_judgement_get_evidence (jm, e)->weight,
                                bounce_judgement_get_evidence (jm, e)->rule);
            }
        }
    }
  g_test_message ("sent-folder scenario: %u real bounces: %u legitimate, %u backscatter; "
                  "%u forged: %u backscatter, %u legitimate",
                  real, real_legit, real_bs, forged, forged_bs, forged_legit);
  g_assert_cmpuint (real + forged, >=, 200);
  g_assert_cmpuint (real_bs, ==, 0);
  g_assert_cmpuint (forged_bs * 100, >=, forged * 95);
  g_assert_cmpuint (real_legit * 100, >=, real * 95);
  g_unlink (mbox_path);
  g_unlink (db);
  {
    g_autofree char *wal = g_strconcat (db, "-wal", NULL);
    g_autofree char *shm = g_strconcat (db, "-shm", NULL);

    g_unlink (wal);
    g_unlink (shm);
  }
  g_rmdir (tmp);
}

/* Only relays: VBounce's rule. For each bounce whose original has
 * Received headers, the owner's relay is the first host that handled it
 * (the bottom Received's by-host) for the "real" half, and a host that
 * appears nowhere in it for the other half. */
static void
test_relays_only (void)
{
  guint agree = 0, total = 0;

  if (samples->len == 0)
    {
      g_test_skip ("no shared corpus (../shared/corpus or BACKSCATTER_CORPUS)");
      return;
    }
  for (guint i = 0; i < samples->len; i++)
    {
      Sample *s = g_ptr_array_index (samples, i);
      BounceOriginal *o = bounce_report_get_original (s->report);
      guint n = bounce_original_get_n_received (o);
      const BounceReceived *bottom;
      g_autoptr (BounceIdentity) id = bounce_identity_new ();
      g_autoptr (BounceJudge) judge = NULL;
      g_autoptr (BounceJudgement) jm = NULL;
      gboolean real = i % 2 == 0;
      BounceVerdict v;

      if (n == 0)
        continue;
      bottom = bounce_original_get_received (o, n - 1);
      if (bottom->by_host == NULL || !strchr (bottom->by_host, '.'))
        continue;
      g_assert_true (bounce_identity_add_relay (id, real ? bottom->by_host : "relay.owner.example", NULL));
      judge = bounce_judge_new (id, NULL, rules);
      jm = bounce_judge_report (judge, s->report);
      v = bounce_judgement_get_verdict (jm);
      total++;
      /* VBounce: relay found means not backscatter; never touched means it is. */
      if (real ? v != BOUNCE_VERDICT_BACKSCATTER : v == BOUNCE_VERDICT_BACKSCATTER)
        agree++;
      else
        g_test_message ("%s: %s with relay %s", s->path, bounce_verdict_to_string (v),
                        real ? bottom->by_host : "relay.owner.example");
      if (real)
        g_assert_cmpint (v, !=, BOUNCE_VERDICT_BACKSCATTER);
    }
  g_test_message ("relays-only scenario: %u of %u verdicts agree with VBounce", agree, total);
  g_assert_cmpuint (total, >=, 100);
  g_assert_cmpuint (agree * 100, >=, total * 95);
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  load_samples ();
  g_test_add_func ("/scenario/sent-folder", test_sent_folder);
  g_test_add_func ("/scenario/relays-only", test_relays_only);
  status = g_test_run ();
  g_ptr_array_unref (samples);
  bounce_rules_unref (rules);
  return status;
}

/* test-triage.c — the header triage and the second look never drop a
 * report that the full parser would find.
 *
 * Every message of the shared corpus (../shared/corpus beside the source
 * tree; skipped when absent), every .eml file below testdata/ and 400
 * messages of bench/make-ordinary.pl's is parsed twice with
 * the project's rules: with the triage (the default) and without it
 * (BOUNCE_PARSE_NO_TRIAGE). Whenever the full parse finds a report of any
 * kind, the default parse must find the same kind. A file that breaks this
 * is named with the headers the triage saw, so that the one to triage in
 * can be chosen.
 *
 * A message that bounce_report_needs_rules() says needs no rules must
 * read the same with an empty rule set (check and filter load none for
 * it).
 *
 * Cut at 4 KiB, at the 16 KiB a scan reads of a large file first, and
 * around the end of its header block, a message's start must read, when
 * bounce_report_new_from_start() says it decides the message, as the
 * whole message does; and it must decide every ordinary message whose
 * header block ends within the cut.
 *
 * Whatever the triage says of a message, the second look's reading of
 * it (secondlook.c), whenever it reads one, must be the parse's: the
 * same report text, byte for byte, and the same From and Subject as the
 * rules read.
 *
 * The test also says how much the triage lets through: how many messages
 * passed it, how many of those turned out not to be reports, and which
 * header (and which text in it) let those through. */
#include "test-common.h"
#include "bounce-private.h"
#include "generic-private.h"

#include <glib/gstdio.h>
#include <string.h>

/* The message as the triage sees it: without an mbox "From " line. */
static const char *
skip_from_line (const char *data, gsize *len)
{
  gsize skip = bounce_mbox_from_end (data, *len, '\n');

  if (skip > 0 && data[skip - 1] != '\n')
    {
      *len = 0;
      return data;
    }
  *len -= skip;
  return data + skip;
}

/* Calls @func with each unfolded header of the block at @data (name
 * lower-cased, value with its continuation lines); stops when it returns
 * TRUE. */
typedef gboolean (*HeaderFunc) (const char *name, const char *line, gsize line_len, gsize value_at, gpointer user_data);

static void
foreach_header (const char *data, gsize len, HeaderFunc func, gpointer user_data)
{
  gsize hlen = MIN (bounce_header_block_end (data, len), BOUNCE_MAX_HEADER_BYTES), pos = 0;
  BounceHeaderField field;

  /* As the library reads them: the name without the blanks before its colon. */
  while (bounce_header_next (data, hlen, &pos, &field))
    if (field.value != NULL)
      {
        g_autofree char *name = g_ascii_strdown (field.line, field.name_len);

        if (func (name, field.line, field.len, field.value - field.line, user_data))
          return;
      }
}

/* Whether the header block made of @line alone passes the triage. */
static gboolean
line_passes (const char *line, gsize len)
{
  g_autoptr (GString) block = g_string_new_len (line, len);

  if (len == 0 || line[len - 1] != '\n')
    g_string_append_c (block, '\n');
  g_string_append_c (block, '\n');
  return bounce_triage (block->str, block->len, NULL);
}

/* The shortest text of @line's value that alone still passes the
 * triage (the word that let it through), or the header's name when its
 * presence is enough. */
static char *
trigger_of (const char *name, const char *line, gsize len, gsize value_at)
{
  gsize lo = value_at, hi;
  g_autoptr (GString) probe = g_string_new (NULL);

  while (len > value_at && (line[len - 1] == '\n' || line[len - 1] == '\r'))
    len--;
  /* The name alone (an empty value) is enough: a header like X-Autoreply. */
  g_string_append_len (probe, line, value_at);
  if (line_passes (probe->str, probe->len))
    return g_strdup_printf ("%s (present)", name);
  /* The shortest prefix of the value that passes ends at the first match;
   * then the shortest suffix of that prefix is the match itself. */
  for (hi = value_at + 1; hi <= len; hi++)
    {
      g_string_truncate (probe, value_at);
      g_string_append_len (probe, line + value_at, hi - value_at);
      if (line_passes (probe->str, probe->len))
        break;
    }
  if (hi > len)
    return g_strdup_printf ("%s (whole value)", name);
  for (lo = hi - 1; lo > value_at; lo--)
    {
      g_string_truncate (probe, value_at);
      g_string_append_len (probe, line + lo, hi - lo);
      if (line_passes (probe->str, probe->len))
        break;
    }
  {
    g_autofree char *word = g_ascii_strdown (line + lo, hi - lo);

    g_strstrip (word);
    return g_strdup_printf ("%s: \"%s\"", name, word);
  }
}

typedef struct
{
  char *trigger;
} FindTrigger;

static gboolean
find_trigger (const char *name, const char *line, gsize len, gsize value_at, gpointer user_data)
{
  FindTrigger *t = user_data;

  if (!line_passes (line, len))
    return FALSE;
  t->trigger = trigger_of (name, line, len, value_at);
  return TRUE;
}

/* The headers the triage looks at, for the message of a failure. */
static gboolean
add_seen_header (const char *name, const char *line, gsize len, gsize value_at, gpointer user_data)
{
  static const char *const seen[] = {
    "from", "sender", "return-path", "subject", "content-type", "auto-submitted", "precedence", NULL,
  };

  if (g_strv_contains (seen, name))
    {
      g_autofree char *one = g_strndup (line, MIN (len, 200));

      g_strchomp (one);
      g_string_append_printf (user_data, "    %s\n", one);
    }
  return FALSE;
}

typedef struct
{
  guint files, reports, passed, passed_not_reports, looked, looked_not_reports, errors, no_rules, texts, starts;
  GHashTable *triggers; /* trigger text -> count (GUINT_TO_POINTER) */
  GString *failures;
} Tally;

/* The text the second look reads, whenever it reads one, is the text
 * the parse reads: the same bytes, split, decoded and converted alike.
 * Every message is looked at, whatever the triage says of it. */
static void
same_text (const char *data, gsize len, const char *shown, Tally *t)
{
  g_autofree char *lf = bounce_bare_cr_to_lf (data, &len);
  gsize start, hend, seen_len = 0, parsed_len = 0;
  gboolean later = FALSE, original = FALSE;
  g_autofree char *seen = NULL, *parsed = NULL;
  g_autoptr (GMimeObject) msg = NULL;
  g_auto (BounceWalk) w = { 0 };

  data = lf ? lf : data;
  start = bounce_message_start (data, len);
  data += start;
  len = MIN (len - start, (gsize) BOUNCE_MAX_MESSAGE_BYTES);
  hend = bounce_header_block_end (data, MIN (len, (gsize) BOUNCE_MAX_HEADER_BYTES + 2));
  if (hend == 0 || hend > BOUNCE_MAX_HEADER_BYTES
      || (seen = bounce_second_look_text (data, len, hend, &seen_len, &later, &original)) == NULL)
    return;
  t->texts++;
  msg = bounce_parse_part_bytes (data, len);
  if (msg == NULL)
    {
      g_string_append_printf (t->failures, "%s: the second look reads a text, the parse no message\n", shown);
      return;
    }
  /* The From and Subject the rules read. */
  for (guint i = 0; i < 2; i++)
    {
      const char *name = i ? "Subject" : "From";
      g_autofree char *look = bounce_second_look_header (data, hend, name);
      g_autofree char *raw = bounce_header_text (msg, name);
      g_autofree char *rules = raw ? bounce_utf8 (raw, -1) : NULL;

      if (g_strcmp0 (look, rules) != 0)
        g_string_append_printf (t->failures, "%s: the second look reads the %s \"%s\", the rules \"%s\"\n", shown, name,
                                look ? look : "(none)", rules ? rules : "(none)");
    }
  w.report_message = msg;
  bounce_walk (&w, msg);
  parsed = bounce_report_text (&w, &parsed_len);
  if (w.report_message != msg || w.status_part || w.mdn_part || w.feedback_part || w.prologue || w.limited)
    g_string_append_printf (t->failures, "%s: the second look reads a text where the parse reads a report part\n",
                            shown);
  else if (seen_len != parsed_len || memcmp (seen, parsed, seen_len) != 0)
    g_string_append_printf (t->failures,
                            "%s: the second look reads another text (%" G_GSIZE_FORMAT
                            " bytes) than the parse (%" G_GSIZE_FORMAT " bytes)\n",
                            shown, seen_len, parsed_len);
}

/* What a start of the message @data (@len bytes; @whole, what the
 * default parse made of all of it, NULL when it is no message) makes. */
static void
same_from_start (const char *data, gsize len, BounceReport *whole, const char *shown, Tally *t)
{
  gsize start = bounce_message_start (data, len), hend = 0;
  gsize cuts[5] = { 4096, 16384, 0, 0, len - 1 };
  BounceTriage triage = BOUNCE_TRIAGE_NO;

  /* Where the header block ends, past any "From " line and the blank
   * lines before it. */
  if (start < len)
    triage = bounce_triage (data + start, MIN (len - start, (gsize) BOUNCE_MAX_HEADER_BYTES + 2), &hend);
  if (hend > 0)
    {
      cuts[2] = start + hend;
      cuts[3] = cuts[2] + 1;
    }
  for (guint i = 0; i < G_N_ELEMENTS (cuts); i++)
    {
      gsize cut = cuts[i];
      g_autoptr (BounceReport) part = NULL;

      if (cut == 0 || cut >= len)
        continue;
      part = bounce_report_new_from_start (data, cut);
      if (part == NULL)
        {
          /* The whole is read when the start does not decide it: it must
           * for ordinary mail whose block ends within the cut (and whose
           * line ends are not bare CRs, decided past 4 KiB). */
          if (whole && bounce_report_get_kind (whole) == BOUNCE_KIND_NOT_BOUNCE && triage == BOUNCE_TRIAGE_NO
              && hend > 0 && cut >= 4096 && cuts[2] < cut && memchr (data, '\n', MIN (len, 4096)))
            g_string_append_printf (t->failures,
                                    "%s: its start of %" G_GSIZE_FORMAT " bytes holds the whole header block, "
                                    "yet does not decide it\n",
                                    shown, cut);
          continue;
        }
      t->starts++;
      if (whole == NULL || bounce_report_get_kind (whole) != bounce_report_get_kind (part)
          || g_strcmp0 (bounce_report_get_not_report_reason (whole), bounce_report_get_not_report_reason (part)) != 0)
        g_string_append_printf (t->failures,
                                "%s: its start of %" G_GSIZE_FORMAT " bytes reads as %s (%s), the whole as %s (%s)\n",
                                shown, cut, bounce_kind_to_string (bounce_report_get_kind (part)),
                                bounce_report_get_not_report_reason (part),
                                whole ? bounce_kind_to_string (bounce_report_get_kind (whole)) : "no message",
                                whole ? bounce_report_get_not_report_reason (whole) : "");
    }
}

static void
check_file (BounceRules *rules, const char *path, const char *shown, Tally *t)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GMappedFile) map = g_mapped_file_new (path, FALSE, &error);
  g_autoptr (BounceReport) full = NULL, quick = NULL;
  const char *data;
  gsize len;
  BounceKind kind_full, kind_quick;
  BounceTriage passed;
  gboolean looked;
  gsize probe, hend = 0;

  if (map == NULL)
    g_error ("%s", error->message);
  data = g_mapped_file_get_contents (map);
  len = g_mapped_file_get_length (map);
  if (data == NULL)
    data = "";
  t->files++;
  /* What check and filter rely on to load no rules for most mail: a
   * message that bounce_report_needs_rules() says needs none reads the
   * same with an empty rule set as with the project's. */
  if (!bounce_report_needs_rules (data, len, BOUNCE_PARSE_DEFAULT))
    {
      g_autoptr (BounceRules) none = bounce_rules_new ();
      g_autoptr (BounceReport) with = bounce_report_new_from_data (data, len, rules, BOUNCE_PARSE_DEFAULT, NULL);
      g_autoptr (BounceReport) without = bounce_report_new_from_data (data, len, none, BOUNCE_PARSE_DEFAULT, NULL);

      t->no_rules++;
      if ((with == NULL) != (without == NULL)
          || (with && bounce_report_get_kind (with) != bounce_report_get_kind (without)))
        g_string_append_printf (t->failures, "%s: said to need no rules, yet read otherwise without them\n", shown);
    }
  full = bounce_report_new_from_data (data, len, rules, BOUNCE_PARSE_NO_TRIAGE, &error);
  if (full == NULL)
    {
      /* Not a message at all: the default parse must say so too. */
      g_clear_error (&error);
      quick = bounce_report_new_from_data (data, len, rules, BOUNCE_PARSE_DEFAULT, &error);
      if (quick != NULL)
        g_string_append_printf (t->failures, "%s: the full parse fails, the default one does not\n", shown);
      same_from_start (data, len, quick, shown, t);
      t->errors++;
      return;
    }
  quick = bounce_report_new_from_data (data, len, rules, BOUNCE_PARSE_DEFAULT, &error);
  g_assert_no_error (error);
  same_from_start (data, len, quick, shown, t);
  kind_full = bounce_report_get_kind (full);
  kind_quick = bounce_report_get_kind (quick);
  data = skip_from_line (data, &len);
  probe = MIN (len, (gsize) BOUNCE_MAX_HEADER_BYTES + 2);
  passed = bounce_triage (data, probe, &hend);
  /* Where it stopped reading is where the header block ends. */
  if (passed != BOUNCE_TRIAGE_YES && hend != bounce_header_block_end (data, probe))
    g_string_append_printf (t->failures,
                            "%s: the triage says the header block ends at %" G_GSIZE_FORMAT
                            ", it ends at %" G_GSIZE_FORMAT "\n",
                            shown, hend, bounce_header_block_end (data, probe));

  /* What is parsed after the second look. */
  looked = passed == BOUNCE_TRIAGE_YES
           || ((passed == BOUNCE_TRIAGE_SUBJECT || passed == BOUNCE_TRIAGE_ROLE)
               && !bounce_second_look (data, MIN (len, BOUNCE_MAX_MESSAGE_BYTES), hend, rules));
  same_text (data, len, shown, t);
  if (kind_full != BOUNCE_KIND_NOT_BOUNCE)
    t->reports++;
  if (looked)
    {
      t->looked++;
      t->looked_not_reports += kind_full == BOUNCE_KIND_NOT_BOUNCE;
    }
  if (passed)
    {
      t->passed++;
      if (kind_full == BOUNCE_KIND_NOT_BOUNCE)
        {
          FindTrigger ft = { NULL };

          t->passed_not_reports++;
          foreach_header (data, len, find_trigger, &ft);
          if (ft.trigger == NULL)
            ft.trigger = g_strdup ("(no single header)");
          g_hash_table_insert (t->triggers, ft.trigger,
                               GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (t->triggers, ft.trigger)) + 1));
        }
    }
  if (kind_full != BOUNCE_KIND_NOT_BOUNCE && kind_quick != kind_full)
    {
      g_string_append_printf (t->failures, "%s: the full parse says %s (%s), the triage %s it; its headers:\n", shown,
                              bounce_kind_to_string (kind_full), bounce_report_get_format (full) ?: "no format",
                              !passed  ? "drops"
                              : looked ? "passed (yet the kind differs)"
                                       : "passed, and the second look drops");
      foreach_header (data, len, add_seen_header, t->failures);
    }
}

static int
by_count_desc (gconstpointer a, gconstpointer b, gpointer user_data)
{
  GHashTable *counts = user_data;
  guint ca = GPOINTER_TO_UINT (g_hash_table_lookup (counts, *(char **) a));
  guint cb = GPOINTER_TO_UINT (g_hash_table_lookup (counts, *(char **) b));

  if (ca != cb)
    return ca > cb ? -1 : 1;
  return strcmp (*(char **) a, *(char **) b);
}

static void
check_files (const char *label, const char *root, GPtrArray *files)
{
  g_autoptr (BounceRules) rules = test_project_rules ();
  Tally t = { 0 };
  g_autoptr (GPtrArray) keys = NULL;
  gsize skip = strlen (root) + 1;
  GHashTableIter it;
  gpointer key;
  /* Under valgrind (BACKSCATTER_VALGRIND), a tenth of the corpus. */
  guint step = g_getenv ("BACKSCATTER_VALGRIND") && files->len > 500 ? 10 : 1;

  t.triggers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  t.failures = g_string_new (NULL);
  for (guint i = 0; i < files->len; i += step)
    {
      const char *path = g_ptr_array_index (files, i);

      check_file (rules, path, strlen (path) > skip ? path + skip : path, &t);
    }
  g_test_message ("%s: %u messages, %u reports (full parse), %u not messages; "
                  "%u passed the triage, %u of those not reports; "
                  "%u passed the second look, %u of those not reports; "
                  "%u read without rules; %u texts read alike by the second look and the parse; "
                  "%u starts read alike",
                  label, t.files, t.reports, t.errors, t.passed, t.passed_not_reports, t.looked, t.looked_not_reports,
                  t.no_rules, t.texts, t.starts);
  keys = g_ptr_array_new ();
  g_hash_table_iter_init (&it, t.triggers);
  while (g_hash_table_iter_next (&it, &key, NULL))
    g_ptr_array_add (keys, key);
  g_ptr_array_sort_with_data (keys, by_count_desc, t.triggers);
  for (guint i = 0; i < keys->len && i < 25; i++)
    g_test_message ("  %5u let through by %s",
                    GPOINTER_TO_UINT (g_hash_table_lookup (t.triggers, g_ptr_array_index (keys, i))),
                    (char *) g_ptr_array_index (keys, i));
  g_assert_cmpuint (t.files, >, 0);
  if (t.failures->len)
    g_test_fail_printf ("the triage or the second look is wrong:\n%s", t.failures->str);
  g_hash_table_unref (t.triggers);
  g_string_free (t.failures, TRUE);
}

static void
test_corpus (void)
{
  g_autofree char *corpus = test_corpus_path (NULL);
  const char *const folders[] = { "bounces", "not-bounces" };
  guint n = 0;

  if (!g_file_test (corpus, G_FILE_TEST_IS_DIR))
    {
      g_test_skip ("no corpus at ../shared/corpus (or BACKSCATTER_CORPUS)");
      return;
    }
  for (guint i = 0; i < G_N_ELEMENTS (folders); i++)
    {
      g_autofree char *dir = g_build_filename (corpus, folders[i], NULL);
      g_autoptr (GPtrArray) some = g_ptr_array_new_with_free_func (g_free);
      g_autofree char *label = g_strdup_printf ("corpus/%s", folders[i]);

      test_collect_files (dir, NULL, some);
      if (some->len == 0)
        continue;
      check_files (label, corpus, some);
      n += some->len;
    }
  if (n == 0)
    g_test_skip ("the corpus has no bounces/ or not-bounces/ files");
}

static void
test_testdata (void)
{
  g_autofree char *testdata = g_test_build_filename (G_TEST_DIST, "..", "testdata", NULL);
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_free);

  test_collect_files (testdata, ".eml", files);
  check_files ("testdata", testdata, files);
}

/* A report's reading as JSON, or its error. */
static char *
reading_of (BounceRules *rules, const char *data, gsize len)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BounceReport) r = bounce_report_new_from_data (data, len, rules, BOUNCE_PARSE_DEFAULT, &error);
  BounceJsonWriter *w;

  if (r == NULL)
    return g_strdup_printf ("error: %s", error->message);
  w = bounce_json_writer_new ();
  bounce_json_writer_begin_object (w);
  bounce_report_write_json (r, w);
  bounce_json_writer_end_object (w);
  return bounce_json_writer_steal_text (w);
}

/* A message stored in an mbox with the "From " line it already had
 * comes back with that line escaped (">From "), after the mbox's own:
 * every sample below testdata/, and the corpus's bounces when it is
 * there, reads the same after such lines as alone. */
static void
test_escaped_from_lines (void)
{
  static const char *const before[] = { ">From ann@example.com  Thu Aug 22 14:23:39 2002\n",
                                        "From MAILER-DAEMON Mon Apr  8 10:00:00 2024\n"
                                        ">From ann@example.com  Thu Aug 22 14:23:39 2002\n" };
  g_autofree char *testdata = g_test_build_filename (G_TEST_DIST, "..", "testdata", NULL);
  g_autofree char *corpus = test_corpus_path ("bounces", NULL);
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (BounceRules) rules = test_project_rules ();
  g_autoptr (GString) failures = g_string_new (NULL);
  guint reports = 0;

  test_collect_files (testdata, ".eml", files);
  test_collect_files (corpus, NULL, files);
  for (guint i = 0; i < files->len; i++)
    {
      const char *path = g_ptr_array_index (files, i);
      g_autofree char *data = NULL;
      g_autofree char *alone = NULL;
      gsize len;

      if (!g_file_get_contents (path, &data, &len, NULL))
        continue;
      alone = reading_of (rules, data, len);
      reports += !g_str_has_prefix (alone, "error: ");
      for (guint k = 0; k < G_N_ELEMENTS (before); k++)
        {
          gsize n = strlen (before[k]);
          g_autofree char *stored = g_malloc (n + len);
          g_autofree char *read = NULL;

          memcpy (stored, before[k], n);
          memcpy (stored + n, data, len);
          read = reading_of (rules, stored, n + len);

          if (strcmp (read, alone) != 0)
            g_string_append_printf (failures, "%s after %s:\n  alone: %.200s\n  after: %.200s\n", path, before[k],
                                    alone, read);
        }
    }
  g_test_message ("%u messages, %u read as messages, each after escaped From lines too", files->len, reports);
  g_assert_cmpuint (reports, >, 0);
  if (failures->len)
    g_test_fail_printf ("read otherwise after escaped mbox From lines:\n%s", failures->str);
}

/* Today's ordinary mail (bench/make-ordinary.pl, 400 messages, a fixed
 * seed): newsletters, notices from no-reply addresses, digests, mail in
 * eight charsets, the mail the second look reads most. */
static void
test_generated (void)
{
  g_autofree char *script = g_test_build_filename (G_TEST_DIST, "..", "bench", "make-ordinary.pl", NULL);
  g_autofree char *perl = g_find_program_in_path ("perl");
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("backscatter-triage-XXXXXX", &error);
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
  const char *argv[] = { perl, script, dir, "400", "7", NULL };
  int status = 0;

  g_assert_no_error (error);
  if (perl == NULL)
    {
      g_test_skip ("no perl for bench/make-ordinary.pl");
      g_rmdir (dir);
      return;
    }
  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, NULL, &status, &error))
    g_error ("%s", error->message);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  test_collect_files (dir, NULL, files);
  g_assert_cmpuint (files->len, ==, 400);
  check_files ("generated", dir, files);
  for (guint i = 0; i < files->len; i++)
    g_unlink (g_ptr_array_index (files, i));
  g_rmdir (dir);
}

/* Header names are read as GMime reads them: blanks before the colon
 * are dropped, so a report's type written "Content-Type : ..." from a
 * person's address is still a report's type. */
static void
test_blank_before_colon (void)
{
  static const char *const blocks[] = {
    "From: a@example.org\nSubject: hi\nContent-Type : multipart/report; report-type=delivery-status\n\n",
    "From: a@example.org\nSubject: hi\nContent-Type\t: multipart/report\n\n",
    "From: a@example.org\nSubject: hi\nX-Failed-Recipients : b@example.net\n\n",
    /* null envelopes however written */
    "From: a@example.org\nSubject: hi\nReturn-Path: < >\n\n",
    "From: a@example.org\nSubject: hi\nReturn-Path:\n\n",
  };

  for (guint i = 0; i < G_N_ELEMENTS (blocks); i++)
    g_assert_cmpint (bounce_triage (blocks[i], strlen (blocks[i]), NULL), ==, BOUNCE_TRIAGE_YES);
  g_assert_cmpint (bounce_triage ("From: a@example.org\nSubject: hi\nContent-Type : text/plain\n\n", 59, NULL), ==,
                   BOUNCE_TRIAGE_NO);
}

/* Messages the triage lets through on their Subject ("error") or a role
 * address's From, and whether the second look may leave them unparsed.
 * Whenever it does, the full parse must find no report. */
static const struct
{
  const char *what;
  const char *headers; /* after From and Subject */
  const char *body;
  gboolean dropped;
  const char *from;    /* NULL: a person's */
  const char *subject; /* NULL: "build error" */
} looks[] = {
  { "a plain message", "", "The build is fine again, see the log.\n", TRUE },
  { "a plain message in Latin-1", "Content-Type: text/plain; charset=iso-8859-1\n", "Caf\xe9 is open again.\n", TRUE },
  { "an address far from any digit", "", "Write to bob@example.org about it.\n\n\n\n\n\nRoom 101.\n", TRUE },
  { "delivery-status fields", "",
    "Reporting-MTA: dns; mx.example.net\n\nFinal-Recipient: rfc822; bob@example.org\nAction: failed\n", FALSE },
  { "delivery-status fields after a form feed", "",
    "See below.\fFinal-Recipient: rfc822; bob@example.org\nAction: failed\n", FALSE },
  { "a delivery-status field's name without its colon", "",
    "Our MTA fills in the Final-Recipient field of its reports.\n", TRUE },
  /* The format-free reader needs a sender, and from a role address the
   * original returned too: a person's address beside a code is no
   * report, a role address's may be. */
  { "an address and a code, from a person", "", "<bob@example.org>:\nhost said: 550 no such user\n", TRUE },
  { "an address and a code, from a role address, no original", "", "<bob@example.org>:\nhost said: 550 no such user\n",
    TRUE, "Shop <no-reply@example.com>" },
  { "an address and a status on the line after, from a role address, no original", "", "bob@example.org\nsays 5.1.1\n",
    TRUE, "Shop <no-reply@example.com>" },
  { "an address and a status on the line after, from a role address, and the original",
    "Content-Type: multipart/mixed; boundary=b\n",
    "--b\n\nbob@example.org\nsays 5.1.1\n--b\nContent-Type: message/rfc822\n\nFrom: ann@example.com\n\nhi\n--b--\n",
    FALSE, "Shop <no-reply@example.com>" },
  { "a role address's notice", "", "Your order 58476 has shipped.\nQuestions? help@example.com\n", TRUE,
    "Shop <no-reply@example.com>", "Your order has shipped" },
  { "a role address's failure in the Subject, no original", "", "hello\n", TRUE, "Notifications <notify@example.com>",
    "Delivery failed" },
  { "a role address's failure in the Subject, and the original", "Content-Type: multipart/mixed; boundary=b\n",
    "--b\n\nhello\n--b\nContent-Type: text/rfc822-headers\n\nFrom: ann@example.com\n--b--\n", FALSE,
    "Notifications <notify@example.com>", "Delivery failed" },
  { "a role address's failure in the text, no original", "", "Your message could not be delivered.\n", TRUE,
    "Notifications <notify@example.com>" },
  { "a role address's failure in the text, and the original inline", "",
    "Your message could not be delivered.\n\n----- Original message -----\nFrom: ann@example.com\n"
    "To: bob@example.org\nSubject: hi\n\nhi\n",
    FALSE, "Notifications <notify@example.com>" },
  /* A mail system's From the triage does not know: the format-free
   * reader may read a report. */
  { "a gateway's report", "", "Your message could not be delivered.\nThe server answered: 550 no such user here.\n",
    FALSE, "SMTP Gateway <gw@example.com>", "Delivery failed" },
  { "an encoded gateway's name", "", "Your message could not be delivered.\n", FALSE,
    "=?us-ascii?q?SMTP_Gateway?= <gw@example.com>" },
  { "a plain Return-Path", "Return-Path: <ann+lists=example.com@example.net>\n", "hello\n", TRUE },
  { "a Subject that asks to confirm", "", "Please click on this link to verify: http://example.com/x\n", FALSE, NULL,
    "verification" },
  { "a challenge's words", "", "Just this once, click the link below so I can receive your email.\n", FALSE },
  { "a virus notice's words", "", "A virus was found in an email from you to carol@example.com.\n", FALSE },
  /* Bodies the second look splits and decodes as the parse does. */
  { "a multipart message", "Content-Type: multipart/mixed; boundary=b\n", "--b\n\nhello\n--b--\n", TRUE },
  { "a base64 body", "Content-Transfer-Encoding: base64\n", "aGVsbG8K\n", TRUE },
  { "an HTML body", "Content-Type: text/html\n", "<p>hello</p>\n", TRUE },
  { "a quoted-printable HTML newsletter", "Content-Type: multipart/alternative; boundary=\"=_a\"\n",
    "--=_a\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"
    "Caf=C3=A9 news=\n, this week\n--=_a\nContent-Type: text/html; charset=utf-8\n\n<p>Caf\xc3\xa9</p>\n--=_a--\n",
    TRUE },
  { "a digest of messages", "Content-Type: multipart/digest; boundary=d\n",
    "--d\n\nFrom: bob@example.org\nSubject: hi\n\nhello\n--d\n\nFrom: carol@example.org\n\nthanks\n--d--\n", TRUE },
  { "a failure's words in a base64 part, and the original", "Content-Type: multipart/mixed; boundary=b\n",
    "--b\nContent-Transfer-Encoding: base64\n\n"
    "WW91ciBtZXNzYWdlIGNvdWxkIG5vdCBiZSBkZWxpdmVyZWQuCjxib2JAZXhhbXBsZS5vcmc+OiA1NTAgNS4xLjEK\n"
    "--b\nContent-Type: message/rfc822\n\nFrom: ann@example.com\nTo: bob@example.org\n\nhi\n--b--\n",
    FALSE, "Shop <no-reply@example.com>" },
  { "a failure's words in a base64 part, no original", "Content-Type: multipart/mixed; boundary=b\n",
    "--b\nContent-Transfer-Encoding: base64\n\n"
    "WW91ciBtZXNzYWdlIGNvdWxkIG5vdCBiZSBkZWxpdmVyZWQuCjxib2JAZXhhbXBsZS5vcmc+OiA1NTAgNS4xLjEK\n--b--\n",
    TRUE, "Shop <no-reply@example.com>" },
  { "an order notice with an invoice attached", "Content-Type: multipart/mixed; boundary=b\n",
    "--b\n\nYour order 58476 could not be delivered: the address was incomplete.\n"
    "--b\nContent-Type: application/pdf; name=\"invoice.pdf\"\nContent-Transfer-Encoding: base64\n\nJVBERi0K\n--b--\n",
    TRUE, "Shop <no-reply@example.com>", "Delivery failed" },
  { "a file named *.eml", "Content-Type: multipart/mixed; boundary=b\n",
    "--b\n\nYour message could not be delivered.\n"
    "--b\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename=\"message.eml\"\n\n"
    "From: ann@example.com\n\nhi\n--b--\n",
    FALSE, "Shop <no-reply@example.com>", "Delivery failed" },
  { "a delivery-status part", "Content-Type: multipart/mixed; boundary=b\n",
    "--b\n\nhello\n--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n--b--\n", FALSE },
  { "an attached report", "Content-Type: multipart/mixed; boundary=b\n",
    "--b\n\nsee below\n--b\nContent-Type: message/rfc822\n\nFrom: MAILER-DAEMON@example.net\n"
    "Content-Type: multipart/report; report-type=delivery-status; boundary=r\n\n--r\n\nfailed\n--r--\n--b--\n",
    FALSE },
  { "delivery-status fields in a later text part", "Content-Type: multipart/mixed; boundary=b\n",
    "--b\n\nhello\n--b\n\nFinal-Recipient: rfc822; bob@example.org\nAction: failed\n--b--\n", FALSE },
  { "a multipart without its closing boundary", "Content-Type: multipart/mixed; boundary=b\n", "--b\n\nhello\n",
    FALSE },
  { "a multipart with no part", "Content-Type: multipart/mixed; boundary=b\n", "hello\n", FALSE },
  { "a multipart whose first boundary closes it", "Content-Type: multipart/mixed; boundary=b\n",
    "Final-Recipient: rfc822; bob@example.org\n\nhello\n--b--\n", FALSE },
  { "a part's line that is no header", "Content-Type: multipart/mixed; boundary=b\n",
    "--b\nthis line has no colon\n\nhello\n--b--\n", FALSE },
  { "a uuencoded text", "Content-Transfer-Encoding: x-uuencode\n", "begin 644 a\n`\nend\n", FALSE },
  /* Yandex's Russian first line, in KOI8-R: the rule reads it decoded. */
  { "a body in KOI8-R", "Content-Type: text/plain; charset=koi8-r\n",
    "\xfc\xd4\xcf \xd0\xc9\xd3\xd8\xcd\xcf \xcf\xd4\xd0\xd2\xc1\xd7\xcc\xc5\xce\xcf \xd0\xcf\xde\xd4\xcf\xd7\xd9\xcd "
    "\xd3\xc5\xd2\xd7\xc5\xd2\xcf\xcd\n",
    FALSE },
  { "a text without a type, given as an attachment", "Content-Disposition: attachment; filename=\"notes.txt\"\n",
    "The build log follows.\n", TRUE },
  { "a line that is no header", "this line has no colon\n", "hello\n", FALSE },
  { "a header a rule reads", "X-Autoreply: yes\n", "I am away.\n", FALSE },
};

static void
test_second_look (void)
{
  g_autoptr (BounceRules) rules = test_project_rules ();
  g_autoptr (GString) failures = g_string_new (NULL);
  Tally t = { .failures = failures };

  for (guint i = 0; i < G_N_ELEMENTS (looks); i++)
    {
      g_autofree char *msg =
          g_strdup_printf ("From: %s\nSubject: %s\n%s\n%s", looks[i].from ? looks[i].from : "Ann <ann@example.com>",
                           looks[i].subject ? looks[i].subject : "build error", looks[i].headers, looks[i].body);
      gsize len = strlen (msg);
      gsize hend = 0;
      g_autoptr (GError) error = NULL;
      g_autoptr (BounceReport) full = bounce_report_new_from_data (msg, len, rules, BOUNCE_PARSE_NO_TRIAGE, &error);
      BounceTriage triage = bounce_triage (msg, len, &hend);
      gboolean dropped;

      g_assert_no_error (error);
      if (strstr (looks[i].what, "no header") == NULL && strstr (looks[i].what, "rule reads") == NULL)
        g_assert_true (triage == BOUNCE_TRIAGE_SUBJECT || triage == BOUNCE_TRIAGE_ROLE);
      if (triage != BOUNCE_TRIAGE_SUBJECT && triage != BOUNCE_TRIAGE_ROLE)
        continue;
      /* Whatever it decides, it reads the parse's text. */
      same_text (msg, len, looks[i].what, &t);
      dropped = bounce_second_look (msg, len, hend, rules);
      if (dropped != looks[i].dropped)
        g_test_fail_printf ("%s: the second look %s it", looks[i].what, dropped ? "drops" : "keeps");
      if (dropped && bounce_report_get_kind (full) != BOUNCE_KIND_NOT_BOUNCE)
        g_test_fail_printf ("%s: dropped, yet the full parse says %s", looks[i].what,
                            bounce_kind_to_string (bounce_report_get_kind (full)));
    }
  if (failures->len)
    g_test_fail_printf ("%s", failures->str);
}

/* Messages near the parse's limits of parts and nesting, which it cuts
 * short and says so, are left to it. */
static void
test_second_look_limits (void)
{
  g_autoptr (BounceRules) rules = test_project_rules ();

  for (guint i = 0; i < 2; i++)
    {
      g_autoptr (GString) msg = g_string_new ("From: Ann <ann@example.com>\nSubject: build error\n");
      gsize hend;

      if (i == 0)
        {
          /* more parts than half the limit */
          g_string_append (msg, "Content-Type: multipart/mixed; boundary=b\n\n");
          for (guint k = 0; k <= BOUNCE_MAX_MIME_PARTS / 2; k++)
            g_string_append (msg, "--b\n\nhello\n");
          g_string_append (msg, "--b--\n");
        }
      else
        {
          /* deeper than half the limit */
          g_string_append (msg, "Content-Type: multipart/mixed; boundary=b0\n\n");
          for (guint k = 1; k <= BOUNCE_MAX_MIME_DEPTH / 2 + 1; k++)
            g_string_append_printf (msg, "--b%u\nContent-Type: multipart/mixed; boundary=b%u\n\n", k - 1, k);
          g_string_append_printf (msg, "--b%u\n\nhello\n", BOUNCE_MAX_MIME_DEPTH / 2 + 1);
          for (guint k = BOUNCE_MAX_MIME_DEPTH / 2 + 2; k-- > 0;)
            g_string_append_printf (msg, "--b%u--\n", k);
        }
      g_assert_cmpint (bounce_triage (msg->str, msg->len, &hend), ==, BOUNCE_TRIAGE_SUBJECT);
      g_assert_false (bounce_second_look (msg->str, msg->len, hend, rules));
    }
}

/* The second look weighs a sender with the format-free reader's own
 * patterns. */
static void
test_sender_names (void)
{
  const BounceGenericPhrases *p = bounce_generic_phrases ();
  const BounceSenderPatterns *s = bounce_generic_senders ();

  g_assert_true (p->sender == s->system);
  g_assert_true (p->weak_sender == s->role);
}

/* A message's start decides it only when its header block has ended
 * within the start, with nothing of a report in it. */
static void
test_start (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "testdata", "postfix", "delayed.eml", NULL);
  g_autofree char *bounce = NULL;
  g_autoptr (GString) received = g_string_new (NULL);
  g_autoptr (GString) late = NULL, long_header = NULL, ordinary = NULL, bare_cr = NULL;
  g_autoptr (BounceRules) rules = test_project_rules ();
  g_autoptr (BounceReport) whole = NULL, part = NULL;

  g_assert_true (g_file_get_contents (path, &bounce, NULL, NULL));
  for (guint i = 0; i < 300; i++)
    g_string_append_printf (received,
                            "Received: from relay%u.example.net by mx.example.org; Fri, 17 Mar 2023 14:30:12 +0100\n",
                            i);
  g_assert_cmpuint (received->len, >, 20000);

  /* A report whose empty Return-Path and mail system's From come after
   * 20 KB of Received fields: its first 16 KiB decide nothing. */
  late = g_string_new (received->str);
  g_string_append (late, bounce);
  whole = bounce_report_new_from_data (late->str, late->len, rules, BOUNCE_PARSE_DEFAULT, NULL);
  g_assert_nonnull (whole);
  g_assert_cmpint (bounce_report_get_kind (whole), ==, BOUNCE_KIND_DELAY);
  g_assert_null (bounce_report_new_from_start (late->str, 16384));
  g_assert_null (bounce_report_new_from_start (late->str, late->len - 1));
  g_clear_pointer (&whole, bounce_report_unref);

  /* Ordinary mail, its header block as long: decided once it has ended,
   * not before. */
  long_header = g_string_new (received->str);
  g_string_append (long_header, "From: ann@example.net\nTo: bob@example.org\nSubject: the minutes\n\n");
  for (guint i = 0; i < 500; i++)
    g_string_append (long_header, "Minutes of the meeting, item by item, as agreed on the day.\n");
  whole = bounce_report_new_from_data (long_header->str, long_header->len, rules, BOUNCE_PARSE_DEFAULT, NULL);
  g_assert_cmpint (bounce_report_get_kind (whole), ==, BOUNCE_KIND_NOT_BOUNCE);
  g_assert_null (bounce_report_new_from_start (long_header->str, 16384));
  g_assert_null (bounce_report_new_from_start (long_header->str, received->len + 20));
  part = bounce_report_new_from_start (long_header->str, long_header->len - 1);
  g_assert_nonnull (part);
  g_assert_cmpint (bounce_report_get_kind (part), ==, BOUNCE_KIND_NOT_BOUNCE);
  g_assert_cmpstr (bounce_report_get_not_report_reason (part), ==, bounce_report_get_not_report_reason (whole));
  g_clear_pointer (&whole, bounce_report_unref);
  g_clear_pointer (&part, bounce_report_unref);

  /* Ordinary mail with a short header block and a long text: decided by
   * its first 16 KiB, as the whole reads. */
  ordinary = g_string_new ("From: ann@example.net\nTo: bob@example.org\nSubject: the minutes\n\n");
  for (guint i = 0; i < 700; i++)
    g_string_append (ordinary, "Minutes of the meeting, item by item, as agreed on the day.\n");
  whole = bounce_report_new_from_data (ordinary->str, ordinary->len, rules, BOUNCE_PARSE_DEFAULT, NULL);
  part = bounce_report_new_from_start (ordinary->str, 16384);
  g_assert_nonnull (part);
  g_assert_cmpint (bounce_report_get_kind (part), ==, bounce_report_get_kind (whole));
  g_assert_cmpstr (bounce_report_get_not_report_reason (part), ==, bounce_report_get_not_report_reason (whole));
  g_clear_pointer (&part, bounce_report_unref);
  /* Less than 4 KiB decides nothing: whether its line ends are bare CRs
   * is read on 4 KiB. */
  g_assert_null (bounce_report_new_from_start (ordinary->str, 4095));

  /* A header block of bare CRs, its text's first LF before 4 KiB: the
   * whole is read with its LFs as line ends; 2 KB of it, without one,
   * would be read with CRs as line ends, and decide nothing. */
  bare_cr = g_string_new ("From: ann@example.net\rTo: bob@example.org\rSubject: the minutes\r\r");
  for (guint i = 0; i < 3000; i++)
    g_string_append_c (bare_cr, i == 2900 ? '\n' : 'x');
  g_assert_null (bounce_report_new_from_start (bare_cr->str, 2000));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/triage/start", test_start);
  g_test_add_func ("/triage/corpus", test_corpus);
  g_test_add_func ("/triage/testdata", test_testdata);
  g_test_add_func ("/triage/generated", test_generated);
  g_test_add_func ("/triage/escaped-from-lines", test_escaped_from_lines);
  g_test_add_func ("/triage/second-look", test_second_look);
  g_test_add_func ("/triage/second-look-limits", test_second_look_limits);
  g_test_add_func ("/triage/sender-names", test_sender_names);
  g_test_add_func ("/triage/blank-before-colon", test_blank_before_colon);
  return g_test_run ();
}

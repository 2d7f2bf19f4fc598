/* test-golden.c — every sample message in testdata/ against its expected
 * result beside it (NAME.eml, NAME.expected: the JSON that
 * `backscatter check --json` prints, pretty-printed). A sample with only
 * a NAME.facts is left to tests/test-facts.sh.
 *
 * The samples are judged as the mail of the owner in testdata/owner.conf,
 * whose sent mail is testdata/maildir-sent. With BACKSCATTER_REGENERATE=1
 * in the environment the expected files are written instead of compared;
 * review the change like code.
 *
 * The sent index is learnt afresh for each run, and a judgement that
 * says what span it covers ends that span when it was learnt. That time
 * (on the day of the learn run) is written LEARNT-TIME in the expected
 * files, so that they hold at any time. */
#include "test-common.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

static const char *bin;
static char *testdata;
static char **envp;
static char *learnt_day; /* "YYYY-MM-DD" (UTC) of the learn run */
static char *index_path; /* the owner's sent index, in the temporary home */

static char *
run (const char *const *argv, int *status)
{
  g_autoptr (GError) error = NULL;
  char *out = NULL;

  if (!g_spawn_sync (testdata, (char **) argv, envp, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL, status,
                     &error))
    g_error ("%s: %s", argv[0], error->message);
  return out;
}

/* The check's JSON lines, pretty-printed, one object after another. */
static char *
pretty (const char *lines)
{
  g_auto (GStrv) each = g_strsplit (lines, "\n", -1);
  GString *out = g_string_new (NULL);

  for (guint i = 0; each[i]; i++)
    {
      g_autoptr (JsonParser) p = json_parser_new ();
      g_autoptr (JsonGenerator) gen = json_generator_new ();
      g_autoptr (GError) error = NULL;
      g_autofree char *text = NULL;

      if (*each[i] == '\0')
        continue;
      if (!json_parser_load_from_data (p, each[i], -1, &error))
        g_error ("not JSON: %s: %s", error->message, each[i]);
      json_generator_set_root (gen, json_parser_get_root (p));
      json_generator_set_pretty (gen, TRUE);
      json_generator_set_indent (gen, 2);
      text = json_generator_to_data (gen, NULL);
      g_string_append (out, text);
      g_string_append_c (out, '\n');
    }
  return g_string_free (out, FALSE);
}

static void
test_sample (gconstpointer data)
{
  const char *rel = data;
  const char *argv[] = { bin, "check", "--json", "--config", "owner.conf", "--index", index_path, rel, NULL };
  g_autofree char *base = g_strndup (rel, strlen (rel) - 4);
  g_autofree char *expected_path = g_strdup_printf ("%s/%s.expected", testdata, base);
  g_autofree char *out = NULL, *got = NULL, *want = NULL;
  int status;

  out = run (argv, &status);
  got = pretty (out);
  {
    g_autofree char *pattern = g_strdup_printf ("\\b%s \\d\\d:\\d\\d UTC\\b", learnt_day);
    g_autoptr (GRegex) re = g_regex_new (pattern, 0, 0, NULL);
    char *swapped = g_regex_replace_literal (re, got, -1, 0, "LEARNT-TIME", 0, NULL);

    g_free (got);
    got = swapped;
  }
  if (g_getenv ("BACKSCATTER_REGENERATE"))
    {
      g_autoptr (GError) error = NULL;

      if (!g_file_set_contents (expected_path, got, -1, &error))
        g_error ("%s", error->message);
      return;
    }
  if (!g_file_get_contents (expected_path, &want, NULL, NULL))
    g_error ("%s.expected is missing (run the test with BACKSCATTER_REGENERATE=1 and review it)", base);
  if (strcmp (got, want) != 0)
    {
      g_autofree char *tmp = g_build_filename (g_get_tmp_dir (), "golden-got.json", NULL);
      g_autofree char *diff = NULL;
      const char *dargv[] = { "diff", "-u", expected_path, tmp, NULL };

      g_file_set_contents (tmp, got, -1, NULL);
      g_spawn_sync (NULL, (char **) dargv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &diff,
                    NULL, NULL, NULL);
      g_test_message ("%s", diff ? diff : "");
      g_test_fail_printf ("%s differs from its expected result", rel);
    }
}

/* A sample with NAME.facts and no NAME.expected is checked only for the
 * facts it lists (tests/test-facts.sh). */
static gboolean
facts_only (const char *eml)
{
  g_autofree char *base = g_strndup (eml, strlen (eml) - 4);
  g_autofree char *facts = g_strconcat (base, ".facts", NULL);
  g_autofree char *expected = g_strconcat (base, ".expected", NULL);

  return g_file_test (facts, G_FILE_TEST_EXISTS) && !g_file_test (expected, G_FILE_TEST_EXISTS);
}

/* The samples below testdata/ with an expected result, by their names
 * there; mailboxes are exercised by the scan tests. */
static void
collect (GPtrArray *out)
{
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
  gsize skip = strlen (testdata) + 1;

  test_collect_files (testdata, ".eml", files);
  for (guint i = 0; i < files->len; i++)
    {
      const char *path = g_ptr_array_index (files, i);
      g_auto (GStrv) parts = g_strsplit (path + skip, G_DIR_SEPARATOR_S, -1);
      gboolean in_mailbox = FALSE;

      for (guint k = 0; parts[k] && parts[k + 1]; k++)
        in_mailbox |= g_str_has_prefix (parts[k], "maildir");
      if (!in_mailbox && !facts_only (path))
        g_ptr_array_add (out, g_strdup (path + skip));
    }
}

int
main (int argc, char **argv)
{
  g_autoptr (GPtrArray) samples = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *home = NULL;
  g_autofree char *config = NULL, *data = NULL;
  int status = 0;

  g_test_init (&argc, &argv, NULL);
  bin = g_getenv ("BACKSCATTER_BIN");
  if (bin == NULL)
    g_error ("BACKSCATTER_BIN is not set");
  testdata = g_test_build_filename (G_TEST_DIST, "..", "testdata", NULL);
  home = g_dir_make_tmp ("backscatter-golden-XXXXXX", NULL);
  config = g_build_filename (home, "config", NULL);
  data = g_build_filename (home, "data", NULL);
  index_path = g_build_filename (data, "owner.db", NULL);
  envp = g_get_environ ();
  envp = g_environ_setenv (envp, "XDG_CONFIG_HOME", config, TRUE);
  envp = g_environ_setenv (envp, "XDG_DATA_HOME", data, TRUE);
  envp = g_environ_setenv (envp, "TZ", "UTC", TRUE);
  /* Learn again should the day change while it runs. */
  do
    {
      const char *largv[] = { bin, "learn", "--quiet", "--config", "owner.conf", "--index", index_path, NULL };
      g_autoptr (GDateTime) before = g_date_time_new_now_utc ();
      g_autoptr (GDateTime) after = NULL;
      g_autofree char *out = run (largv, &status);

      if (!g_spawn_check_wait_status (status, NULL))
        g_error ("backscatter learn failed");
      after = g_date_time_new_now_utc ();
      g_free (learnt_day);
      learnt_day = g_date_time_format (after, "%F");
      if (g_date_time_get_day_of_year (before) == g_date_time_get_day_of_year (after))
        break;
    }
  while (TRUE);
  collect (samples);
  for (guint i = 0; i < samples->len; i++)
    {
      g_autofree char *path = g_strdup_printf ("/golden/%s", (char *) g_ptr_array_index (samples, i));

      g_test_add_data_func (path, g_ptr_array_index (samples, i), test_sample);
    }
  status = g_test_run ();
  {
    const char *rargv[] = { "rm", "-rf", home, NULL };

    g_spawn_sync (NULL, (char **) rargv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
  }
  g_strfreev (envp);
  return status;
}

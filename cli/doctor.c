/* doctor.c — `backscatter doctor`: what the program knows of its owner,
 * read as the judging commands read it (the config file, the flags, the
 * sent-mail index, the rules), and what would make its verdicts stronger.
 * Exits 0, or as the judging commands do when the settings or the rules
 * cannot be read (78). Never creates the index. */
#include "config.h"
#include "cli.h"

#include <stdio.h>
#include <string.h>

static void
list (const char *label, GStrv values, const char *none)
{
  g_autofree char *joined = values && values[0] ? g_strjoinv ("; ", values) : NULL;

  printf ("%-15s %s\n", label, joined ? joined : none);
}

static char *
day (gint64 t)
{
  g_autoptr (GDateTime) d = g_date_time_new_from_unix_utc (t);

  return g_date_time_format (d, "%Y-%m-%d %H:%M UTC");
}

int
cli_doctor (CliRun *run, int argc, char **argv)
{
  CliSettings *settings = &run->settings;
  CliContext *ctx = &run->ctx;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) hints = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *config = NULL, *index_path = NULL;
  g_auto (GStrv) addresses = NULL, relays = NULL, dkim = NULL, folders = NULL, rule_dirs = NULL;
  gboolean have_config;
  GBytes *key;
  guint n = 0;
  gint64 first = 0, last = 0;
  gboolean named;

  if (!cli_parse_options (run, NULL, &argc, &argv))
    return EX_USAGE;
  if (argc > 1)
    {
      fprintf (stderr, "backscatter doctor: unexpected argument '%s'\n", argv[1]);
      return EX_USAGE;
    }
  config = cli_config_path (settings);
  have_config = g_file_test (config, G_FILE_TEST_IS_REGULAR);
  named = settings->config != NULL;
  printf ("%-15s %s%s\n", "config file", config,
          have_config                                ? ""
          : g_file_test (config, G_FILE_TEST_EXISTS) ? " (not a file: no settings read from it)"
                                                     : " (there is none)");
  if (!cli_run_load (run, &error))
    {
      fprintf (stderr, "backscatter: %s\n", error->message);
      return cli_exit_for_error (error);
    }
  addresses = cli_setting_values (settings, "identity", "addresses");
  relays = cli_setting_values (settings, "identity", "relays");
  dkim = cli_setting_values (settings, "identity", "dkim-domains");
  folders = g_strdupv ((GStrv) bounce_identity_get_sent_folders (ctx->identity));
  rule_dirs = cli_rules_dirs (settings->rules_dirs);
  index_path = cli_index_path (settings);
  list ("addresses", addresses, "none");
  list ("relays", relays, "none");
  list ("dkim-domains", dkim, "none");
  key = bounce_identity_get_batv_key (ctx->identity);
  if (key)
    printf ("%-15s a key of %zu bytes is loaded\n", "batv-key-file", g_bytes_get_size (key));
  else
    printf ("%-15s none\n", "batv-key-file");
  list ("sent folders", folders, "none");
  printf ("%-15s %s\n", "complete", bounce_identity_get_complete (ctx->identity) ? "true" : "false");
  if (ctx->index && bounce_index_get_range (ctx->index, &n, &first, &last))
    {
      g_autofree char *f = day (first), *l = day (last);
      g_autofree char *count = cli_count (n, "message", NULL);

      printf ("%-15s %s: %s sent from %s to %s\n", "sent index", index_path, count, f, l);
    }
  else
    printf ("%-15s %s: %s\n", "sent index", index_path,
            ctx->index ? "empty" : "not made yet (backscatter learn makes it)");
  list ("rule folders", rule_dirs, "none");
  {
    g_autofree char *formats = cli_count (bounce_rules_get_n_formats (ctx->rules), "format rule", NULL);

    printf ("%-15s %s loaded\n", "rules", formats);
  }

  if (!have_config && !named && !bounce_identity_has_addresses (ctx->identity))
    g_ptr_array_add (hints, g_strdup_printf ("no config file: nothing says whose mail it is, so most bounces "
                                             "will be unknown; write %s (see backscatter.conf(5))",
                                             config));
  else if (!bounce_identity_has_addresses (ctx->identity))
    g_ptr_array_add (hints, g_strdup ("no addresses: set [identity] addresses, or most bounces will be unknown"));
  if (folders[0] == NULL && n == 0)
    g_ptr_array_add (hints, g_strdup ("no Sent folder: most bounces will be unknown; set [sent] folders "
                                      "and run backscatter learn"));
  else if (n == 0)
    g_ptr_array_add (hints, g_strdup ("the sent index is empty: run backscatter learn"));
  if (n > 0 && !bounce_identity_get_complete (ctx->identity))
    g_ptr_array_add (hints, g_strdup ("complete is not set: a Message-ID missing from your sent mail is "
                                      "no proof of backscatter; set [sent] complete = true if every "
                                      "message you send is recorded (backscatter record-sent --pass)"));
  if (!bounce_identity_has_relays (ctx->identity))
    g_ptr_array_add (hints, g_strdup ("no relays: name the servers your mail leaves through ([identity] relays)"));
  if (!bounce_identity_has_dkim_domains (ctx->identity))
    g_ptr_array_add (hints, g_strdup ("no dkim-domains: if your mail is DKIM-signed, name the signing domain"));
  if (key == NULL)
    g_ptr_array_add (hints, g_strdup ("no BATV key: if your server tags envelope senders (prvs=), "
                                      "give its key (batv-key-file)"));
  for (guint i = 0; i < hints->len; i++)
    printf ("%-15s %s\n", i == 0 ? "stronger with" : "", (char *) hints->pdata[i]);
  if (hints->len == 0)
    printf ("nothing missing: every kind of evidence is available\n");
  return 0;
}

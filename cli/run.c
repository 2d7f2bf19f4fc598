/* run.c — one run of a command, as main.c's table describes it: its
 * options and the settings flags parsed, what it judges with loaded as
 * its CliLoad says (cli_run_load), and all of it cleared once the command
 * returns (cli_run_clear, by main.c). */
#include "config.h"
#include "cli.h"

#include <stdio.h>
#include <string.h>

/* The entry of @lists whose short name is @c, or NULL. */
static const GOptionEntry *
short_entry (const GOptionEntry *const *lists, char c)
{
  for (guint l = 0; lists[l]; l++)
    for (const GOptionEntry *e = lists[l]; e->long_name; e++)
      if (e->short_name == c)
        return e;
  return NULL;
}

/* Splits "-j2" into "-j" "2", and "-nqj2" into "-nqj" "2", for the short
 * options of @lists that take a value, which GOption does not do; stops
 * at "--". */
static void
split_short_values (const GOptionEntry *const *lists, int *argc, char ***argv, GPtrArray *keep)
{
  GPtrArray *out = g_ptr_array_new ();
  gboolean changed = FALSE, done = FALSE;

  for (int i = 0; i < *argc; i++)
    {
      const char *a = (*argv)[i];
      gsize at = 0;

      if (strcmp (a, "--") == 0)
        done = TRUE;
      if (!done && i > 0 && a[0] == '-' && a[1] != '-')
        for (gsize k = 1; a[k]; k++)
          {
            const GOptionEntry *e = short_entry (lists, a[k]);

            if (e == NULL)
              break;
            if (e->arg != G_OPTION_ARG_NONE)
              {
                at = a[k + 1] ? k + 1 : 0;
                break;
              }
          }
      if (at)
        {
          char *flag = g_strndup (a, at), *value = g_strdup (a + at);

          g_ptr_array_add (keep, flag);
          g_ptr_array_add (keep, value);
          g_ptr_array_add (out, flag);
          g_ptr_array_add (out, value);
          changed = TRUE;
        }
      else
        g_ptr_array_add (out, (*argv)[i]);
    }
  if (changed)
    {
      *argc = out->len;
      g_ptr_array_add (out, NULL);
      *argv = (char **) g_ptr_array_steal (out, NULL);
      g_ptr_array_add (keep, *argv);
    }
  g_ptr_array_unref (out);
}

/* cli_parse_options: parse a command's own options @own (nullable) and
 * the settings flags (shown in every command's --help) into
 * @run->settings; prints the error and returns FALSE on a usage mistake.
 * The argument vector may be replaced by one that lives as long as the
 * program. */
gboolean
cli_parse_options (CliRun *run, GOptionEntry *own, int *argc, char ***argv)
{
  g_autoptr (GOptionContext) ctx = g_option_context_new (run->usage);
  g_autoptr (GError) error = NULL;
  g_autofree GOptionEntry *common = NULL;
  static GPtrArray *kept; /* the split arguments, for the program's life */
  const GOptionEntry *lists[3] = { NULL };
  guint n = 0;

  if (own)
    {
      g_option_context_add_main_entries (ctx, own, NULL);
      lists[n++] = own;
    }
  common = cli_identity_entries (&run->settings);
  g_option_context_add_main_entries (ctx, common, NULL);
  lists[n++] = common;
  g_option_context_set_description (ctx, "--config and the flags after it replace the settings of "
                                         "the config file; see backscatter.conf(5).");
  if (kept == NULL)
    kept = g_ptr_array_new ();
  split_short_values (lists, argc, argv, kept);
  if (!g_option_context_parse (ctx, argc, argv, &error))
    {
      fprintf (stderr, "backscatter %s: %s\n", run->command, error->message);
      return FALSE;
    }
  return TRUE;
}

/* cli_run_load: loads what @run's command judges with, as its CliLoad
 * says; FALSE with @error set when the settings, the rules or the index
 * cannot be used. */
gboolean
cli_run_load (CliRun *run, GError **error)
{
  switch (run->load)
    {
    case CLI_LOAD_NONE:
      return TRUE;
    case CLI_LOAD_RULES:
      run->ctx.rules = cli_load_rules (run->settings.rules_dirs, error);
      return run->ctx.rules != NULL;
    case CLI_LOAD_ALL:
      return cli_context_load (&run->ctx, &run->settings, error);
    case CLI_LOAD_ON_DEMAND:
      return cli_context_prepare (&run->ctx, &run->settings, error);
    }
  g_return_val_if_reached (FALSE);
}

void
cli_run_clear (CliRun *run)
{
  cli_context_clear (&run->ctx);
  cli_settings_clear (&run->settings);
}

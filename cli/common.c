/* common.c — rules loading and output shared by the subcommands. */
#include "config.h"
#include "cli.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The installed rules, or the source tree's when this program runs from
 * its build folder (so that it works before `meson install`). */
static const char *
default_rules_dir (void)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);

  if (exe && g_str_has_prefix (exe, BOUNCE_BUILD_ROOT "/"))
    return BOUNCE_SOURCE_RULES_DIR;
  return BOUNCE_RULES_DIR;
}

/* cli_load_rules: @dirs (from --rules) or the installed rules, then the
 * user's $XDG_CONFIG_HOME/backscatter/rules.d when it exists. */
BounceRules *
cli_load_rules (char **dirs, GError **error)
{
  g_autoptr (BounceRules) rules = bounce_rules_new ();
  g_autofree char *user = g_build_filename (g_get_user_config_dir (), "backscatter",
                                            "rules.d", NULL);

  if (dirs && dirs[0])
    {
      for (guint i = 0; dirs[i]; i++)
        if (!bounce_rules_load_dir (rules, dirs[i], FALSE, error))
          return NULL;
    }
  else if (!bounce_rules_load_dir (rules, default_rules_dir (), FALSE, error))
    return NULL;
  if (g_file_test (user, G_FILE_TEST_IS_DIR)
      && !bounce_rules_load_dir (rules, user, TRUE, error))
    return NULL;
  return g_steal_pointer (&rules);
}

int
cli_exit_for_error (const GError *error)
{
  if (error->domain == BOUNCE_ERROR)
    switch (error->code)
      {
      case BOUNCE_ERROR_PARSE:
      case BOUNCE_ERROR_LIMIT:
        return EX_DATAERR;
      case BOUNCE_ERROR_RULES:
      case BOUNCE_ERROR_CONFIG:
        return EX_CONFIG;
      case BOUNCE_ERROR_LOCKED:
        return EX_TEMPFAIL;
      case BOUNCE_ERROR_IO:
        return EX_NOINPUT;
      default:
        return EX_SOFTWARE;
      }
  if (error->domain == G_FILE_ERROR)
    return error->code == G_FILE_ERROR_NOENT || error->code == G_FILE_ERROR_ACCES
             ? EX_NOINPUT : EX_IOERR;
  return EX_IOERR;
}

/* The start of a JSON line: an object, open, with the source first, then
 * the report's members and the judgement's, those that are given. The
 * caller adds its own (cli_json_member) and ends it with cli_json_print(). */
GString *
cli_json_begin (const char *source, BounceReport *report, BounceJudgement *judgement)
{
  GString *o = g_string_sized_new (2048);

  g_string_append (o, "{\"source\":");
  bounce_json_append_string (o, source);
  if (report)
    bounce_report_append_json (report, o);
  if (judgement)
    bounce_judgement_append_json (judgement, o);
  return o;
}

/* Adds a member with a string value (null for NULL) to @o. */
void
cli_json_member (GString *o, const char *name, const char *value)
{
  g_string_append_printf (o, ",\"%s\":", name);
  bounce_json_append_string (o, value);
}

/* Ends the object begun by cli_json_begin() and prints it on one line;
 * frees @o. */
void
cli_json_print (GString *o)
{
  g_string_append (o, "}\n");
  fwrite (o->str, 1, o->len, stdout);
  g_string_free (o, TRUE);
}

/* One JSON object on one line: source first, then the report's fields, or
 * an error. */
void
cli_print_json (const char *source, BounceReport *report, BounceJudgement *judgement,
                const char *error_message)
{
  GString *o = cli_json_begin (source, report, judgement);

  if (error_message)
    cli_json_member (o, "error", error_message);
  cli_json_print (o);
}

void
cli_print_text (const char *source, BounceReport *report, BounceJudgement *judgement,
                gboolean explain)
{
  BounceKind kind = bounce_report_get_kind (report);
  BounceOriginal *o = bounce_report_get_original (report);
  guint n = bounce_report_get_n_recipients (report);

  printf ("%s: ", source);
  if (judgement && kind != BOUNCE_KIND_NOT_BOUNCE)
    printf ("%s (score %g), ", bounce_verdict_to_string (bounce_judgement_get_verdict (judgement)),
            bounce_judgement_get_score (judgement));
  printf ("%s", bounce_kind_to_string (kind));
  if (bounce_report_get_format (report))
    printf (" [%s]", bounce_report_get_format (report));
  if (bounce_report_get_reporting_mta (report))
    printf (" from %s", bounce_report_get_reporting_mta (report));
  printf ("\n");
  if (kind == BOUNCE_KIND_NOT_BOUNCE)
    return;
  for (guint i = 0; i < n; i++)
    {
      BounceRecipient *r = bounce_report_get_recipient (report, i);
      int perm = bounce_recipient_get_permanent (r);

      printf ("  %s %s: %s", bounce_recipient_get_action (r),
              bounce_recipient_get_address (r), bounce_recipient_get_reason (r));
      if (bounce_recipient_get_status (r))
        printf (" %s", bounce_recipient_get_status (r));
      if (bounce_recipient_get_reply_code (r))
        printf (" %s", bounce_recipient_get_reply_code (r));
      printf ("%s\n", perm == 1 ? " (permanent)" : perm == 0 ? " (temporary)" : "");
      if (explain && bounce_recipient_get_diagnostic (r))
        printf ("    %s\n", bounce_recipient_get_diagnostic (r));
    }
  if (o)
    {
      printf ("  original: %s", bounce_original_get_message_id (o) ?: "(no Message-ID)");
      if (bounce_original_get_from (o))
        printf (" from %s", bounce_original_get_from (o));
      printf (" [%s]\n", bounce_original_get_carried_as (o));
      for (guint i = 0; i < bounce_original_get_n_attachments (o); i++)
        {
          const BounceAttachment *a = bounce_original_get_attachment (o, i);

          if (a->risky)
            printf ("  risky attachment: %s (%s)\n", a->name ?: "(no name)", a->content_type);
        }
    }
  else if (bounce_report_get_header (report, "In-Reply-To"))
    printf ("  in reply to: %s\n", bounce_report_get_header (report, "In-Reply-To"));
  else
    printf ("  original: none came back\n");
  for (const char *const *w = bounce_report_get_warnings (report); *w; w++)
    printf ("  warning: %s\n", *w);
  if (explain && judgement)
    for (guint i = 0; i < bounce_judgement_get_n_evidence (judgement); i++)
      {
        const BounceEvidence *e = bounce_judgement_get_evidence (judgement, i);

        printf ("  %+5.1f %-26s %s\n", e->weight, e->rule, e->detail);
      }
}

/* cli_parse_options: parse a command's own options and the settings flags;
 * prints the error and returns FALSE on a usage mistake. */
gboolean
cli_parse_options (const char *command, const char *usage, GOptionEntry *own,
                   CliSettings *settings, int *argc, char ***argv)
{
  g_autoptr (GOptionContext) ctx = g_option_context_new (usage);
  g_autoptr (GError) error = NULL;
  g_autofree GOptionEntry *common = NULL;

  if (own)
    g_option_context_add_main_entries (ctx, own, NULL);
  if (settings)
    {
      GOptionGroup *g = g_option_group_new ("settings", "Settings (override the config file):",
                                            "Show the settings flags", NULL, NULL);

      common = cli_identity_entries (settings);
      g_option_group_add_entries (g, common);
      g_option_context_add_group (ctx, g);
    }
  if (!g_option_context_parse (ctx, argc, argv, &error))
    {
      fprintf (stderr, "backscatter %s: %s\n", command, error->message);
      return FALSE;
    }
  return TRUE;
}

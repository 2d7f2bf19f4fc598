/* check.c — `backscatter check [FILE...]`: read each message (stdin when no
 * file is named) and say what it is. A file that cannot be read or parsed
 * gets an error line and the run goes on. */
#include "config.h"
#include "cli.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct
{
  gboolean json;
  gboolean explain;
  int found;      /* backscatter */
  int undecided;  /* bounces judged unknown */
  int error_code; /* the first error's exit code, or 0 */
} Check;

static void
check_one (Check *c, BounceRules *rules, const char *source, const char *data, gsize len,
           const GError *read_error)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BounceReport) report = NULL;

  if (read_error == NULL)
    report = bounce_report_new_from_data (data, len, rules, BOUNCE_PARSE_DEFAULT, &error);
  else
    error = g_error_copy (read_error);
  if (report == NULL)
    {
      if (c->error_code == 0)
        c->error_code = cli_exit_for_error (error);
      if (c->json)
        cli_print_json (source, NULL, error->message);
      else
        fprintf (stderr, "backscatter: %s: %s\n", source, error->message);
      return;
    }
  if (bounce_report_get_kind (report) != BOUNCE_KIND_NOT_BOUNCE)
    c->undecided++;
  if (c->json)
    cli_print_json (source, report, NULL);
  else
    cli_print_text (source, report, c->explain);
}

int
cli_check (int argc, char **argv)
{
  Check c = { 0 };
  char **dirs = NULL;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &c.json, "One JSON object per message, one per line", NULL },
    { "explain", 0, 0, G_OPTION_ARG_NONE, &c.explain, "List the evidence for each verdict", NULL },
    { "rules", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &dirs, "Read rules from DIR instead of the installed ones", "DIR" },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("[FILE...] - say what each message is");
  g_autoptr (GError) error = NULL;
  g_autoptr (BounceRules) rules = NULL;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "backscatter check: %s\n", error->message);
      return EX_USAGE;
    }
  rules = cli_load_rules (dirs, &error);
  g_strfreev (dirs);
  if (rules == NULL)
    {
      fprintf (stderr, "backscatter: %s\n", error->message);
      return cli_exit_for_error (error);
    }
  if (argc < 2)
    {
      g_autoptr (GByteArray) buf = g_byte_array_new ();
      guint8 chunk[65536];
      size_t n;

      while ((n = fread (chunk, 1, sizeof chunk, stdin)) > 0)
        g_byte_array_append (buf, chunk, n);
      if (ferror (stdin))
        {
          fprintf (stderr, "backscatter: standard input: read error\n");
          return EX_IOERR;
        }
      check_one (&c, rules, "-", (const char *) buf->data, buf->len, NULL);
    }
  for (int i = 1; i < argc; i++)
    {
      g_autoptr (GMappedFile) map = NULL;
      g_autoptr (GError) err = NULL;

      map = g_mapped_file_new (argv[i], FALSE, &err);
      if (map == NULL)
        check_one (&c, rules, argv[i], NULL, 0, err);
      else
        check_one (&c, rules, argv[i], g_mapped_file_get_contents (map),
                   g_mapped_file_get_length (map), NULL);
    }
  fflush (stdout);
  if (c.found)
    return EXIT_FOUND;
  if (c.error_code)
    return c.error_code;
  return c.undecided ? EXIT_UNDECIDED : EXIT_NONE;
}

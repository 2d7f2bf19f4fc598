/* check.c — `backscatter check [FILE...]`: read each message (stdin when no
 * file is named), say what it is and whether it is backscatter. A file that
 * cannot be read or parsed gets an error line and the run goes on.
 *
 * Exit: 0 backscatter found, 1 none found, 2 only undecided bounces; or
 * the sysexits code of the first error when nothing was found. */
#include "config.h"
#include "cli.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct
{
  CliContext ctx;
  gboolean json;
  gboolean explain;
  int found;      /* backscatter */
  int undecided;  /* bounces judged unknown */
  int error_code; /* the first error's exit code, or 0 */
} Check;

static void
check_one (Check *c, const char *source, const char *data, gsize len, const GError *read_error)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BounceReport) report = NULL;
  g_autoptr (BounceJudgement) judgement = NULL;

  if (read_error == NULL)
    report = bounce_report_new_from_data (data, len, c->ctx.rules, BOUNCE_PARSE_DEFAULT, &error);
  else
    error = g_error_copy (read_error);
  if (report == NULL)
    {
      if (c->error_code == 0)
        c->error_code = cli_exit_for_error (error);
      if (c->json)
        cli_print_json (source, NULL, NULL, error->message);
      else
        cli_print_error (source, error->message);
      return;
    }
  judgement = bounce_judge_report (c->ctx.judge, report);
  switch (bounce_judgement_get_verdict (judgement))
    {
    case BOUNCE_VERDICT_BACKSCATTER:
      c->found++;
      break;
    case BOUNCE_VERDICT_UNKNOWN:
      c->undecided++;
      break;
    default:
      break;
    }
  if (c->json)
    cli_print_json (source, report, judgement, NULL);
  else
    cli_print_text (source, report, judgement, c->explain);
}

int
cli_check (int argc, char **argv)
{
  Check c = { 0 };
  CliSettings settings = { 0 };
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &c.json, "One JSON object per message, one per line", NULL },
    { "explain", 0, 0, G_OPTION_ARG_NONE, &c.explain, "List the evidence for each verdict", NULL },
    { NULL },
  };
  g_autoptr (GError) error = NULL;
  int status;

  if (!cli_parse_options ("check", "[FILE...] - say what each message is", entries, &settings, &argc, &argv))
    return EX_USAGE;
  if (!cli_context_load (&c.ctx, &settings, &error))
    {
      fprintf (stderr, "backscatter: %s\n", error->message);
      cli_settings_clear (&settings);
      cli_context_clear (&c.ctx);
      return cli_exit_for_error (error);
    }
  cli_settings_clear (&settings);
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
          cli_context_clear (&c.ctx);
          return EX_IOERR;
        }
      check_one (&c, "-", (const char *) buf->data, buf->len, NULL);
    }
  for (int i = 1; i < argc; i++)
    {
      g_autoptr (GMappedFile) map = NULL;
      g_autoptr (GError) err = NULL;

      map = g_mapped_file_new (argv[i], FALSE, &err);
      if (map == NULL)
        {
          g_autoptr (GError) e2 = g_error_new (BOUNCE_ERROR, BOUNCE_ERROR_IO, "%s", err->message);

          check_one (&c, argv[i], NULL, 0, e2);
        }
      else
        check_one (&c, argv[i], g_mapped_file_get_contents (map), g_mapped_file_get_length (map), NULL);
    }
  fflush (stdout);
  cli_context_clear (&c.ctx);
  /* Errors win over verdicts (backscatter(1), EXIT STATUS). */
  if (c.error_code)
    status = c.error_code;
  else if (c.found)
    status = EXIT_FOUND;
  else
    status = c.undecided ? EXIT_UNDECIDED : EXIT_NONE;
  return status;
}

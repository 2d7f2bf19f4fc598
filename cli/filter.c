/* filter.c — `backscatter filter`: one message on stdin, the same message
 * on stdout with X-Backscatter headers added at the top (after an mbox
 * "From " line). Nothing else changes: line endings (the added lines use
 * the message's own), a missing final newline, every byte of the body.
 * On any error the message is written unchanged and the exit is 0, so a
 * procmail `:0fw` recipe never loses mail. */
#include "config.h"
#include "cli.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static gboolean
write_all (const char *data, gsize len)
{
  while (len > 0)
    {
      ssize_t n = write (STDOUT_FILENO, data, len);

      if (n < 0)
        return FALSE;
      data += n;
      len -= n;
    }
  return TRUE;
}

/* The headers to add, or NULL when the message cannot be judged. */
static char *
judge_headers (CliSettings *settings, const char *data, gsize len)
{
  CliContext ctx = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (BounceReport) report = NULL;
  g_autoptr (BounceJudgement) judgement = NULL;
  const char *nl = memchr (data, '\n', len);
  const char *newline = nl && nl > data && nl[-1] == '\r' ? "\r\n" : "\n";
  char *headers = NULL;

  if (!cli_context_load (&ctx, settings, &error))
    {
      fprintf (stderr, "backscatter filter: %s\n", error->message);
      cli_context_clear (&ctx);
      return NULL;
    }
  report = bounce_report_new_from_data (data, len, ctx.rules, BOUNCE_PARSE_DEFAULT, &error);
  if (report)
    {
      judgement = bounce_judge_report (ctx.judge, report);
      headers = bounce_judgement_to_headers (judgement, report, newline);
    }
  else
    fprintf (stderr, "backscatter filter: %s\n", error->message);
  cli_context_clear (&ctx);
  return headers;
}

int
cli_filter (int argc, char **argv)
{
  CliSettings settings = { 0 };
  g_autoptr (GByteArray) buf = g_byte_array_new ();
  g_autofree char *headers = NULL, *tagged = NULL;
  gsize tagged_len = 0;
  guint8 chunk[65536];
  size_t n;

  if (!cli_parse_options ("filter", "- add X-Backscatter headers to the message on stdin", NULL, &settings, &argc, &argv))
    return EX_USAGE;
  while ((n = fread (chunk, 1, sizeof chunk, stdin)) > 0)
    g_byte_array_append (buf, chunk, n);
  if (buf->len > 0 && !ferror (stdin))
    headers = judge_headers (&settings, (const char *) buf->data, buf->len);
  cli_settings_clear (&settings);
  /* X-Backscatter headers the message came with are replaced by ours. */
  if (headers)
    tagged = bounce_message_add_headers ((const char *) buf->data, buf->len, headers, &tagged_len);
  if (!(tagged ? write_all (tagged, tagged_len) : write_all ((const char *) buf->data, buf->len)))
    {
      perror ("backscatter filter: write");
      return EX_IOERR;
    }
  return 0;
}

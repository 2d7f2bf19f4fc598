/* filter.c — `backscatter filter`: one message on stdin, the same message
 * on stdout with X-Backscatter headers added at the top (after an mbox
 * "From " line). Nothing else changes: line endings (the added lines use
 * the message's own), a missing final newline, every byte of the body.
 *
 * Errors: standard input that cannot be read (a folder, a closed
 * descriptor, a read error midway) writes nothing and exits EX_IOERR, so
 * that procmail keeps the message it has rather than a cut copy. A broken
 * configuration or rule file adds one `X-Backscatter-Error:` header saying
 * what is wrong (a broken configuration in every message, a broken rule
 * file in every message that may be a report, until it is fixed) and
 * exits 0;
 * a message that cannot be parsed is written unchanged, exit 0. A message
 * larger than BOUNCE_MAX_MESSAGE_BYTES is judged from its start and the
 * rest is copied through unchanged. Any X-Backscatter* header the message
 * came with is replaced by ours (a sender could forge one). */
#include "config.h"
#include "cli.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The longest error text put in a header. */
#define ERROR_HEADER_CHARS 200

/* An X-Backscatter-Error header saying @message on one line. */
static char *
error_header (const char *message)
{
  g_autoptr (GString) h = g_string_new ("X-Backscatter-Error: ");

  /* One line of ASCII: GLib's messages quote with U+201C and U+201D. */
  for (const char *p = message; *p && h->len < ERROR_HEADER_CHARS; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char_validated (p, -1);

      if (c == (gunichar) -1 || c == (gunichar) -2)
        break;
      if (c == 0x2018 || c == 0x2019)
        c = '\'';
      else if (c == 0x201C || c == 0x201D)
        c = '"';
      g_string_append_c (h, c < 0x20 || c == 0x7f ? ' ' : c < 0x80 ? (char) c : '?');
    }
  g_string_append_c (h, '\n');
  return g_string_free (g_steal_pointer (&h), FALSE);
}

/* The headers to add, or NULL when the message cannot be judged. */
static char *
judge_headers (CliRun *run, const char *data, gsize len)
{
  CliContext *ctx = &run->ctx;
  g_autoptr (GError) error = NULL;
  g_autoptr (BounceReport) report = NULL;
  g_autoptr (BounceJudgement) judgement = NULL;
  char *headers = NULL;

  /* The rules and the index only for a message that may be a report. */
  if (!cli_run_load (run, &error) || !cli_context_ready_for (ctx, data, len, &error))
    {
      fprintf (stderr, "backscatter filter: %s\n", error->message);
      return error_header (error->message);
    }
  report = bounce_report_new_from_data (data, len, ctx->rules, BOUNCE_PARSE_DEFAULT, &error);
  if (report)
    {
      judgement = bounce_judge_report (ctx->judge, report);
      headers = bounce_judgement_to_headers (judgement, report, "\n");
    }
  else
    fprintf (stderr, "backscatter filter: %s\n", error->message);
  return headers;
}

int
cli_filter (CliRun *run, int argc, char **argv)
{
  g_autoptr (GByteArray) buf = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *headers = NULL, *tagged = NULL;
  gsize tagged_len = 0;
  gboolean more;

  if (!cli_parse_options (run, NULL, &argc, &argv))
    return EX_USAGE;
  buf = cli_read_message (STDIN_FILENO, &more, &error);
  if (buf == NULL)
    {
      fprintf (stderr, "backscatter filter: %s\n", error->message);
      return EX_IOERR;
    }
  if (buf->len > 0)
    headers = judge_headers (run, (const char *) buf->data, buf->len);
  /* X-Backscatter headers the message came with are replaced by ours. */
  if (headers)
    tagged =
        bounce_message_add_headers ((const char *) buf->data, buf->len, headers, BOUNCE_HEADER_PREFIX, &tagged_len);
  if (!(tagged ? cli_write_all (STDOUT_FILENO, tagged, tagged_len)
               : cli_write_all (STDOUT_FILENO, buf->data, buf->len)))
    {
      perror ("backscatter filter: write");
      return EX_IOERR;
    }
  if (more && !cli_copy_stdin (STDOUT_FILENO, &error))
    {
      fprintf (stderr, "backscatter filter: %s\n", error->message);
      return EX_IOERR;
    }
  return 0;
}

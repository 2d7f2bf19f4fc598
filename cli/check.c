/* check.c — `backscatter check [FILE...]`: read each message (stdin when no
 * file is named, or for "-"), say what it is and whether it is backscatter. A file that
 * cannot be read or parsed gets an error line and the run goes on.
 *
 * The rules and the sent-mail index are loaded when the first message
 * that may be a report comes; when they cannot be, the run stops there.
 *
 * Exit: 0 backscatter found, 1 none found, 2 only undecided bounces; or
 * the sysexits code of the first error when nothing was found. */
#include "config.h"
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct
{
  CliContext *ctx;
  gboolean json;
  gboolean explain;
  int found;      /* backscatter */
  int undecided;  /* bounces judged unknown */
  int error_code; /* the first error's exit code, or 0 */
  int fatal;      /* the rules could not be loaded: the exit code; stop */
} Check;

static void
check_one (Check *c, const char *source, const char *data, gsize len, const GError *read_error)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BounceReport) report = NULL;
  g_autoptr (BounceJudgement) judgement = NULL;

  if (read_error == NULL && !cli_context_ready_for (c->ctx, data, len, &error))
    {
      fprintf (stderr, "backscatter: %s\n", error->message);
      c->fatal = cli_exit_for_error (error);
      return;
    }
  if (read_error == NULL)
    report = bounce_report_new_from_data (data, len, c->ctx->rules, BOUNCE_PARSE_DEFAULT, &error);
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
  judgement = bounce_judge_report (c->ctx->judge, report);
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
    cli_print_text (source, report, judgement, c->ctx->rules, c->explain);
  if (c->explain && !c->json && !bounce_identity_has_addresses (c->ctx->identity)
      && bounce_judgement_get_verdict (judgement) == BOUNCE_VERDICT_UNKNOWN)
    printf ("  hint: no addresses are configured, so nothing says whose mail this was; "
            "'backscatter doctor' says what would decide it\n");
}

/* Judges the message on standard input (named "-"); FALSE when it could
 * not be read. */
static gboolean
check_stdin (Check *c)
{
  g_autoptr (GError) error = NULL;
  gboolean more;
  g_autoptr (GByteArray) buf = cli_read_message (STDIN_FILENO, &more, &error);

  if (buf == NULL)
    {
      fprintf (stderr, "backscatter: %s\n", error->message);
      return FALSE;
    }
  check_one (c, "-", (const char *) buf->data, buf->len, NULL);
  return TRUE;
}

/* An mbox of more than one message: a "From " line after the first,
 * after a blank line. When the first message is multipart, that line
 * must come after its closing boundary: a returned original may carry an
 * unquoted "From " line of its own inside a part. */
static gboolean
is_mbox (const char *data, gsize len)
{
  gsize n = MIN (len, 1 << 24);
  const char *next, *b = NULL;
  g_autofree char *type = NULL, *closing = NULL;

  if (len <= 5 || memcmp (data, "From ", 5) != 0 || !(next = g_strstr_len (data, n, "\n\nFrom ")))
    return FALSE;
  type = bounce_message_get_header (data, next - data + 1, "Content-Type");
  for (const char *p = type; p && *p && b == NULL; p++)
    if (g_ascii_strncasecmp (p, "boundary=", 9) == 0)
      b = p + 9;
  if (b == NULL)
    return TRUE;
  closing = *b == '"' ? g_strdup_printf ("\n--%.*s--", (int) strcspn (b + 1, "\""), b + 1)
                      : g_strdup_printf ("\n--%.*s--", (int) strcspn (b, "; \t"), b);
  return g_strstr_len (data, next - data + 1, closing) != NULL;
}

/* Judges the one message in the file @path, or says why it cannot. The
 * file is read here, not by bounce_report_new_from_file(): its bytes are
 * looked at before the rules are loaded (cli_context_ready_for), and an
 * mbox of several messages is refused. */
static void
check_file (Check *c, const char *path)
{
  g_autoptr (GByteArray) buf = NULL;
  g_autoptr (GError) err = NULL;
  struct stat st;
  gboolean more;
  /* O_NONBLOCK: a FIFO is refused below, not waited on. */
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

  /* Errors name the path once (cli_print_error puts it first). */
  if (fd < 0)
    err = g_error_new (BOUNCE_ERROR, BOUNCE_ERROR_IO, "%s", g_strerror (errno));
  else if (fstat (fd, &st) == 0 && S_ISDIR (st.st_mode))
    err = g_error_new (BOUNCE_ERROR, BOUNCE_ERROR_IO,
                       "is a directory: check reads message files; 'backscatter scan' reads a Maildir");
  else if (!S_ISREG (st.st_mode))
    err = g_error_new (BOUNCE_ERROR, BOUNCE_ERROR_IO, "is not a regular file");
  else if ((buf = cli_read_message (fd, &more, &err)) != NULL)
    g_clear_error (&err);
  else
    {
      g_autofree char *why = g_strdup (err->message);

      g_clear_error (&err);
      err = g_error_new (BOUNCE_ERROR, BOUNCE_ERROR_IO, "cannot be read: %s", why);
    }
  if (fd >= 0)
    close (fd);
  if (err)
    {
      check_one (c, path, NULL, 0, err);
      return;
    }
  if (is_mbox ((const char *) buf->data, buf->len))
    {
      err = g_error_new (BOUNCE_ERROR, BOUNCE_ERROR_PARSE,
                         "is an mbox of several messages: check reads one message a file; "
                         "'backscatter scan' on it judges each of them");
      check_one (c, path, NULL, 0, err);
      return;
    }
  check_one (c, path, (const char *) buf->data, buf->len, NULL);
}

int
cli_check (CliRun *run, int argc, char **argv)
{
  Check c = { .ctx = &run->ctx };
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &c.json, "One JSON object per message, one per line", NULL },
    { "explain", 0, 0, G_OPTION_ARG_NONE, &c.explain, "List the evidence for each verdict", NULL },
    { NULL },
  };
  g_autoptr (GError) error = NULL;
  int status;

  if (!cli_parse_options (run, entries, &argc, &argv))
    return EX_USAGE;
  /* The rules and the index are loaded when a message first needs them:
   * most mail is ruled out by its header block alone. */
  if (!cli_run_load (run, &error))
    {
      fprintf (stderr, "backscatter: %s\n", error->message);
      return cli_exit_for_error (error);
    }
  if (argc < 2 && !check_stdin (&c))
    return EX_IOERR;
  for (int i = 1; i < argc && !c.fatal; i++)
    if (strcmp (argv[i], "-") != 0)
      check_file (&c, argv[i]);
    else if (!check_stdin (&c) && c.error_code == 0)
      c.error_code = EX_IOERR;
  fflush (stdout);
  /* Errors win over verdicts (backscatter(1), EXIT STATUS). */
  if (c.fatal)
    status = c.fatal;
  else if (c.error_code)
    status = c.error_code;
  else if (c.found)
    status = EXIT_FOUND;
  else
    status = c.undecided ? EXIT_UNDECIDED : EXIT_NONE;
  return status;
}

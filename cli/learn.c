/* learn.c — `backscatter learn [--sent PATH...] [--rebuild]` reads the
 * owner's sent folders into the sent-mail index (only what is new since
 * the last run); `backscatter record-sent` adds the one outgoing message
 * on stdin (for a sendmail wrapper or a mail client's Fcc hook). */
#include "config.h"
#include "cli.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static BounceIndex *
open_index (CliSettings *s, GError **error)
{
  g_autofree char *path = cli_index_path (s);

  return bounce_index_open (path, FALSE, error);
}

static void
learn_progress (const BounceLearnCounts *c, guint looked_at, goffset offset, gpointer user_data)
{
  CliProgress *p = user_data;

  p->done = looked_at;
  p->offset = offset;
  g_free (p->more);
  p->more = g_strdup_printf (", %u new", c->added);
  cli_progress_update (p, FALSE);
}

int
cli_learn (CliRun *run, int argc, char **argv)
{
  CliSettings *settings = &run->settings;
  gboolean rebuild = FALSE, quiet = FALSE, recursive = FALSE;
  GOptionEntry entries[] = {
    { "rebuild", 0, 0, G_OPTION_ARG_NONE, &rebuild, "Forget the index and read every folder again", NULL },
    { "recursive", 'r', 0, G_OPTION_ARG_NONE, &recursive, "Read the Maildir++ subfolders of each folder too", NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Say nothing unless something fails", NULL },
    { NULL },
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (BounceIdentity) id = NULL;
  g_autoptr (BounceIndex) idx = NULL;
  const char *const *folders;
  guint n = 0;
  gint64 first, last;
  int status = 0;
  CliProgress progress = { 0 };

  if (!cli_parse_options (run, entries, &argc, &argv))
    return EX_USAGE;
  if (argc > 1)
    {
      fprintf (stderr, "backscatter learn: unexpected argument '%s' (name folders with --sent)\n", argv[1]);
      return EX_USAGE;
    }
  id = cli_load_identity (settings, &error);
  /* No index is made for a learn that has nothing to read. */
  if (id && bounce_identity_get_sent_folders (id)[0] == NULL)
    {
      fprintf (stderr,
               "backscatter learn: no sent folder: set [sent] folders in the config file or name one with --sent\n");
      return EX_USAGE;
    }
  if (id)
    idx = open_index (settings, &error);
  if (idx == NULL)
    {
      fprintf (stderr, "backscatter: %s\n", error->message);
      return cli_exit_for_error (error);
    }
  folders = bounce_identity_get_sent_folders (id);
  /* A rebuild is one transaction: whoever reads the index meanwhile sees
   * the old one until the new one is complete, and a folder that cannot
   * be read leaves the old one in place. */
  if (rebuild && (!bounce_index_begin (idx, &error) || !bounce_index_clear (idx, &error)))
    {
      fprintf (stderr, "backscatter: %s\n", error->message);
      return cli_exit_for_error (error);
    }
  for (guint i = 0; folders[i]; i++)
    {
      BounceLearnCounts c = { 0 };
      g_autoptr (GError) err = NULL;

      gboolean ok;

      progress.on = !quiet && isatty (STDERR_FILENO);
      cli_progress_start (&progress, "learning", folders[i], recursive, NULL);
      ok = bounce_index_learn (idx, folders[i], recursive ? BOUNCE_MAILBOX_RECURSIVE : BOUNCE_MAILBOX_DEFAULT, id,
                               learn_progress, &progress, &c, &err);
      cli_progress_end (&progress);
      if (!ok)
        {
          fprintf (stderr, "backscatter: %s\n", err->message);
          if (status == 0)
            status = cli_exit_for_error (err);
          continue;
        }
      if (!quiet)
        {
          g_autofree char *read = cli_count (c.read, "message", NULL);

          printf ("%s: %s read, %u new\n", folders[i], read, c.added);
        }
      /* Incoming mail taken for sent mail would make forged bounces of
       * it look genuine. */
      if (c.not_owner > 0 && c.not_owner * 2 > c.read)
        {
          g_autofree char *of = cli_count (c.read, "message", NULL);

          fprintf (stderr,
                   "backscatter learn: warning: %s: %u of %s read %s not From your addresses; "
                   "is it a folder of mail you sent?\n",
                   folders[i], c.not_owner, of, c.not_owner == 1 ? "is" : "are");
        }
    }
  if (rebuild && status != 0)
    {
      bounce_index_rollback (idx, NULL);
      fprintf (stderr, "backscatter learn: the index is left as it was before --rebuild\n");
      return status;
    }
  if (rebuild && !bounce_index_commit (idx, &error))
    {
      fprintf (stderr, "backscatter: %s\n", error->message);
      return cli_exit_for_error (error);
    }
  if (!quiet && bounce_index_get_range (idx, &n, &first, &last))
    {
      g_autoptr (GDateTime) f = g_date_time_new_from_unix_utc (first);
      g_autoptr (GDateTime) l = g_date_time_new_from_unix_utc (last);
      g_autofree char *fs = g_date_time_format (f, "%Y-%m-%d");
      g_autofree char *ls = g_date_time_format (l, "%Y-%m-%d");

      g_autofree char *count = cli_count (n, "message", NULL);

      printf ("index: %s sent from %s to %s\n", count, fs, ls);
    }
  return status;
}

/* The domain of the first address in the From: field, or NULL. */
static char *
from_domain (const char *data, gsize len)
{
  g_autofree char *from = bounce_message_get_header (data, len, "From");
  const char *at = from ? strchr (from, '@') : NULL;
  const char *d = at ? at + 1 : NULL;

  while (d && (g_ascii_isalnum (*d) || *d == '.' || *d == '-'))
    d++;
  return at && d > at + 1 ? g_ascii_strdown (at + 1, d - at - 1) : NULL;
}

/* Puts a new Message-ID: field at the top of the message in @buf (after
 * an mbox "From " line), with the line ending the message uses; returns
 * the id. */
static char *
add_message_id (GByteArray **buf)
{
  g_autofree char *domain = from_domain ((const char *) (*buf)->data, (*buf)->len);
  char *id = g_strdup_printf ("<%" G_GINT64_FORMAT ".%08x%08x@%s>", g_get_real_time (), g_random_int (),
                              g_random_int (), domain ? domain : g_get_host_name ());
  g_autofree char *field = g_strdup_printf ("Message-ID: %s\n", id);
  gsize len;
  char *with = bounce_message_add_headers ((const char *) (*buf)->data, (*buf)->len, field, NULL, &len);

  g_byte_array_unref (*buf);
  *buf = g_byte_array_new_take ((guint8 *) with, len);
  return id;
}

int
cli_record_sent (CliRun *run, int argc, char **argv)
{
  CliSettings *settings = &run->settings;
  gboolean pass = FALSE, more;
  GOptionEntry entries[] = {
    { "pass", 'p', 0, G_OPTION_ARG_NONE, &pass,
      "Also copy the message to standard output (adding a Message-ID when it has none), to pipe it on to sendmail",
      NULL },
    { NULL },
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (BounceIndex) idx = NULL;
  g_autoptr (GByteArray) buf = NULL;
  g_autofree char *added_id = NULL;
  int status = 0;

  if (!cli_parse_options (run, entries, &argc, &argv))
    return EX_USAGE;
  /* Standard input first: opening the index must not take descriptor 0
   * when it is closed. */
  buf = cli_read_message (STDIN_FILENO, &more, &error);
  if (buf == NULL)
    {
      fprintf (stderr, "backscatter record-sent: %s\n", error->message);
      return EX_IOERR;
    }
  if (buf->len == 0)
    {
      fprintf (stderr, "backscatter record-sent: standard input is empty: there is no message to record\n");
      return EX_DATAERR;
    }
  /* Pass-through: the message goes on whatever happens to the index, and
   * one without a Message-ID gets one now, since the MTA would otherwise
   * make up one that the index never sees. The rest of a message larger
   * than what is read goes on unchanged. */
  if (pass)
    {
      g_autofree char *mid = bounce_message_get_header ((const char *) buf->data, buf->len, "Message-ID");

      if (mid == NULL)
        added_id = add_message_id (&buf);
      if (!cli_write_all (STDOUT_FILENO, buf->data, buf->len))
        {
          fprintf (stderr, "backscatter record-sent: cannot write the message to standard output\n");
          status = EX_IOERR;
        }
      else if (more && !cli_copy_stdin (STDOUT_FILENO, &error))
        {
          fprintf (stderr, "backscatter record-sent: %s\n", error->message);
          g_clear_error (&error);
          status = EX_IOERR;
        }
      more = FALSE;
    }
  idx = open_index (settings, &error);
  if (idx == NULL
      || !bounce_index_add_message (idx, (const char *) buf->data, MIN (buf->len, (gsize) BOUNCE_MAX_MESSAGE_BYTES),
                                    NULL, &error))
    {
      if (g_error_matches (error, BOUNCE_ERROR, BOUNCE_ERROR_PARSE) && !pass)
        fprintf (stderr,
                 "backscatter record-sent: %s, so a bounce of it could not be recognised: "
                 "nothing recorded (with --pass, one is added before the message is passed on)\n",
                 error->message);
      else
        fprintf (stderr, "backscatter record-sent: %s%s\n", error->message,
                 pass ? " (the message was passed on, but not recorded)" : "");
      return status ? status : cli_exit_for_error (error);
    }
  /* The headers were at the start; the rest of a larger message is read
   * and dropped, so that the writer (a tee to sendmail) is never cut off. */
  if (more && !cli_copy_stdin (-1, &error))
    {
      fprintf (stderr, "backscatter record-sent: %s\n", error->message);
      return EX_IOERR;
    }
  return status;
}

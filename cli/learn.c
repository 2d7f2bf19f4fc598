/* learn.c — `backscatter learn [--sent PATH...] [--rebuild]` reads the
 * owner's sent folders into the sent-mail index (only what is new since
 * the last run); `backscatter record-sent` adds the one outgoing message
 * on stdin (for a sendmail wrapper or a mail client's Fcc hook). */
#include "config.h"
#include "cli.h"

#include <stdio.h>
#include <string.h>

static BounceIndex *
open_index (CliSettings *s, GError **error)
{
  g_autofree char *path = cli_index_path (s);

  return bounce_index_open (path, FALSE, error);
}

int
cli_learn (int argc, char **argv)
{
  CliSettings settings = { 0 };
  gboolean rebuild = FALSE, quiet = FALSE;
  GOptionEntry entries[] = {
    { "rebuild", 0, 0, G_OPTION_ARG_NONE, &rebuild, "Forget the index and read every folder again", NULL },
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

  if (!cli_parse_options ("learn", "- build the sent-mail index from your sent folders", entries, &settings, &argc, &argv))
    return EX_USAGE;
  if (argc > 1)
    {
      fprintf (stderr, "backscatter learn: unexpected argument '%s' (name folders with --sent)\n", argv[1]);
      cli_settings_clear (&settings);
      return EX_USAGE;
    }
  id = cli_load_identity (&settings, &error);
  if (id)
    idx = open_index (&settings, &error);
  cli_settings_clear (&settings);
  if (idx == NULL)
    {
      fprintf (stderr, "backscatter: %s\n", error->message);
      return cli_exit_for_error (error);
    }
  folders = bounce_identity_get_sent_folders (id);
  if (folders[0] == NULL)
    {
      fprintf (stderr, "backscatter learn: no sent folder: set [sent] folders in the config file or name one with --sent\n");
      return EX_USAGE;
    }
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
      guint r = 0, a = 0;
      g_autoptr (GError) err = NULL;

      if (!bounce_index_learn_folder (idx, folders[i], &r, &a, &err))
        {
          fprintf (stderr, "backscatter: %s\n", err->message);
          if (status == 0)
            status = cli_exit_for_error (err);
          continue;
        }
      if (!quiet)
        printf ("%s: %u messages read, %u new\n", folders[i], r, a);
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

      printf ("index: %u messages sent from %s to %s\n", n, fs, ls);
    }
  return status;
}

int
cli_record_sent (int argc, char **argv)
{
  CliSettings settings = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (BounceIndex) idx = NULL;
  g_autoptr (GByteArray) buf = g_byte_array_new ();
  guint8 chunk[65536];
  size_t n;

  if (!cli_parse_options ("record-sent", "- add the outgoing message on stdin to the sent-mail index", NULL, &settings, &argc, &argv))
    return EX_USAGE;
  idx = open_index (&settings, &error);
  cli_settings_clear (&settings);
  if (idx == NULL)
    {
      fprintf (stderr, "backscatter: %s\n", error->message);
      return cli_exit_for_error (error);
    }
  while ((n = fread (chunk, 1, sizeof chunk, stdin)) > 0)
    g_byte_array_append (buf, chunk, n);
  if (ferror (stdin))
    {
      fprintf (stderr, "backscatter record-sent: read error on standard input\n");
      return EX_IOERR;
    }
  if (!bounce_index_add_message (idx, (const char *) buf->data, buf->len, NULL, &error))
    {
      fprintf (stderr, "backscatter record-sent: %s\n", error->message);
      return cli_exit_for_error (error);
    }
  return 0;
}

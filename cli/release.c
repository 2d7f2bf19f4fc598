/* release.c — `backscatter release FILE...`: the owner says "I did send
 * this". The original a bounce carries is recorded in the sent-mail index
 * as sent (so this bounce, and any later one of the same message, is
 * judged with sent-id-found), and a bounce that sits in the Maildir++
 * folder the scan moves backscatter to (.Backscatter, or --folder) goes
 * back to the Maildir it came from, same name, same flags, never over an
 * existing file. Exit: 0, or the code of the first error; the other files
 * are still done. */
#include "config.h"
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* A header block for the index from what came back of the original. */
static char *
original_headers (BounceOriginal *o)
{
  static const char *const names[] = { "From", "To", "Cc", "Subject", "Date", "User-Agent", "X-Mailer" };
  GString *h = g_string_new (NULL);

  g_string_append_printf (h, "Message-ID: %s\n", bounce_original_get_message_id (o));
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      const char *v = bounce_original_get_header (o, names[i]);

      if (v && !strchr (v, '\n'))
        g_string_append_printf (h, "%s: %s\n", names[i], v);
    }
  g_string_append (h, "\n");
  return g_string_free (h, FALSE);
}

/* Moves @path back from MAILDIR/.FOLDER/{cur,new}/NAME to
 * MAILDIR/{cur,new}/NAME; NULL when it is not in that folder. */
static char *
move_back (const char *path, const char *folder, GError **error)
{
  g_autofree char *sub = g_path_get_dirname (path);    /* .../.Backscatter/cur */
  g_autofree char *box = g_path_get_dirname (sub);     /* .../.Backscatter */
  g_autofree char *maildir = g_path_get_dirname (box); /* ... */
  g_autofree char *sub_name = g_path_get_basename (sub);
  g_autofree char *box_name = g_path_get_basename (box);
  g_autofree char *name = g_path_get_basename (path);
  g_autofree char *dot = g_strconcat (".", folder, NULL);
  g_autofree char *target = NULL;

  if ((strcmp (sub_name, "cur") != 0 && strcmp (sub_name, "new") != 0) || strcmp (box_name, dot) != 0)
    return NULL;
  target = g_build_filename (maildir, sub_name, name, NULL);
  /* link + unlink: never replaces a message of the same name. */
  if (link (path, target) != 0)
    {
      g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_IO, "cannot move it back to %s: %s", target, g_strerror (errno));
      return NULL;
    }
  if (unlink (path) != 0)
    {
      int e = errno;

      unlink (target);
      g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_IO, "cannot move it back: %s", g_strerror (e));
      return NULL;
    }
  return g_steal_pointer (&target);
}

static int
release_one (CliContext *ctx, BounceIndex **idx, const char *index_path, const char *path, const char *folder)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *data = NULL, *headers = NULL, *moved = NULL;
  g_autoptr (BounceReport) report = NULL;
  BounceOriginal *o;
  gsize len;
  gboolean added = FALSE;

  {
    /* The error names the path once (GLib's own message names it too). */
    int fd = open (path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
      {
        fprintf (stderr, "backscatter release: %s: %s\n", path, g_strerror (errno));
        return EX_NOINPUT;
      }
    close (fd);
  }
  if (!g_file_get_contents (path, &data, &len, &error))
    {
      fprintf (stderr, "backscatter release: %s\n", error->message);
      return EX_NOINPUT;
    }
  report = bounce_report_new_from_data (data, len, ctx->rules, BOUNCE_PARSE_DEFAULT, &error);
  if (report == NULL)
    {
      fprintf (stderr, "backscatter release: %s: %s\n", path, error->message);
      return cli_exit_for_error (error);
    }
  o = bounce_report_get_original (report);
  if (o == NULL || bounce_original_get_message_id (o) == NULL)
    {
      fprintf (stderr, "backscatter release: %s: %s, so there is nothing to record; left where it is\n", path,
               o == NULL ? "nothing of the original came back" : "the original's Message-ID did not come back");
      return EX_DATAERR;
    }
  headers = original_headers (o);
  /* The index is made only when there is something to record in it. */
  if (*idx == NULL && (*idx = bounce_index_open (index_path, FALSE, &error)) == NULL)
    {
      fprintf (stderr, "backscatter: %s\n", error->message);
      return cli_exit_for_error (error);
    }
  if (!bounce_index_add_message (*idx, headers, strlen (headers), &added, &error))
    {
      fprintf (stderr, "backscatter release: %s: %s\n", path, error->message);
      return cli_exit_for_error (error);
    }
  moved = move_back (path, folder, &error);
  printf ("%s: %s %s as sent by you", path, bounce_original_get_message_id (o),
          added ? "recorded" : "was already recorded");
  if (moved)
    printf ("; moved back to %s", moved);
  printf ("\n");
  if (error)
    {
      fprintf (stderr, "backscatter release: %s: %s\n", path, error->message);
      return cli_exit_for_error (error);
    }
  return 0;
}

int
cli_release (CliRun *run, int argc, char **argv)
{
  g_autofree char *folder = NULL;
  GOptionEntry entries[] = {
    { "folder", 0, 0, G_OPTION_ARG_STRING, &folder,
      "The Maildir++ folder bounces are moved back from (default Backscatter)", "FOLDER" },
    { NULL },
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (BounceIndex) idx = NULL;
  g_autofree char *index_path = NULL;
  int status = 0;

  if (!cli_parse_options (run, entries, &argc, &argv))
    return EX_USAGE;
  if (argc < 2)
    {
      fprintf (stderr, "backscatter release: name the bounces whose original you sent\n");
      return EX_USAGE;
    }
  index_path = cli_index_path (&run->settings);
  if (!cli_run_load (run, &error))
    {
      fprintf (stderr, "backscatter: %s\n", error->message);
      return cli_exit_for_error (error);
    }
  for (int i = 1; i < argc; i++)
    {
      int st = release_one (&run->ctx, &idx, index_path, argv[i], folder ? folder : "Backscatter");

      if (status == 0)
        status = st;
    }
  return status;
}

/* mailbox.c — read every message of a Maildir or an mbox file, once.
 *
 * A Maildir is a folder with cur/ and new/ (tmp/ is never read: messages
 * there are still being delivered); with BOUNCE_MAILBOX_RECURSIVE its
 * Maildir++ subfolders (".Name") are read too. An mbox is a file of
 * messages each starting with a "From " line after a blank line.
 *
 * The names of a folder's files are read before any message is handed
 * out, so the callback may rename or delete the message it is given. A
 * file that vanished in between (a mail client moved it) is skipped
 * without error.
 *
 * Limits: a message larger than BOUNCE_MAX_MESSAGE_BYTES is handed out
 * cut to that size with `truncated` set; the caller must not act on it.
 */
#include "bounce-private.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/** bounce_mailbox_is_maildir: whether @path is a Maildir (has cur/ or new/). */
gboolean
bounce_mailbox_is_maildir (const char *path)
{
  g_autofree char *cur = g_build_filename (path, "cur", NULL);
  g_autofree char *new = g_build_filename (path, "new", NULL);

  return g_file_test (cur, G_FILE_TEST_IS_DIR) || g_file_test (new, G_FILE_TEST_IS_DIR);
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char **) a, *(char **) b);
}

/* Read a whole file (capped); NULL with errno set on failure. */
static char *
read_file (const char *path, gsize *len, gboolean *truncated, int *err)
{
  int fd = open (path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  char *buf;
  gsize want, got = 0;

  *truncated = FALSE;
  if (fd < 0)
    {
      *err = errno;
      return NULL;
    }
  if (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode))
    {
      *err = fstat (fd, &st) < 0 ? errno : EINVAL;
      close (fd);
      return NULL;
    }
  want = st.st_size;
  if (want > BOUNCE_MAX_MESSAGE_BYTES)
    {
      want = BOUNCE_MAX_MESSAGE_BYTES;
      *truncated = TRUE;
    }
  buf = g_malloc (want + 1);
  while (got < want)
    {
      ssize_t n = read (fd, buf + got, want - got);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          *err = errno;
          close (fd);
          g_free (buf);
          return NULL;
        }
      if (n == 0)
        break;
      got += n;
    }
  close (fd);
  buf[got] = '\0';
  *len = got;
  return buf;
}

static gboolean
foreach_maildir_folder (const char *maildir, BounceMessageFunc func, gpointer user_data,
                        gboolean *stop, GError **error)
{
  static const char *const subdirs[] = { "new", "cur" };

  for (guint s = 0; s < G_N_ELEMENTS (subdirs) && !*stop; s++)
    {
      g_autofree char *dir = g_build_filename (maildir, subdirs[s], NULL);
      g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
      g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
      const char *name;

      if (d == NULL)
        continue;
      while ((name = g_dir_read_name (d)) != NULL)
        if (name[0] != '.')
          g_ptr_array_add (names, g_strdup (name));
      g_ptr_array_sort (names, compare_names);
      for (guint i = 0; i < names->len && !*stop; i++)
        {
          g_autofree char *path = g_build_filename (dir, g_ptr_array_index (names, i), NULL);
          g_autofree char *data = NULL;
          BounceMessageRef ref = { 0 };
          int err = 0;
          gsize len = 0;

          data = read_file (path, &len, &ref.truncated, &err);
          if (data == NULL)
            {
              if (err == ENOENT || err == EINVAL || err == ELOOP)
                continue; /* moved away meanwhile, or not a plain file */
              ref.read_error = g_strerror (err);
            }
          ref.path = path;
          ref.folder = maildir;
          ref.data = data;
          ref.length = len;
          if (!func (&ref, user_data, error))
            {
              *stop = TRUE;
              return error == NULL || *error == NULL;
            }
        }
    }
  return TRUE;
}

static gboolean
foreach_maildir (const char *maildir, BounceMailboxFlags flags, const char *skip,
                 BounceMessageFunc func, gpointer user_data, gboolean *stop, GError **error)
{
  if (!foreach_maildir_folder (maildir, func, user_data, stop, error))
    return FALSE;
  if ((flags & BOUNCE_MAILBOX_RECURSIVE) && !*stop)
    {
      g_autoptr (GDir) d = g_dir_open (maildir, 0, NULL);
      g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
      const char *name;

      if (d == NULL)
        return TRUE;
      while ((name = g_dir_read_name (d)) != NULL)
        if (name[0] == '.' && strcmp (name, ".") != 0 && strcmp (name, "..") != 0
            && (skip == NULL || strcmp (name + 1, skip) != 0))
          g_ptr_array_add (names, g_strdup (name));
      g_ptr_array_sort (names, compare_names);
      for (guint i = 0; i < names->len && !*stop; i++)
        {
          g_autofree char *sub = g_build_filename (maildir, g_ptr_array_index (names, i), NULL);
          struct stat st;

          /* Maildir++ subfolders are real folders, never links out of it. */
          if (lstat (sub, &st) < 0 || !S_ISDIR (st.st_mode) || !bounce_mailbox_is_maildir (sub))
            continue;
          if (!foreach_maildir_folder (sub, func, user_data, stop, error))
            return FALSE;
        }
    }
  return TRUE;
}

/* Is there an mbox "From " separator at @p (start of a line)? */
static gboolean
is_from_line (const char *p, const char *end)
{
  return end - p >= 5 && memcmp (p, "From ", 5) == 0;
}

static gboolean
foreach_mbox (const char *path, BounceMessageFunc func, gpointer user_data, gboolean *stop,
              GError **error)
{
  g_autoptr (GMappedFile) map = NULL;
  g_autoptr (GError) err = NULL;
  const char *data, *end, *p;

  map = g_mapped_file_new (path, FALSE, &err);
  if (map == NULL)
    {
      g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_IO, "%s", err->message);
      return FALSE;
    }
  data = g_mapped_file_get_contents (map);
  end = data + g_mapped_file_get_length (map);
  if (data == NULL || data == end)
    return TRUE;
  if (!is_from_line (data, end))
    {
      g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_PARSE,
                   "%s: not an mbox file (it does not start with a \"From \" line)", path);
      return FALSE;
    }
  p = data;
  while (p < end && !*stop)
    {
      const char *q = p, *next = end;
      BounceMessageRef ref = { 0 };

      /* The next "From " line that follows a blank line. */
      while ((q = memchr (q, '\n', end - q)) != NULL)
        {
          q++;
          if (q < end && *q == '\n' && is_from_line (q + 1, end))
            {
              next = q + 1;
              break;
            }
          if (q + 1 < end && q[0] == '\r' && q[1] == '\n' && is_from_line (q + 2, end))
            {
              next = q + 2;
              break;
            }
        }
      ref.path = path;
      ref.folder = path;
      ref.offset = p - data;
      ref.data = p;
      ref.length = next - p;
      if (ref.length > BOUNCE_MAX_MESSAGE_BYTES)
        {
          ref.length = BOUNCE_MAX_MESSAGE_BYTES;
          ref.truncated = TRUE;
        }
      ref.span = next - p;
      ref.in_mbox = TRUE;
      if (!func (&ref, user_data, error))
        {
          *stop = TRUE;
          return error == NULL || *error == NULL;
        }
      p = next;
    }
  return TRUE;
}

/**
 * bounce_mailbox_foreach:
 * @path: a Maildir or an mbox file
 * @flags: BOUNCE_MAILBOX_RECURSIVE to read Maildir++ subfolders
 * @skip_folder: (nullable): a Maildir++ folder name (without the dot) not
 *   to read, such as the folder a scan moves messages into
 * @func: called for each message; returns FALSE to stop (setting its
 *   error to fail the whole walk)
 * @user_data: for @func
 * @error: BOUNCE_ERROR_IO when @path cannot be read, BOUNCE_ERROR_PARSE
 *   when it is neither a Maildir nor an mbox
 *
 * Returns: TRUE when every message was handed out (or @func stopped the
 *   walk without an error).
 */
gboolean
bounce_mailbox_foreach (const char *path, BounceMailboxFlags flags, const char *skip_folder,
                        BounceMessageFunc func, gpointer user_data, GError **error)
{
  gboolean stop = FALSE;
  struct stat st;

  if (stat (path, &st) < 0)
    {
      g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_IO, "%s: %s", path, g_strerror (errno));
      return FALSE;
    }
  if (S_ISDIR (st.st_mode))
    {
      if (!bounce_mailbox_is_maildir (path))
        {
          g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_PARSE,
                       "%s: not a Maildir (it has no cur/ or new/ folder)", path);
          return FALSE;
        }
      return foreach_maildir (path, flags, skip_folder, func, user_data, &stop, error);
    }
  return foreach_mbox (path, func, user_data, &stop, error);
}

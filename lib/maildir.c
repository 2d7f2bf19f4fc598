/* maildir.c — act on messages in a Maildir without ever losing one.
 *
 * Moves are rename(2) into a Maildir++ folder of the same Maildir (so the
 * same filesystem), keeping the unique name and the ":2," flags, with the
 * target folder fsynced. A rewritten message (added headers, a removed
 * attachment) is written to tmp/ with O_EXCL, fsynced, and renamed over
 * the old file: a reader sees the old message or the new one, never half.
 * A message is only linked away (quarantine) before it is replaced.
 *
 * One scan at a time per mailbox: bounce_mailbox_lock() takes an flock on
 * a lock file beside the mailbox.
 */
#include "bounce-private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static gboolean
io_error (GError **error, const char *what, const char *path)
{
  int e = errno;

  g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_IO, "%s %s: %s", what, path, g_strerror (e));
  return FALSE;
}

/* The message itself is gone: a mail client moved or deleted it. */
static gboolean
vanished (GError **error, const char *path)
{
  g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_VANISHED, "%s was moved away meanwhile", path);
  return FALSE;
}

static gboolean
fsync_dir (const char *dir, GError **error)
{
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (fd < 0)
    return io_error (error, "cannot open", dir);
  if (fsync (fd) < 0 && errno != EINVAL)
    {
      close (fd);
      return io_error (error, "cannot sync", dir);
    }
  close (fd);
  return TRUE;
}

/**
 * bounce_folder_name_is_valid:
 * @name: a Maildir++ folder name as the user gives it ("Backscatter",
 *   "Junk.Bounces")
 *
 * Returns: whether @name names a folder inside the Maildir: no "/", no
 *   "..", no leading dot, no control characters.
 */
gboolean
bounce_folder_name_is_valid (const char *name)
{
  if (name == NULL || *name == '\0' || *name == '.' || strlen (name) > 200)
    return FALSE;
  if (strchr (name, '/') || strstr (name, "..") || !g_utf8_validate (name, -1, NULL))
    return FALSE;
  for (const char *p = name; *p; p++)
    if ((unsigned char) *p < 0x20 || *p == 0x7f)
      return FALSE;
  return name[strlen (name) - 1] != '.';
}

/**
 * bounce_maildir_folder:
 * @maildir: the Maildir
 * @name: a folder name (checked with bounce_folder_name_is_valid())
 * @create: create the folder (cur/, new/, tmp/) when it is missing
 * @error: BOUNCE_ERROR_CONFIG for a bad name, BOUNCE_ERROR_IO
 *
 * Returns: (transfer full) (nullable): the folder's path, "MAILDIR/.NAME"
 */
char *
bounce_maildir_folder (const char *maildir, const char *name, gboolean create, GError **error)
{
  g_autofree char *dotted = NULL;
  g_autofree char *path = NULL;
  static const char *const subs[] = { "cur", "new", "tmp" };
  struct stat st;

  if (!bounce_folder_name_is_valid (name))
    {
      g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_CONFIG,
                   "'%s' is not a folder name inside the Maildir (no '/', no '..', no leading dot)",
                   name ? name : "");
      return NULL;
    }
  dotted = g_strconcat (".", name, NULL);
  path = g_build_filename (maildir, dotted, NULL);
  if (lstat (path, &st) == 0 && !S_ISDIR (st.st_mode))
    {
      g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_IO, "%s exists and is not a folder", path);
      return NULL;
    }
  if (!create)
    return g_steal_pointer (&path);
  if (mkdir (path, 0700) < 0 && errno != EEXIST)
    {
      io_error (error, "cannot create", path);
      return NULL;
    }
  for (guint i = 0; i < G_N_ELEMENTS (subs); i++)
    {
      g_autofree char *sub = g_build_filename (path, subs[i], NULL);

      if (mkdir (sub, 0700) < 0 && errno != EEXIST)
        {
          io_error (error, "cannot create", sub);
          return NULL;
        }
    }
  {
    /* Maildir++ marks subfolders with an empty "maildirfolder" file. */
    g_autofree char *mark = g_build_filename (path, "maildirfolder", NULL);
    int fd = open (mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

    if (fd >= 0)
      close (fd);
  }
  if (!fsync_dir (maildir, error))
    return NULL;
  return g_steal_pointer (&path);
}

/* "MAILDIR/cur/NAME" -> "cur" and "NAME" */
static gboolean
split_message_path (const char *path, char **sub, char **name, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *subname = g_path_get_basename (dir);

  if (strcmp (subname, "cur") != 0 && strcmp (subname, "new") != 0)
    {
      g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_IO, "%s is not in a Maildir's cur/ or new/", path);
      return FALSE;
    }
  *sub = g_steal_pointer (&subname);
  *name = g_steal_pointer (&base);
  return TRUE;
}

/**
 * bounce_maildir_move:
 * @path: a message file in a Maildir's cur/ or new/
 * @folder: the target folder's path (from bounce_maildir_folder())
 * @link_only: link the message there and leave it in place too
 * @target: (out) (optional) (transfer full): where it went
 * @error: BOUNCE_ERROR_IO
 *
 * Moves (or links) the message into the same subfolder (cur/ or new/) of
 * @folder under the same name, flags included; fsyncs the target folder.
 * A name already taken there is an error: nothing is overwritten.
 */
gboolean
bounce_maildir_move (const char *path, const char *folder, gboolean link_only, char **target,
                     GError **error)
{
  g_autofree char *sub = NULL, *name = NULL, *dest = NULL, *dest_dir = NULL;

  if (!split_message_path (path, &sub, &name, error))
    return FALSE;
  dest_dir = g_build_filename (folder, sub, NULL);
  dest = g_build_filename (dest_dir, name, NULL);
  if (!link_only && renameat2 (AT_FDCWD, path, AT_FDCWD, dest, RENAME_NOREPLACE) == 0)
    {
      /* The message is in exactly one place at every moment. */
      g_autofree char *src_dir = g_path_get_dirname (path);

      if (!fsync_dir (dest_dir, error) || !fsync_dir (src_dir, error))
        return FALSE;
    }
  else if (!link_only && errno == ENOENT && access (path, F_OK) < 0)
    return vanished (error, path);
  else if (!link_only && errno != EINVAL && errno != ENOSYS && errno != EEXIST)
    return io_error (error, "cannot move the message to", dest);
  else
    {
      /* link(2) never replaces a file. A link left by an interrupted move
       * (the same file under both names) is finished, not an error. */
      struct stat a, b;

      if (link (path, dest) < 0)
        {
          if (errno == ENOENT && access (path, F_OK) < 0)
            return vanished (error, path);
          if (!(errno == EEXIST && stat (path, &a) == 0 && stat (dest, &b) == 0
                && a.st_dev == b.st_dev && a.st_ino == b.st_ino))
            return io_error (error, "cannot move the message to", dest);
        }
      if (!fsync_dir (dest_dir, error))
        return FALSE;
      if (!link_only)
        {
          g_autofree char *src_dir = g_path_get_dirname (path);

          if (unlink (path) < 0)
            return io_error (error, "cannot remove", path);
          if (!fsync_dir (src_dir, error))
            return FALSE;
        }
    }
  if (target)
    *target = g_steal_pointer (&dest);
  return TRUE;
}

/**
 * bounce_maildir_delete:
 * @path: a message file
 * @error: BOUNCE_ERROR_IO
 */
gboolean
bounce_maildir_delete (const char *path, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (path);

  if (unlink (path) < 0)
    return errno == ENOENT ? vanished (error, path) : io_error (error, "cannot delete", path);
  return fsync_dir (dir, error);
}

/* A name for a new file in tmp/ that nothing else uses. */
static char *
tmp_name (const char *maildir)
{
  static gint counter;
  g_autofree char *host = g_strdup (g_get_host_name ());

  g_strdelimit (host, "/:", '_');
  return g_strdup_printf ("%s/tmp/%" G_GINT64_FORMAT ".P%dQ%d.%s", maildir,
                          g_get_real_time () / G_USEC_PER_SEC, (int) getpid (),
                          g_atomic_int_add (&counter, 1), host);
}

/**
 * bounce_maildir_replace:
 * @path: a message file in a Maildir
 * @data: its new content
 * @length: the length of @data
 * @error: BOUNCE_ERROR_IO
 *
 * Writes @data to the Maildir's tmp/ (O_EXCL), fsyncs it and swaps it
 * with @path atomically. On failure @path is unchanged; when @path has
 * vanished meanwhile, BOUNCE_ERROR_VANISHED and nothing is written.
 */
gboolean
bounce_maildir_replace (const char *path, const char *data, gsize length, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *maildir = g_path_get_dirname (dir);
  g_autofree char *tmp = tmp_name (maildir);
  int fd;
  gsize done = 0;

  fd = open (tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return io_error (error, "cannot create", tmp);
  while (done < length)
    {
      ssize_t n = write (fd, data + done, length - done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          io_error (error, "cannot write", tmp);
          close (fd);
          unlink (tmp);
          return FALSE;
        }
      done += n;
    }
  if (fsync (fd) < 0 || close (fd) < 0)
    {
      io_error (error, "cannot write", tmp);
      unlink (tmp);
      return FALSE;
    }
  /* Swap the new file in only if the old one is still there: a message a
   * mail client moved away meanwhile must not come back. The old content
   * ends in tmp/, where no reader looks, and is removed. */
  if (renameat2 (AT_FDCWD, tmp, AT_FDCWD, path, RENAME_EXCHANGE) < 0)
    {
      int e = errno;

      if (e == ENOENT)
        {
          unlink (tmp);
          return vanished (error, path);
        }
      if ((e != EINVAL && e != ENOSYS) || access (path, F_OK) < 0 || rename (tmp, path) < 0)
        {
          errno = e;
          io_error (error, "cannot replace", path);
          unlink (tmp);
          return FALSE;
        }
    }
  else
    unlink (tmp);
  return fsync_dir (dir, error);
}

/**
 * bounce_mailbox_lock:
 * @path: a Maildir or mbox
 * @error: BOUNCE_ERROR_LOCKED when another process holds it, BOUNCE_ERROR_IO
 *
 * Takes the lock that keeps two scans of one mailbox apart: an flock on
 * "MAILDIR/.backscatter.lock" or "MBOX.backscatter.lock".
 *
 * Returns: a file descriptor to close to release the lock, or -1.
 */
int
bounce_mailbox_lock (const char *path, GError **error)
{
  g_autofree char *lock = g_file_test (path, G_FILE_TEST_IS_DIR)
                            ? g_build_filename (path, ".backscatter.lock", NULL)
                            : g_strconcat (path, ".backscatter.lock", NULL);
  int fd = open (lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

  if (fd < 0)
    {
      io_error (error, "cannot open the lock file", lock);
      return -1;
    }
  if (flock (fd, LOCK_EX | LOCK_NB) < 0)
    {
      if (errno == EWOULDBLOCK)
        g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_LOCKED,
                     "%s: another backscatter scan is running on this mailbox", path);
      else
        io_error (error, "cannot lock", lock);
      close (fd);
      return -1;
    }
  return fd;
}

/* maildir.c — act on messages in a Maildir without ever losing one.
 *
 * Moves are rename(2) into a Maildir++ folder of the same Maildir (so the
 * same filesystem), keeping the unique name and the ":2," flags, with the
 * target folder fsynced. A rewritten message (added headers, a removed
 * attachment) is written to tmp/ with O_EXCL, fsynced, swapped with the
 * old file and renamed to a name whose ",S=" is its new size: a reader
 * sees the old message or the new one, never half, and a reader that
 * trusts the size in the name (Dovecot) reads it whole. A run killed
 * between the two leaves a name that says the old size: the next run
 * that writes renames it (bounce_maildir_fix_name()). A message is only
 * linked away (quarantine) before it is replaced. Rewritten files keep
 * the owner, group and mode of the old ones; folders this creates, those
 * of the Maildir.
 *
 * Nothing is written through a symbolic link: every folder is opened
 * from its parent's descriptor with O_NOFOLLOW, files are created with
 * openat(2) and moved with renameat2(2) between checked descriptors; a
 * folder (or its cur/, new/, tmp/) that is a link is refused.
 *
 * The folders messages go to, and the subscriptions that make mail
 * readers show them, are in maildir-folder.c; the lock that keeps two
 * runs on one mailbox apart, in lock.c.
 */
#include "maildir-private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The message itself is gone: a mail client moved or deleted it. */
static gboolean
vanished (GError **error, const char *path)
{
  g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_VANISHED, "%s was moved away meanwhile", path);
  return FALSE;
}

/* "MAILDIR/cur/NAME" -> "cur" */
static gboolean
message_sub (const BounceMessageRef *msg, char **sub, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (msg->path);
  g_autofree char *subname = g_path_get_basename (dir);

  if (msg->dirfd < 0 || msg->name == NULL || (strcmp (subname, "cur") != 0 && strcmp (subname, "new") != 0))
    {
      g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_IO, "%s is not in a Maildir's cur/ or new/", msg->path);
      return FALSE;
    }
  *sub = g_steal_pointer (&subname);
  return TRUE;
}

/* Is the file @name of the folder open as @dirfd still there? */
static gboolean
still_there (int dirfd, const char *name)
{
  struct stat st;

  return fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* The name of the file in the folder open as @dir that is the file @st,
 * or NULL. */
static char *
name_of (int dir, const struct stat *st)
{
  int fd = dup (dir);
  DIR *d = fd >= 0 ? fdopendir (fd) : NULL;
  struct dirent *e;
  char *found = NULL;

  if (d == NULL)
    {
      if (fd >= 0)
        close (fd);
      return NULL;
    }
  rewinddir (d);
  while (found == NULL && (e = readdir (d)) != NULL)
    {
      struct stat o;

      if (e->d_ino == st->st_ino && fstatat (dir, e->d_name, &o, AT_SYMLINK_NOFOLLOW) == 0 && o.st_dev == st->st_dev
          && o.st_ino == st->st_ino)
        found = g_strdup (e->d_name);
    }
  closedir (d);
  return found;
}

/* Links the message @msg (the file @st) into the folder open as @to under
 * a new unique name, its ",S=" fields and ":2," flags kept, as its own
 * name is another message's there; a name an interrupted run linked it
 * under already is taken again. The name in *@name. */
static gboolean
link_elsewhere (const BounceMessageRef *msg, int to, const struct stat *st, char **name)
{
  g_autofree char *host = g_strdup (g_get_host_name ());
  gsize unique = strcspn (msg->name, ",:");

  *name = name_of (to, st);
  if (*name)
    return TRUE;
  g_strdelimit (host, "/:,", '_');
  for (int tries = 0; tries < 100; tries++)
    {
      *name = g_strdup_printf ("%" G_GINT64_FORMAT ".P%dR%08x.%s%s", g_get_real_time () / G_USEC_PER_SEC,
                               (int) getpid (), g_random_int (), host, msg->name + unique);
      if (linkat (msg->dirfd, msg->name, to, *name, 0) == 0)
        return TRUE;
      g_clear_pointer (name, g_free);
      if (errno != EEXIST)
        break;
    }
  return FALSE;
}

/**
 * bounce_maildir_move:
 * @msg: a message of a Maildir (from bounce_mailbox_foreach())
 * @folder: the target folder
 * @link_only: link the message there and leave it in place too
 * @target: (out) (optional) (transfer full): where it went
 * @error: BOUNCE_ERROR_IO, BOUNCE_ERROR_VANISHED when the message was
 *   moved away meanwhile
 *
 * Moves (or links) the message into the same subfolder (cur/ or new/) of
 * @folder under the same name, flags included; fsyncs the target folder.
 * Nothing is overwritten: when another message has the name there, the
 * message takes a new unique name (its ",S=" size and flags kept). A
 * message that is already in @folder is an error.
 */
gboolean
bounce_maildir_move (const BounceMessageRef *msg, BounceMaildirFolder *folder, gboolean link_only, char **target,
                     GError **error)
{
  g_autofree char *sub = NULL, *dest = NULL;
  int to;

  if (!message_sub (msg, &sub, error))
    return FALSE;
  to = strcmp (sub, "cur") == 0 ? folder->cur : folder->new;
  dest = g_build_filename (folder->path, sub, msg->name, NULL);
  if (bounce_maildir_folder_holds (folder, msg))
    {
      g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_IO, "%s is already in %s", msg->path, folder->path);
      return FALSE;
    }
  if (!link_only && renameat2 (msg->dirfd, msg->name, to, msg->name, RENAME_NOREPLACE) == 0)
    {
      /* The message is in exactly one place at every moment. */
      if (!bounce_fsync_fd (to, dest, error) || !bounce_fsync_fd (msg->dirfd, msg->path, error))
        return FALSE;
    }
  else if (!link_only && errno == ENOENT && !still_there (msg->dirfd, msg->name))
    return vanished (error, msg->path);
  else if (!link_only && errno != EINVAL && errno != ENOSYS && errno != EEXIST)
    return bounce_io_error (error, "cannot move the message to", dest);
  else
    {
      /* link(2) never replaces a file. A link left by an interrupted move
       * (the same file under both names) is finished, not an error. */
      struct stat a, b;

      if (linkat (msg->dirfd, msg->name, to, msg->name, 0) < 0)
        {
          g_autofree char *other = NULL;

          if (errno == ENOENT && !still_there (msg->dirfd, msg->name))
            return vanished (error, msg->path);
          if (errno != EEXIST || fstatat (msg->dirfd, msg->name, &a, AT_SYMLINK_NOFOLLOW) < 0)
            return bounce_io_error (error, "cannot move the message to", dest);
          if (!(fstatat (to, msg->name, &b, AT_SYMLINK_NOFOLLOW) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino))
            {
              /* Another message has the name there: this one takes a new
               * one (or the one an interrupted run gave it). */
              if (!link_elsewhere (msg, to, &a, &other))
                return bounce_io_error (error, "cannot move the message to", dest);
              g_free (dest);
              dest = g_build_filename (folder->path, sub, other, NULL);
            }
        }
      if (!bounce_fsync_fd (to, dest, error))
        return FALSE;
      if (!link_only)
        {
          if (unlinkat (msg->dirfd, msg->name, 0) < 0)
            return bounce_io_error (error, "cannot remove", msg->path);
          if (!bounce_fsync_fd (msg->dirfd, msg->path, error))
            return FALSE;
        }
    }
  if (target)
    *target = g_steal_pointer (&dest);
  return TRUE;
}

/**
 * bounce_maildir_delete:
 * @msg: a message of a Maildir (from bounce_mailbox_foreach())
 * @error: BOUNCE_ERROR_IO, BOUNCE_ERROR_VANISHED
 */
gboolean
bounce_maildir_delete (const BounceMessageRef *msg, GError **error)
{
  g_autofree char *sub = NULL;

  if (!message_sub (msg, &sub, error))
    return FALSE;
  if (unlinkat (msg->dirfd, msg->name, 0) < 0)
    return errno == ENOENT ? vanished (error, msg->path) : bounce_io_error (error, "cannot delete", msg->path);
  return bounce_fsync_fd (msg->dirfd, msg->path, error);
}

/*
 * bounce_maildir_sized_name:
 * @name: a Maildir file name ("UNIQUE[,S=n][,W=n][,...][:2,FLAGS]")
 * @size: the size of the file's new content
 *
 * The name for the file once its content is @size bytes: ",S=" says the
 * new size and a ",W=" (the size with CRLF line ends, no longer known) is
 * dropped; the unique part, other fields and the flags are kept.
 *
 * Returns: (transfer full): the new name
 */
char *
bounce_maildir_sized_name (const char *name, gsize size)
{
  const char *info = strchr (name, ':');
  g_autofree char *base = g_strndup (name, info ? (gsize) (info - name) : strlen (name));
  g_auto (GStrv) fields = g_strsplit (base, ",", -1);
  GString *out = g_string_new (fields[0]);

  for (guint i = 1; fields[i]; i++)
    if (!g_str_has_prefix (fields[i], "S=") && !g_str_has_prefix (fields[i], "W="))
      g_string_append_printf (out, ",%s", fields[i]);
  g_string_append_printf (out, ",S=%" G_GSIZE_FORMAT "%s", size, info ? info : "");
  return g_string_free (out, FALSE);
}

/**
 * bounce_maildir_fix_name:
 * @msg: a message of a Maildir, read whole
 * @new_name: (out) (transfer full) (nullable): its new name, or NULL
 *   when it kept its name
 * @error: BOUNCE_ERROR_IO, BOUNCE_ERROR_VANISHED
 *
 * A message whose name says a size (",S=") other than its own, as a run
 * killed in the middle of a rewrite leaves it, is renamed to the name
 * that says its size; any other is left as it is.
 */
gboolean
bounce_maildir_fix_name (const BounceMessageRef *msg, char **new_name, GError **error)
{
  const char *info, *size;
  g_autofree char *name = NULL;
  struct stat st;

  *new_name = NULL;
  if (msg->dirfd < 0 || msg->name == NULL || msg->data == NULL || msg->truncated || msg->start_only)
    return TRUE;
  info = strchr (msg->name, ':');
  size = g_strstr_len (msg->name, info ? info - msg->name : -1, ",S=");
  if (size == NULL || g_ascii_strtoull (size + 3, NULL, 10) == msg->length
      || fstatat (msg->dirfd, msg->name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG (st.st_mode)
      || (gsize) st.st_size != msg->length)
    return TRUE;
  name = bounce_maildir_sized_name (msg->name, msg->length);
  if (renameat2 (msg->dirfd, msg->name, msg->dirfd, name, RENAME_NOREPLACE) < 0)
    return errno == ENOENT ? vanished (error, msg->path) : bounce_io_error (error, "cannot rename", msg->path);
  if (!bounce_fsync_fd (msg->dirfd, msg->path, error))
    return FALSE;
  *new_name = g_steal_pointer (&name);
  return TRUE;
}

/* Write @data to a new file in the folder open as @tmp, as @like (owner,
 * group, mode), fsynced; its name in *name. */
static gboolean
write_new (int tmp, const char *tmp_path, const struct stat *like, const char *data, gsize length, char **name,
           GError **error)
{
  g_autofree char *host = g_strdup (g_get_host_name ());
  g_autofree char *path = NULL;
  int fd = -1;
  gsize done = 0;

  g_strdelimit (host, "/:,", '_');
  for (int tries = 0; fd < 0 && tries < 100; tries++)
    {
      g_free (*name);
      *name = g_strdup_printf ("%" G_GINT64_FORMAT ".P%dR%08x.%s", g_get_real_time () / G_USEC_PER_SEC, (int) getpid (),
                               g_random_int (), host);
      fd = openat (tmp, *name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (fd < 0 && errno != EEXIST)
        break;
    }
  path = g_build_filename (tmp_path, *name, NULL);
  if (fd < 0)
    return bounce_io_error (error, "cannot create", path);
  while (done < length)
    {
      ssize_t n = write (fd, data + done, length - done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        goto fail;
      done += n;
    }
  /* The owner's mail stays the owner's: a scan run as root gives the new
   * file the old one's owner, group and mode. (Others cannot give files
   * away, and keep what they can.) */
  if ((like->st_uid != geteuid () || like->st_gid != getegid ()) && fchown (fd, like->st_uid, like->st_gid) < 0
      && (errno != EPERM || geteuid () == 0))
    {
      bounce_io_error (error, "cannot give the rewritten message its owner:", path);
      close (fd);
      unlinkat (tmp, *name, 0);
      return FALSE;
    }
  if (fchmod (fd, like->st_mode & 07777) < 0 || fsync (fd) < 0)
    goto fail;
  if (close (fd) < 0)
    {
      fd = -1;
      goto fail;
    }
  return TRUE;

fail:
  bounce_io_error (error, "cannot write", path);
  if (fd >= 0)
    close (fd);
  unlinkat (tmp, *name, 0);
  return FALSE;
}

/* Does the file @name of @dirfd hold exactly @data? */
static gboolean
holds (int dirfd, const char *name, const char *data, gsize length)
{
  int fd = openat (dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  char buf[16384];
  gsize at = 0;
  ssize_t n;
  gboolean same = TRUE;

  if (fd < 0)
    return FALSE;
  while (same && (n = read (fd, buf, sizeof buf)) > 0)
    {
      same = at + n <= length && memcmp (buf, data + at, n) == 0;
      at += n;
    }
  close (fd);
  return same && n == 0 && at == length;
}

/**
 * bounce_maildir_replace:
 * @msg: a message of a Maildir (from bounce_mailbox_foreach())
 * @data: its new content
 * @length: the length of @data
 * @new_path: (out) (optional) (transfer full): where the new content is
 * @error: BOUNCE_ERROR_IO, BOUNCE_ERROR_VANISHED
 *
 * Writes @data to the Maildir's tmp/ (O_EXCL) with the owner, group and
 * mode of the message, fsyncs it, swaps it with the message atomically
 * and gives it the name bounce_maildir_sized_name() makes. On failure
 * the message is unchanged; when it has vanished meanwhile,
 * BOUNCE_ERROR_VANISHED and nothing is written. Nor is anything written,
 * with BOUNCE_ERROR_IO, when @msg was not read whole, or when the file
 * is no longer as long as what was read: the new content would lose the
 * rest.
 */
gboolean
bounce_maildir_replace (const BounceMessageRef *msg, const char *data, gsize length, char **new_path, GError **error)
{
  g_autofree char *sub = NULL, *dir = NULL, *maildir = NULL, *tmp_path = NULL;
  g_autofree char *tmp_name = NULL, *name = NULL;
  struct stat st;
  gboolean ok = FALSE;
  int tmp;

  if (!message_sub (msg, &sub, error))
    return FALSE;
  dir = g_path_get_dirname (msg->path);
  maildir = g_path_get_dirname (dir);
  tmp_path = g_build_filename (maildir, "tmp", NULL);
  /* cur/ was opened without following a link: its ".." is the Maildir. */
  if (fstatat (msg->dirfd, msg->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? vanished (error, msg->path) : bounce_io_error (error, "cannot read", msg->path);
  if (!S_ISREG (st.st_mode))
    return vanished (error, msg->path);
  if (msg->truncated || msg->start_only || (gsize) st.st_size != msg->length)
    {
      g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_IO, "%s was not read whole or has changed since; left as it is",
                   msg->path);
      return FALSE;
    }
  tmp = bounce_maildir_open_dir (msg->dirfd, "../tmp", NULL, tmp_path, error);
  if (tmp < 0)
    return FALSE;
  name = bounce_maildir_sized_name (msg->name, length);
  if (!write_new (tmp, tmp_path, &st, data, length, &tmp_name, error))
    goto out;
  /* Swap the new file in only if the old one is still there: a message a
   * mail client moved away meanwhile must not come back. The old content
   * ends in tmp/, where no reader looks, and is removed. */
  if (renameat2 (tmp, tmp_name, msg->dirfd, msg->name, RENAME_EXCHANGE) < 0)
    {
      if ((errno == EINVAL || errno == ENOSYS) && still_there (msg->dirfd, msg->name))
        {
          /* A filesystem that cannot swap: the new file takes its new
           * name (never over another file), then the old one goes. */
          if (strcmp (name, msg->name) == 0 ? renameat (tmp, tmp_name, msg->dirfd, name) == 0
                                            : renameat2 (tmp, tmp_name, msg->dirfd, name, RENAME_NOREPLACE) == 0
                                                  && (unlinkat (msg->dirfd, msg->name, 0) == 0 || errno == ENOENT))
            goto renamed;
        }
      if (errno == ENOENT)
        vanished (error, msg->path);
      else
        bounce_io_error (error, "cannot replace", msg->path);
      unlinkat (tmp, tmp_name, 0);
      goto out;
    }
  /* Then the name that says the new size; a name already taken (by the
   * same content: a run killed at this point) is not overwritten. */
  if (strcmp (name, msg->name) != 0 && renameat2 (msg->dirfd, msg->name, msg->dirfd, name, RENAME_NOREPLACE) < 0)
    {
      int e = errno;

      if (e == EEXIST && holds (msg->dirfd, name, data, length))
        unlinkat (msg->dirfd, msg->name, 0);
      else
        {
          /* The old content goes back under its old name. */
          renameat2 (tmp, tmp_name, msg->dirfd, msg->name, RENAME_EXCHANGE);
          unlinkat (tmp, tmp_name, 0);
          errno = e;
          bounce_io_error (error, "cannot rename the rewritten message to", name);
          goto out;
        }
    }
  unlinkat (tmp, tmp_name, 0);
renamed:
  ok = bounce_fsync_fd (msg->dirfd, dir, error) && bounce_fsync_fd (tmp, tmp_path, error);
  if (ok && new_path)
    *new_path = g_build_filename (dir, name, NULL);
out:
  close (tmp);
  return ok;
}

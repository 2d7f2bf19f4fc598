/* mbox.c — take messages out of an mbox file safely.
 *
 * The mbox is locked the way delivery agents expect (a "MBOX.lock" dot
 * file made with O_EXCL, and an fcntl write lock on the file) for the
 * whole read-and-rewrite, so no delivery lands in between. Messages taken
 * out are first appended to the target mbox and fsynced; then the source
 * is written anew beside itself, fsynced and renamed over the old one. A
 * crash at any point leaves every message in at least one of the files.
 */
#include "bounce-private.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct _BounceMboxLock
{
  char *path;
  char *dotlock;
  int fd;
};

static gboolean
io_error (GError **error, const char *what, const char *path)
{
  int e = errno;

  g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_IO, "%s %s: %s", what, path, g_strerror (e));
  return FALSE;
}

/**
 * bounce_mbox_lock:
 * @path: an mbox file
 * @error: BOUNCE_ERROR_LOCKED when the mbox stays locked for 30 seconds,
 *   BOUNCE_ERROR_IO
 *
 * Returns: (transfer full) (nullable): the lock; release it with
 *   bounce_mbox_unlock()
 */
BounceMboxLock *
bounce_mbox_lock (const char *path, GError **error)
{
  g_autofree char *dotlock = g_strconcat (path, ".lock", NULL);
  struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
  BounceMboxLock *lock;
  int fd, tries;

  for (tries = 0;; tries++)
    {
      int d = open (dotlock, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      struct stat st;

      if (d >= 0)
        {
          close (d);
          break;
        }
      if (errno != EEXIST)
        {
          io_error (error, "cannot create the lock", dotlock);
          return NULL;
        }
      /* A dot lock older than five minutes was left by a crash. */
      if (stat (dotlock, &st) == 0 && st.st_mtime < time (NULL) - 300)
        {
          unlink (dotlock);
          continue;
        }
      if (tries >= 30)
        {
          g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_LOCKED, "%s is locked (%s)", path, dotlock);
          return NULL;
        }
      g_usleep (G_USEC_PER_SEC);
    }
  fd = open (path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0 || fcntl (fd, F_SETLKW, &fl) < 0)
    {
      io_error (error, "cannot lock", path);
      if (fd >= 0)
        close (fd);
      unlink (dotlock);
      return NULL;
    }
  lock = g_new0 (BounceMboxLock, 1);
  lock->path = g_strdup (path);
  lock->dotlock = g_steal_pointer (&dotlock);
  lock->fd = fd;
  return lock;
}

void
bounce_mbox_unlock (BounceMboxLock *lock)
{
  if (lock == NULL)
    return;
  close (lock->fd); /* releases the fcntl lock */
  unlink (lock->dotlock);
  g_free (lock->dotlock);
  g_free (lock->path);
  g_free (lock);
}

static gboolean
write_all (int fd, const char *data, gsize len, const char *path, GError **error)
{
  while (len > 0)
    {
      ssize_t n = write (fd, data, len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return io_error (error, "cannot write", path);
      data += n;
      len -= n;
    }
  return TRUE;
}

static int
compare_offsets (gconstpointer a, gconstpointer b)
{
  const BounceSpan *x = a, *y = b;

  return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/**
 * bounce_mbox_remove:
 * @lock: the mbox, locked
 * @spans: (element-type BounceSpan): the messages to take out
 * @append_to: (nullable): an mbox to append them to first (created when
 *   missing), or NULL to drop them
 * @error: BOUNCE_ERROR_IO
 *
 * Rewrites the locked mbox without the messages of @spans.
 */
gboolean
bounce_mbox_remove (BounceMboxLock *lock, GArray *spans, const char *append_to, GError **error)
{
  g_autoptr (GMappedFile) map = NULL;
  g_autoptr (GError) err = NULL;
  g_autofree char *tmp = g_strconcat (lock->path, ".backscatter-new", NULL);
  g_autofree char *dir = g_path_get_dirname (lock->path);
  const char *data;
  gsize len, pos = 0;
  struct stat st;
  int fd, dfd;

  if (spans->len == 0)
    return TRUE;
  g_array_sort (spans, compare_offsets);
  map = g_mapped_file_new (lock->path, FALSE, &err);
  if (map == NULL)
    {
      g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_IO, "%s", err->message);
      return FALSE;
    }
  data = g_mapped_file_get_contents (map);
  len = g_mapped_file_get_length (map);
  for (guint i = 0; i < spans->len; i++)
    {
      BounceSpan *s = &g_array_index (spans, BounceSpan, i);

      if (s->offset + s->length > len || memcmp (data + s->offset, "From ", 5) != 0)
        {
          g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_IO,
                       "%s changed while it was read; nothing was taken out of it", lock->path);
          return FALSE;
        }
    }
  if (append_to)
    {
      struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
      struct stat ast;
      int afd = open (append_to, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

      if (afd < 0 || fcntl (afd, F_SETLKW, &fl) < 0)
        {
          if (afd >= 0)
            close (afd);
          return io_error (error, "cannot open", append_to);
        }
      /* Messages are separated by a blank line. */
      if (fstat (afd, &ast) == 0 && ast.st_size > 0 && !write_all (afd, "\n", 1, append_to, error))
        {
          close (afd);
          return FALSE;
        }
      for (guint i = 0; i < spans->len; i++)
        {
          BounceSpan *s = &g_array_index (spans, BounceSpan, i);
          gsize n = s->length;

          while (n > 0 && data[s->offset + n - 1] == '\n' && n > 1 && data[s->offset + n - 2] == '\n')
            n--;
          if (!write_all (afd, data + s->offset, n, append_to, error)
              || (data[s->offset + n - 1] != '\n' && !write_all (afd, "\n", 1, append_to, error))
              || (i + 1 < spans->len && !write_all (afd, "\n", 1, append_to, error)))
            {
              close (afd);
              return FALSE;
            }
        }
      if (fsync (afd) < 0)
        {
          close (afd);
          return io_error (error, "cannot sync", append_to);
        }
      close (afd);
    }
  fd = open (tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return io_error (error, "cannot create", tmp);
  if (fstat (lock->fd, &st) == 0)
    fchmod (fd, st.st_mode & 07777);
  for (guint i = 0; i <= spans->len; i++)
    {
      gsize end = i < spans->len ? (gsize) g_array_index (spans, BounceSpan, i).offset : len;

      if (end > pos && !write_all (fd, data + pos, end - pos, tmp, error))
        {
          close (fd);
          unlink (tmp);
          return FALSE;
        }
      if (i < spans->len)
        pos = end + g_array_index (spans, BounceSpan, i).length;
    }
  if (fsync (fd) < 0 || close (fd) < 0)
    {
      unlink (tmp);
      return io_error (error, "cannot write", tmp);
    }
  if (rename (tmp, lock->path) < 0)
    {
      unlink (tmp);
      return io_error (error, "cannot replace", lock->path);
    }
  dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0)
    {
      fsync (dfd);
      close (dfd);
    }
  return TRUE;
}

/* mbox-lock.c — lock an mbox file as mail readers do.
 *
 * Locking follows Debian Policy 11.6 and what mail readers do: an fcntl
 * write lock on the whole file first (an open-file-description lock, so
 * that another descriptor of the same file closed in this process does
 * not drop it; it conflicts with the classic fcntl locks of other
 * programs), then the dot lock "MBOX.lock" made by liblockfile with our
 * process id in it (so that a lock left by a killed run is seen as
 * stale). A missing target mbox is created with the owner, group and
 * mode of the scanned one.
 */
#include "mbox-private.h"

#include <errno.h>
#include <fcntl.h>
#include <lockfile.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOCK_RETRIES 3 /* liblockfile waits 5, 10 and 15 seconds */

static int
ofd_lock (int fd, short type)
{
  struct flock fl = { .l_type = type, .l_whence = SEEK_SET };
  int r;

  while ((r = fcntl (fd, F_OFD_SETLKW, &fl)) < 0 && errno == EINTR)
    ;
  return r;
}

/**
 * bounce_mbox_lock:
 * @path: an mbox file
 * @create_like: (nullable): when @path is missing, create it with the
 *   owner, group and mode of this file; NULL: a missing file is an error
 * @error: BOUNCE_ERROR_LOCKED when the dot lock stays for 30 seconds,
 *   BOUNCE_ERROR_IO (also when @path is not a plain file)
 *
 * Locks @path as mail readers do: fcntl, then the dot lock.
 *
 * Returns: (transfer full) (nullable): the lock; release it with
 *   bounce_mbox_unlock()
 */
BounceMboxLock *
bounce_mbox_lock (const char *path, const char *create_like, GError **error)
{
  BounceMboxLock *lock;
  struct stat st;
  int fd, r;

  fd = open (path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0 && errno == ENOENT && create_like)
    {
      struct stat like;

      fd = open (path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
      if (fd < 0 && errno == EEXIST)
        fd = open (path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
      else if (fd >= 0 && stat (create_like, &like) == 0)
        {
          if (fchown (fd, like.st_uid, like.st_gid) < 0 && errno != EPERM)
            {
              bounce_io_error (error, "cannot set the owner of", path);
              close (fd);
              return NULL;
            }
          fchmod (fd, like.st_mode & 0777);
        }
    }
  if (fd < 0)
    {
      bounce_io_error (error, "cannot open", path);
      return NULL;
    }
  if (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode))
    {
      g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_IO, "%s is not a plain file: not an mbox", path);
      close (fd);
      return NULL;
    }
  if (ofd_lock (fd, F_WRLCK) < 0)
    {
      bounce_io_error (error, "cannot lock", path);
      close (fd);
      return NULL;
    }
  lock = g_new0 (BounceMboxLock, 1);
  lock->path = g_strdup (path);
  lock->dotlock = g_strconcat (path, ".lock", NULL);
  lock->fd = fd;
  r = lockfile_create (lock->dotlock, LOCK_RETRIES, L_PID);
  if (r != L_SUCCESS)
    {
      if (r == L_MAXTRYS)
        g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_LOCKED, "%s is locked (%s)", path, lock->dotlock);
      else
        bounce_io_error (error, "cannot create the lock", lock->dotlock);
      g_clear_pointer (&lock->dotlock, g_free);
      bounce_mbox_unlock (lock);
      return NULL;
    }
  lock->touched = g_get_monotonic_time ();
  return lock;
}

/**
 * bounce_mbox_lock_refresh:
 * @lock: a lock
 *
 * Touches the dot lock once a minute at most, so that others do not take
 * a lock held for long as left by a crash.
 */
void
bounce_mbox_lock_refresh (BounceMboxLock *lock)
{
  gint64 now = g_get_monotonic_time ();

  if (lock && now - lock->touched > 60 * G_USEC_PER_SEC)
    {
      lockfile_touch (lock->dotlock);
      lock->touched = now;
    }
}

/* bounce_mbox_unlock: removes the dot lock, releases the fcntl lock and
 * frees @lock (nullable, transfer full). */
void
bounce_mbox_unlock (BounceMboxLock *lock)
{
  if (lock == NULL)
    return;
  if (lock->dotlock)
    lockfile_remove (lock->dotlock);
  close (lock->fd); /* releases the fcntl lock */
  g_free (lock->dotlock);
  g_free (lock->path);
  g_free (lock);
}

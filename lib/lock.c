/* lock.c — the two locks the library offers, both opaque objects taken
 * by a constructor, released by their unlock function (or g_autoptr).
 *
 * BounceMailboxLock keeps two runs that change one mailbox (Maildir or
 * mbox) apart: an flock on a lock file in a private folder of the
 * caller's, never in the mailbox, taken without waiting.
 *
 * BounceMboxLock locks an mbox file as mail readers and delivery agents
 * do, for as long as it is rewritten. Locking follows Debian Policy 11.6:
 * an fcntl write lock on the whole file first (an open-file-description
 * lock, so that another descriptor of the same file closed in this
 * process does not drop it; it conflicts with the classic fcntl locks of
 * other programs), then the dot lock "MBOX.lock" made by liblockfile with
 * our process id in it (so that a lock left by a killed run is seen as
 * stale). A missing target mbox is created with the owner, group and
 * mode of the scanned one.
 */
#include "mbox-private.h"

#include <errno.h>
#include <fcntl.h>
#include <lockfile.h>
#include <stdint.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOCK_RETRIES 3 /* liblockfile waits 5, 10 and 15 seconds */

struct _BounceMailboxLock
{
  int fd; /* the lock file, flocked */
};

/**
 * bounce_mailbox_lock:
 * @path: a Maildir or mbox
 * @lock_dir: a private folder for lock files (such as
 *   $XDG_RUNTIME_DIR/backscatter), created when missing
 * @error: BOUNCE_ERROR_LOCKED when another process holds it, BOUNCE_ERROR_IO
 *
 * Takes the lock that keeps two runs changing one mailbox apart, without
 * waiting: an flock on "LOCK_DIR/DEVICE-INODE.lock", named after the
 * mailbox's device and inode, so that nothing is written in the mailbox
 * (mail readers list stray files as mailboxes) and two names of one
 * mailbox share a lock. Only runs that change the mailbox take it. Mail
 * readers know nothing of it: an mbox being rewritten is locked for
 * them with bounce_mbox_lock().
 *
 * Returns: (transfer full) (nullable): the lock; release it with
 *   bounce_mailbox_unlock()
 */
BounceMailboxLock *
bounce_mailbox_lock (const char *path, const char *lock_dir, GError **error)
{
  g_autofree char *name = NULL, *file = NULL;
  BounceMailboxLock *lock;
  struct stat st;
  int fd;

  if (stat (path, &st) < 0)
    {
      bounce_io_error (error, "cannot open", path);
      return NULL;
    }
  if (g_mkdir_with_parents (lock_dir, 0700) < 0)
    {
      bounce_io_error (error, "cannot create", lock_dir);
      return NULL;
    }
  name = g_strdup_printf ("%ju-%ju.lock", (uintmax_t) st.st_dev, (uintmax_t) st.st_ino);
  file = g_build_filename (lock_dir, name, NULL);
  fd = open (file, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    {
      bounce_io_error (error, "cannot open the lock file", file);
      return NULL;
    }
  if (flock (fd, LOCK_EX | LOCK_NB) < 0)
    {
      if (errno == EWOULDBLOCK)
        g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_LOCKED,
                     "%s: another backscatter scan is running on this mailbox", path);
      else
        bounce_io_error (error, "cannot lock", file);
      close (fd);
      return NULL;
    }
  lock = g_new (BounceMailboxLock, 1);
  lock->fd = fd;
  return lock;
}

/* bounce_mailbox_unlock: releases the lock and frees @lock (nullable,
 * transfer full). The lock file stays: removing it could let a run that
 * opened it meanwhile hold a lock on a file no one else finds. */
void
bounce_mailbox_unlock (BounceMailboxLock *lock)
{
  if (lock == NULL)
    return;
  close (lock->fd); /* releases the flock */
  g_free (lock);
}

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
 * Locks @path as mail readers do: fcntl (waiting as long as another
 * holds it), then the dot lock.
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

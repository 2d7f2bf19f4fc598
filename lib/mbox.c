/* mbox.c — take messages out of an mbox file, or rewrite them, in place,
 * without losing one.
 *
 * Locking follows Debian Policy 11.6 and what mail readers do: an fcntl
 * write lock on the whole file first (an open-file-description lock, so
 * that another descriptor of the same file closed in this process does
 * not drop it; it conflicts with the classic fcntl locks of other
 * programs), then the dot lock "MBOX.lock" made by liblockfile with our
 * process id in it (so that a lock left by a killed run is seen as
 * stale). A missing target mbox is created with the owner, group and
 * mode of the scanned one.
 *
 * The mbox is never replaced by another file: a delivery agent that
 * opened it before it locked (fcntl-only writers do) appends to the file
 * every reader sees. A rewrite works from the first changed message to
 * the end (the tail):
 *   1. the old tail, the new text of rewritten messages and what is to be
 *      done are written to a backup file in the state folder (named after
 *      the mbox's device and inode), fsynced, and renamed into place;
 *   2. messages moved away are appended to their target mboxes, fsynced;
 *   3. a tail that grows is first made its new length (phase 2);
 *   4. the new tail is written over the old one from the backup, fsynced;
 *   5. a tail that shrinks is cut to its new length (phase 3);
 *   6. the backup is removed.
 * Any error in 2–5 puts the old tail back and cuts each target back to
 * its old length, so a full disk leaves no half message anywhere. A run
 * killed in between leaves the backup: bounce_mbox_recover() (run before
 * the next scan of that mbox reads it) finds from the phase and the
 * file's content whether the rewrite was complete; if not, it puts the
 * old tail back, keeps what other programs appended since, and cuts the
 * targets back. When a target grew beyond what the run appended (another
 * program wrote to it), nothing is touched and the backup is named in an
 * error, so that no message is lost or doubled silently.
 */
#include "bounce-private.h"

#include <errno.h>
#include <fcntl.h>
#include <lockfile.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define COPY_CHUNK (256 * 1024)
#define LOCK_RETRIES 3 /* liblockfile waits 5, 10 and 15 seconds */

struct _BounceMboxLock
{
  char *path;
  char *dotlock;
  int fd;
  gint64 touched;
};

static gboolean
io_error (GError **error, const char *what, const char *path)
{
  int e = errno;

  g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_IO, "%s %s: %s", what, path, g_strerror (e));
  return FALSE;
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
              io_error (error, "cannot set the owner of", path);
              close (fd);
              return NULL;
            }
          fchmod (fd, like.st_mode & 0777);
        }
    }
  if (fd < 0)
    {
      io_error (error, "cannot open", path);
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
      io_error (error, "cannot lock", path);
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
        io_error (error, "cannot create the lock", lock->dotlock);
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

/* ---- plain I/O ---------------------------------------------------------- */

static gboolean
pwrite_all (int fd, const char *data, gsize len, goffset at, const char *path, GError **error)
{
  while (len > 0)
    {
      ssize_t n = pwrite (fd, data, len, at);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          if (n == 0)
            errno = ENOSPC;
          return io_error (error, "cannot write", path);
        }
      data += n;
      len -= n;
      at += n;
    }
  return TRUE;
}

static gboolean
pread_all (int fd, char *data, gsize len, goffset at, const char *path, GError **error)
{
  while (len > 0)
    {
      ssize_t n = pread (fd, data, len, at);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          if (n == 0)
            errno = EIO; /* shorter than it should be */
          return io_error (error, "cannot read", path);
        }
      data += n;
      len -= n;
      at += n;
    }
  return TRUE;
}

/* Copy @len bytes from @from at @src to @to at @dst (files may be the
 * same when @dst <= @src). */
static gboolean
copy_range (int from, goffset src, int to, goffset dst, goffset len, const char *from_path,
            const char *to_path, char *buf, GError **error)
{
  while (len > 0)
    {
      gsize n = MIN (len, COPY_CHUNK);

      if (!pread_all (from, buf, n, src, from_path, error) || !pwrite_all (to, buf, n, dst, to_path, error))
        return FALSE;
      src += n;
      dst += n;
      len -= n;
    }
  return TRUE;
}

static gboolean
sync_fd (int fd, const char *path, GError **error)
{
  if (fsync (fd) < 0 && errno != EINVAL)
    return io_error (error, "cannot sync", path);
  return TRUE;
}

static void
sync_dir (const char *dir)
{
  int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (dfd >= 0)
    {
      fsync (dfd);
      close (dfd);
    }
}

/* ---- the backup ---------------------------------------------------------
 *
 * A text header, a blank line, the old tail, the new text of rewritten
 * messages one after the other:
 *
 *   backscatter-mbox-backup 1
 *   phase P                      (1 written, 2 growing, 3 shrinking,
 *                                 4 undoing: what others appended is
 *                                 kept at the end of the backup)
 *   source DEV INO START OLDSIZE NEWSIZE
 *   path ESCAPED
 *   target DEV INO OLDSIZE NEWSIZE ESCAPED   (one per target)
 *   change OFFSET LENGTH NEWLENGTH(-1: taken out)
 */

#define MAGIC "backscatter-mbox-backup 1\n"
#define PHASE_AT (sizeof MAGIC - 1 + 6) /* the digit of "phase P" */

typedef struct
{
  char *path;
  dev_t dev;
  ino_t ino;
  goffset old_size, new_size;
} Target;

typedef struct
{
  goffset offset, length, new_length; /* new_length -1: taken out */
  goffset new_at;                     /* where its new text is, in the backup */
} Change;

typedef struct
{
  char *file;
  int fd;
  int phase;
  dev_t dev;
  ino_t ino;
  goffset start, old_size, new_size;
  char *path;
  GArray *targets; /* Target */
  GArray *changes; /* Change, by offset */
  goffset data_at; /* the old tail, in the backup */
  goffset end_at;  /* the end of the new texts, in the backup */
} Backup;

static void
backup_clear (Backup *b)
{
  if (b->fd >= 0)
    close (b->fd);
  b->fd = -1;
  g_clear_pointer (&b->file, g_free);
  g_clear_pointer (&b->path, g_free);
  if (b->targets)
    for (guint i = 0; i < b->targets->len; i++)
      g_free (g_array_index (b->targets, Target, i).path);
  g_clear_pointer (&b->targets, g_array_unref);
  g_clear_pointer (&b->changes, g_array_unref);
}

static char *
backup_name (const char *state_dir, const struct stat *st)
{
  g_autofree char *name = g_strdup_printf ("mbox-%ju-%ju.backup", (uintmax_t) st->st_dev, (uintmax_t) st->st_ino);

  return g_build_filename (state_dir, name, NULL);
}

static gboolean
set_phase (Backup *b, int phase, GError **error)
{
  char c = '0' + phase;

  if (!pwrite_all (b->fd, &c, 1, PHASE_AT, b->file, error) || !sync_fd (b->fd, b->file, error))
    return FALSE;
  b->phase = phase;
  return TRUE;
}

/* The new tail as pieces of the backup: (where, how long). */
static GArray *
new_tail_pieces (Backup *b)
{
  GArray *pieces = g_array_new (FALSE, FALSE, sizeof (goffset) * 2);
  goffset pos = b->start;

  for (guint i = 0; i <= b->changes->len; i++)
    {
      Change *c = i < b->changes->len ? &g_array_index (b->changes, Change, i) : NULL;
      goffset end = c ? c->offset : b->old_size;
      goffset piece[2] = { b->data_at + (pos - b->start), end - pos };

      if (piece[1] > 0)
        g_array_append_val (pieces, piece);
      if (c && c->new_length > 0)
        {
          goffset repl[2] = { c->new_at, c->new_length };

          g_array_append_val (pieces, repl);
        }
      if (c)
        pos = c->offset + c->length;
    }
  return pieces;
}

/* Write the new tail into the mbox (@fd) at b->start. */
static gboolean
write_new_tail (Backup *b, int fd, const char *path, char *buf, GError **error)
{
  g_autoptr (GArray) pieces = new_tail_pieces (b);
  goffset at = b->start;

  for (guint i = 0; i < pieces->len; i++)
    {
      goffset *p = &g_array_index (pieces, goffset, 2 * i);

      if (!copy_range (b->fd, p[0], fd, at, p[1], b->file, path, buf, error))
        return FALSE;
      at += p[1];
    }
  return TRUE;
}

/* Whether the mbox (@fd) holds @len bytes at @at equal to the backup's at
 * @bat (or, @bat < 0, all zero). */
static gboolean
same_bytes (Backup *b, int fd, goffset at, goffset bat, goffset len, char *buf)
{
  char *other = buf + COPY_CHUNK;

  while (len > 0)
    {
      gsize n = MIN (len, COPY_CHUNK);

      if (pread (fd, buf, n, at) != (ssize_t) n)
        return FALSE;
      if (bat >= 0)
        {
          if (pread (b->fd, other, n, bat) != (ssize_t) n || memcmp (buf, other, n) != 0)
            return FALSE;
          bat += n;
        }
      else
        for (gsize i = 0; i < n; i++)
          if (buf[i] != 0)
            return FALSE;
      at += n;
      len -= n;
    }
  return TRUE;
}

static gboolean
has_new_tail (Backup *b, int fd, char *buf)
{
  g_autoptr (GArray) pieces = new_tail_pieces (b);
  goffset at = b->start;

  for (guint i = 0; i < pieces->len; i++)
    {
      goffset *p = &g_array_index (pieces, goffset, 2 * i);

      if (!same_bytes (b, fd, at, p[0], p[1], buf))
        return FALSE;
      at += p[1];
    }
  return TRUE;
}

/* Cut every target back to its length before the run; FALSE (and the
 * error) when one grew beyond what the run appended. */
static gboolean
undo_targets (Backup *b, GError **error)
{
  gboolean ok = TRUE;

  for (guint i = 0; i < b->targets->len; i++)
    {
      Target *t = &g_array_index (b->targets, Target, i);
      int fd = open (t->path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
      struct stat st;

      if (fd < 0)
        {
          if (errno == ENOENT && t->old_size == 0)
            continue;
          ok = ok && io_error (error, "cannot open", t->path);
          continue;
        }
      if (fstat (fd, &st) == 0 && st.st_dev == t->dev && st.st_ino == t->ino && st.st_size != t->old_size)
        {
          if (st.st_size < t->old_size || st.st_size > t->new_size)
            {
              if (ok)
                g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_IO,
                             "%s changed after an interrupted run appended to it; the messages that run "
                             "took out are kept in %s: nothing was changed",
                             t->path, b->file);
              ok = FALSE;
            }
          else if (ftruncate (fd, t->old_size) < 0 || fsync (fd) < 0)
            ok = ok && io_error (error, "cannot cut back", t->path);
        }
      close (fd);
    }
  return ok;
}

/* Put the old tail back in the mbox (@fd) and keep what follows @eof
 * (appended by others since the run stopped) after it. When that must
 * move (the tail had grown), it is first kept at the end of the backup
 * (phase 4), so that this can be done again if it is interrupted. */
static gboolean
restore_old_tail (Backup *b, int fd, const char *path, goffset eof, char *buf, GError **error)
{
  struct stat st;

  if (fstat (fd, &st) < 0)
    return io_error (error, "cannot read", path);
  if (b->phase != 4 && eof != b->old_size && st.st_size > eof)
    {
      if (!copy_range (fd, eof, b->fd, b->end_at, st.st_size - eof, path, b->file, buf, error)
          || ftruncate (b->fd, b->end_at + (st.st_size - eof)) < 0 || !set_phase (b, 4, error))
        return error && *error ? FALSE : io_error (error, "cannot write", b->file);
    }
  if (!copy_range (b->fd, b->data_at, fd, b->start, b->old_size - b->start, b->file, path, buf, error))
    return FALSE;
  if (b->phase == 4)
    {
      struct stat bst;

      if (fstat (b->fd, &bst) < 0
          || !copy_range (b->fd, b->end_at, fd, b->old_size, bst.st_size - b->end_at, b->file, path, buf, error)
          || ftruncate (fd, b->old_size + (bst.st_size - b->end_at)) < 0)
        return error && *error ? FALSE : io_error (error, "cannot cut back", path);
    }
  else if (eof != b->old_size && ftruncate (fd, b->old_size) < 0)
    return io_error (error, "cannot cut back", path);
  return sync_fd (fd, path, error);
}

static gboolean
parse_backup (Backup *b, GError **error)
{
  g_autoptr (GString) line = g_string_new (NULL);
  char c;
  goffset at = 0, repl_at;
  gboolean header = TRUE;
  FILE *f;
  int dup_fd = dup (b->fd);

  f = dup_fd < 0 ? NULL : fdopen (dup_fd, "r");
  if (f == NULL)
    return io_error (error, "cannot read", b->file);
  b->targets = g_array_new (FALSE, TRUE, sizeof (Target));
  b->changes = g_array_new (FALSE, TRUE, sizeof (Change));
  while (header && fread (&c, 1, 1, f) == 1)
    {
      at++;
      if (c != '\n')
        {
          g_string_append_c (line, c);
          continue;
        }
      if (line->len == 0)
        header = FALSE;
      else if (g_str_has_prefix (line->str, "phase "))
        b->phase = atoi (line->str + 6);
      else if (g_str_has_prefix (line->str, "source "))
        {
          uintmax_t dev, ino;
          long long start, old_size, new_size;

          if (sscanf (line->str + 7, "%ju %ju %lld %lld %lld", &dev, &ino, &start, &old_size, &new_size) == 5)
            {
              b->dev = dev;
              b->ino = ino;
              b->start = start;
              b->old_size = old_size;
              b->new_size = new_size;
            }
        }
      else if (g_str_has_prefix (line->str, "path "))
        b->path = g_strcompress (line->str + 5);
      else if (g_str_has_prefix (line->str, "target "))
        {
          Target t = { 0 };
          uintmax_t dev, ino;
          long long old_size, new_size;
          int used = 0;

          if (sscanf (line->str + 7, "%ju %ju %lld %lld %n", &dev, &ino, &old_size, &new_size, &used) >= 4 && used > 0)
            {
              t.dev = dev;
              t.ino = ino;
              t.old_size = old_size;
              t.new_size = new_size;
              t.path = g_strcompress (line->str + 7 + used);
              g_array_append_val (b->targets, t);
            }
        }
      else if (g_str_has_prefix (line->str, "change "))
        {
          Change ch = { 0 };
          long long offset, length, new_length;

          if (sscanf (line->str + 7, "%lld %lld %lld", &offset, &length, &new_length) == 3)
            {
              ch.offset = offset;
              ch.length = length;
              ch.new_length = new_length;
              g_array_append_val (b->changes, ch);
            }
        }
      g_string_truncate (line, 0);
    }
  fclose (f);
  if (header || b->path == NULL || b->phase < 1 || b->start > b->old_size)
    {
      g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_IO, "%s: not a backup of this program", b->file);
      return FALSE;
    }
  b->data_at = at;
  repl_at = at + (b->old_size - b->start);
  for (guint i = 0; i < b->changes->len; i++)
    {
      Change *ch = &g_array_index (b->changes, Change, i);

      ch->new_at = repl_at;
      if (ch->new_length > 0)
        repl_at += ch->new_length;
    }
  b->end_at = repl_at;
  return TRUE;
}

/**
 * bounce_mbox_recover:
 * @lock: the mbox, locked
 * @state_dir: the folder of backups (as given to bounce_mbox_rewrite())
 * @note: (out) (transfer full) (nullable): what was recovered, for the
 *   user; NULL when there was nothing to do
 * @error: BOUNCE_ERROR_IO, also when a leftover cannot be resolved safely
 *
 * Finishes or undoes a rewrite of the mbox that was interrupted (the
 * process was killed, the machine stopped). Call it before reading the
 * mbox. On error the mbox must not be acted on.
 */
gboolean
bounce_mbox_recover (BounceMboxLock *lock, const char *state_dir, char **note, GError **error)
{
  Backup b = { .fd = -1 };
  g_autofree char *buf = NULL;
  struct stat st;
  goffset eof;
  gboolean done, ok = FALSE;

  *note = NULL;
  if (fstat (lock->fd, &st) < 0)
    return io_error (error, "cannot read", lock->path);
  b.file = backup_name (state_dir, &st);
  {
    /* A backup not yet renamed into place: the mbox was not touched. */
    g_autofree char *tmp = g_strconcat (b.file, ".tmp", NULL);

    unlink (tmp);
  }
  b.fd = open (b.file, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (b.fd < 0)
    {
      backup_clear (&b);
      return errno == ENOENT ? TRUE : io_error (error, "cannot open", b.file);
    }
  if (!parse_backup (&b, error))
    goto out;
  if (b.dev != st.st_dev || b.ino != st.st_ino)
    {
      g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_IO, "%s is not a backup of %s", b.file, lock->path);
      goto out;
    }
  buf = g_malloc (2 * COPY_CHUNK);
  /* Where the mbox ended when the run stopped: the old end until the
   * size changed, the new one after; what lies beyond was appended by
   * others since. A delivery starts with "From ", never with a zero. */
  eof = b.old_size;
  if (b.phase == 4)
    ; /* undoing: what others appended is in the backup */
  else if (b.new_size > b.old_size && b.phase >= 2 && st.st_size >= b.new_size)
    {
      char c = 0;

      if (!same_bytes (&b, lock->fd, b.start, b.data_at, b.old_size - b.start, buf)
          || (pread (lock->fd, &c, 1, b.old_size) == 1 && c == 0))
        eof = b.new_size;
    }
  else if (b.new_size < b.old_size && b.phase >= 3
           && (st.st_size < b.old_size
               || !same_bytes (&b, lock->fd, b.new_size, b.data_at + (b.new_size - b.start),
                               b.old_size - b.new_size, buf)))
    eof = b.new_size;
  done = b.phase != 4 && eof == b.new_size && has_new_tail (&b, lock->fd, buf);
  if (done)
    *note = g_strdup_printf ("an interrupted rewrite of %s was complete; its backup %s is removed",
                             lock->path, b.file);
  else
    {
      /* Targets first: when one cannot be cut back, the mbox stays as it
       * is and the backup is kept. */
      if (!undo_targets (&b, error) || !restore_old_tail (&b, lock->fd, lock->path, eof, buf, error))
        goto out;
      *note = g_strdup_printf ("an interrupted rewrite of %s was undone from its backup %s",
                               lock->path, b.file);
    }
  if (unlink (b.file) < 0)
    {
      io_error (error, "cannot remove", b.file);
      goto out;
    }
  sync_dir (state_dir);
  ok = TRUE;
out:
  backup_clear (&b);
  return ok;
}

/* ---- the rewrite -------------------------------------------------------- */

static int
compare_offsets (gconstpointer a, gconstpointer b)
{
  const BounceSpan *x = a, *y = b;

  return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* A message's bytes without its trailing line breaks. */
static gsize
trim_breaks (const char *data, gsize len)
{
  while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
    len--;
  return len;
}

/* Append the old text of the spans going to target @t (old tail in the
 * backup), each as a message of its own. */
static gboolean
append_to_target (Backup *b, GArray *spans, guint index, BounceMboxLock *target, Target *t,
                  char *buf, GError **error)
{
  goffset at = t->old_size;
  char tail[2] = { 0, 0 };

  if (at >= 2)
    pread (target->fd, tail, 2, at - 2);
  else if (at == 1)
    pread (target->fd, tail + 1, 1, 0);
  for (guint i = 0; i < spans->len; i++)
    {
      BounceSpan *s = &g_array_index (spans, BounceSpan, i);
      g_autofree char *text = NULL;
      gsize len;

      if (s->target != (int) index)
        continue;
      /* A blank line before each message. */
      if (at > 0 && tail[1] != '\n' && !pwrite_all (target->fd, "\n", 1, at++, target->path, error))
        return FALSE;
      if (at > 0 && !(tail[0] == '\n' && tail[1] == '\n')
          && !pwrite_all (target->fd, "\n", 1, at++, target->path, error))
        return FALSE;
      text = g_malloc (s->length);
      if (!pread_all (b->fd, text, s->length, b->data_at + (s->offset - b->start), b->file, error))
        return FALSE;
      len = trim_breaks (text, s->length);
      if (!pwrite_all (target->fd, text, len, at, target->path, error)
          || !pwrite_all (target->fd, "\n", 1, at + len, target->path, error))
        return FALSE;
      at += len + 1;
      tail[0] = len > 0 ? text[len - 1] : '\n';
      tail[1] = '\n';
    }
  if (at != t->new_size)
    {
      g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_IO, "%s: appended %" G_GOFFSET_FORMAT " bytes, not %" G_GOFFSET_FORMAT,
                   target->path, at - t->old_size, t->new_size - t->old_size);
      return FALSE;
    }
  return sync_fd (target->fd, target->path, error);
}

/* How much appending the spans of @index to a target of @size bytes
 * ending in @tail adds. */
static goffset
appended_size (GArray *spans, guint index, goffset size, const char *tail, const char *old_tail, goffset start)
{
  goffset added = 0;
  char t0 = tail[0], t1 = tail[1];

  for (guint i = 0; i < spans->len; i++)
    {
      BounceSpan *s = &g_array_index (spans, BounceSpan, i);
      gsize len;

      if (s->target != (int) index)
        continue;
      if (size + added > 0 && t1 != '\n')
        added++;
      if (size + added > 0 && !(t0 == '\n' && t1 == '\n'))
        added++;
      len = trim_breaks (old_tail + (s->offset - start), s->length);
      added += len + 1;
      t0 = len > 0 ? old_tail[s->offset - start + len - 1] : '\n';
      t1 = '\n';
    }
  return added;
}

/**
 * bounce_mbox_rewrite:
 * @lock: the mbox, locked, read since it was locked
 * @spans: (element-type BounceSpan): the messages to change: each is
 *   appended to `targets[target]` (unless target is -1), then taken out
 *   (data NULL) or replaced by data
 * @targets: (array length=n_targets) (nullable): target mboxes, locked
 * @n_targets: their number
 * @state_dir: a private folder for the backup (created when missing)
 * @error: BOUNCE_ERROR_IO
 *
 * Rewrites the mbox in place (see the top of this file). On error the
 * mbox and every target are as they were.
 */
gboolean
bounce_mbox_rewrite (BounceMboxLock *lock, GArray *spans, BounceMboxLock **targets, guint n_targets,
                     const char *state_dir, GError **error)
{
  Backup b = { .fd = -1 };
  g_autofree char *tmp = NULL, *buf = NULL, *old_tail = NULL;
  g_autoptr (GString) head = NULL;
  g_autofree char *escaped = NULL;
  struct stat st;
  gboolean ok = FALSE, targets_touched = FALSE, mbox_touched = FALSE;
  gsize at;

  if (spans->len == 0)
    return TRUE;
  g_array_sort (spans, compare_offsets);
  if (fstat (lock->fd, &st) < 0)
    return io_error (error, "cannot read", lock->path);
  if (g_mkdir_with_parents (state_dir, 0700) < 0)
    return io_error (error, "cannot create", state_dir);
  b.start = g_array_index (spans, BounceSpan, 0).offset;
  b.old_size = st.st_size;
  b.file = backup_name (state_dir, &st);
  b.targets = g_array_new (FALSE, TRUE, sizeof (Target));
  b.changes = g_array_new (FALSE, TRUE, sizeof (Change));
  /* The old tail, checked against what was read. */
  old_tail = g_try_malloc (b.old_size - b.start + 1);
  if (old_tail == NULL)
    {
      g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_LIMIT, "%s: too much to rewrite at once", lock->path);
      goto out;
    }
  if (!pread_all (lock->fd, old_tail, b.old_size - b.start, b.start, lock->path, error))
    goto out;
  b.new_size = b.old_size;
  for (guint i = 0; i < spans->len; i++)
    {
      BounceSpan *s = &g_array_index (spans, BounceSpan, i);
      Change c = { s->offset, s->length, -1, 0 };

      if ((i > 0 && s->offset < g_array_index (spans, BounceSpan, i - 1).offset
                                  + (goffset) g_array_index (spans, BounceSpan, i - 1).length)
          || s->offset + (goffset) s->length > b.old_size || s->length < 5
          || memcmp (old_tail + (s->offset - b.start), "From ", 5) != 0
          || (s->target >= 0 && ((guint) s->target >= n_targets || targets[s->target] == NULL)))
        {
          g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_IO,
                       "%s changed while it was read; nothing was changed in it", lock->path);
          goto out;
        }
      if (s->data)
        {
          /* The new text ends as the old one did (the blank line before
           * the next message). */
          gsize keep = trim_breaks (old_tail + (s->offset - b.start), s->length);

          c.new_length = trim_breaks (s->data, s->data_length) + (s->length - keep);
        }
      b.new_size += (c.new_length < 0 ? 0 : c.new_length) - s->length;
      g_array_append_val (b.changes, c);
    }
  for (guint i = 0; i < n_targets; i++)
    {
      Target t = { 0 };
      struct stat tst;
      char tail[2] = { 0, 0 };

      if (targets[i] == NULL)
        continue;
      if (fstat (targets[i]->fd, &tst) < 0)
        {
          io_error (error, "cannot read", targets[i]->path);
          goto out;
        }
      if (tst.st_dev == st.st_dev && tst.st_ino == st.st_ino)
        {
          g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_CONFIG, "%s: the target is the mbox itself", lock->path);
          goto out;
        }
      if (tst.st_size >= 2)
        pread (targets[i]->fd, tail, 2, tst.st_size - 2);
      else if (tst.st_size == 1)
        pread (targets[i]->fd, tail + 1, 1, 0);
      t.path = g_strdup (targets[i]->path);
      t.dev = tst.st_dev;
      t.ino = tst.st_ino;
      t.old_size = tst.st_size;
      t.new_size = t.old_size + appended_size (spans, i, tst.st_size, tail, old_tail, b.start);
      g_array_append_val (b.targets, t);
    }

  /* 1. The backup. */
  head = g_string_new (MAGIC "phase 1\n");
  g_string_append_printf (head, "source %ju %ju %" G_GOFFSET_FORMAT " %" G_GOFFSET_FORMAT " %" G_GOFFSET_FORMAT "\n",
                          (uintmax_t) st.st_dev, (uintmax_t) st.st_ino, b.start, b.old_size, b.new_size);
  escaped = g_strescape (lock->path, NULL);
  g_string_append_printf (head, "path %s\n", escaped);
  for (guint i = 0; i < b.targets->len; i++)
    {
      Target *t = &g_array_index (b.targets, Target, i);
      g_autofree char *e = g_strescape (t->path, NULL);

      g_string_append_printf (head, "target %ju %ju %" G_GOFFSET_FORMAT " %" G_GOFFSET_FORMAT " %s\n",
                              (uintmax_t) t->dev, (uintmax_t) t->ino, t->old_size, t->new_size, e);
    }
  for (guint i = 0; i < b.changes->len; i++)
    {
      Change *c = &g_array_index (b.changes, Change, i);

      g_string_append_printf (head, "change %" G_GOFFSET_FORMAT " %" G_GOFFSET_FORMAT " %" G_GOFFSET_FORMAT "\n",
                              c->offset, c->length, c->new_length);
    }
  g_string_append_c (head, '\n');
  tmp = g_strconcat (b.file, ".tmp", NULL);
  b.fd = open (tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (b.fd < 0)
    {
      io_error (error, "cannot create", tmp);
      goto out;
    }
  b.data_at = head->len;
  at = 0;
  if (!pwrite_all (b.fd, head->str, head->len, at, tmp, error)
      || !pwrite_all (b.fd, old_tail, b.old_size - b.start, b.data_at, tmp, error))
    goto out_tmp;
  at = b.data_at + (b.old_size - b.start);
  for (guint i = 0; i < spans->len; i++)
    {
      BounceSpan *s = &g_array_index (spans, BounceSpan, i);
      Change *c = &g_array_index (b.changes, Change, i);
      gsize keep, text;

      c->new_at = at;
      if (c->new_length < 0)
        continue;
      text = trim_breaks (s->data, s->data_length);
      keep = trim_breaks (old_tail + (s->offset - b.start), s->length);
      if (!pwrite_all (b.fd, s->data, text, at, tmp, error)
          || !pwrite_all (b.fd, old_tail + (s->offset - b.start) + keep, s->length - keep, at + text, tmp, error))
        goto out_tmp;
      at += c->new_length;
    }
  b.end_at = at;
  if (!sync_fd (b.fd, tmp, error))
    goto out_tmp;
  if (rename (tmp, b.file) < 0)
    {
      io_error (error, "cannot rename", tmp);
      goto out_tmp;
    }
  sync_dir (state_dir);
  b.phase = 1;
  g_clear_pointer (&old_tail, g_free);
  buf = g_malloc (2 * COPY_CHUNK);

  /* 2. The targets. */
  targets_touched = TRUE;
  for (guint i = 0, k = 0; i < n_targets; i++)
    if (targets[i] && !append_to_target (&b, spans, i, targets[i], &g_array_index (b.targets, Target, k++), buf, error))
      goto undo;

  /* 3–5. The mbox. */
  mbox_touched = TRUE;
  if (b.new_size > b.old_size
      && (!set_phase (&b, 2, error) || ftruncate (lock->fd, b.new_size) < 0
          || !sync_fd (lock->fd, lock->path, error)))
    {
      if (error && *error == NULL)
        io_error (error, "cannot grow", lock->path);
      goto undo;
    }
  if (!write_new_tail (&b, lock->fd, lock->path, buf, error) || !sync_fd (lock->fd, lock->path, error))
    goto undo;
  if (b.new_size < b.old_size
      && (!set_phase (&b, 3, error) || ftruncate (lock->fd, b.new_size) < 0
          || !sync_fd (lock->fd, lock->path, error)))
    {
      if (error && *error == NULL)
        io_error (error, "cannot cut", lock->path);
      goto undo;
    }

  /* 6. Done. */
  if (unlink (b.file) < 0)
    {
      io_error (error, "cannot remove", b.file);
      goto out;
    }
  sync_dir (state_dir);
  ok = TRUE;
  goto out;

undo:
  {
    g_autoptr (GError) err = NULL;
    struct stat now;

    /* Nobody else wrote to the mbox meanwhile (it is locked): its end is
     * where this run left it. The error is the first one; the undoing is
     * said only when it fails too. */
    if (mbox_touched && (fstat (lock->fd, &now) < 0
                         || !restore_old_tail (&b, lock->fd, lock->path, now.st_size, buf, &err)))
      goto kept;
    if (targets_touched && !undo_targets (&b, &err))
      goto kept;
    unlink (b.file);
    sync_dir (state_dir);
    goto out;
  kept:
    g_prefix_error (error, "the old text is kept in %s (undoing the change failed: %s): ", b.file,
                    err ? err->message : g_strerror (errno));
    goto out;
  }
out_tmp:
  unlink (tmp);
out:
  backup_clear (&b);
  return ok;
}

/* mbox-backup.c — the backup a rewrite of an mbox keeps, and recovery
 * from it after a run was killed.
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
 *
 * bounce_mbox_recover() reads a backup left behind and finishes or undoes
 * the rewrite it describes (see mbox.c for the steps).
 */
#include "mbox-private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Copy @len bytes from @from at @src to @to at @dst (files may be the
 * same when @dst <= @src). */
static gboolean
copy_range (int from, goffset src, int to, goffset dst, goffset len, const char *from_path, const char *to_path,
            char *buf, GError **error)
{
  while (len > 0)
    {
      gsize n = MIN (len, COPY_CHUNK);

      if (!bounce_pread_all (from, buf, n, src, from_path, error)
          || !bounce_pwrite_all (to, buf, n, dst, to_path, error))
        return FALSE;
      src += n;
      dst += n;
      len -= n;
    }
  return TRUE;
}

#define PHASE_AT (sizeof MAGIC - 1 + 6) /* the digit of "phase P" */

void
bounce_mbox_backup_clear (Backup *b)
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

char *
bounce_mbox_backup_name (const char *state_dir, const struct stat *st)
{
  g_autofree char *name = g_strdup_printf ("mbox-%ju-%ju.backup", (uintmax_t) st->st_dev, (uintmax_t) st->st_ino);

  return g_build_filename (state_dir, name, NULL);
}

gboolean
bounce_mbox_set_phase (Backup *b, int phase, GError **error)
{
  char c = '0' + phase;

  if (!bounce_pwrite_all (b->fd, &c, 1, PHASE_AT, b->file, error) || !bounce_fsync_fd (b->fd, b->file, error))
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
gboolean
bounce_mbox_write_new_tail (Backup *b, int fd, const char *path, char *buf, GError **error)
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
gboolean
bounce_mbox_undo_targets (Backup *b, GError **error)
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
          ok = ok && bounce_io_error (error, "cannot open", t->path);
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
            ok = ok && bounce_io_error (error, "cannot cut back", t->path);
        }
      close (fd);
    }
  return ok;
}

/* Put the old tail back in the mbox (@fd) and keep what follows @eof
 * (appended by others since the run stopped) after it. When that must
 * move (the tail had grown), it is first kept at the end of the backup
 * (phase 4), so that this can be done again if it is interrupted. */
gboolean
bounce_mbox_restore_old_tail (Backup *b, int fd, const char *path, goffset eof, char *buf, GError **error)
{
  struct stat st;

  if (fstat (fd, &st) < 0)
    return bounce_io_error (error, "cannot read", path);
  if (b->phase != 4 && eof != b->old_size && st.st_size > eof)
    {
      if (!copy_range (fd, eof, b->fd, b->end_at, st.st_size - eof, path, b->file, buf, error)
          || ftruncate (b->fd, b->end_at + (st.st_size - eof)) < 0 || !bounce_mbox_set_phase (b, 4, error))
        return error && *error ? FALSE : bounce_io_error (error, "cannot write", b->file);
    }
  if (!copy_range (b->fd, b->data_at, fd, b->start, b->old_size - b->start, b->file, path, buf, error))
    return FALSE;
  if (b->phase == 4)
    {
      struct stat bst;

      if (fstat (b->fd, &bst) < 0
          || !copy_range (b->fd, b->end_at, fd, b->old_size, bst.st_size - b->end_at, b->file, path, buf, error)
          || ftruncate (fd, b->old_size + (bst.st_size - b->end_at)) < 0)
        return error && *error ? FALSE : bounce_io_error (error, "cannot cut back", path);
    }
  else if (eof != b->old_size && ftruncate (fd, b->old_size) < 0)
    return bounce_io_error (error, "cannot cut back", path);
  return bounce_fsync_fd (fd, path, error);
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
    return bounce_io_error (error, "cannot read", b->file);
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
    return bounce_io_error (error, "cannot read", lock->path);
  b.file = bounce_mbox_backup_name (state_dir, &st);
  {
    /* A backup not yet renamed into place: the mbox was not touched. */
    g_autofree char *tmp = g_strconcat (b.file, ".tmp", NULL);

    unlink (tmp);
  }
  b.fd = open (b.file, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (b.fd < 0)
    {
      bounce_mbox_backup_clear (&b);
      return errno == ENOENT ? TRUE : bounce_io_error (error, "cannot open", b.file);
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
               || !same_bytes (&b, lock->fd, b.new_size, b.data_at + (b.new_size - b.start), b.old_size - b.new_size,
                               buf)))
    eof = b.new_size;
  done = b.phase != 4 && eof == b.new_size && has_new_tail (&b, lock->fd, buf);
  if (done)
    *note = g_strdup_printf ("an interrupted rewrite of %s was complete; its backup %s is removed", lock->path, b.file);
  else
    {
      /* Targets first: when one cannot be cut back, the mbox stays as it
       * is and the backup is kept. */
      if (!bounce_mbox_undo_targets (&b, error)
          || !bounce_mbox_restore_old_tail (&b, lock->fd, lock->path, eof, buf, error))
        goto out;
      *note = g_strdup_printf ("an interrupted rewrite of %s was undone from its backup %s", lock->path, b.file);
    }
  if (unlink (b.file) < 0)
    {
      bounce_io_error (error, "cannot remove", b.file);
      goto out;
    }
  bounce_sync_dir (state_dir);
  ok = TRUE;
out:
  bounce_mbox_backup_clear (&b);
  return ok;
}

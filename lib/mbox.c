/* mbox.c — take messages out of an mbox file, or rewrite them, in place,
 * without losing one.
 *
 * The mbox is locked first (lock.c), and never replaced by another
 * file: a delivery agent that opened it before it locked (fcntl-only
 * writers do) appends to the file every reader sees. A rewrite works from the first changed message to
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
#include "mbox-private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
append_to_target (Backup *b, GArray *spans, guint index, BounceMboxLock *target, Target *t, char *buf, GError **error)
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
      if (at > 0 && tail[1] != '\n' && !bounce_pwrite_all (target->fd, "\n", 1, at++, target->path, error))
        return FALSE;
      if (at > 0 && !(tail[0] == '\n' && tail[1] == '\n')
          && !bounce_pwrite_all (target->fd, "\n", 1, at++, target->path, error))
        return FALSE;
      text = g_malloc (s->length);
      if (!bounce_pread_all (b->fd, text, s->length, b->data_at + (s->offset - b->start), b->file, error))
        return FALSE;
      len = trim_breaks (text, s->length);
      if (!bounce_pwrite_all (target->fd, text, len, at, target->path, error)
          || !bounce_pwrite_all (target->fd, "\n", 1, at + len, target->path, error))
        return FALSE;
      at += len + 1;
      tail[0] = len > 0 ? text[len - 1] : '\n';
      tail[1] = '\n';
    }
  if (at != t->new_size)
    {
      g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_IO,
                   "%s: appended %" G_GOFFSET_FORMAT " bytes, not %" G_GOFFSET_FORMAT, target->path, at - t->old_size,
                   t->new_size - t->old_size);
      return FALSE;
    }
  return bounce_fsync_fd (target->fd, target->path, error);
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

  /* A program built with another size of BounceSpan (see backscatter.h). */
  g_return_val_if_fail (g_array_get_element_size (spans) == sizeof (BounceSpan), FALSE);
  if (spans->len == 0)
    return TRUE;
  g_array_sort (spans, compare_offsets);
  if (fstat (lock->fd, &st) < 0)
    return bounce_io_error (error, "cannot read", lock->path);
  if (g_mkdir_with_parents (state_dir, 0700) < 0)
    return bounce_io_error (error, "cannot create", state_dir);
  b.start = g_array_index (spans, BounceSpan, 0).offset;
  b.old_size = st.st_size;
  b.file = bounce_mbox_backup_name (state_dir, &st);
  b.targets = g_array_new (FALSE, TRUE, sizeof (Target));
  b.changes = g_array_new (FALSE, TRUE, sizeof (Change));
  /* The old tail, checked against what was read. */
  old_tail = g_try_malloc (b.old_size - b.start + 1);
  if (old_tail == NULL)
    {
      g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_LIMIT, "%s: too much to rewrite at once", lock->path);
      goto out;
    }
  if (!bounce_pread_all (lock->fd, old_tail, b.old_size - b.start, b.start, lock->path, error))
    goto out;
  b.new_size = b.old_size;
  for (guint i = 0; i < spans->len; i++)
    {
      BounceSpan *s = &g_array_index (spans, BounceSpan, i);
      Change c = { s->offset, s->length, -1, 0 };

      if ((i > 0
           && s->offset < g_array_index (spans, BounceSpan, i - 1).offset
                              + (goffset) g_array_index (spans, BounceSpan, i - 1).length)
          || s->offset + (goffset) s->length > b.old_size || s->length < 5
          || memcmp (old_tail + (s->offset - b.start), "From ", 5) != 0
          || (s->target >= 0 && ((guint) s->target >= n_targets || targets[s->target] == NULL)))
        {
          g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_IO, "%s changed while it was read; nothing was changed in it",
                       lock->path);
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
          bounce_io_error (error, "cannot read", targets[i]->path);
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
      bounce_io_error (error, "cannot create", tmp);
      goto out;
    }
  b.data_at = head->len;
  at = 0;
  if (!bounce_pwrite_all (b.fd, head->str, head->len, at, tmp, error)
      || !bounce_pwrite_all (b.fd, old_tail, b.old_size - b.start, b.data_at, tmp, error))
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
      if (!bounce_pwrite_all (b.fd, s->data, text, at, tmp, error)
          || !bounce_pwrite_all (b.fd, old_tail + (s->offset - b.start) + keep, s->length - keep, at + text, tmp,
                                 error))
        goto out_tmp;
      at += c->new_length;
    }
  b.end_at = at;
  if (!bounce_fsync_fd (b.fd, tmp, error))
    goto out_tmp;
  if (rename (tmp, b.file) < 0)
    {
      bounce_io_error (error, "cannot rename", tmp);
      goto out_tmp;
    }
  bounce_sync_dir (state_dir);
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
      && (!bounce_mbox_set_phase (&b, 2, error) || ftruncate (lock->fd, b.new_size) < 0
          || !bounce_fsync_fd (lock->fd, lock->path, error)))
    {
      if (error && *error == NULL)
        bounce_io_error (error, "cannot grow", lock->path);
      goto undo;
    }
  if (!bounce_mbox_write_new_tail (&b, lock->fd, lock->path, buf, error)
      || !bounce_fsync_fd (lock->fd, lock->path, error))
    goto undo;
  if (b.new_size < b.old_size
      && (!bounce_mbox_set_phase (&b, 3, error) || ftruncate (lock->fd, b.new_size) < 0
          || !bounce_fsync_fd (lock->fd, lock->path, error)))
    {
      if (error && *error == NULL)
        bounce_io_error (error, "cannot cut", lock->path);
      goto undo;
    }

  /* 6. Done. */
  if (unlink (b.file) < 0)
    {
      bounce_io_error (error, "cannot remove", b.file);
      goto out;
    }
  bounce_sync_dir (state_dir);
  ok = TRUE;
  goto out;

undo:
  {
    g_autoptr (GError) err = NULL;
    struct stat now;

    /* Nobody else wrote to the mbox meanwhile (it is locked): its end is
     * where this run left it. The error is the first one; the undoing is
     * said only when it fails too. */
    if (mbox_touched
        && (fstat (lock->fd, &now) < 0
            || !bounce_mbox_restore_old_tail (&b, lock->fd, lock->path, now.st_size, buf, &err)))
      goto kept;
    if (targets_touched && !bounce_mbox_undo_targets (&b, &err))
      goto kept;
    unlink (b.file);
    bounce_sync_dir (state_dir);
    goto out;
  kept:
    g_prefix_error (error, "the old text is kept in %s (undoing the change failed: %s): ", b.file,
                    err ? err->message : g_strerror (errno));
    goto out;
  }
out_tmp:
  unlink (tmp);
out:
  bounce_mbox_backup_clear (&b);
  return ok;
}

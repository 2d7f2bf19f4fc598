/* fileio.c — plain file I/O: one message read from a descriptor, and
 * for the files the library writes in place (mbox.c, maildir.c) whole
 * reads and writes that retry when a signal interrupts them, fsync, and
 * errors that name the file.
 */
#include "bounce-private.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

/* bounce_io_error: set @error to BOUNCE_ERROR_IO, "WHAT PATH: what errno
 * says"; returns FALSE. */
gboolean
bounce_io_error (GError **error, const char *what, const char *path)
{
  int e = errno;

  g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_IO, "%s %s: %s", what, path, g_strerror (e));
  return FALSE;
}

/* bounce_pwrite_all: write all of @data at @at, again after EINTR; a
 * write of nothing is a full disk. */
gboolean
bounce_pwrite_all (int fd, const char *data, gsize len, goffset at, const char *path, GError **error)
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
          return bounce_io_error (error, "cannot write", path);
        }
      data += n;
      len -= n;
      at += n;
    }
  return TRUE;
}

/* bounce_pread_all: read all @len bytes at @at, again after EINTR; a
 * file shorter than that is an error. */
gboolean
bounce_pread_all (int fd, char *data, gsize len, goffset at, const char *path, GError **error)
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
          return bounce_io_error (error, "cannot read", path);
        }
      data += n;
      len -= n;
      at += n;
    }
  return TRUE;
}

/* bounce_fsync_fd: fsync @fd; a file that cannot be synced (EINVAL: a
 * pipe, some special files) is no error. */
gboolean
bounce_fsync_fd (int fd, const char *path, GError **error)
{
  if (fsync (fd) < 0 && errno != EINVAL)
    return bounce_io_error (error, "cannot sync", path);
  return TRUE;
}

/* bounce_sync_dir: fsync the folder @dir, so that names made or removed
 * in it last; at best effort. */
void
bounce_sync_dir (const char *dir)
{
  int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (dfd >= 0)
    {
      fsync (dfd);
      close (dfd);
    }
}

/* Reads are this big at first, and as big as what was read after. */
#define READ_CHUNK 65536

/**
 * bounce_message_read:
 * @fd: a descriptor open for reading: standard input, a message file
 * @more: (out): TRUE when the message is larger than what was read
 * @error: G_FILE_ERROR (from errno, its text that of strerror) when a
 *   read fails
 *
 * Reads the message on @fd with read(2), never a mapping: an unreadable
 * descriptor (a folder, a closed one) is an error and never an empty or
 * cut message, and a file another program cuts while it is read gives
 * fewer bytes, not SIGBUS. At most BOUNCE_MAX_MESSAGE_BYTES + 1 bytes are
 * read, one more than a report is made from, so that the parse knows a
 * message is larger and says so; *@more is then TRUE and the rest is left
 * unread.
 *
 * Returns: (transfer full): the bytes read, or NULL with @error set
 */
GByteArray *
bounce_message_read (int fd, gboolean *more, GError **error)
{
  g_autoptr (GByteArray) buf = g_byte_array_sized_new (READ_CHUNK);
  const gsize want = (gsize) BOUNCE_MAX_MESSAGE_BYTES + 1;

  *more = FALSE;
  while (buf->len < want)
    {
      gsize room = MIN (want - buf->len, MAX ((gsize) READ_CHUNK, buf->len));
      guint old = buf->len;
      ssize_t n;

      g_byte_array_set_size (buf, old + room);
      n = read (fd, buf->data + old, room);
      g_byte_array_set_size (buf, old + MAX (n, 0));
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int e = errno;

          g_set_error_literal (error, G_FILE_ERROR, g_file_error_from_errno (e), g_strerror (e));
          return NULL;
        }
      if (n == 0)
        return g_steal_pointer (&buf);
    }
  *more = TRUE;
  return g_steal_pointer (&buf);
}

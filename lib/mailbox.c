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
 *
 * A Maildir's large files are mapped: Maildir files are never rewritten
 * in place (every writer, this program too, makes a new file and renames
 * it), so a mapping cannot lose its pages under the reader.
 *
 * An mbox is read with read(2) in order, a message at a time, never
 * mapped: another program may cut the file while it is read (a mapping
 * would then kill the process with SIGBUS), and memory stays bounded
 * however large it is. A path that is not a plain file (a FIFO) is
 * refused without waiting on it.
 */
#include "bounce-private.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <dirent.h>
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

#define MAP_OVER (128 * 1024)   /* files larger are mapped, not read */
#define KEEP_BUFFER (16 * 1024) /* a read buffer's first size */
#define START_BYTES KEEP_BUFFER /* what BOUNCE_MAILBOX_START_FIRST hands first */

/* Open a file of the folder open as @dirfd: the descriptor, or -1 with
 * *err set. */
static int
open_file (int dirfd, const char *name, int *err)
{
  /* O_NONBLOCK: a FIFO someone left in the folder must not stop the scan
   * (it is then refused as not a plain file). */
  int fd = openat (dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);

  if (fd < 0)
    *err = errno;
  return fd;
}

/* Look at the file open as @fd: @fd, or -1 (@fd closed) with *err set
 * when it is not a plain file. *want: how much of it to read, its size up
 * to BOUNCE_MAX_MESSAGE_BYTES (*truncated set when it is larger). */
static int
size_file (int fd, gsize *want, gboolean *truncated, int *err)
{
  struct stat st;

  *truncated = FALSE;
  if (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode))
    {
      *err = fstat (fd, &st) < 0 ? errno : EINVAL;
      close (fd);
      return -1;
    }
  *want = st.st_size;
  if (*want > BOUNCE_MAX_MESSAGE_BYTES)
    {
      *want = BOUNCE_MAX_MESSAGE_BYTES;
      *truncated = TRUE;
    }
  return fd;
}

/* Read the open file @fd on, from *got bytes (already in *buffer) to
 * @want in all, or to its end when it is shorter (@once: or as far as
 * one read(2) gives): into *buffer (made larger when it is too small,
 * keeping what it holds), NUL-terminated; or, when @want is over
 * MAP_OVER, map the file whole instead (*mapped set), so that only the
 * pages looked at are read. FALSE with *err set on failure. */
static gboolean
read_on (int fd, gsize want, gboolean once, char **buffer, gsize *size, const char **mapped, gsize *got, int *err)
{
  char *buf;

  if (want > MAP_OVER)
    {
      void *map = mmap (NULL, want, PROT_READ, MAP_PRIVATE, fd, 0);

      if (map != MAP_FAILED)
        {
          *mapped = map;
          *got = want;
          return TRUE;
        }
    }
  if (*buffer == NULL || *size < want + 1)
    {
      *size = MAX (want + 1, KEEP_BUFFER);
      if (*got == 0)
        {
          /* nothing in it to keep: no copy */
          g_free (*buffer);
          *buffer = g_malloc (*size);
        }
      else
        *buffer = g_realloc (*buffer, *size);
    }
  buf = *buffer;
  while (*got < want)
    {
      ssize_t n = read (fd, buf + *got, want - *got);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          *err = errno;
          return FALSE;
        }
      if (n == 0)
        break;
      *got += n;
      if (once)
        break;
    }
  buf[*got] = '\0';
  return TRUE;
}

/* ---- the walk -----------------------------------------------------------
 *
 * Messages are handed out in order, one folder (or one mbox) at a time.
 * Up to `threads` threads (the caller's among them) take the next
 * messages of the folder, read them and run `prepare` on them; the caller
 * hands each one, in order, to `func`. At most WINDOW_PER_THREAD messages
 * per thread, and no new one once WINDOW_BYTES are held, are in memory at
 * once, whatever the size of the folder. (POSIX threads and locks, which
 * thread checkers understand.)
 *
 * Most messages cost a few microseconds (an ordinary message is read and
 * its header block looked at), so the threads must not meet at the lock
 * for each one: the other threads take BATCH messages at a time, a
 * finished message is marked so with an atomic store (the lock is only
 * taken to wake the caller when it waits for that very message), and the
 * lock spins a little before it sleeps.
 */

#define WINDOW_PER_THREAD 16
#define WINDOW_BYTES (64 * 1024 * 1024)
#define MAX_THREADS 64
#define BATCH 8 /* messages a thread other than the caller's takes at once */

typedef enum
{
  SLOT_FREE,
  SLOT_CLAIMED,
  SLOT_DONE,
  SLOT_SKIP, /* the file went away: nothing to hand out */
} SlotState;

typedef struct
{
  int state; /* a SlotState, read and written atomically */
  BounceMessageRef ref;
  const char *name; /* Maildir: the file's name in dir */
  gboolean in_dir;  /* Maildir: name is a file of the folder */
  gboolean regular; /* Maildir: the folder's listing says it is a plain file */
  char *path;       /* Maildir: the file; kept from one message to the next */
  gsize path_size;
  gboolean read;   /* Maildir: buffer (or map) holds the file */
  const char *map; /* Maildir: the file, mapped */
  char *buffer;    /* Maildir: kept from one message to the next */
  gsize buffer_size;
  gpointer prepared;
} Slot;

typedef struct
{
  /* for the whole walk */
  guint threads;
  gboolean start_first; /* BOUNCE_MAILBOX_START_FIRST, with a prepare function */
  BounceMessagePrepareFunc prepare;
  GDestroyNotify prepared_free;
  BounceMessageFunc func;
  gpointer user_data;
  gboolean stop;

  /* the folder or mbox being walked */
  const char *folder;
  const char *dir; /* Maildir: its new/ or cur/ */
  gsize dir_len;
  int dirfd;        /* Maildir: that folder, open */
  GPtrArray *names; /* Maildir: file names in dir, sorted */
  GHashTable *odd;  /* Maildir: those of names not listed as plain files; NULL: none */
  int mbox_fd;      /* mbox: the file, read in order (never mapped: */
  char *mbox_buf;   /* another program may cut it meanwhile) */
  gsize mbox_cap, mbox_len, mbox_pos;
  goffset mbox_offset; /* mbox: where mbox_buf starts in the file */
  gboolean mbox_eof;
  int mbox_error;

  pthread_mutex_t lock;
  gboolean shared;          /* other threads take part: the lock is needed */
  pthread_cond_t head_done; /* the caller waits for the next message in order */
  pthread_cond_t room;      /* threads wait for a free slot */
  int caller_waits;         /* atomic: the caller sleeps on head_done */
  guint threads_waiting;
  guint claimed;   /* messages taken by a thread */
  guint delivered; /* messages handed to func (or skipped) */
  gsize held;      /* atomic: bytes read and not yet handed out */
  gboolean exhausted;
  guint window;
  Slot *slots;
  /* Read buffers of delivered messages, the last given back on top:
   * taken by claim() for a slot without one, so that only as many
   * buffers are made as messages are in flight at once (one, alone),
   * and the one taken is the one used a moment ago. */
  char **spare;
  gsize *spare_size;
  guint n_spare;
} Walk;

#define MBOX_CHUNK (256 * 1024)

/* Where the next message of an mbox starts in [p, end): after a blank
 * line, at a "From " line; NULL when there is none (yet). */
static const char *
mbox_next_start (const char *p, const char *end)
{
  const char *q = p;

  while ((q = memchr (q, '\n', end - q)) != NULL)
    {
      q++;
      if (q < end && *q == '\n' && end - q >= 6 && memcmp (q + 1, "From ", 5) == 0)
        return q + 1;
      if (end - q >= 7 && q[0] == '\r' && q[1] == '\n' && memcmp (q + 2, "From ", 5) == 0)
        return q + 2;
    }
  return NULL;
}

/* Read more of the mbox, after dropping what was handed out. */
static void
mbox_fill (Walk *w)
{
  ssize_t n;

  if (w->mbox_pos > 0)
    {
      memmove (w->mbox_buf, w->mbox_buf + w->mbox_pos, w->mbox_len - w->mbox_pos);
      w->mbox_offset += w->mbox_pos;
      w->mbox_len -= w->mbox_pos;
      w->mbox_pos = 0;
    }
  if (w->mbox_cap - w->mbox_len < MBOX_CHUNK)
    {
      w->mbox_cap = w->mbox_len + 2 * MBOX_CHUNK;
      w->mbox_buf = g_realloc (w->mbox_buf, w->mbox_cap);
    }
  while ((n = read (w->mbox_fd, w->mbox_buf + w->mbox_len, w->mbox_cap - w->mbox_len)) < 0 && errno == EINTR)
    ;
  if (n < 0)
    w->mbox_error = errno;
  if (n <= 0)
    w->mbox_eof = TRUE;
  else
    w->mbox_len += n;
}

/* The next message of the mbox into @slot (at most
 * BOUNCE_MAX_MESSAGE_BYTES of it; the rest is read past). FALSE at the
 * end. */
static gboolean
mbox_next (Walk *w, Slot *slot)
{
  gsize from, copied = 0, span = 0;
  goffset start;

  if (w->mbox_pos >= w->mbox_len && !w->mbox_eof)
    mbox_fill (w);
  if (w->mbox_pos >= w->mbox_len)
    return FALSE;
  start = w->mbox_offset + w->mbox_pos;
  from = w->mbox_pos + 1;
  for (;;)
    {
      const char *end = w->mbox_buf + w->mbox_len;
      const char *next = mbox_next_start (w->mbox_buf + from, end);
      gsize take, upto;

      /* Everything before the last 8 bytes (a separator may be cut
       * there) belongs to this message. */
      upto = next                     ? (gsize) (next - w->mbox_buf)
             : w->mbox_eof            ? w->mbox_len
             : w->mbox_len > from + 8 ? w->mbox_len - 8
                                      : w->mbox_pos;
      take = MIN (upto - w->mbox_pos, (gsize) BOUNCE_MAX_MESSAGE_BYTES - copied);
      if (take > 0 && (next || w->mbox_eof || upto - w->mbox_pos > MBOX_CHUNK))
        {
          if (slot->buffer == NULL || slot->buffer_size < copied + take + 1)
            {
              slot->buffer_size = MAX (copied + take + 1, KEEP_BUFFER);
              slot->buffer = g_realloc (slot->buffer, slot->buffer_size);
            }
          memcpy (slot->buffer + copied, w->mbox_buf + w->mbox_pos, take);
          copied += take;
        }
      if (next || w->mbox_eof || upto - w->mbox_pos > MBOX_CHUNK)
        {
          span += upto - w->mbox_pos;
          w->mbox_pos = upto;
        }
      if (next || w->mbox_eof)
        break;
      from = w->mbox_len > 8 ? w->mbox_len - 8 : 0;
      from -= MIN (from, w->mbox_pos);
      mbox_fill (w);
      from += w->mbox_pos;
      from = MAX (from, w->mbox_pos + (span == 0 ? 1 : 0));
    }
  if (slot->buffer == NULL)
    {
      slot->buffer_size = KEEP_BUFFER;
      slot->buffer = g_malloc (slot->buffer_size);
    }
  slot->buffer[copied] = '\0';
  slot->ref.path = w->folder;
  slot->ref.dirfd = -1;
  slot->ref.offset = start;
  slot->ref.data = slot->buffer;
  slot->ref.span = span;
  slot->ref.length = copied;
  slot->ref.truncated = span > BOUNCE_MAX_MESSAGE_BYTES;
  slot->ref.in_mbox = TRUE;
  if (w->mbox_error)
    {
      slot->ref.data = NULL;
      slot->ref.read_error = g_strerror (w->mbox_error);
    }
  slot->read = TRUE; /* counted in w->held by work() */
  return TRUE;
}

/* Take the next message, with the lock held: FALSE when there is none or
 * no room for it. */
static gboolean
claim (Walk *w, guint *index)
{
  Slot *slot;

  if (w->stop || w->exhausted || w->claimed >= w->delivered + w->window
      || (__atomic_load_n (&w->held, __ATOMIC_SEQ_CST) >= WINDOW_BYTES && w->claimed > w->delivered))
    return FALSE;
  slot = &w->slots[w->claimed % w->window];
  g_assert (g_atomic_int_get (&slot->state) == SLOT_FREE);
  if (slot->buffer == NULL && w->n_spare > 0)
    {
      w->n_spare--;
      slot->buffer = w->spare[w->n_spare];
      slot->buffer_size = w->spare_size[w->n_spare];
    }
  memset (&slot->ref, 0, sizeof slot->ref);
  slot->ref.folder = w->folder;
  if (w->names)
    {
      if (w->claimed >= w->names->len)
        {
          w->exhausted = TRUE;
          return FALSE;
        }
      slot->name = g_ptr_array_index (w->names, w->claimed);
      slot->in_dir = TRUE;
      slot->regular = w->odd == NULL || !g_hash_table_contains (w->odd, slot->name);
      slot->ref.dirfd = w->dirfd;
      slot->ref.name = slot->name;
    }
  else
    {
      if (!mbox_next (w, slot))
        {
          w->exhausted = TRUE;
          return FALSE;
        }
    }
  g_atomic_int_set (&slot->state, SLOT_CLAIMED);
  *index = w->claimed++;
  return TRUE;
}

/* Read and prepare a claimed message, without the lock; then mark it done. */
static void
work (Walk *w, guint index)
{
  Slot *slot = &w->slots[index % w->window];
  SlotState state = SLOT_DONE;
  gboolean prepared = FALSE;

  if (slot->in_dir)
    {
      int err = 0, fd;
      gsize want = 0, got = 0;
      gboolean start, whole = FALSE;

      /* The path, made here rather than under the lock. */
      gsize dl = w->dir_len, nl = strlen (slot->name);

      if (slot->path_size < dl + nl + 2)
        {
          g_free (slot->path);
          slot->path_size = MAX (dl + nl + 2, 256);
          slot->path = g_malloc (slot->path_size);
        }
      memcpy (slot->path, w->dir, dl);
      slot->path[dl] = G_DIR_SEPARATOR;
      memcpy (slot->path + dl + 1, slot->name, nl + 1);
      slot->ref.path = slot->path;

      fd = open_file (w->dirfd, slot->name, &err);
      if (fd >= 0 && slot->regular)
        {
          /* A plain file is read with one read(2) as long as the buffer
           * (with START_FIRST, as START_BYTES): one that gives less has
           * come to the end of the file, whose size is then not asked
           * for. Most mail is read so. */
          gsize first = w->start_first ? START_BYTES : CLAMP (slot->buffer_size, KEEP_BUFFER + 1, MAP_OVER + 1) - 1;

          if (!read_on (fd, first, TRUE, &slot->buffer, &slot->buffer_size, &slot->map, &got, &err))
            {
              close (fd);
              fd = -1;
            }
          else if (got < first)
            whole = TRUE;
        }
      if (fd >= 0 && !whole)
        fd = size_file (fd, &want, &slot->ref.truncated, &err);
      /* With START_FIRST, a large file's start first: most mail is told
       * from its header block, and the rest is then left unread. */
      start = fd >= 0 && !whole && w->start_first && want > START_BYTES;
      slot->read = fd >= 0
                   && (whole
                       || read_on (fd, start ? START_BYTES : want, FALSE, &slot->buffer, &slot->buffer_size, &slot->map,
                                   &got, &err));
      if (slot->read && start && got == START_BYTES)
        {
          slot->ref.data = slot->buffer;
          slot->ref.length = got;
          slot->ref.start_only = TRUE;
          slot->prepared = w->prepare (&slot->ref, w->user_data);
          prepared = slot->prepared != NULL;
          if (!prepared)
            {
              slot->ref.start_only = FALSE;
              slot->read = read_on (fd, want, FALSE, &slot->buffer, &slot->buffer_size, &slot->map, &got, &err);
            }
        }
      if (fd >= 0)
        close (fd);
      slot->ref.data = !slot->read ? NULL : slot->map ? slot->map : slot->buffer;
      slot->ref.length = slot->read ? got : 0;
      if (!slot->read)
        {
          if (err == ENOENT || err == EINVAL || err == ELOOP)
            state = SLOT_SKIP; /* moved away meanwhile, or not a plain file */
          slot->ref.read_error = g_strerror (err);
        }
    }
  if (state == SLOT_DONE && slot->ref.data && w->prepare && !prepared)
    slot->prepared = w->prepare (&slot->ref, w->user_data);
  if (slot->read)
    __atomic_add_fetch (&w->held, slot->ref.length, __ATOMIC_SEQ_CST);
  /* The store, then the look at caller_waits; the caller sets
   * caller_waits, then looks at the state again before it sleeps: one of
   * the two sees the other's write (both are sequentially consistent). */
  g_atomic_int_set (&slot->state, state);
  if (g_atomic_int_get (&w->caller_waits))
    {
      pthread_mutex_lock (&w->lock);
      pthread_cond_signal (&w->head_done);
      pthread_mutex_unlock (&w->lock);
    }
}

static gpointer
worker (gpointer data)
{
  Walk *w = data;
  guint index;

  pthread_mutex_lock (&w->lock);
  for (;;)
    {
      guint first = 0, n = 0, want = BATCH;

      /* Near the end of a folder, no more than a share of what is left:
       * the last messages may be bounces that take long, and the other
       * threads would have nothing to do meanwhile. */
      if (w->names && w->claimed < w->names->len)
        want = CLAMP ((w->names->len - w->claimed) / w->threads, 1, BATCH);
      while (n < want && claim (w, &index))
        {
          if (n == 0)
            first = index;
          n++;
        }
      if (n > 0)
        {
          pthread_mutex_unlock (&w->lock);
          for (guint i = 0; i < n; i++)
            work (w, first + i);
          pthread_mutex_lock (&w->lock);
          continue;
        }
      if (w->stop || w->exhausted)
        break;
      w->threads_waiting++;
      pthread_cond_wait (&w->room, &w->lock);
      w->threads_waiting--;
    }
  pthread_mutex_unlock (&w->lock);
  return NULL;
}

/* Walk the folder or mbox set up in @w: every message to func, in order. */
/* The lock, when other threads share the walk: alone, the caller's
 * thread takes it for nothing, twice a message. */
static inline void
walk_lock (Walk *w)
{
  if (w->shared)
    pthread_mutex_lock (&w->lock);
}

static inline void
walk_unlock (Walk *w)
{
  if (w->shared)
    pthread_mutex_unlock (&w->lock);
}

static gboolean
walk_batch (Walk *w, GError **error)
{
  pthread_t threads[MAX_THREADS];
  guint n_threads = 0, index;
  gsize held;
  gboolean ok = TRUE, hand_out, stopped = FALSE;

  w->claimed = w->delivered = 0;
  w->held = 0;
  w->exhausted = FALSE;
  w->shared = TRUE;
  if (w->names && w->names->len < 2 * w->threads)
    n_threads = 0; /* not worth starting threads for */
  else
    for (; n_threads + 1 < w->threads; n_threads++)
      if (pthread_create (&threads[n_threads], NULL, worker, w) != 0)
        break; /* fewer threads, then: the caller's does the rest */
  w->shared = n_threads > 0;

  walk_lock (w);
  for (;;)
    {
      Slot *head = &w->slots[w->delivered % w->window];

      if (w->delivered == w->claimed)
        {
          /* Nothing taken yet: take it here. */
          if (!claim (w, &index))
            break; /* the end, or stopped */
          walk_unlock (w);
          work (w, index);
          walk_lock (w);
          continue;
        }
      if (g_atomic_int_get (&head->state) == SLOT_CLAIMED)
        {
          /* Help with the next ones while the head is being read. */
          if (claim (w, &index))
            {
              walk_unlock (w);
              work (w, index);
              walk_lock (w);
              continue;
            }
          g_atomic_int_set (&w->caller_waits, 1);
          while (g_atomic_int_get (&head->state) == SLOT_CLAIMED)
            pthread_cond_wait (&w->head_done, &w->lock);
          g_atomic_int_set (&w->caller_waits, 0);
          continue;
        }
      hand_out = g_atomic_int_get (&head->state) == SLOT_DONE && !w->stop;
      walk_unlock (w);
      if (hand_out && !w->func (&head->ref, head->prepared, w->user_data, error))
        {
          stopped = TRUE;
          ok = error == NULL || *error == NULL;
        }
      if (head->prepared && w->prepared_free)
        w->prepared_free (head->prepared);
      head->prepared = NULL;
      head->in_dir = FALSE;
      held = head->read ? head->ref.length : 0;
      head->read = FALSE;
      if (head->map)
        munmap ((void *) head->map, head->ref.length);
      head->map = NULL;
      if (head->buffer_size > MAP_OVER + 1)
        {
          /* A buffer is kept for the next message up to the size over
           * which files are mapped: made again for each large message,
           * its pages were new ones each time (page faults, zeroed
           * pages). Only an mbox's larger messages make larger ones. */
          g_clear_pointer (&head->buffer, g_free);
          head->buffer_size = 0;
        }
      __atomic_sub_fetch (&w->held, held, __ATOMIC_SEQ_CST);
      walk_lock (w);
      if (head->buffer)
        {
          w->spare[w->n_spare] = g_steal_pointer (&head->buffer);
          w->spare_size[w->n_spare++] = head->buffer_size;
          head->buffer_size = 0;
        }
      w->stop |= stopped;
      g_atomic_int_set (&head->state, SLOT_FREE);
      w->delivered++;
      /* A thread waiting for room is woken when it can take a batch,
       * not for each slot: else, once the window is full, it would
       * sleep and wake again for every message. */
      if (w->threads_waiting && w->claimed - w->delivered + BATCH <= w->window)
        pthread_cond_broadcast (&w->room);
    }
  /* Wake the threads waiting for room, so that they see the end. */
  pthread_cond_broadcast (&w->room);
  walk_unlock (w);
  for (guint i = 0; i < n_threads; i++)
    pthread_join (threads[i], NULL);
  return ok;
}

/* The sorted file names of a Maildir's new/ or cur/, kept in one block:
 * a big folder's list costs its names' bytes and a pointer each. */
typedef struct
{
  char *dir;
  int fd;           /* the folder, open; -1: none */
  int open_error;   /* why fd is -1 */
  GPtrArray *names; /* NULL: no such folder */
  GHashTable *odd;  /* those of names the folder does not list as plain files; NULL: none */
  GStringChunk *chunk;
} Listing;

static void
list_folder (Listing *l)
{
  int fd = l->fd < 0 ? -1 : dup (l->fd);
  DIR *d = fd < 0 ? NULL : fdopendir (fd);
  struct dirent *e;

  if (d == NULL)
    {
      if (fd >= 0)
        close (fd);
      return;
    }
  l->names = g_ptr_array_new ();
  l->chunk = g_string_chunk_new (64 * 1024);
  while ((e = readdir (d)) != NULL)
    if (e->d_name[0] != '.')
      {
        char *name = g_string_chunk_insert (l->chunk, e->d_name);

        g_ptr_array_add (l->names, name);
        /* A folder, a link, a FIFO, or a file system that does not say */
        if (e->d_type != DT_REG)
          {
            if (l->odd == NULL)
              l->odd = g_hash_table_new (NULL, NULL);
            g_hash_table_add (l->odd, name);
          }
      }
  closedir (d);
  g_ptr_array_sort (l->names, bounce_compare_strings);
}

static void
listing_clear (Listing *l)
{
  g_free (l->dir);
  if (l->fd >= 0)
    close (l->fd);
  g_clear_pointer (&l->names, g_ptr_array_unref);
  g_clear_pointer (&l->odd, g_hash_table_unref);
  g_clear_pointer (&l->chunk, g_string_chunk_free);
}

/* A folder that is not read, said as a message that could not be: a
 * Maildir's cur/ or new/ (or a subfolder) that is a symbolic link is
 * refused, for a scan acts on what it reads. */
static gboolean
refuse_folder (Walk *w, const char *folder, const char *path, int err, GError **error)
{
  BounceMessageRef ref = { 0 };

  ref.path = path;
  ref.folder = folder;
  ref.dirfd = -1;
  ref.read_error = err == ELOOP || err == ENOTDIR ? "a symbolic link or not a folder: not read" : g_strerror (err);
  if (w->stop || w->func (&ref, NULL, w->user_data, error))
    return TRUE;
  w->stop = TRUE;
  return error == NULL || *error == NULL;
}

/* Open @name in the folder @parent, never through a link. */
static int
open_folder (int parent, const char *name, int *err)
{
  int fd = openat (parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

  *err = fd < 0 ? errno : 0;
  return fd;
}

static gboolean
foreach_maildir_folder (Walk *w, const char *maildir, int folder, GError **error)
{
  static const char *const subs[] = { "new", "cur" };
  gboolean ok = TRUE;

  /* One list at a time: a folder's names are read just before its
   * messages, and let go once they are all handed out. */
  for (guint s = 0; s < G_N_ELEMENTS (subs) && ok && !w->stop; s++)
    {
      Listing list = { g_build_filename (maildir, subs[s], NULL), -1, 0, NULL, NULL };

      list.fd = open_folder (folder, subs[s], &list.open_error);
      list_folder (&list);
      if (list.fd < 0 && list.open_error != ENOENT)
        ok = refuse_folder (w, maildir, list.dir, list.open_error, error);
      if (list.names && !w->stop)
        {
          w->folder = maildir;
          w->dir = list.dir;
          w->dir_len = strlen (list.dir);
          w->dirfd = list.fd;
          w->names = list.names;
          w->odd = list.odd;
          ok = walk_batch (w, error);
          w->names = NULL;
          w->odd = NULL;
        }
      listing_clear (&list);
    }
  return ok;
}

static gboolean
foreach_maildir (Walk *w, const char *maildir, BounceMailboxFlags flags, const char *const *skip, GError **error)
{
  int top = open (maildir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  gboolean ok;

  if (top < 0)
    {
      g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_IO, "%s: %s", maildir, g_strerror (errno));
      return FALSE;
    }
  ok = foreach_maildir_folder (w, maildir, top, error);
  if (ok && (flags & BOUNCE_MAILBOX_RECURSIVE) && !w->stop)
    {
      int fd = dup (top);
      DIR *d = fd < 0 ? NULL : fdopendir (fd);
      g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
      struct dirent *e;

      if (d == NULL && fd >= 0)
        close (fd);
      while (d && (e = readdir (d)) != NULL)
        if (e->d_name[0] == '.' && strcmp (e->d_name, ".") != 0 && strcmp (e->d_name, "..") != 0
            && !(skip && g_strv_contains (skip, e->d_name + 1)))
          g_ptr_array_add (names, g_strdup (e->d_name));
      if (d)
        closedir (d);
      g_ptr_array_sort (names, bounce_compare_strings);
      for (guint i = 0; i < names->len && ok && !w->stop; i++)
        {
          g_autofree char *sub = g_build_filename (maildir, g_ptr_array_index (names, i), NULL);
          int err, sfd = open_folder (top, g_ptr_array_index (names, i), &err);
          struct stat st;

          /* Maildir++ subfolders are real folders, never links out of it;
           * other dot files (the lock, a folder without cur/ or new/) are
           * none of ours. */
          if (sfd < 0)
            continue;
          if (fstatat (sfd, "cur", &st, AT_SYMLINK_NOFOLLOW) == 0
              || fstatat (sfd, "new", &st, AT_SYMLINK_NOFOLLOW) == 0)
            ok = foreach_maildir_folder (w, sub, sfd, error);
          close (sfd);
        }
    }
  close (top);
  return ok;
}

static gboolean
foreach_mbox (Walk *w, const char *path, GError **error)
{
  /* O_NONBLOCK: a FIFO given as an mbox must not hold the scan up. */
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  struct stat st;
  gboolean ok;

  if (fd < 0)
    {
      g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_IO, "%s: %s", path, g_strerror (errno));
      return FALSE;
    }
  if (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode))
    {
      g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_IO, "%s: not a plain file, neither a Maildir nor an mbox", path);
      close (fd);
      return FALSE;
    }
  w->folder = path;
  w->names = NULL;
  w->mbox_fd = fd;
  w->mbox_len = w->mbox_pos = 0;
  w->mbox_offset = 0;
  w->mbox_eof = FALSE;
  w->mbox_error = 0;
  mbox_fill (w);
  if (w->mbox_error)
    ok = FALSE, g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_IO, "%s: %s", path, g_strerror (w->mbox_error));
  else if (w->mbox_len == 0)
    ok = TRUE;
  else if (w->mbox_len < 5 || memcmp (w->mbox_buf, "From ", 5) != 0)
    {
      g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_PARSE,
                   "%s: not an mbox file (it does not start with a \"From \" line)", path);
      ok = FALSE;
    }
  else
    ok = walk_batch (w, error);
  close (fd);
  g_clear_pointer (&w->mbox_buf, g_free);
  w->mbox_cap = 0;
  return ok;
}

/**
 * bounce_mailbox_foreach:
 * @path: a Maildir or an mbox file
 * @flags: BOUNCE_MAILBOX_RECURSIVE to read Maildir++ subfolders
 * @skip_folders: (nullable) (array zero-terminated=1): Maildir++ folder
 *   names (without the dot) not to read, such as the folders a scan
 *   writes to
 * @threads: how many threads may read and prepare messages at once, the
 *   caller's included; 0 for one per processor, 1 for the caller's alone
 * @prepare: (nullable): run on each message that could be read, on any of
 *   the threads, in no set order; it must only read @user_data. What it
 *   returns is handed to @func.
 * @prepared_free: (nullable): frees what @prepare returned, after @func
 * @func: called in the calling thread for each message, in order; returns
 *   FALSE to stop (setting its error to fail the whole walk)
 * @user_data: for @prepare and @func
 * @error: BOUNCE_ERROR_IO when @path cannot be read, BOUNCE_ERROR_PARSE
 *   when it is neither a Maildir nor an mbox
 *
 * Returns: TRUE when every message was handed out (or @func stopped the
 *   walk without an error).
 */
gboolean
bounce_mailbox_foreach (const char *path, BounceMailboxFlags flags, const char *const *skip_folders, guint threads,
                        BounceMessagePrepareFunc prepare, GDestroyNotify prepared_free, BounceMessageFunc func,
                        gpointer user_data, GError **error)
{
  Walk w = { 0 };
  struct stat st;
  gboolean ok;

  if (stat (path, &st) < 0)
    {
      g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_IO, "%s: %s", path, g_strerror (errno));
      return FALSE;
    }
  if (S_ISDIR (st.st_mode) && !bounce_mailbox_is_maildir (path))
    {
      g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_PARSE, "%s: not a Maildir (it has no cur/ or new/ folder)", path);
      return FALSE;
    }
  if (threads == 0)
    threads = g_get_num_processors ();
  w.threads = CLAMP (threads, 1, MAX_THREADS);
  w.start_first = (flags & BOUNCE_MAILBOX_START_FIRST) && prepare != NULL;
  w.prepare = prepare;
  w.prepared_free = prepared_free;
  w.func = func;
  w.user_data = user_data;
  w.window = w.threads * WINDOW_PER_THREAD;
  w.slots = g_new0 (Slot, w.window);
  w.spare = g_new (char *, w.window);
  w.spare_size = g_new (gsize, w.window);
  {
    pthread_mutexattr_t attr;

    /* Held for a few instructions at a time: spin before sleeping. */
    pthread_mutexattr_init (&attr);
    pthread_mutexattr_settype (&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
    pthread_mutex_init (&w.lock, &attr);
    pthread_mutexattr_destroy (&attr);
  }
  pthread_cond_init (&w.head_done, NULL);
  pthread_cond_init (&w.room, NULL);
  if (S_ISDIR (st.st_mode))
    ok = foreach_maildir (&w, path, flags, skip_folders, error);
  else
    ok = foreach_mbox (&w, path, error);
  pthread_cond_destroy (&w.room);
  pthread_cond_destroy (&w.head_done);
  pthread_mutex_destroy (&w.lock);
  for (guint i = 0; i < w.window; i++)
    {
      g_free (w.slots[i].buffer);
      g_free (w.slots[i].path);
    }
  for (guint i = 0; i < w.n_spare; i++)
    g_free (w.spare[i]);
  g_free (w.spare);
  g_free (w.spare_size);
  g_free (w.slots);
  return ok;
}

/* test-mailbox.c — mailboxes through the public API, without the corpus:
 * what bounce_mailbox_foreach() hands out for a Maildir and an mbox, the
 * two locks (one run per mailbox; an mbox locked as mail readers lock
 * it), and what the library checks of the BounceSpan array a program
 * gives bounce_mbox_rewrite(). The locks under kills and concurrent
 * writers are test-mbox.sh's. */
#include "bounce-private.h"
#include "test-common.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

#define MESSAGE(n) "From: ann@example.net\nTo: bob@example.org\nSubject: note " n "\n\nhello " n "\n"

typedef struct
{
  char *dir;     /* the test's own folder */
  char *maildir; /* DIR/Maildir: new/one, cur/two:2,S */
  char *mbox;    /* DIR/mbox: two messages */
} Boxes;

static void
write_file (const char *path, const char *text)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (g_file_set_contents (path, text, -1, &error));
  g_assert_no_error (error);
}

static void
boxes_init (Boxes *b, gconstpointer unused)
{
  static const char *const sub[] = { "cur", "new", "tmp" };

  b->dir = g_dir_make_tmp ("mailbox-XXXXXX", NULL);
  b->maildir = g_build_filename (b->dir, "Maildir", NULL);
  b->mbox = g_build_filename (b->dir, "mbox", NULL);
  for (guint i = 0; i < G_N_ELEMENTS (sub); i++)
    {
      g_autofree char *d = g_build_filename (b->maildir, sub[i], NULL);

      g_assert_cmpint (g_mkdir_with_parents (d, 0700), ==, 0);
    }
  {
    g_autofree char *one = g_build_filename (b->maildir, "new", "1712570400.M1P1.example", NULL);
    g_autofree char *two = g_build_filename (b->maildir, "cur", "1712570401.M2P1.example:2,S", NULL);

    write_file (one, MESSAGE ("1"));
    write_file (two, MESSAGE ("2"));
  }
  write_file (b->mbox, "From ann@example.net Mon Apr  8 10:00:00 2024\n" MESSAGE (
                           "1") "\n"
                                "From ann@example.net Mon Apr  8 10:00:01 2024\n" MESSAGE ("2"));
}

/* Removes everything under @path (no links are followed: none are made). */
static void
remove_tree (const char *path)
{
  g_autoptr (GDir) d = g_dir_open (path, 0, NULL);
  const char *name;

  while (d && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (path, name, NULL);

      if (g_file_test (p, G_FILE_TEST_IS_DIR) && !g_file_test (p, G_FILE_TEST_IS_SYMLINK))
        remove_tree (p);
      else
        g_unlink (p);
    }
  g_rmdir (path);
}

static void
boxes_clear (Boxes *b, gconstpointer unused)
{
  remove_tree (b->dir);
  g_assert_false (g_file_test (b->dir, G_FILE_TEST_EXISTS));
  g_free (b->dir);
  g_free (b->maildir);
  g_free (b->mbox);
}

typedef struct
{
  guint n;
  GString *seen; /* the subjects' numbers, in order */
} Walk;

static gboolean
check_ref (const BounceMessageRef *ref, gpointer prepared, gpointer user_data, GError **error)
{
  Walk *w = user_data;
  const char *note;

  g_assert_nonnull (ref->data);
  g_assert_null (ref->read_error);
  g_assert_false (ref->truncated);
  g_assert_true (test_is_zero (ref->reserved, sizeof ref->reserved));
  if (ref->in_mbox)
    {
      g_assert_cmpint (ref->dirfd, ==, -1);
      g_assert_null (ref->name);
      /* the span runs to the next "From " line */
      g_assert_cmpuint (ref->span, >=, ref->length);
    }
  else
    {
      g_assert_cmpint (ref->dirfd, >=, 0);
      g_assert_true (g_str_has_suffix (ref->path, ref->name));
    }
  note = g_strstr_len (ref->data, ref->length, "Subject: note ");
  g_assert_nonnull (note);
  g_string_append_c (w->seen, note[strlen ("Subject: note ")]);
  w->n++;
  return TRUE;
}

/* Each message handed out once, whole, with its reserved room zero. */
static void
test_foreach (Boxes *b, gconstpointer unused)
{
  const char *const paths[] = { b->maildir, b->mbox };

  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GString) seen = g_string_new (NULL);
      Walk w = { 0, seen };

      g_assert_true (
          bounce_mailbox_foreach (paths[i], BOUNCE_MAILBOX_DEFAULT, NULL, 1, NULL, NULL, check_ref, &w, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (w.n, ==, 2);
      /* a Maildir's new/ and cur/ in either order; an mbox in file order */
      if (i == 1)
        g_assert_cmpstr (seen->str, ==, "12");
      else
        g_assert_true (strcmp (seen->str, "12") == 0 || strcmp (seen->str, "21") == 0);
    }
}

/* BOUNCE_MAILBOX_START_FIRST: a file of more than 16 KiB is first
 * handed to prepare as its start; one whose start prepare turns down
 * ("X-Whole" in its header, here) is then handed whole, read or mapped. */
typedef struct
{
  gboolean start_only;
  gsize length;
} Seen;

static gpointer
prepare_start (const BounceMessageRef *ref, gpointer user_data)
{
  gint *calls = user_data;
  Seen *seen;

  g_atomic_int_inc (calls);
  if (ref->start_only && g_strstr_len (ref->data, ref->length, "X-Whole:"))
    return NULL;
  seen = g_new (Seen, 1);
  seen->start_only = ref->start_only;
  seen->length = ref->length;
  return seen;
}

typedef struct
{
  gint calls;
  GString *seen; /* per message, in order: its name's first letter, S (start) or W (whole), and its length */
} StartWalk;

static gboolean
check_start (const BounceMessageRef *ref, gpointer prepared, gpointer user_data, GError **error)
{
  StartWalk *w = user_data;
  Seen *seen = prepared;
  struct stat st;

  g_assert_nonnull (seen);
  /* The message function is handed what prepare was handed last. */
  g_assert_cmpint (seen->start_only, ==, ref->start_only);
  g_assert_cmpuint (seen->length, ==, ref->length);
  g_assert_cmpint (fstatat (ref->dirfd, ref->name, &st, 0), ==, 0);
  g_assert_cmpuint (ref->length, ==, ref->start_only ? 16384 : (gsize) st.st_size);
  /* What is handed is the file's own bytes. */
  {
    g_autofree char *text = NULL;
    gsize len;

    g_assert_true (g_file_get_contents (ref->path, &text, &len, NULL));
    g_assert_true (memcmp (ref->data, text, ref->length) == 0);
  }
  g_string_append_printf (w->seen, "%c%c%" G_GSIZE_FORMAT " ", ref->name[0], ref->start_only ? 'S' : 'W', ref->length);
  return TRUE;
}

/* Walks @maildir with @threads threads, START_FIRST or not, each message
 * checked by check_start(); *@calls: how many times prepare ran.
 * Returns: (transfer full) what check_start() saw. */
static char *
walk_checked (const char *maildir, guint threads, gboolean start_first, gint *calls)
{
  g_autoptr (GError) error = NULL;
  GString *seen = g_string_new (NULL);
  StartWalk w = { 0, seen };

  g_assert_true (bounce_mailbox_foreach (maildir, start_first ? BOUNCE_MAILBOX_START_FIRST : 0, NULL, threads,
                                         prepare_start, g_free, check_start, &w, &error));
  g_assert_no_error (error);
  *calls = w.calls;
  return g_string_free (seen, FALSE);
}

static void
test_start_first (Boxes *b, gconstpointer unused)
{
  /* a: small; b: large, decided by its start; c: large, read whole; d:
   * larger than what is read into memory (mapped), read whole; e: large,
   * decided by its start */
  static const struct
  {
    const char *name;
    const char *header;
    gsize body;
  } files[] = {
    { "a1", "", 100 },   { "b2", "", 40000 }, { "c3", "X-Whole: yes\n", 40000 }, { "d4", "X-Whole: yes\n", 300000 },
    { "e5", "", 16384 },
  };
  const guint threads[] = { 1, 2 };

  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = g_build_filename (b->maildir, "cur", files[i].name, NULL);
      g_autoptr (GString) text = g_string_new (MESSAGE ("1"));

      g_string_insert (text, strlen ("From: ann@example.net\n"), files[i].header);
      for (gsize n = 0; n + 1 < files[i].body; n++)
        g_string_append_c (text, n % 64 == 63 ? '\n' : 'x');
      g_string_append_c (text, '\n');
      write_file (path, text->str);
    }
  /* and the two small messages of every test */
  for (guint t = 0; t < G_N_ELEMENTS (threads); t++)
    for (int flags = 0; flags < 2; flags++)
      {
        gint calls = 0;
        g_autofree char *seen = walk_checked (b->maildir, threads[t], flags, &calls);

        if (flags)
          {
            g_assert_true (strstr (seen, "aW") && strstr (seen, "bS16384 ") && strstr (seen, "cW")
                           && strstr (seen, "dW") && strstr (seen, "eS16384 "));
            /* seven messages; c and d were handed twice */
            g_assert_cmpint (calls, ==, 9);
          }
        else
          {
            g_assert_null (strchr (seen, 'S'));
            g_assert_cmpint (calls, ==, 7);
          }
      }
}

/* The names in @dir, sorted and joined by spaces. */
static char *
list_dir (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  while (d && (name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, bounce_compare_strings);
  g_ptr_array_add (names, NULL);
  return g_strjoinv (" ", (char **) names->pdata);
}

/* One run per mailbox: a second lock on it, under any name, is refused
 * at once; another mailbox is not; the lock file lives in the caller's
 * private folder, never in the mailbox; unlocking frees the mailbox. */
static void
test_mailbox_lock (Boxes *b, gconstpointer unused)
{
  g_autofree char *lock_dir = g_build_filename (b->dir, "locks", "backscatter", NULL);
  g_autofree char *alias = g_build_filename (b->dir, "alias", NULL);
  g_autofree char *missing = g_build_filename (b->dir, "missing", NULL);
  g_autofree char *before = list_dir (b->maildir), *after = NULL;
  g_autoptr (GError) error = NULL;
  struct stat st;

  g_assert_cmpint (symlink (b->maildir, alias), ==, 0);
  {
    g_autoptr (BounceMailboxLock) lock = bounce_mailbox_lock (b->maildir, lock_dir, &error);
    g_autoptr (BounceMailboxLock) other = NULL;
    BounceMailboxLock *again;

    g_assert_no_error (error);
    g_assert_nonnull (lock);
    g_assert_cmpint (g_stat (lock_dir, &st), ==, 0);
    g_assert_cmpint (st.st_mode & 0777, ==, 0700);

    again = bounce_mailbox_lock (b->maildir, lock_dir, &error);
    g_assert_error (error, BOUNCE_ERROR, BOUNCE_ERROR_LOCKED);
    g_assert_null (again);
    g_clear_error (&error);
    again = bounce_mailbox_lock (alias, lock_dir, &error);
    g_assert_error (error, BOUNCE_ERROR, BOUNCE_ERROR_LOCKED);
    g_assert_null (again);
    g_clear_error (&error);

    other = bounce_mailbox_lock (b->mbox, lock_dir, &error);
    g_assert_no_error (error);
    g_assert_nonnull (other);
  }
  /* Both released at the end of the scope. */
  {
    g_autoptr (BounceMailboxLock) lock = bounce_mailbox_lock (alias, lock_dir, &error);

    g_assert_no_error (error);
    g_assert_nonnull (lock);
  }
  after = list_dir (b->maildir);
  g_assert_cmpstr (before, ==, after);
  g_assert_null (bounce_mailbox_lock (missing, lock_dir, &error));
  g_assert_error (error, BOUNCE_ERROR, BOUNCE_ERROR_IO);
  bounce_mailbox_unlock (NULL);
}

/* The fcntl lock another open file description of @path sees:
 * F_WRLCK while the mbox is locked, F_UNLCK when not. */
static short
ofd_lock_seen (const char *path)
{
  struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
  int fd = open (path, O_RDWR | O_CLOEXEC);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (fcntl (fd, F_OFD_GETLK, &fl), ==, 0);
  close (fd);
  return fl.l_type;
}

/* An mbox locked as mail readers lock it: the fcntl lock, then the dot
 * lock MBOX.lock; both gone after unlocking. A missing target is made
 * like the mbox it comes from; a folder is no mbox. */
static void
test_mbox_lock (Boxes *b, gconstpointer unused)
{
  g_autofree char *dot = g_strconcat (b->mbox, ".lock", NULL);
  g_autofree char *target = g_build_filename (b->dir, "Junk", NULL);
  g_autofree char *target_dot = g_strconcat (target, ".lock", NULL);
  g_autoptr (GError) error = NULL;
  struct stat st;

  {
    g_autoptr (BounceMboxLock) lock = bounce_mbox_lock (b->mbox, NULL, &error);

    g_assert_no_error (error);
    g_assert_nonnull (lock);
    g_assert_true (g_file_test (dot, G_FILE_TEST_IS_REGULAR));
    g_assert_cmpint (ofd_lock_seen (b->mbox), ==, F_WRLCK);
    bounce_mbox_lock_refresh (lock);
    g_assert_true (g_file_test (dot, G_FILE_TEST_IS_REGULAR));
  }
  g_assert_false (g_file_test (dot, G_FILE_TEST_EXISTS));
  g_assert_cmpint (ofd_lock_seen (b->mbox), ==, F_UNLCK);

  g_assert_null (bounce_mbox_lock (target, NULL, &error));
  g_assert_error (error, BOUNCE_ERROR, BOUNCE_ERROR_IO);
  g_clear_error (&error);
  g_assert_false (g_file_test (target, G_FILE_TEST_EXISTS));
  g_assert_cmpint (g_chmod (b->mbox, 0640), ==, 0);
  {
    g_autoptr (BounceMboxLock) lock = bounce_mbox_lock (target, b->mbox, &error);

    g_assert_no_error (error);
    g_assert_nonnull (lock);
    g_assert_cmpint (g_stat (target, &st), ==, 0);
    g_assert_cmpint (st.st_mode & 0777, ==, 0640);
    g_assert_cmpint (st.st_size, ==, 0);
    g_assert_true (g_file_test (target_dot, G_FILE_TEST_IS_REGULAR));
  }
  g_assert_false (g_file_test (target_dot, G_FILE_TEST_EXISTS));

  g_assert_null (bounce_mbox_lock (b->maildir, NULL, &error));
  g_assert_error (error, BOUNCE_ERROR, BOUNCE_ERROR_IO);
  bounce_mbox_unlock (NULL);
}

/* An array of some other element size than BounceSpan's (a program
 * built against another version) is refused, and the mbox left alone. */
static void
test_span_size (Boxes *b, gconstpointer unused)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BounceMboxLock) lock = bounce_mbox_lock (b->mbox, NULL, &error);
  g_autoptr (GArray) wrong = g_array_new (FALSE, TRUE, sizeof (BounceSpan) - sizeof (gpointer));
  g_autofree char *state = g_build_filename (b->dir, "state", NULL);
  g_autofree char *before = NULL, *after = NULL;

  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (b->mbox, &before, NULL, NULL));
  g_array_set_size (wrong, 1);
  g_test_expect_message (NULL, G_LOG_LEVEL_CRITICAL, "*sizeof (BounceSpan)*");
  g_assert_false (bounce_mbox_rewrite (lock, wrong, NULL, 0, state, &error));
  g_test_assert_expected_messages ();
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (b->mbox, &after, NULL, NULL));
  g_assert_cmpstr (before, ==, after);
}

/* Every file handed whole, whatever its size against the read buffers
 * (one read(2) as long as the buffer, which grows and is handed from one
 * message to the next): sizes on either side of each buffer size, in an
 * order that makes a small file follow a large one, with one thread and
 * two, with and without START_FIRST. An empty file is handed as such. */
static void
test_read_whole (Boxes *b, gconstpointer unused)
{
  static const gsize sizes[] = { 16383,  1,     131073, 16384, 200000, 16385, 131071, 60,
                                 131072, 32767, 32768,  0,     16383,  70000, 131072, 5 };
  const guint threads[] = { 1, 2 };
  guint n = 0;

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autofree char *name = g_strdup_printf ("%02u.%" G_GSIZE_FORMAT ".example", i, sizes[i]);
      g_autofree char *path = g_build_filename (b->maildir, "cur", name, NULL);
      g_autoptr (GString) text = g_string_new (NULL);

      for (gsize k = 0; k < sizes[i]; k++)
        g_string_append_c (text, k % 64 == 63 ? '\n' : 'a' + (k * 7 + i) % 26);
      if (sizes[i] > 20)
        memcpy (text->str, "Subject: note x\n", 16);
      write_file (path, text->str);
    }
  for (guint t = 0; t < G_N_ELEMENTS (threads); t++)
    for (int flags = 0; flags < 2; flags++)
      {
        gint calls = 0;
        g_autofree char *seen = walk_checked (b->maildir, threads[t], flags, &calls);

        /* the sixteen files and the two messages of every test, each
         * whole but for the start of a large one with START_FIRST */
        g_assert_cmpint (calls, ==, G_N_ELEMENTS (sizes) + 2);
        g_assert_true (flags || strchr (seen, 'S') == NULL);
        n++;
      }
  g_assert_cmpuint (n, ==, 4);
}

/* A Maildir message is rewritten only when what was read of it is all
 * of it: a message that grew after it was read (another program wrote
 * to it) is left as it is, with an error; one that did not is
 * rewritten. */
static gboolean
replace_after (const BounceMessageRef *ref, gpointer prepared, gpointer user_data, GError **error)
{
  gboolean *grow = user_data;
  g_autoptr (GError) err = NULL;
  g_autofree char *before = NULL, *after = NULL;
  g_autofree char *path = g_strdup (ref->path);
  g_autofree char *new_path = NULL;

  if (*grow)
    {
      FILE *f = fopen (ref->path, "a");

      g_assert_nonnull (f);
      fputs ("more text written meanwhile\n", f);
      fclose (f);
    }
  g_assert_true (g_file_get_contents (path, &before, NULL, NULL));
  if (*grow)
    {
      g_assert_false (bounce_maildir_replace (ref, "Subject: new\n\nnew\n", 18, &new_path, &err));
      g_assert_error (err, BOUNCE_ERROR, BOUNCE_ERROR_IO);
      g_assert_true (g_file_get_contents (path, &after, NULL, NULL));
      g_assert_cmpstr (before, ==, after);
    }
  else
    {
      g_assert_true (bounce_maildir_replace (ref, "Subject: new\n\nnew\n", 18, &new_path, &err));
      g_assert_no_error (err);
      g_assert_true (g_file_get_contents (new_path, &after, NULL, NULL));
      g_assert_cmpstr (after, ==, "Subject: new\n\nnew\n");
    }
  return TRUE;
}

static void
test_replace_whole_only (Boxes *b, gconstpointer unused)
{
  for (int grow = 1; grow >= 0; grow--)
    {
      g_autoptr (GError) error = NULL;

      g_assert_true (bounce_mailbox_foreach (b->maildir, 0, NULL, 1, NULL, NULL, replace_after, &grow, &error));
      g_assert_no_error (error);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/mailbox/foreach", Boxes, NULL, boxes_init, test_foreach, boxes_clear);
  g_test_add ("/mailbox/start-first", Boxes, NULL, boxes_init, test_start_first, boxes_clear);
  g_test_add ("/mailbox/read-whole", Boxes, NULL, boxes_init, test_read_whole, boxes_clear);
  g_test_add ("/mailbox/replace-whole-only", Boxes, NULL, boxes_init, test_replace_whole_only, boxes_clear);
  g_test_add ("/mailbox/mailbox-lock", Boxes, NULL, boxes_init, test_mailbox_lock, boxes_clear);
  g_test_add ("/mailbox/mbox-lock", Boxes, NULL, boxes_init, test_mbox_lock, boxes_clear);
  g_test_add ("/mailbox/span-size", Boxes, NULL, boxes_init, test_span_size, boxes_clear);
  return g_test_run ();
}

/* sentindex.c — the sent-mail index: an SQLite database of the owner's
 * outgoing mail (Message-IDs and dates, the addresses written to, the
 * From addresses, User-Agents and Message-ID domains used), which the
 * judge asks "did the owner send this?".
 *
 * Adding a message is idempotent: a Message-ID already indexed changes
 * nothing, so folders can be read again safely. Reading a folder again
 * skips what was read before (Maildir files by unique name, an mbox from
 * where the last read stopped when the file only grew).
 *
 * The database is in WAL mode with a busy timeout, so `learn`,
 * `record-sent` and `check` may run at the same time; a rebuild is one
 * transaction, so readers see the old index or the new, never a half one.
 * Each entry knows its source: read from a folder (a rebuild reads it
 * again) or recorded one by one (a rebuild keeps it). The file is
 * created 0600 in a folder created 0700: it says whom the owner writes to.
 *
 * This file holds the database and the questions the judge asks it;
 * sentindex-learn.c what is learned from each sent message and how the
 * sent folders are read.
 */
#include "sentindex-private.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SCHEMA_VERSION "2"

static const char schema[] = "PRAGMA journal_mode=WAL;"
                             "PRAGMA synchronous=NORMAL;"
                             "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);"
                             "CREATE TABLE IF NOT EXISTS sent (message_id TEXT PRIMARY KEY, date INTEGER,"
                             "  sender TEXT, user_agent TEXT, id_domain TEXT, source TEXT NOT NULL DEFAULT 'folder');"
                             "CREATE INDEX IF NOT EXISTS sent_date ON sent (date);"
                             /* kind: a BounceIndexKey's name (key_names below); counted per source. */
                             "CREATE TABLE IF NOT EXISTS profile (kind TEXT, value TEXT, count INTEGER NOT NULL,"
                             "  source TEXT NOT NULL DEFAULT 'folder', PRIMARY KEY (kind, value, source));"
                             "CREATE TABLE IF NOT EXISTS seen (path TEXT PRIMARY KEY, size INTEGER, mtime INTEGER);";

/* Schema 1 had no sources. Which of its entries were recorded one by one
 * cannot be told any more: they are all kept as recorded, so that a
 * rebuild never forgets mail that was sent (an entry of a message since
 * deleted from the Sent folder only ever speaks for the owner). */
static const char upgrade_1[] = "ALTER TABLE sent ADD COLUMN source TEXT NOT NULL DEFAULT 'folder';"
                                "UPDATE sent SET source = 'recorded';"
                                "ALTER TABLE profile RENAME TO profile_1;"
                                "CREATE TABLE profile (kind TEXT, value TEXT, count INTEGER NOT NULL,"
                                "  source TEXT NOT NULL DEFAULT 'folder', PRIMARY KEY (kind, value, source));"
                                "INSERT INTO profile SELECT kind, value, count, 'recorded' FROM profile_1;"
                                "DROP TABLE profile_1;"
                                "INSERT OR REPLACE INTO meta VALUES ('schema', '2');";

/* bounce_index_db_error: set @error to BOUNCE_ERROR_INDEX with what
 * SQLite says of the last call; returns FALSE. */
gboolean
bounce_index_db_error (BounceIndex *idx, GError **error, const char *what)
{
  g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_INDEX, "sent-mail index: %s: %s", what, sqlite3_errmsg (idx->db));
  return FALSE;
}

static gboolean
exec (BounceIndex *idx, const char *sql, GError **error)
{
  char *msg = NULL;

  if (sqlite3_exec (idx->db, sql, NULL, NULL, &msg) != SQLITE_OK)
    {
      g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_INDEX, "sent-mail index: %s", msg);
      sqlite3_free (msg);
      return FALSE;
    }
  return TRUE;
}

/* bounce_index_ref: Returns: (transfer full) @idx, with one more
 * reference: a judge holds one for as long as it lives, so the index
 * stays open however long its opener keeps it. */
BounceIndex *
bounce_index_ref (BounceIndex *idx)
{
  g_atomic_int_inc (&idx->ref);
  return idx;
}

/* bounce_index_unref: drops a reference to @idx (nullable); the last
 * closes the database and frees it (a transaction still open is rolled
 * back by SQLite). */
void
bounce_index_unref (BounceIndex *idx)
{
  if (idx == NULL || !g_atomic_int_dec_and_test (&idx->ref))
    return;
  sqlite3_finalize (idx->has_id);
  sqlite3_finalize (idx->insert);
  sqlite3_finalize (idx->bump);
  sqlite3_finalize (idx->count);
  sqlite3_close (idx->db);
  g_free (idx);
}

/* The index says whom the owner writes to: it is theirs alone. Create
 * the file 0600 before SQLite does (its -wal and -shm files take the
 * database's mode), and take group and other access away from one an
 * earlier version made. */
static gboolean
make_private (const char *path, GError **error)
{
  static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };
  int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

  if (fd < 0)
    {
      int e = errno;

      g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_INDEX, "sent-mail index: %s: %s", path, g_strerror (e));
      return FALSE;
    }
  close (fd);
  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *p = g_strconcat (path, suffixes[i], NULL);
      struct stat st;

      if (lstat (p, &st) == 0 && S_ISREG (st.st_mode) && st.st_uid == geteuid () && (st.st_mode & 077) != 0)
        chmod (p, st.st_mode & 0700);
    }
  return TRUE;
}

static gboolean
upgrade (BounceIndex *idx, GError **error)
{
  sqlite3_stmt *q = NULL;
  gboolean has_source = FALSE;

  if (sqlite3_prepare_v2 (idx->db, "SELECT 1 FROM pragma_table_info('sent') WHERE name = 'source'", -1, &q, NULL)
      != SQLITE_OK)
    return bounce_index_db_error (idx, error, "reading the schema");
  has_source = sqlite3_step (q) == SQLITE_ROW;
  sqlite3_finalize (q);
  if (has_source)
    return TRUE;
  if (!bounce_index_begin (idx, error))
    return FALSE;
  if (!exec (idx, upgrade_1, error))
    {
      bounce_index_rollback (idx, NULL);
      return FALSE;
    }
  return bounce_index_commit (idx, error);
}

/**
 * bounce_index_open:
 * @path: the database file; created (with its folder, 0700, and itself
 *   0600) when missing
 * @readonly: open for lookups only (fails when the file does not exist)
 * @error: BOUNCE_ERROR_INDEX
 *
 * Returns: (transfer full) (nullable): the index; drop it with
 *   bounce_index_unref()
 */
BounceIndex *
bounce_index_open (const char *path, gboolean readonly, GError **error)
{
  g_autoptr (BounceIndex) idx = g_new0 (BounceIndex, 1);
  int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;

  idx->ref = 1;

  if (!readonly)
    {
      g_autofree char *dir = g_path_get_dirname (path);

      g_mkdir_with_parents (dir, 0700);
      if (!make_private (path, error))
        return NULL;
    }
  if (sqlite3_open_v2 (path, &idx->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
    {
      bounce_index_db_error (idx, error, path);
      return NULL;
    }
  sqlite3_busy_timeout (idx->db, 30000);
  if (!readonly && !exec (idx, schema, error))
    return NULL;
  if (!readonly && !upgrade (idx, error))
    return NULL;
  if (!readonly)
    {
      char *msg = NULL;

      sqlite3_exec (idx->db, "INSERT OR IGNORE INTO meta VALUES ('schema', '" SCHEMA_VERSION "')", NULL, NULL, &msg);
      sqlite3_free (msg);
    }
  if (sqlite3_prepare_v2 (idx->db, "SELECT date FROM sent WHERE message_id = ?", -1, &idx->has_id, NULL) != SQLITE_OK
      || sqlite3_prepare_v2 (idx->db, "SELECT sum(count) FROM profile WHERE kind = ? AND value = ?", -1, &idx->count,
                             NULL)
             != SQLITE_OK)
    {
      bounce_index_db_error (idx, error, path);
      return NULL;
    }
  if (!readonly
      && (sqlite3_prepare_v2 (idx->db, "INSERT OR IGNORE INTO sent VALUES (?, ?, ?, ?, ?, ?)", -1, &idx->insert, NULL)
              != SQLITE_OK
          || sqlite3_prepare_v2 (idx->db,
                                 "INSERT INTO profile VALUES (?, ?, 1, ?) ON CONFLICT (kind, value, source)"
                                 " DO UPDATE SET count = count + 1",
                                 -1, &idx->bump, NULL)
                 != SQLITE_OK))
    {
      bounce_index_db_error (idx, error, path);
      return NULL;
    }
  return g_steal_pointer (&idx);
}

/* bounce_index_mark_updated: record that the index holds everything sent
 * up to now. */
void
bounce_index_mark_updated (BounceIndex *idx)
{
  g_autofree char *sql = g_strdup_printf ("INSERT OR REPLACE INTO meta VALUES ('updated', '%" G_GINT64_FORMAT "')",
                                          g_get_real_time () / G_USEC_PER_SEC);

  sqlite3_exec (idx->db, sql, NULL, NULL, NULL);
}

/**
 * bounce_index_get_updated:
 *
 * Returns: when the index was last brought up to date (by learning the
 *   sent folders or recording a sent message), Unix time; 0 if never.
 */
gint64
bounce_index_get_updated (BounceIndex *idx)
{
  sqlite3_stmt *q = NULL;
  gint64 t = 0;

  if (sqlite3_prepare_v2 (idx->db, "SELECT value FROM meta WHERE key = 'updated'", -1, &q, NULL) != SQLITE_OK)
    return 0;
  if (sqlite3_step (q) == SQLITE_ROW)
    t = g_ascii_strtoll ((const char *) sqlite3_column_text (q, 0), NULL, 10);
  sqlite3_finalize (q);
  return t;
}

/**
 * bounce_index_clear:
 * @error: BOUNCE_ERROR_INDEX
 *
 * Forgets what was read from the sent folders, so that they are read
 * again (`learn --rebuild`); keeps the messages recorded one by one with
 * bounce_index_add_message(). Readers see the change when the outermost
 * transaction commits: make it one transaction with the reading of the
 * folders (bounce_index_begin(), clear, bounce_index_learn_folder() for
 * each, bounce_index_commit()), and readers see the old index or the
 * new one, never an empty or half one.
 */
gboolean
bounce_index_clear (BounceIndex *idx, GError **error)
{
  return exec (idx,
               "DELETE FROM sent WHERE source = '" SOURCE_FOLDER "';"
               "DELETE FROM profile WHERE source = '" SOURCE_FOLDER "';"
               "DELETE FROM seen;",
               error);
}

/**
 * bounce_index_begin:
 * @error: BOUNCE_ERROR_INDEX
 *
 * Opens a transaction (waiting for another writer to finish), or, inside
 * one, a savepoint: changes are seen by others only when the outermost
 * one is committed. Each begin is ended by one commit or rollback.
 */
gboolean
bounce_index_begin (BounceIndex *idx, GError **error)
{
  g_autofree char *sql =
      idx->depth == 0 ? g_strdup ("BEGIN IMMEDIATE") : g_strdup_printf ("SAVEPOINT level%u", idx->depth);

  if (!exec (idx, sql, error))
    return FALSE;
  idx->depth++;
  return TRUE;
}

/** bounce_index_commit: ends what bounce_index_begin() opened, keeping its changes. */
gboolean
bounce_index_commit (BounceIndex *idx, GError **error)
{
  g_autofree char *sql = NULL;

  g_return_val_if_fail (idx->depth > 0, FALSE);
  sql = idx->depth == 1 ? g_strdup ("COMMIT") : g_strdup_printf ("RELEASE level%u", idx->depth - 1);
  if (!exec (idx, sql, error))
    return FALSE;
  idx->depth--;
  return TRUE;
}

/** bounce_index_rollback: ends what bounce_index_begin() opened, undoing its changes. */
gboolean
bounce_index_rollback (BounceIndex *idx, GError **error)
{
  g_autofree char *sql = NULL;

  g_return_val_if_fail (idx->depth > 0, FALSE);
  idx->depth--;
  sql = idx->depth == 0 ? g_strdup ("ROLLBACK")
                        : g_strdup_printf ("ROLLBACK TO level%u; RELEASE level%u", idx->depth, idx->depth);
  return exec (idx, sql, error);
}

/**
 * bounce_index_lookup:
 * @message_id: with its angle brackets
 * @date: (out) (optional): when it was sent (0 when unknown)
 *
 * Returns: whether the owner sent a message with this Message-ID.
 */
gboolean
bounce_index_lookup (BounceIndex *idx, const char *message_id, gint64 *date)
{
  gboolean found;

  sqlite3_reset (idx->has_id);
  sqlite3_bind_text (idx->has_id, 1, message_id, -1, SQLITE_TRANSIENT);
  found = sqlite3_step (idx->has_id) == SQLITE_ROW;
  if (found && date)
    *date = sqlite3_column_int64 (idx->has_id, 0);
  return found;
}

/* The name each BounceIndexKey has in the database's profile table. */
static const char *const key_names[] = {
  [BOUNCE_INDEX_RECIPIENT] = "rcpt",     [BOUNCE_INDEX_FROM] = "from",        [BOUNCE_INDEX_AGENT] = "agent",
  [BOUNCE_INDEX_ID_DOMAIN] = "iddomain", [BOUNCE_INDEX_ID_SHAPE] = "idshape", [BOUNCE_INDEX_TIME_ZONE] = "tz",
  [BOUNCE_INDEX_DKIM] = "dkim",          [BOUNCE_INDEX_HOP] = "hop",          [BOUNCE_INDEX_STYLE] = "style",
};

/* bounce_index_key_name: @key's name in the database (static), or NULL
 * for a value that is no BounceIndexKey. */
const char *
bounce_index_key_name (BounceIndexKey key)
{
  return (guint) key < G_N_ELEMENTS (key_names) ? key_names[key] : NULL;
}

/**
 * bounce_index_count:
 * @key: what is counted
 * @value: (nullable): the value, in the form @key says (see BounceIndexKey)
 *
 * Returns: how many of the owner's messages had it (0 for a NULL @value).
 */
guint
bounce_index_count (BounceIndex *idx, BounceIndexKey key, const char *value)
{
  const char *kind = bounce_index_key_name (key);

  g_autofree char *v = NULL;
  guint n = 0;

  g_return_val_if_fail (kind != NULL, 0);
  if (value == NULL)
    return 0;
  v = g_utf8_strdown (value, -1);
  sqlite3_reset (idx->count);
  sqlite3_bind_text (idx->count, 1, kind, -1, SQLITE_STATIC);
  sqlite3_bind_text (idx->count, 2, v, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (idx->count) == SQLITE_ROW)
    n = sqlite3_column_int (idx->count, 0);
  return n;
}

/* bounce_index_count_kind: how many values of @key the owner's messages
 * had, counted once per message (0: the profile knows nothing of it). */
guint
bounce_index_count_kind (BounceIndex *idx, BounceIndexKey key)
{
  return bounce_index_count_prefix (idx, key, "");
}

/* bounce_index_count_prefix: the same, for the values of @key starting
 * with @prefix. */
guint
bounce_index_count_prefix (BounceIndex *idx, BounceIndexKey key, const char *prefix)
{
  const char *kind = bounce_index_key_name (key);
  sqlite3_stmt *q = NULL;
  guint n = 0;
  g_autofree char *like = g_strconcat (prefix, "%", NULL);

  g_return_val_if_fail (kind != NULL, 0);
  if (sqlite3_prepare_v2 (idx->db, "SELECT sum(count) FROM profile WHERE kind = ? AND value LIKE ?", -1, &q, NULL)
      != SQLITE_OK)
    return 0;
  sqlite3_bind_text (q, 1, kind, -1, SQLITE_STATIC);
  sqlite3_bind_text (q, 2, like, -1, SQLITE_STATIC);
  if (sqlite3_step (q) == SQLITE_ROW)
    n = sqlite3_column_int (q, 0);
  sqlite3_finalize (q);
  return n;
}

/**
 * bounce_index_get_range:
 * @n: (out): messages indexed
 * @first: (out): the oldest date, Unix time
 * @last: (out): the newest date
 *
 * Returns: FALSE when the index holds no dated message.
 */
gboolean
bounce_index_get_range (BounceIndex *idx, guint *n, gint64 *first, gint64 *last)
{
  sqlite3_stmt *q = NULL;
  gboolean ok = FALSE;

  *n = 0;
  *first = *last = 0;
  if (sqlite3_prepare_v2 (idx->db, "SELECT count(*), min(date), max(date) FROM sent", -1, &q, NULL) != SQLITE_OK)
    return FALSE;
  if (sqlite3_step (q) == SQLITE_ROW && sqlite3_column_type (q, 1) != SQLITE_NULL)
    {
      *n = sqlite3_column_int (q, 0);
      *first = sqlite3_column_int64 (q, 1);
      *last = sqlite3_column_int64 (q, 2);
      ok = TRUE;
    }
  sqlite3_finalize (q);
  return ok;
}

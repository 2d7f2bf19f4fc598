/* sentindex-learn.c — what the sent-mail index learns from the owner's
 * mail.
 *
 * Each sent message gives its Message-ID and date, and counts for the
 * owner's profile (profile.c): the addresses written to, the From
 * addresses, mail programs, Message-ID domains and shapes, time zones,
 * DKIM domains and the hops the mail took. A folder is read message by
 * message (mailbox.c), skipping what an earlier read saw; when the
 * caller names the owner, messages whose From is none of the owner's
 * addresses are counted apart, so that a folder of other people's mail
 * can be told from sent mail.
 */
#include "sentindex-private.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

static void
bump (BounceIndex *idx, BounceIndexKey key, const char *value, const char *source)
{
  const char *kind = bounce_index_key_name (key);
  g_autofree char *v = NULL;

  if (value == NULL || *value == '\0')
    return;
  v = g_utf8_strdown (value, -1);
  sqlite3_reset (idx->bump);
  sqlite3_bind_text (idx->bump, 1, kind, -1, SQLITE_STATIC);
  sqlite3_bind_text (idx->bump, 2, v, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (idx->bump, 3, source, -1, SQLITE_STATIC);
  sqlite3_step (idx->bump);
}

static void
add_addresses (BounceIndex *idx, GMimeMessage *msg, GMimeAddressType type, const char *source)
{
  InternetAddressList *list = g_mime_message_get_addresses (msg, type);
  int n = list ? internet_address_list_length (list) : 0;

  for (int i = 0; i < n && i < BOUNCE_MAX_LISTED_ADDRESSES; i++)
    {
      InternetAddress *a = internet_address_list_get_address (list, i);

      if (INTERNET_ADDRESS_IS_MAILBOX (a))
        bump (idx, BOUNCE_INDEX_RECIPIENT, internet_address_mailbox_get_idn_addr (INTERNET_ADDRESS_MAILBOX (a)),
              source);
    }
}

/* The DKIM-Signature's d= tag. */
static char *
dkim_domain (const char *value)
{
  g_auto (GStrv) tags = g_strsplit (value, ";", 64);

  for (guint i = 0; tags[i]; i++)
    {
      char *t = g_strstrip (tags[i]);

      if (t[0] == 'd' && (t[1] == '=' || g_ascii_isspace (t[1])))
        {
          char *v = strchr (t, '=');

          return v ? bounce_strip (g_strdup (v + 1)) : NULL;
        }
    }
  return NULL;
}

/* How this message was sent (profile.c): the hops it took first, the
 * shape of its Message-ID, the DKIM domains, its time zone and the style
 * all of these make together. */
static void
add_sending_profile (BounceIndex *idx, GMimeMessage *msg, const char *id, const char *agent, const char *source)
{
  GMimeHeaderList *headers = g_mime_object_get_header_list (GMIME_OBJECT (msg));
  int n = g_mime_header_list_get_count (headers);
  g_autofree char *shape = bounce_message_id_shape (id);
  g_autofree char *zone = bounce_date_zone (g_mime_object_get_header (GMIME_OBJECT (msg), "Date"));
  g_autofree char *style_hop = NULL, *style = NULL;
  g_autoptr (GPtrArray) received = g_ptr_array_new ();

  for (int i = 0; i < n && i < 200; i++)
    {
      GMimeHeader *h = g_mime_header_list_get_header_at (headers, i);
      const char *name = g_mime_header_get_name (h);
      const char *value = g_mime_header_get_value (h);

      if (value == NULL)
        continue;
      if (g_ascii_strcasecmp (name, "Received") == 0)
        g_ptr_array_add (received, (gpointer) value);
      else if (g_ascii_strcasecmp (name, "DKIM-Signature") == 0)
        {
          g_autofree char *d = dkim_domain (value);

          bump (idx, BOUNCE_INDEX_DKIM, d, source);
        }
    }
  /* Headers run from the newest hop: read from the first. Every
   * submission hop counts, and the first hop whatever it is; the style
   * takes the last submission hop (the provider's, after a local one). */
  for (guint i = received->len; i-- > 0;)
    {
      BounceHop hop;
      g_autofree char *key = NULL;

      if (!bounce_hop_parse (g_ptr_array_index (received, i), &hop))
        continue;
      key = bounce_hop_key (&hop);
      if (style_hop && hop.submission == BOUNCE_SUBMISSION_NONE)
        {
          /* Relayed on from there: the rest is the recipients' side. */
          bounce_hop_clear (&hop);
          break;
        }
      if (key)
        {
          bump (idx, BOUNCE_INDEX_HOP, key, source);
          g_free (style_hop);
          style_hop = g_steal_pointer (&key);
        }
      bounce_hop_clear (&hop);
    }
  bump (idx, BOUNCE_INDEX_ID_SHAPE, shape, source);
  bump (idx, BOUNCE_INDEX_TIME_ZONE, zone, source);
  style = bounce_sending_style (style_hop, shape, agent);
  bump (idx, BOUNCE_INDEX_STYLE, style, source);
}

static gboolean
add_message (BounceIndex *idx, const char *data, gsize len, const char *source, gboolean *added, char **from_out,
             GError **error)
{
  gsize hlen = bounce_header_block_end (data, len), skip;
  g_autoptr (GMimeMessage) msg = NULL;
  const char *mid, *ua;
  g_autofree char *id = NULL, *domain = NULL, *agent = NULL, *sender = NULL;
  GDateTime *date;
  InternetAddressList *from;
  gboolean known;
  int rc;

  if (added)
    *added = FALSE;
  skip = bounce_mbox_from_end (data, len, '\n');
  if (skip > 0 && data[skip - 1] == '\n')
    {
      /* After an mbox "From " line (one without an end is read as it is). */
      len -= skip;
      data += skip;
      hlen = bounce_header_block_end (data, len);
    }
  msg = bounce_parse_message_bytes (data, MIN (hlen, BOUNCE_MAX_HEADER_BYTES));
  from = msg ? g_mime_message_get_from (msg) : NULL;
  if (from && internet_address_list_length (from) > 0
      && INTERNET_ADDRESS_IS_MAILBOX (internet_address_list_get_address (from, 0)))
    sender = g_ascii_strdown (internet_address_mailbox_get_idn_addr (
                                  INTERNET_ADDRESS_MAILBOX (internet_address_list_get_address (from, 0))),
                              -1);
  if (from_out)
    *from_out = g_strdup (sender);
  mid = msg ? g_mime_message_get_message_id (msg) : NULL;
  if (mid == NULL || *mid == '\0')
    {
      g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_PARSE, "the message has no Message-ID");
      return FALSE;
    }
  id = g_strdup_printf ("<%s>", mid);
  domain = bounce_message_id_domain (id);
  ua = g_mime_object_get_header (GMIME_OBJECT (msg), "User-Agent");
  if (ua == NULL)
    ua = g_mime_object_get_header (GMIME_OBJECT (msg), "X-Mailer");
  agent = bounce_user_agent_family (ua);
  date = g_mime_message_get_date (msg);

  sqlite3_reset (idx->insert);
  sqlite3_bind_text (idx->insert, 1, id, -1, SQLITE_TRANSIENT);
  if (date)
    sqlite3_bind_int64 (idx->insert, 2, g_date_time_to_unix (date));
  else
    sqlite3_bind_null (idx->insert, 2);
  sqlite3_bind_text (idx->insert, 3, sender, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (idx->insert, 4, agent, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (idx->insert, 5, domain, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (idx->insert, 6, source, -1, SQLITE_STATIC);
  rc = sqlite3_step (idx->insert);
  if (rc != SQLITE_DONE)
    return bounce_index_db_error (idx, error, "adding a message");
  /* Read before mark_updated(), whose own write would count. */
  known = sqlite3_changes (idx->db) == 0;
  bounce_index_mark_updated (idx);
  if (known)
    return TRUE;
  if (added)
    *added = TRUE;
  bump (idx, BOUNCE_INDEX_FROM, sender, source);
  bump (idx, BOUNCE_INDEX_AGENT, agent, source);
  bump (idx, BOUNCE_INDEX_ID_DOMAIN, domain, source);
  add_addresses (idx, msg, GMIME_ADDRESS_TYPE_TO, source);
  add_addresses (idx, msg, GMIME_ADDRESS_TYPE_CC, source);
  add_addresses (idx, msg, GMIME_ADDRESS_TYPE_BCC, source);
  add_sending_profile (idx, msg, id, agent, source);
  return TRUE;
}

/**
 * bounce_index_add_message:
 * @data: an outgoing message (its header block is enough)
 * @added: (out) (optional): TRUE when it was new to the index
 * @error: BOUNCE_ERROR_INDEX, or BOUNCE_ERROR_PARSE for a message without
 *   a Message-ID (it cannot be recognised later)
 *
 * Records one message the owner sent. It is kept by a rebuild
 * (bounce_index_clear()), since no sent folder may hold it.
 */
gboolean
bounce_index_add_message (BounceIndex *idx, const char *data, gsize len, gboolean *added, GError **error)
{
  /* One transaction: readers see the message with all it adds, or not yet. */
  if (!bounce_index_begin (idx, error))
    return FALSE;
  if (!add_message (idx, data, len, SOURCE_RECORDED, added, NULL, error))
    {
      bounce_index_rollback (idx, NULL);
      return FALSE;
    }
  return bounce_index_commit (idx, error);
}

typedef struct
{
  BounceIndex *idx;
  BounceIdentity *owner; /* nullable */
  BounceLearnProgressFunc progress;
  gpointer progress_data;
  BounceLearnCounts counts;
  guint skipped;
  sqlite3_stmt *seen_q;
  sqlite3_stmt *seen_add;
  GError *error;
} Learn;

/* A Maildir file's unique name: the part before ":2,". */
static char *
unique_name (const char *path)
{
  g_autofree char *base = g_path_get_basename (path);
  char *colon = strchr (base, ':');

  if (colon)
    *colon = '\0';
  return g_steal_pointer (&base);
}

static gboolean
learn_message (const BounceMessageRef *ref, Learn *l, GError **error)
{
  gboolean added = FALSE;
  g_autoptr (GError) err = NULL;
  gboolean maildir = !ref->in_mbox;
  g_autofree char *uniq = maildir ? unique_name (ref->path) : NULL;
  g_autofree char *key = maildir ? g_strconcat ("maildir:", ref->folder, "/", uniq, NULL) : NULL;
  g_autofree char *from = NULL;
  gboolean ok;

  if (ref->data == NULL)
    return TRUE;
  if (key)
    {
      sqlite3_reset (l->seen_q);
      sqlite3_bind_text (l->seen_q, 1, key, -1, SQLITE_TRANSIENT);
      if (sqlite3_step (l->seen_q) == SQLITE_ROW)
        {
          l->skipped++;
          return TRUE;
        }
    }
  l->counts.read++;
  ok = add_message (l->idx, ref->data, ref->length, SOURCE_FOLDER, &added, &from, &err);
  if (l->owner && (from == NULL || !bounce_identity_is_owner_address (l->owner, from)))
    l->counts.not_owner++;
  if (!ok)
    {
      if (err->code == BOUNCE_ERROR_INDEX)
        {
          g_propagate_error (error, g_steal_pointer (&err));
          return FALSE;
        }
    }
  if (added)
    l->counts.added++;
  if (key)
    {
      sqlite3_reset (l->seen_add);
      sqlite3_bind_text (l->seen_add, 1, key, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (l->seen_add, 2, ref->length);
      sqlite3_bind_int64 (l->seen_add, 3, 0);
      sqlite3_step (l->seen_add);
    }
  /* A long first read shows its progress; inside a caller's transaction
   * (a rebuild) nothing is shown before the whole is done. */
  if ((l->counts.read % 2000) == 0 && l->idx->depth == 1)
    {
      if (!bounce_index_commit (l->idx, error) || !bounce_index_begin (l->idx, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
learn_one (const BounceMessageRef *ref, gpointer prepared, gpointer user_data, GError **error)
{
  Learn *l = user_data;
  gboolean ok = learn_message (ref, l, error);

  if (ok && l->progress)
    l->progress (&l->counts, l->counts.read + l->skipped, ref->offset, l->progress_data);
  return ok;
}

/**
 * bounce_index_learn_folder:
 * @path: a Maildir (read with its subfolders) or an mbox of sent mail
 * @n_read: (out) (optional): messages read this time
 * @n_added: (out) (optional): messages new to the index
 * @error: BOUNCE_ERROR_IO, BOUNCE_ERROR_PARSE or BOUNCE_ERROR_INDEX
 *
 * Reads what is new in @path since the last call: bounce_index_learn()
 * with BOUNCE_MAILBOX_RECURSIVE and no owner.
 */
gboolean
bounce_index_learn_folder (BounceIndex *idx, const char *path, guint *n_read, guint *n_added, GError **error)
{
  BounceLearnCounts c = { 0 };
  gboolean ok = bounce_index_learn (idx, path, BOUNCE_MAILBOX_RECURSIVE, NULL, NULL, NULL, &c, error);

  if (n_read)
    *n_read = c.read;
  if (n_added)
    *n_added = c.added;
  return ok;
}

/**
 * bounce_index_learn:
 * @path: a Maildir or an mbox of sent mail
 * @flags: BOUNCE_MAILBOX_RECURSIVE to read a Maildir's Maildir++
 *   subfolders too; without it, only its own cur/ and new/
 * @owner: (nullable): whose sent mail it is, to count what is not From
 *   one of the owner's addresses
 * @progress: (nullable) (scope call): called after each message looked
 *   at, with the counts so far, the messages looked at (read, or skipped
 *   as read before) and, in an mbox, where the message starts
 * @user_data: for @progress
 * @counts: (out) (optional): what was read this time
 * @error: BOUNCE_ERROR_IO, BOUNCE_ERROR_PARSE or BOUNCE_ERROR_INDEX
 *
 * Reads what is new in @path since the last call. An mbox that grew is
 * read again from its start: @counts->added counts only the messages
 * the index did not hold.
 */
gboolean
bounce_index_learn (BounceIndex *idx, const char *path, BounceMailboxFlags flags, BounceIdentity *owner,
                    BounceLearnProgressFunc progress, gpointer user_data, BounceLearnCounts *counts, GError **error)
{
  Learn l = { idx, owner && bounce_identity_has_addresses (owner) ? owner : NULL, progress, user_data };
  gboolean ok;
  guint depth;
  struct stat st;
  g_autofree char *mbox_key = g_strconcat ("mbox:", path, NULL);
  gboolean is_mbox = stat (path, &st) == 0 && S_ISREG (st.st_mode);

  if (sqlite3_prepare_v2 (idx->db, "SELECT 1 FROM seen WHERE path = ?", -1, &l.seen_q, NULL) != SQLITE_OK
      || sqlite3_prepare_v2 (idx->db, "INSERT OR REPLACE INTO seen VALUES (?, ?, ?)", -1, &l.seen_add, NULL)
             != SQLITE_OK)
    {
      sqlite3_finalize (l.seen_q);
      return bounce_index_db_error (idx, error, "preparing");
    }
  if (is_mbox)
    {
      /* An mbox unchanged since the last read is skipped whole. */
      sqlite3_stmt *q = NULL;
      gboolean same = FALSE;

      sqlite3_prepare_v2 (idx->db, "SELECT size, mtime FROM seen WHERE path = ?", -1, &q, NULL);
      sqlite3_bind_text (q, 1, mbox_key, -1, SQLITE_STATIC);
      if (sqlite3_step (q) == SQLITE_ROW)
        same = sqlite3_column_int64 (q, 0) == st.st_size && sqlite3_column_int64 (q, 1) == st.st_mtime;
      sqlite3_finalize (q);
      if (same)
        {
          sqlite3_finalize (l.seen_q);
          sqlite3_finalize (l.seen_add);
          if (counts)
            *counts = (BounceLearnCounts){ 0 };
          return TRUE;
        }
    }
  depth = idx->depth;
  ok = bounce_index_begin (idx, error)
       && bounce_mailbox_foreach (path, flags, NULL, 1, NULL, NULL, learn_one, &l, error);
  if (ok)
    bounce_index_mark_updated (idx);
  if (ok && is_mbox)
    {
      sqlite3_reset (l.seen_add);
      sqlite3_bind_text (l.seen_add, 1, mbox_key, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (l.seen_add, 2, st.st_size);
      sqlite3_bind_int64 (l.seen_add, 3, st.st_mtime);
      sqlite3_step (l.seen_add);
    }
  if (ok)
    ok = bounce_index_commit (idx, error);
  else if (idx->depth > depth)
    bounce_index_rollback (idx, NULL);
  sqlite3_finalize (l.seen_q);
  sqlite3_finalize (l.seen_add);
  if (counts)
    *counts = l.counts;
  return ok;
}

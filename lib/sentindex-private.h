/* sentindex-private.h — shared by the sent-mail index's database
 * (sentindex.c) and what it learns (sentindex-learn.c).
 */
#ifndef BOUNCE_SENTINDEX_PRIVATE_H
#define BOUNCE_SENTINDEX_PRIVATE_H

#include "bounce-private.h"

#include <sqlite3.h>

/* Where an entry came from: read from a sent folder (forgotten and read
 * again by a rebuild), or handed over one by one (record-sent, release,
 * the milter: kept by a rebuild, since no folder holds them). */
#define SOURCE_FOLDER "folder"
#define SOURCE_RECORDED "recorded"

struct _BounceIndex
{
  gint ref;
  sqlite3 *db;
  sqlite3_stmt *has_id;
  sqlite3_stmt *insert;
  sqlite3_stmt *bump;
  sqlite3_stmt *count;
  guint depth; /* open transactions: the outermost, then savepoints */
};

const char *bounce_index_key_name (BounceIndexKey key);
gboolean bounce_index_db_error (BounceIndex *idx, GError **error, const char *what);
void bounce_index_mark_updated (BounceIndex *idx);

#endif /* BOUNCE_SENTINDEX_PRIVATE_H */

/* mbox-private.h — shared by the mbox lock (lock.c), the rewrite
 * (mbox.c) and its backup (mbox-backup.c).
 */
#ifndef BOUNCE_MBOX_PRIVATE_H
#define BOUNCE_MBOX_PRIVATE_H

#include "bounce-private.h"

#include <sys/stat.h>

#define COPY_CHUNK (256 * 1024) /* bytes copied at once; buffers hold two */

struct _BounceMboxLock
{
  char *path;
  char *dotlock;
  int fd;
  gint64 touched;
};

/* The backup's first line. */
#define MAGIC "backscatter-mbox-backup 1\n"

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

void bounce_mbox_backup_clear (Backup *b);
char *bounce_mbox_backup_name (const char *state_dir, const struct stat *st);
gboolean bounce_mbox_set_phase (Backup *b, int phase, GError **error);
gboolean bounce_mbox_write_new_tail (Backup *b, int fd, const char *path, char *buf, GError **error);
gboolean bounce_mbox_undo_targets (Backup *b, GError **error);
gboolean bounce_mbox_restore_old_tail (Backup *b, int fd, const char *path, goffset eof, char *buf, GError **error);

#endif /* BOUNCE_MBOX_PRIVATE_H */

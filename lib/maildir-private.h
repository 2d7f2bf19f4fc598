/* maildir-private.h — shared by the Maildir actions (maildir.c) and the
 * folders they write to (maildir-folder.c).
 */
#ifndef BOUNCE_MAILDIR_PRIVATE_H
#define BOUNCE_MAILDIR_PRIVATE_H

#include "bounce-private.h"

#include <sys/stat.h>

/**
 * BounceMaildirFolder: a Maildir++ folder open for writing: the folder
 * and its cur/, new/ and tmp/, each checked not to be a link.
 */
struct _BounceMaildirFolder
{
  char *path;
  int fd, cur, new, tmp;
};

int bounce_maildir_open_dir (int parent, const char *name, const struct stat *like, const char *path, GError **error);

#endif /* BOUNCE_MAILDIR_PRIVATE_H */

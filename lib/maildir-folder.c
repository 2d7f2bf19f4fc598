/* maildir-folder.c — the Maildir++ folders scan's actions write to.
 *
 * A folder is opened, and made when it is missing (with the owner, group
 * and mode of the Maildir), with its cur/, new/ and tmp/; a folder made
 * here is added to the mail readers' subscription files so that they
 * show it. Folder names are checked: no "/", no "..", no leading dot.
 *
 * Nothing is written through a symbolic link: every folder is opened
 * from its parent's descriptor with O_NOFOLLOW, files are created with
 * openat(2) and moved with renameat2(2) between checked descriptors; a
 * folder (or its cur/, new/, tmp/) that is a link is refused.
 */
#include "maildir-private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* bounce_maildir_open_dir: open the folder @name in the folder open as @parent, never through a
 * link; create it (as @like: owner, group and mode) when @like is given
 * and it is missing. -1 with @error set on failure. */
int
bounce_maildir_open_dir (int parent, const char *name, const struct stat *like, const char *path, GError **error)
{
  int fd = openat (parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

  if (fd < 0 && errno == ENOENT && like)
    {
      if (mkdirat (parent, name, 0700) < 0 && errno != EEXIST)
        {
          bounce_io_error (error, "cannot create", path);
          return -1;
        }
      fd = openat (parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd >= 0
          && ((fchown (fd, like->st_uid, like->st_gid) < 0 && errno != EPERM)
              || fchmod (fd, like->st_mode & 07777) < 0))
        {
          bounce_io_error (error, "cannot set the owner and mode of", path);
          close (fd);
          return -1;
        }
    }
  if (fd < 0)
    {
      if (errno == ELOOP || errno == ENOTDIR)
        g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_IO, "%s is a symbolic link or not a folder: refused", path);
      else
        bounce_io_error (error, "cannot open", path);
    }
  return fd;
}

/**
 * bounce_folder_name_is_valid:
 * @name: a Maildir++ folder name as the user gives it ("Backscatter",
 *   "Junk.Bounces")
 *
 * Returns: whether @name names a folder inside the Maildir: no "/", no
 *   "..", no leading dot, no control characters.
 */
gboolean
bounce_folder_name_is_valid (const char *name)
{
  if (name == NULL || *name == '\0' || *name == '.' || strlen (name) > 200)
    return FALSE;
  if (strchr (name, '/') || strstr (name, "..") || !g_utf8_validate (name, -1, NULL))
    return FALSE;
  for (const char *p = name; *p; p++)
    if ((unsigned char) *p < 0x20 || *p == 0x7f)
      return FALSE;
  return name[strlen (name) - 1] != '.';
}

/* Whether the text of a subscriptions file lists @entry on a line of its own. */
static gboolean
lists (const char *text, gsize len, const char *entry)
{
  gsize n = strlen (entry);

  for (const char *l = text; l < text + len;)
    {
      const char *nl = memchr (l, '\n', text + len - l);
      gsize ll = (nl ? nl : text + len) - l;

      if (ll == n && memcmp (l, entry, n) == 0)
        return TRUE;
      if (nl == NULL)
        break;
      l = nl + 1;
    }
  return FALSE;
}

/* Adds the folder @name to the subscriptions file @file of the Maildir
 * open as @topfd, so that IMAP clients that show only subscribed folders
 * show it: Dovecot's "subscriptions" (its second format, "V\t2" and a
 * blank line, then names whose hierarchy separator is a tab; or its
 * first, one name a line), made when missing (@create, as @top's owner);
 * Courier's "courierimapsubscribed" ("INBOX.NAME"), only when there is
 * one. The file is rewritten as Dovecot does it: the new text goes into
 * "FILE.lock", created with O_EXCL (the lock Dovecot takes), which is
 * then renamed over FILE. Best effort: a folder that stays unsubscribed
 * still holds its mail, so nothing here is an error. */
static void
subscribe (int topfd, const char *file, const char *name, gboolean courier, gboolean create, const struct stat *top)
{
  g_autofree char *lock = g_strconcat (file, ".lock", NULL);
  g_autofree char *entry = NULL;
  g_autoptr (GString) text = g_string_new (NULL);
  struct stat st;
  gboolean ok = TRUE;
  int fd = openat (topfd, file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

  if (fd < 0 && (errno != ENOENT || !create))
    return;
  if (fd >= 0)
    {
      char buf[4096];
      ssize_t n;

      if (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode) || st.st_size > 1024 * 1024)
        ok = FALSE;
      while (ok && (n = read (fd, buf, sizeof buf)) != 0)
        {
          if (n < 0 && errno == EINTR)
            continue;
          if (n < 0)
            ok = FALSE;
          else
            g_string_append_len (text, buf, n);
        }
      close (fd);
      if (!ok)
        return;
    }
  else
    {
      st = *top;
      st.st_mode = top->st_mode & 0666;
    }
  if (courier)
    entry = g_strconcat ("INBOX.", name, NULL);
  else if (g_str_has_prefix (text->str, "V\t2\n"))
    entry = g_strdelimit (g_strdup (name), ".", '\t');
  else
    entry = g_strdup (name);
  if (lists (text->str, text->len, entry))
    return;
  if (text->len > 0 && text->str[text->len - 1] != '\n')
    g_string_append_c (text, '\n');
  g_string_append_printf (text, "%s\n", entry);

  fd = openat (topfd, lock, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return; /* Dovecot (or another scan) is writing it */
  for (gsize done = 0; ok && done < text->len;)
    {
      ssize_t n = write (fd, text->str + done, text->len - done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        ok = FALSE;
      else
        done += n;
    }
  if (ok && (st.st_uid != geteuid () || st.st_gid != getegid ()))
    ok = fchown (fd, st.st_uid, st.st_gid) == 0 || errno == EPERM;
  ok = ok && fchmod (fd, st.st_mode & 0666) == 0 && fsync (fd) == 0;
  close (fd);
  if (!ok || renameat (topfd, lock, topfd, file) < 0)
    unlinkat (topfd, lock, 0);
  else
    fsync (topfd);
}

/**
 * bounce_maildir_folder_free:
 * @folder: (nullable) (transfer full): a folder from bounce_maildir_folder_open()
 */
void
bounce_maildir_folder_free (BounceMaildirFolder *folder)
{
  if (folder == NULL)
    return;
  for (int *fd = &folder->fd; fd <= &folder->tmp; fd++)
    if (*fd >= 0)
      close (*fd);
  g_free (folder->path);
  g_free (folder);
}

/**
 * bounce_maildir_folder_open:
 * @maildir: the Maildir (followed as given)
 * @name: a folder name (checked with bounce_folder_name_is_valid())
 * @error: BOUNCE_ERROR_CONFIG for a bad name, BOUNCE_ERROR_IO (also when
 *   the folder or its cur/, new/ or tmp/ is a symbolic link)
 *
 * Opens the Maildir++ folder "MAILDIR/.NAME", creating what is missing of
 * it with the owner, group and mode of @maildir. A folder it creates is
 * added to the Maildir's subscriptions (Dovecot's "subscriptions", made
 * when missing, and Courier's "courierimapsubscribed" when there is one),
 * so that IMAP clients showing subscribed folders show it.
 *
 * Returns: (transfer full) (nullable): the folder
 */
BounceMaildirFolder *
bounce_maildir_folder_open (const char *maildir, const char *name, GError **error)
{
  g_autoptr (BounceMaildirFolder) f = g_new0 (BounceMaildirFolder, 1);
  g_autofree char *dotted = NULL;
  static const char *const subs[] = { "cur", "new", "tmp" };
  struct stat top, st;
  gboolean created;
  int topfd;

  f->fd = f->cur = f->new = f->tmp = -1;
  if (!bounce_folder_name_is_valid (name))
    {
      g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_CONFIG,
                   "'%s' is not a folder name inside the Maildir (no '/', no '..', no leading dot)", name ? name : "");
      return NULL;
    }
  dotted = g_strconcat (".", name, NULL);
  f->path = g_build_filename (maildir, dotted, NULL);
  topfd = open (maildir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (topfd < 0)
    {
      bounce_io_error (error, "cannot open", maildir);
      return NULL;
    }
  if (fstat (topfd, &top) < 0)
    {
      bounce_io_error (error, "cannot read", maildir);
      close (topfd);
      return NULL;
    }
  created = fstatat (topfd, dotted, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT;
  f->fd = bounce_maildir_open_dir (topfd, dotted, &top, f->path, error);
  if (f->fd < 0 || !bounce_fsync_fd (topfd, maildir, error))
    {
      close (topfd);
      return NULL;
    }
  if (created)
    {
      subscribe (topfd, "subscriptions", name, FALSE, TRUE, &top);
      subscribe (topfd, "courierimapsubscribed", name, TRUE, FALSE, &top);
    }
  close (topfd);
  for (guint i = 0; i < G_N_ELEMENTS (subs); i++)
    {
      g_autofree char *sub = g_build_filename (f->path, subs[i], NULL);
      int *fd = i == 0 ? &f->cur : i == 1 ? &f->new : &f->tmp;

      *fd = bounce_maildir_open_dir (f->fd, subs[i], &top, sub, error);
      if (*fd < 0)
        return NULL;
    }
  {
    /* Maildir++ marks subfolders with an empty "maildirfolder" file. */
    int fd = openat (f->fd, "maildirfolder", O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

    if (fd >= 0 && fchown (fd, top.st_uid, top.st_gid) < 0 && errno != EPERM)
      {
        bounce_io_error (error, "cannot set the owner of the folder mark in", f->path);
        close (fd);
        return NULL;
      }
    if (fd >= 0)
      close (fd);
  }
  if (!bounce_fsync_fd (f->fd, f->path, error))
    return NULL;
  return g_steal_pointer (&f);
}

/**
 * bounce_maildir_folder_get_path:
 * @folder: a folder
 *
 * Returns: (transfer none): its path, "MAILDIR/.NAME"
 */
const char *
bounce_maildir_folder_get_path (BounceMaildirFolder *folder)
{
  return folder->path;
}

/* Is the folder open as @fd the one that holds the cur/ or new/ open as
 * @dirfd? */
static gboolean
same_folder (int fd, int dirfd)
{
  struct stat a, b;

  return fstat (fd, &a) == 0 && fstatat (dirfd, "..", &b, 0) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/**
 * bounce_maildir_folder_holds:
 * @folder: a folder
 * @msg: a Maildir message
 *
 * Returns: whether @msg is a message of @folder (a scan of it reached it,
 *   or the folder is where the message already is).
 */
gboolean
bounce_maildir_folder_holds (BounceMaildirFolder *folder, const BounceMessageRef *msg)
{
  return msg->dirfd >= 0 && same_folder (folder->fd, msg->dirfd);
}

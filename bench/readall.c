/* readall — the floor for scanning a mailbox: read every file below the
 * given folders once, in one process, skipping Maildir tmp/ folders.
 *
 * bench/run.sh uses ../shared/bench/readall.c when it is there; this is a
 * stand-in with the same behaviour for when it is not.
 *
 *   cc -O2 -o readall readall.c && ./readall ~/Maildir
 *
 * Prints the number of files and bytes and the seconds it took. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char chunk[1 << 20];

static void
read_tree (const char *folder, long *files, long *bytes)
{
  DIR *dir = opendir (folder);
  struct dirent *ent;

  if (dir == NULL)
    return;
  while ((ent = readdir (dir)) != NULL)
    {
      char path[4096];
      ssize_t n;
      int fd;

      if (ent->d_name[0] == '.' && (ent->d_name[1] == '\0' || (ent->d_name[1] == '.' && ent->d_name[2] == '\0')))
        continue;
      if ((size_t) snprintf (path, sizeof path, "%s/%s", folder, ent->d_name) >= sizeof path)
        continue;
      if (ent->d_type == DT_DIR)
        {
          if (strcmp (ent->d_name, "tmp") != 0)
            read_tree (path, files, bytes);
          continue;
        }
      fd = open (path, O_RDONLY);
      if (fd < 0)
        continue;
      while ((n = read (fd, chunk, sizeof chunk)) > 0)
        *bytes += n;
      close (fd);
      ++*files;
    }
  closedir (dir);
}

int
main (int argc, char **argv)
{
  struct timespec t0, t1;
  long files = 0, bytes = 0;

  clock_gettime (CLOCK_MONOTONIC, &t0);
  for (int i = 1; i < argc; i++)
    read_tree (argv[i], &files, &bytes);
  clock_gettime (CLOCK_MONOTONIC, &t1);
  printf ("%ld files, %ld bytes, %.3f s\n", files, bytes, (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
  return 0;
}

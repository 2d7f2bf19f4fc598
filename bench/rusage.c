/* rusage — run a command and print what it cost, for bench/run.sh:
 *
 *   rusage OUTFILE COMMAND [ARG...]
 *
 * writes one line "WALL USER SYS MAXRSS_KB STATUS WAITS" to OUTFILE (seconds
 * with microseconds; peak resident set size of the command from wait4(2);
 * its exit status, or 128+signal; how many times its threads gave up the
 * processor to wait, for a lock or for input: voluntary context switches).
 * The command's own output is left alone. */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int
main (int argc, char **argv)
{
  struct timespec a, b;
  struct rusage ru;
  int status;
  pid_t pid;
  FILE *out;

  if (argc < 3)
    {
      fprintf (stderr, "usage: rusage OUTFILE COMMAND [ARG...]\n");
      return 64;
    }
  clock_gettime (CLOCK_MONOTONIC, &a);
  pid = fork ();
  if (pid < 0)
    {
      perror ("fork");
      return 71;
    }
  if (pid == 0)
    {
      execvp (argv[2], argv + 2);
      perror (argv[2]);
      _exit (127);
    }
  if (wait4 (pid, &status, 0, &ru) < 0)
    {
      perror ("wait4");
      return 71;
    }
  clock_gettime (CLOCK_MONOTONIC, &b);
  if ((out = fopen (argv[1], "w")) == NULL)
    {
      perror (argv[1]);
      return 73;
    }
  fprintf (out, "%.6f %ld.%06ld %ld.%06ld %ld %d %ld\n", (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9,
           (long) ru.ru_utime.tv_sec, (long) ru.ru_utime.tv_usec, (long) ru.ru_stime.tv_sec, (long) ru.ru_stime.tv_usec,
           ru.ru_maxrss, WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status), ru.ru_nvcsw);
  fclose (out);
  return 0;
}

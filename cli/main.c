/* main.c — the backscatter program: a table of subcommands, as notmuch
 * does. Each subcommand parses its own options. */
#include "config.h"
#include "cli.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

static const struct
{
  const char *name;
  CliCommand run;
  const char *summary;
} commands[] = {
  { "check", cli_check, "read messages (files or stdin) and say what each is" },
  { "scan", cli_scan, "judge every message of Maildirs and mbox files, and act on backscatter" },
  { "filter", cli_filter, "add X-Backscatter headers to the message on stdin (for procmail)" },
  { "learn", cli_learn, "build the sent-mail index from your sent folders" },
  { "record-sent", cli_record_sent, "add one outgoing message (stdin) to the sent-mail index" },
#ifdef BOUNCE_HAVE_MILTER
  { "milter", cli_milter, "judge bounces at SMTP time for Postfix or Sendmail (a milter)" },
#endif
};

static void
usage (FILE *out)
{
  fprintf (out, "usage: backscatter COMMAND [OPTION...] [ARG...]\n\ncommands:\n");
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-12s %s\n", commands[i].name, commands[i].summary);
  fprintf (out, "\n'backscatter COMMAND --help' describes each; see backscatter(1).\n");
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  if (argc < 2)
    {
      usage (stderr);
      return EX_USAGE;
    }
  if (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0
      || strcmp (argv[1], "help") == 0)
    {
      usage (stdout);
      return 0;
    }
  if (strcmp (argv[1], "--version") == 0)
    {
      printf ("backscatter %s\n", BOUNCE_VERSION);
      return 0;
    }
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (strcmp (argv[1], commands[i].name) == 0)
      return commands[i].run (argc - 1, argv + 1);
  fprintf (stderr, "backscatter: unknown command '%s'\n", argv[1]);
  usage (stderr);
  return EX_USAGE;
}

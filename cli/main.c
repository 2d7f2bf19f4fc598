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
  { "release", cli_release, "say you did send the original of a bounce: record it, move the bounce back" },
  { "doctor", cli_doctor, "say what the settings are and what would make verdicts stronger" },
#ifdef BOUNCE_HAVE_MILTER
  { "milter", cli_milter, "judge bounces at SMTP time for Postfix or Sendmail (a milter)" },
#endif
};

static void
usage (FILE *out)
{
  fprintf (out, "Usage:\n  backscatter COMMAND [OPTION...] [ARG...]\n\nCommands:\n");
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-12s %s\n", commands[i].name, commands[i].summary);
  fprintf (out, "\n'backscatter help COMMAND' (or 'backscatter COMMAND --help') describes each;\n"
                "-V, --version says which version this is; see backscatter(1).\n");
}

/* Runs the command named @name with @argc/@argv (argv[0] its name). */
static int
run_command (const char *name, int argc, char **argv)
{
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (strcmp (name, commands[i].name) == 0)
      {
        /* Usage lines and messages say "backscatter COMMAND". */
        g_autofree char *prg = g_strdup_printf ("backscatter %s", name);

        g_set_prgname (prg);
        return commands[i].run (argc, argv);
      }
  fprintf (stderr, "backscatter: unknown command '%s'\n", name);
  usage (stderr);
  return EX_USAGE;
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
  if (strcmp (argv[1], "help") == 0 && argc > 2)
    {
      /* backscatter help COMMAND: that command's --help */
      char *help_argv[] = { argv[2], (char *) "--help", NULL };

      return run_command (argv[2], 2, help_argv);
    }
  if (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0
      || strcmp (argv[1], "help") == 0)
    {
      usage (stdout);
      return 0;
    }
  if (strcmp (argv[1], "--version") == 0 || strcmp (argv[1], "-V") == 0
      || strcmp (argv[1], "version") == 0)
    {
      printf ("backscatter %s\n", BOUNCE_VERSION);
      return 0;
    }
  return run_command (argv[1], argc - 1, argv + 1);
}

/* main.c — the backscatter program: a table of subcommands, as notmuch
 * does. Each subcommand parses its own options (cli_parse_options) and
 * loads what its row says (cli_run_load); what was parsed and loaded is
 * cleared here, once, when it returns. */
#include "config.h"
#include "cli.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>
#ifdef BOUNCE_HAVE_MIMALLOC
#include <mimalloc.h>
#endif

static const struct
{
  const char *name;
  CliCommand run;
  CliLoad load;
  const char *usage; /* --help's first line, after "backscatter NAME" */
  const char *summary;
} commands[] = {
  { "check", cli_check, CLI_LOAD_ON_DEMAND, "[FILE...] - say what each message is",
    "read messages (files or stdin) and say what each is" },
  { "scan", cli_scan, CLI_LOAD_ALL, "PATH... - judge every message of Maildirs and mbox files",
    "judge every message of Maildirs and mbox files, and act on backscatter" },
  { "filter", cli_filter, CLI_LOAD_ON_DEMAND, "- add X-Backscatter headers to the message on stdin",
    "add X-Backscatter headers to the message on stdin (for procmail)" },
  { "learn", cli_learn, CLI_LOAD_NONE, "- build the sent-mail index from your sent folders",
    "build the sent-mail index from your sent folders" },
  { "record-sent", cli_record_sent, CLI_LOAD_NONE, "- add the outgoing message on stdin to the sent-mail index",
    "add one outgoing message (stdin) to the sent-mail index" },
  { "release", cli_release, CLI_LOAD_RULES, "FILE... - say you did send the original of each bounce",
    "say you did send the original of a bounce: record it, move the bounce back" },
  { "doctor", cli_doctor, CLI_LOAD_ALL, "- say what the settings are and what would make verdicts stronger",
    "say what the settings are and what would make verdicts stronger" },
#ifdef BOUNCE_HAVE_MILTER
  { "milter", cli_milter, CLI_LOAD_NONE, "- judge bounces at SMTP time (Postfix, Sendmail)",
    "judge bounces at SMTP time for Postfix or Sendmail (a milter)" },
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
        g_auto (CliRun) run = {
          .command = commands[i].name,
          .usage = commands[i].usage,
          .load = commands[i].load,
        };

        g_set_prgname (prg);
        return commands[i].run (&run, argc, argv);
      }
  fprintf (stderr, "backscatter: unknown command '%s'\n", name);
  usage (stderr);
  return EX_USAGE;
}

/* Whether @envp sets @name ("NAME="). */
static gboolean
env_has (char **envp, const char *name)
{
  for (; envp && *envp; envp++)
    if (strncmp (*envp, name, strlen (name)) == 0)
      return TRUE;
  return FALSE;
}

/* How the process allocates, set before the first allocation, which the
 * libraries' constructors make: so from .preinit_array, which runs before
 * them (getenv() cannot be used yet: the C library is not set up; @envp
 * is the environment). What the user sets in the environment has the
 * last word.
 *
 * GLib before 2.76 (Debian 12's is 2.74) takes its small blocks, each of
 * GMime's many objects, from its slice allocator, whose shared magazine
 * depot the threads of a scan meet at; G_SLICE=always-malloc has them
 * from malloc.
 *
 * mimalloc takes its heap from the system on large pages (transparent
 * huge pages, where the system gives them on request). On small pages
 * every page of heap first touched is a page fault: a few hundred in a
 * run over one message, a third of the time `check` takes over a bounce,
 * and thousands in a scan. The price is a few MB more resident memory. */
static void
allocator_options (int argc, char **argv, char **envp)
{
  (void) argc;
  (void) argv;
  if (!env_has (envp, "G_SLICE="))
    {
      G_GNUC_BEGIN_IGNORE_DEPRECATIONS
      g_slice_set_config (G_SLICE_CONFIG_ALWAYS_MALLOC, TRUE);
      G_GNUC_END_IGNORE_DEPRECATIONS
    }
#ifdef BOUNCE_HAVE_MIMALLOC
  if (!env_has (envp, "MIMALLOC_LARGE_OS_PAGES="))
    mi_option_set (mi_option_large_os_pages, 1);
#endif
}

typedef void (*PreinitFunc) (int argc, char **argv, char **envp);
__attribute__ ((section (".preinit_array"), used)) static const PreinitFunc preinit_allocator = allocator_options;

int
main (int argc, char **argv)
{
#ifdef BOUNCE_HAVE_MIMALLOC
  /* Memory freed is given back to the system at once rather than kept a
   * while for reuse: a scan's peak stays near its working set (a few
   * messages in flight), at no cost in time measured. */
#if MI_MALLOC_VERSION >= 211
  mi_option_set (mi_option_purge_delay, 0);
#else
  mi_option_set (mi_option_decommit_delay, 0);
#endif
#endif
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
  if (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0 || strcmp (argv[1], "help") == 0)
    {
      usage (stdout);
      return 0;
    }
  if (strcmp (argv[1], "--version") == 0 || strcmp (argv[1], "-V") == 0 || strcmp (argv[1], "version") == 0)
    {
      printf ("backscatter %s\n", BOUNCE_VERSION);
      return 0;
    }
  return run_command (argv[1], argc - 1, argv + 1);
}

/* cli.h — what the subcommands of the backscatter program share. */
#ifndef BOUNCE_CLI_H
#define BOUNCE_CLI_H

#include <backscatter.h>
#include <sysexits.h>

/* Exit codes of check and scan (DESIGN): found, none, only undecided. */
enum
{
  EXIT_FOUND = 0,
  EXIT_NONE = 1,
  EXIT_UNDECIDED = 2,
};

typedef struct
{
  char **rules_dirs;   /* --rules, may be NULL */
  gboolean json;
  gboolean explain;
} CliCommon;

typedef int (*CliCommand) (int argc, char **argv);

int cli_check (int argc, char **argv);

BounceRules *cli_load_rules (char **dirs, GError **error);
GOptionEntry *cli_rules_option (char ***dirs);
void cli_print_json (const char *source, BounceReport *report, const char *error_message);
void cli_print_text (const char *source, BounceReport *report, gboolean explain);
int cli_exit_for_error (const GError *error);

#endif

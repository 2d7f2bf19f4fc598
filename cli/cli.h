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

/* The settings every judging command takes as flags. */
typedef struct
{
  char *config;
  char **me;
  char **relays;
  char **dkim_domains;
  char *batv_key_file;
  char **sent;
  gboolean complete;
  char *index;
  char **rules_dirs;
} CliSettings;

/* What a judging command works with. */
typedef struct
{
  BounceRules *rules;
  BounceIdentity *identity;
  BounceIndex *index; /* NULL when there is none yet */
  BounceJudge *judge;
  /* After cli_context_prepare(): rules and judge are empty ones, and
   * what cli_context_ready_for() loads is named here; NULL once loaded. */
  char **rules_dirs;
  char *index_path;
  gboolean pending;
} CliContext;

/* What cli_run_load() loads for a command before it reads mail. */
typedef enum
{
  CLI_LOAD_NONE,      /* it opens what it needs itself (learn, record-sent, milter) */
  CLI_LOAD_RULES,     /* the rules alone (release) */
  CLI_LOAD_ALL,       /* rules, identity, index and judge (scan, doctor) */
  CLI_LOAD_ON_DEMAND, /* the identity now, the rest when a message may be a
                       * report: cli_context_ready_for() (check, filter) */
} CliLoad;

/* One run of a command: made by main.c from its table, handed to the
 * command, and cleared by main.c when the command returns. */
typedef struct
{
  const char *command; /* "check" */
  const char *usage;   /* what follows "backscatter COMMAND" in --help */
  CliLoad load;
  CliSettings settings; /* from the flags (cli_parse_options) */
  CliContext ctx;       /* from cli_run_load() */
} CliRun;

typedef int (*CliCommand) (CliRun *run, int argc, char **argv);

int cli_check (CliRun *run, int argc, char **argv);
int cli_learn (CliRun *run, int argc, char **argv);
int cli_record_sent (CliRun *run, int argc, char **argv);
int cli_scan (CliRun *run, int argc, char **argv);
int cli_filter (CliRun *run, int argc, char **argv);
int cli_doctor (CliRun *run, int argc, char **argv);
int cli_release (CliRun *run, int argc, char **argv);
int cli_milter (CliRun *run, int argc, char **argv);

gboolean cli_parse_options (CliRun *run, GOptionEntry *own, int *argc, char ***argv);
gboolean cli_run_load (CliRun *run, GError **error);
void cli_run_clear (CliRun *run);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CliRun, cli_run_clear)

BounceRules *cli_load_rules (char **dirs, GError **error);
GOptionEntry *cli_identity_entries (CliSettings *s);
void cli_settings_clear (CliSettings *s);
BounceIdentity *cli_load_identity (CliSettings *s, GError **error);
char *cli_index_path (CliSettings *s);
char *cli_config_path (CliSettings *s);
GStrv cli_setting_values (CliSettings *s, const char *group, const char *key);
GStrv cli_rules_dirs (char **dirs);
char *cli_expand_path (const char *path);
GStrv cli_config_list (GKeyFile *kf, const char *group, const char *key);
gboolean cli_config_error (GError **error, const char *path, const char *text, const char *group_key, const char *fmt,
                           ...) G_GNUC_PRINTF (5, 6);
gboolean cli_context_load (CliContext *ctx, CliSettings *s, GError **error);
gboolean cli_context_prepare (CliContext *ctx, CliSettings *s, GError **error);
gboolean cli_context_ready_for (CliContext *ctx, const char *data, gsize len, GError **error);
void cli_context_clear (CliContext *ctx);

BounceJsonWriter *cli_json_begin (const char *source, BounceReport *report, BounceJudgement *judgement);
void cli_json_member (BounceJsonWriter *w, const char *name, const char *value);
void cli_json_print (BounceJsonWriter *w);
void cli_print_json (const char *source, BounceReport *report, BounceJudgement *judgement, const char *error_message);
void cli_print_text (const char *source, BounceReport *report, BounceJudgement *judgement, BounceRules *rules,
                     gboolean explain);
int cli_exit_for_error (const GError *error);
char *cli_count (guint n, const char *one, const char *plural);

/* A progress line on a terminal (scan, learn): one line on standard
 * error that keeps being rewritten. */
typedef struct
{
  gboolean on;      /* standard error is a terminal and the output is for people */
  const char *verb; /* "scanning", "learning" */
  char *path;       /* escaped */
  guint total;      /* messages there (a Maildir); 0: not known */
  goffset size;     /* bytes there (an mbox); 0: not known */
  guint done;       /* messages read */
  goffset offset;   /* mbox: where the last one started */
  char *more;       /* ", 12 bounces" */
  gint64 started, last;
} CliProgress;

void cli_progress_start (CliProgress *p, const char *verb, const char *path, gboolean recursive,
                         const char *const *skip);
void cli_progress_update (CliProgress *p, gboolean now);
void cli_progress_clear (CliProgress *p);
void cli_progress_end (CliProgress *p);

#define CLI_STDIN_CHUNK 65536
GByteArray *cli_read_message (int fd, gboolean *more, GError **error);
gboolean cli_copy_stdin (int fd, GError **error);
gboolean cli_write_all (int fd, const void *data, gsize len);
void cli_escape_append (GString *out, const char *s);
char *cli_escape (const char *s);
void cli_print_error (const char *source, const char *message);

#endif

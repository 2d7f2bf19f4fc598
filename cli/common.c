/* common.c — rules loading and output shared by the subcommands. */
#include "config.h"
#include "cli.h"

#include <dlfcn.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The installed rules, or the source tree's when this program runs from
 * its build folder (so that it works before `meson install`). */
static const char *
default_rules_dir (void)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);

  if (exe && g_str_has_prefix (exe, BOUNCE_BUILD_ROOT "/"))
    return BOUNCE_SOURCE_RULES_DIR;
  return BOUNCE_RULES_DIR;
}

/* cli_rules_dirs: the folders cli_load_rules() reads, in order. */
GStrv
cli_rules_dirs (char **dirs)
{
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
  g_autofree char *user = g_build_filename (g_get_user_config_dir (), "backscatter", "rules.d", NULL);

  if (dirs && dirs[0])
    g_strv_builder_addv (b, (const char **) dirs);
  else
    g_strv_builder_add (b, default_rules_dir ());
  if (g_file_test (user, G_FILE_TEST_IS_DIR))
    g_strv_builder_add (b, user);
  return g_strv_builder_end (b);
}

/* The rule files: @dirs (from --rules) or the installed rules, then the
 * user's $XDG_CONFIG_HOME/backscatter/rules.d when it exists. */
static BounceRules *
read_rules (char **dirs, GError **error)
{
  g_autoptr (BounceRules) rules = bounce_rules_new ();
  g_autofree char *user = g_build_filename (g_get_user_config_dir (), "backscatter", "rules.d", NULL);

  if (dirs && dirs[0])
    {
      for (guint i = 0; dirs[i]; i++)
        if (!bounce_rules_load_dir (rules, dirs[i], FALSE, error))
          return NULL;
    }
  else if (!bounce_rules_load_dir (rules, default_rules_dir (), FALSE, error))
    return NULL;
  if (g_file_test (user, G_FILE_TEST_IS_DIR) && !bounce_rules_load_dir (rules, user, TRUE, error))
    return NULL;
  return g_steal_pointer (&rules);
}

/* Which program reads the rules: this program's file and the library's,
 * each with its inode, size and times of change. A program built again
 * may read the same rule files otherwise. FALSE when one cannot be found. */
static gboolean
stamp_program (GString *stamp)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
  const char *files[] = { exe, NULL };
  Dl_info info;

  if (exe == NULL)
    return FALSE;
  if (dladdr ((void *) bounce_rules_new, &info) && info.dli_fname)
    files[1] = info.dli_fname;
  for (guint i = 0; i < G_N_ELEMENTS (files) && files[i]; i++)
    {
      GStatBuf st;

      if (g_stat (files[i], &st) != 0)
        return FALSE;
      g_string_append_printf (stamp,
                              "%s %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GINT64_FORMAT
                              ".%09ld %" G_GINT64_FORMAT ".%09ld\n",
                              files[i], (guint64) st.st_ino, (guint64) st.st_size, (gint64) st.st_mtim.tv_sec,
                              (long) st.st_mtim.tv_nsec, (gint64) st.st_ctim.tv_sec, (long) st.st_ctim.tv_nsec);
    }
  return TRUE;
}

/* What the rule files read_rules() reads are like now, and which
 * program reads them: the version, the program's files, then each folder
 * and its bounce_rules_dir_stamp(). NULL when one cannot be read. */
static char *
rules_stamp (char **dirs)
{
  g_auto (GStrv) all = cli_rules_dirs (dirs);
  g_autoptr (GString) stamp = g_string_new ("backscatter " BOUNCE_VERSION "\n");

  if (!stamp_program (stamp))
    return NULL;
  for (guint i = 0; all[i]; i++)
    {
      g_autofree char *one = bounce_rules_dir_stamp (all[i], NULL);

      if (one == NULL)
        return NULL;
      g_string_append_printf (stamp, "%s\n%s", all[i], one);
    }
  return g_string_free (g_steal_pointer (&stamp), FALSE);
}

/* cli_load_rules: the rules read_rules() reads. Reading and checking the
 * rule files costs more than reading a bounce, and a scan from cron or a
 * filter from procmail starts often: the rules last read without a
 * mistake are kept in $XDG_CACHE_HOME/backscatter/rules.cache
 * (bounce_rules_to_cache()) with the stamp of their files and of the
 * program, and while both are the same (names, inodes, sizes, times of
 * change) the rules are taken from there; when any changed, or the file
 * is damaged, the rule files are read and checked, and a mistake is
 * reported. A cache that cannot be read or written only costs the
 * reading. */
BounceRules *
cli_load_rules (char **dirs, GError **error)
{
  g_autofree char *stamp = rules_stamp (dirs);
  g_autofree char *cache_dir = g_build_filename (g_get_user_cache_dir (), "backscatter", NULL);
  g_autofree char *cache = g_build_filename (cache_dir, "rules.cache", NULL);
  g_autofree char *kept = NULL;
  gsize kept_len = 0;
  BounceRules *rules = NULL;

  if (stamp && g_file_get_contents (cache, &kept, &kept_len, NULL))
    rules = bounce_rules_new_from_cache (kept, kept_len, stamp, NULL);
  if (rules)
    return rules;
  rules = read_rules (dirs, error);
  if (rules && stamp && g_mkdir_with_parents (cache_dir, 0700) == 0)
    {
      g_autoptr (GBytes) bytes = bounce_rules_to_cache (rules, stamp);
      gsize len;
      const char *data = g_bytes_get_data (bytes, &len);

      (void) g_file_set_contents_full (cache, data, len, G_FILE_SET_CONTENTS_CONSISTENT, 0600, NULL);
    }
  return rules;
}

/* cli_count: "1 message", "2 messages" (@plural NULL: @one + "s"). */
char *
cli_count (guint n, const char *one, const char *plural)
{
  if (n == 1)
    return g_strdup_printf ("1 %s", one);
  return plural ? g_strdup_printf ("%u %s", n, plural) : g_strdup_printf ("%u %ss", n, one);
}

/* cli_read_message: the message on @fd (standard input, or a file check
 * was given), as bounce_message_read() reads it: the one reader of check,
 * filter and record-sent. An error on standard input says so. What is
 * left when *@more is for cli_copy_stdin(). */
GByteArray *
cli_read_message (int fd, gboolean *more, GError **error)
{
  GByteArray *buf = bounce_message_read (fd, more, error);

  if (buf == NULL && fd == STDIN_FILENO)
    g_prefix_error (error, "standard input: ");
  return buf;
}

/* cli_write_all: writes @len bytes of @data to @fd; FALSE with errno set
 * when that fails. */
gboolean
cli_write_all (int fd, const void *data, gsize len)
{
  const char *p = data;

  while (len > 0)
    {
      ssize_t n = write (fd, p, len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return FALSE;
      p += n;
      len -= n;
    }
  return TRUE;
}

/* cli_copy_stdin: copies what cli_read_message() left of standard input to
 * @fd, or reads and drops it when @fd is -1 (so that a writer such as
 * `tee` is never cut off), in constant memory. */
gboolean
cli_copy_stdin (int fd, GError **error)
{
  char chunk[CLI_STDIN_CHUNK];

  for (;;)
    {
      ssize_t n = read (STDIN_FILENO, chunk, sizeof chunk);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int e = errno;

          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e), "standard input: %s", g_strerror (e));
          return FALSE;
        }
      if (n == 0)
        return TRUE;
      if (fd >= 0 && !cli_write_all (fd, chunk, n))
        {
          int e = errno;

          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e), "write: %s", g_strerror (e));
          return FALSE;
        }
    }
}

int
cli_exit_for_error (const GError *error)
{
  if (error->domain == BOUNCE_ERROR)
    switch (error->code)
      {
      case BOUNCE_ERROR_PARSE:
      case BOUNCE_ERROR_LIMIT:
        return EX_DATAERR;
      case BOUNCE_ERROR_RULES:
      case BOUNCE_ERROR_CONFIG:
        return EX_CONFIG;
      case BOUNCE_ERROR_LOCKED:
        return EX_TEMPFAIL;
      case BOUNCE_ERROR_IO:
        return EX_NOINPUT;
      default:
        return EX_SOFTWARE;
      }
  if (error->domain == G_FILE_ERROR)
    return error->code == G_FILE_ERROR_NOENT || error->code == G_FILE_ERROR_ACCES ? EX_NOINPUT : EX_IOERR;
  return EX_IOERR;
}

/* cli_escape_append: @s as it may go to a terminal, appended to @out.
 * Text output carries what a bounce says (reporting MTA, Message-ID,
 * names, diagnostics, attachment names): every control character, line
 * break and direction override in it is written as an escape (\n, \r,
 * \t, \xHH, \u{HHHH}), a backslash as \\, and bytes that are not UTF-8
 * as \xHH, so that a message can neither steer the terminal nor print a
 * line of its own. NULL appends nothing. */
void
cli_escape_append (GString *out, const char *s)
{
  if (s == NULL)
    return;
  while (*s)
    {
      gunichar c = g_utf8_get_char_validated (s, -1);
      const char *next;

      if (c == (gunichar) -1 || c == (gunichar) -2)
        {
          g_string_append_printf (out, "\\x%02x", (guchar) *s++);
          continue;
        }
      next = g_utf8_next_char (s);
      if (c == '\n')
        g_string_append (out, "\\n");
      else if (c == '\r')
        g_string_append (out, "\\r");
      else if (c == '\t')
        g_string_append (out, "\\t");
      else if (c == '\\')
        g_string_append (out, "\\\\");
      else if (c < 0x20 || c == 0x7f)
        g_string_append_printf (out, "\\x%02x", c);
      else if ((c >= 0x80 && c < 0xa0) || c == 0x2028 || c == 0x2029 || (c >= 0x202a && c <= 0x202e)
               || (c >= 0x2066 && c <= 0x2069) || c == 0x200e || c == 0x200f || c == 0x061c)
        g_string_append_printf (out, "\\u{%04x}", c);
      else
        g_string_append_len (out, s, next - s);
      s = next;
    }
}

/* cli_escape: @s escaped as cli_escape_append() does; "" for NULL. */
char *
cli_escape (const char *s)
{
  GString *out = g_string_new (NULL);

  cli_escape_append (out, s);
  return g_string_free (out, FALSE);
}

/* cli_print_error: "backscatter: SOURCE: MESSAGE" on stderr, escaped. */
void
cli_print_error (const char *source, const char *message)
{
  g_autofree char *src = cli_escape (source), *msg = cli_escape (message);

  fprintf (stderr, "backscatter: %s: %s\n", src, msg);
}

/* The start of a JSON line: an object, open, with the source first, then
 * the report's members and the judgement's, those that are given. The
 * caller adds its own members and ends it with cli_json_print(). */
/* The writer of the last line printed by this thread, kept for the next:
 * a new writer's buffer is the first large allocation after a report's
 * objects are freed, where the allocator stops to tidy up. */
static GPrivate spare_writer = G_PRIVATE_INIT ((GDestroyNotify) bounce_json_writer_free);

BounceJsonWriter *
cli_json_begin (const char *source, BounceReport *report, BounceJudgement *judgement)
{
  BounceJsonWriter *w = g_private_get (&spare_writer);

  if (w)
    g_private_set (&spare_writer, NULL);
  else
    w = bounce_json_writer_new ();

  bounce_json_writer_begin_object (w);
  cli_json_member (w, "source", source);
  if (report)
    bounce_report_write_json (report, w);
  if (judgement)
    bounce_judgement_write_json (judgement, w);
  return w;
}

/* A member with a string value (null for NULL). */
void
cli_json_member (BounceJsonWriter *w, const char *name, const char *value)
{
  bounce_json_writer_key (w, name);
  bounce_json_writer_string (w, value);
}

/* Ends the object begun by cli_json_begin() and prints it on one line;
 * @w is the caller's no more. */
void
cli_json_print (BounceJsonWriter *w)
{
  gsize len;
  const char *text;

  bounce_json_writer_end_object (w);
  text = bounce_json_writer_get_text (w, &len);
  fwrite (text, 1, len, stdout);
  fputc ('\n', stdout);
  if (len > 64 * 1024)
    bounce_json_writer_free (w); /* a rare long line's buffer is not kept */
  else
    {
      bounce_json_writer_reset (w);
      g_private_replace (&spare_writer, w);
    }
}

/* One JSON object on one line: source first, then the report's fields, or
 * an error. */
void
cli_print_json (const char *source, BounceReport *report, BounceJudgement *judgement, const char *error_message)
{
  BounceJsonWriter *w = cli_json_begin (source, report, judgement);

  if (error_message)
    cli_json_member (w, "error", error_message);
  cli_json_print (w);
}

/* cli_print_text: the text for people; everything that comes from the
 * message is escaped (cli_escape_append). */
void
cli_print_text (const char *source, BounceReport *report, BounceJudgement *judgement, BounceRules *rules,
                gboolean explain)
{
  BounceKind kind = bounce_report_get_kind (report);
  BounceOriginal *o = bounce_report_get_original (report);
  guint n = bounce_report_get_n_recipients (report);
  GString *t = g_string_sized_new (1024);

  cli_escape_append (t, source);
  g_string_append (t, ": ");
  if (judgement && kind != BOUNCE_KIND_NOT_BOUNCE)
    {
      BounceVerdict v = bounce_judgement_get_verdict (judgement);

      g_string_append_printf (t, "%s (score %g", bounce_verdict_to_string (v), bounce_judgement_get_score (judgement));
      /* The bar it had to pass, beside the score. */
      if (rules && v == BOUNCE_VERDICT_BACKSCATTER)
        g_string_append_printf (t, "; backscatter at %g or more",
                                bounce_rules_get_weight (rules, "threshold-backscatter", 0));
      else if (rules && v == BOUNCE_VERDICT_LEGITIMATE)
        g_string_append_printf (t, "; legitimate at %g or less",
                                bounce_rules_get_weight (rules, "threshold-legitimate", 0));
      else if (rules)
        g_string_append_printf (t, "; legitimate at %g or less, backscatter at %g or more",
                                bounce_rules_get_weight (rules, "threshold-legitimate", 0),
                                bounce_rules_get_weight (rules, "threshold-backscatter", 0));
      g_string_append (t, "), ");
    }
  g_string_append (t, bounce_kind_to_string (kind));
  if (bounce_report_get_format (report))
    {
      g_string_append (t, " [");
      cli_escape_append (t, bounce_report_get_format (report));
      g_string_append (t, "]");
    }
  if (bounce_report_get_reporting_mta (report))
    {
      g_string_append (t, " from ");
      cli_escape_append (t, bounce_report_get_reporting_mta (report));
    }
  g_string_append_c (t, '\n');
  if (kind == BOUNCE_KIND_NOT_BOUNCE)
    {
      if (explain && bounce_report_get_not_report_reason (report))
        g_string_append_printf (t, "  not a report: %s\n", bounce_report_get_not_report_reason (report));
      goto out;
    }
  if (explain)
    {
      const char *const *s = bounce_report_get_signals (report);

      if (s[0])
        g_string_append (t, "  recognised by: ");
      for (guint i = 0; s[i]; i++)
        {
          if (i > 0)
            g_string_append (t, "; ");
          cli_escape_append (t, s[i]);
        }
      if (s[0])
        g_string_append_c (t, '\n');
    }
  for (guint i = 0; i < n; i++)
    {
      BounceRecipient *r = bounce_report_get_recipient (report, i);
      int perm = bounce_recipient_get_permanent (r);

      g_string_append (t, "  ");
      cli_escape_append (t, bounce_recipient_get_action (r));
      g_string_append_c (t, ' ');
      cli_escape_append (t, bounce_recipient_get_address (r));
      g_string_append (t, ": ");
      cli_escape_append (t, bounce_recipient_get_reason (r));
      if (bounce_recipient_get_status (r))
        {
          g_string_append_c (t, ' ');
          cli_escape_append (t, bounce_recipient_get_status (r));
        }
      if (bounce_recipient_get_reply_code (r))
        {
          g_string_append_c (t, ' ');
          cli_escape_append (t, bounce_recipient_get_reply_code (r));
        }
      g_string_append_printf (t, "%s\n", perm == 1 ? " (permanent)" : perm == 0 ? " (temporary)" : "");
      if (explain && bounce_recipient_get_diagnostic (r))
        {
          g_string_append (t, "    ");
          cli_escape_append (t, bounce_recipient_get_diagnostic (r));
          g_string_append_c (t, '\n');
        }
    }
  if (o)
    {
      g_string_append (t, "  original: ");
      cli_escape_append (t, bounce_original_get_message_id (o) ?: "(no Message-ID)");
      if (bounce_original_get_from (o))
        {
          g_string_append (t, " from ");
          cli_escape_append (t, bounce_original_get_from (o));
        }
      g_string_append (t, " [");
      cli_escape_append (t, bounce_original_get_carried_as (o));
      g_string_append (t, "]\n");
      for (guint i = 0; i < bounce_original_get_n_attachments (o); i++)
        {
          const BounceAttachment *a = bounce_original_get_attachment (o, i);

          if (!a->risky)
            continue;
          g_string_append (t, "  risky attachment: ");
          cli_escape_append (t, a->name ?: "(no name)");
          g_string_append (t, " (");
          cli_escape_append (t, a->content_type);
          g_string_append (t, ")\n");
        }
    }
  else if (bounce_report_get_header (report, "In-Reply-To"))
    {
      g_string_append (t, "  in reply to: ");
      cli_escape_append (t, bounce_report_get_header (report, "In-Reply-To"));
      g_string_append_c (t, '\n');
    }
  else
    g_string_append (t, "  original: none came back\n");
  for (const char *const *w = bounce_report_get_warnings (report); *w; w++)
    {
      g_string_append (t, "  warning: ");
      cli_escape_append (t, *w);
      g_string_append_c (t, '\n');
    }
  if (explain && judgement)
    for (guint i = 0; i < bounce_judgement_get_n_evidence (judgement); i++)
      {
        const BounceEvidence *e = bounce_judgement_get_evidence (judgement, i);

        g_string_append_printf (t, "  %+5.1f %-26s ", e->weight, e->rule);
        cli_escape_append (t, e->detail);
        g_string_append_c (t, '\n');
      }
out:
  fwrite (t->str, 1, t->len, stdout);
  g_string_free (t, TRUE);
}

/* ---- the progress line ------------------------------------------------------ */

/* The messages of the Maildir @path: the files of its cur/ and new/ (and
 * of its Maildir++ subfolders when @recursive, but those named in @skip). */
static guint
count_maildir (const char *path, gboolean recursive, const char *const *skip)
{
  static const char *const subs[] = { "cur", "new" };
  guint n = 0;

  for (guint i = 0; i < G_N_ELEMENTS (subs); i++)
    {
      g_autofree char *sub = g_build_filename (path, subs[i], NULL);
      g_autoptr (GDir) d = g_dir_open (sub, 0, NULL);
      const char *name;

      while (d && (name = g_dir_read_name (d)))
        if (name[0] != '.')
          n++;
    }
  if (recursive)
    {
      g_autoptr (GDir) d = g_dir_open (path, 0, NULL);
      const char *name;

      while (d && (name = g_dir_read_name (d)))
        {
          g_autofree char *sub = g_build_filename (path, name, NULL);
          g_autofree char *cur = g_build_filename (sub, "cur", NULL);

          if (name[0] != '.' || strcmp (name, "..") == 0 || strcmp (name, ".") == 0
              || (skip && g_strv_contains (skip, name + 1)) || !g_file_test (cur, G_FILE_TEST_IS_DIR))
            continue;
          n += count_maildir (sub, FALSE, NULL);
        }
    }
  return n;
}

/* cli_progress_start: a progress line for the mailbox @path, shown only
 * when @p->on (set by the caller: standard error is a terminal). A
 * Maildir's messages are counted first, an mbox's size read, so that the
 * line can say how far along the run is. */
void
cli_progress_start (CliProgress *p, const char *verb, const char *path, gboolean recursive, const char *const *skip)
{
  struct stat st;

  g_clear_pointer (&p->path, g_free);
  g_clear_pointer (&p->more, g_free);
  p->verb = verb;
  p->total = 0;
  p->size = 0;
  p->done = 0;
  p->offset = 0;
  p->last = 0;
  if (!p->on)
    return;
  p->path = cli_escape (path);
  p->started = g_get_monotonic_time ();
  if (stat (path, &st) == 0 && S_ISDIR (st.st_mode))
    p->total = count_maildir (path, recursive, skip);
  else if (stat (path, &st) == 0 && S_ISREG (st.st_mode))
    p->size = st.st_size;
}

/* cli_progress_update: draws the line: messages done (of how many, or how
 * far into the mbox), what the caller adds (@p->more), the rate and the
 * time left. At most five times a second, unless @now. */
void
cli_progress_update (CliProgress *p, gboolean now)
{
  gint64 t;
  double secs, frac = 0;
  GString *line;

  if (!p->on || p->path == NULL)
    return;
  t = g_get_monotonic_time ();
  if (!now && p->last && t - p->last < G_USEC_PER_SEC / 5)
    return;
  p->last = t;
  secs = (t - p->started) / (double) G_USEC_PER_SEC;
  line = g_string_new (NULL);
  g_string_append_printf (line, "\r\033[K%s %s: %u", p->verb, p->path, p->done);
  if (p->total)
    {
      g_string_append_printf (line, " of %u", MAX (p->total, p->done));
      frac = MIN (1.0, p->done / (double) p->total);
    }
  g_string_append (line, (p->total ? MAX (p->total, p->done) : p->done) == 1 ? " message" : " messages");
  if (p->size)
    {
      frac = MIN (1.0, p->offset / (double) p->size);
      g_string_append_printf (line, " (%d%%)", (int) (frac * 100));
    }
  if (p->more)
    g_string_append (line, p->more);
  /* A rate and the time left once there is something to measure. */
  if (secs >= 1 && p->done > 0)
    {
      g_string_append_printf (line, ", %.0f a second", p->done / secs);
      if (frac > 0 && frac < 1)
        g_string_append_printf (line, ", %.0f s left", secs * (1 - frac) / frac);
    }
  fputs (line->str, stderr);
  fflush (stderr);
  g_string_free (line, TRUE);
}

/* cli_progress_clear: takes the line away (before another line is
 * printed to the terminal: draw it again after with
 * cli_progress_update (p, TRUE)). */
void
cli_progress_clear (CliProgress *p)
{
  if (!p->on || p->path == NULL || p->last == 0)
    return;
  fputs ("\r\033[K", stderr);
  fflush (stderr);
}

/* cli_progress_end: clears the line for good. */
void
cli_progress_end (CliProgress *p)
{
  cli_progress_clear (p);
  p->last = 0;
  g_clear_pointer (&p->path, g_free);
  g_clear_pointer (&p->more, g_free);
}

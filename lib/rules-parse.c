/* rules-parse.c — read rule files into a rule set.
 *
 * One statement a line; rules/README.md gives the language. Each keyword
 * has its handler in the table below, which also says whether it belongs
 * inside a `format` block or outside one. Patterns are checked here,
 * case-insensitive and multi-line. A mistake stops the load with
 * BOUNCE_ERROR_RULES and the message "FILE:LINE: what is wrong".
 */
#include "rules-private.h"

#include <errno.h>
#include <glib/gstdio.h>

#include <string.h>

static const char *const known_reasons[] = {
  "userunknown",
  "mailboxfull",
  "hostunknown",
  "blocked",
  "spamdetected",
  "virusdetected",
  "policyviolation",
  "expired",
  "mesgtoobig",
  "exceedlimit",
  "norelaying",
  "systemerror",
  "systemfull",
  "networkerror",
  "suspend",
  "rejected",
  "filtered",
  "securityerror",
  "authfailure",
  "badreputation",
  "requireptr",
  "toomanyconn",
  "speeding",
  "notaccept",
  "notcompliantrfc",
  "contenterror",
  "syntaxerror",
  "mailererror",
  "hasmoved",
  "failedstarttls",
  "suppressed",
  "onhold",
  "undefined",
  "vacation",
  "feedback",
  "delivered",
  NULL,
};

/* Where the reading is: the file and line errors name, the set read
 * into, and the format block open (NULL outside one). */
typedef struct
{
  const char *file;
  int line;
  GError **error;
  BounceRules *rules;
  gboolean user;
  BounceFormatRule *cur;
  int cur_line;
} Ctx;

static gboolean fail (Ctx *ctx, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static gboolean
fail (Ctx *ctx, const char *fmt, ...)
{
  va_list ap;
  g_autofree char *msg = NULL;

  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (ctx->error, BOUNCE_ERROR, BOUNCE_ERROR_RULES, "%s:%d: %s", ctx->file, ctx->line, msg);
  return FALSE;
}

static BouncePattern *
compile (Ctx *ctx, const char *pattern)
{
  g_autoptr (GError) err = NULL;
  BouncePattern *p;
  GRegex *re;

  if (*pattern == '\0')
    {
      fail (ctx, "a pattern is missing");
      return NULL;
    }
  /* Files checked before (bounce_rules_set_checked()): compiled the first
   * time the pattern runs. */
  re = ctx->rules->checked ? NULL : g_regex_new (pattern, PATTERN_FLAGS, 0, &err);
  if (re == NULL && !ctx->rules->checked)
    {
      fail (ctx, "bad pattern: %s", err->message);
      return NULL;
    }
  p = bounce_pattern_new (pattern, PATTERN_FLAGS);
  p->re = re;
  return p;
}

/* A Test of @pattern; with @words, its alternatives get the prefilter's
 * words. NULL (and the error set) when the pattern is bad. */
static Test *
test_new (Ctx *ctx, BounceRules *rules, const char *pattern, gboolean words)
{
  BouncePattern *whole = compile (ctx, pattern);
  g_auto (GStrv) split = NULL;
  Test *t;

  if (whole == NULL)
    return NULL;
  t = g_new0 (Test, 1);
  t->whole = whole;
  split = words ? bounce_pattern_split (pattern) : NULL;
  t->n = split ? g_strv_length (split) : 1;
  t->alts = g_new0 (BouncePattern *, t->n);
  t->words = g_new0 (guint *, t->n);
  for (guint i = 0; split && i < t->n; i++)
    {
      t->alts[i] = bounce_pattern_new (split[i], PATTERN_FLAGS);
      t->alts[i]->whole = whole;
    }
  if (split == NULL)
    t->alts[0] = whole;
  if (words)
    for (guint i = 0; i < t->n; i++)
      t->words[i] = bounce_prefilter_add_pattern (rules->prefilter, t->alts[i]->source);
  return t;
}

static gboolean
valid_reason (const char *name)
{
  return g_strv_contains (known_reasons, name);
}

static gboolean
valid_status_pattern (const char *code)
{
  char c0 = code[0];
  const char *p = code + 1;
  int n;

  if (!(c0 == '2' || c0 == '4' || c0 == '5' || c0 == 'X' || c0 == 'x'))
    return FALSE;
  for (int part = 0; part < 2; part++)
    {
      if (*p++ != '.')
        return FALSE;
      for (n = 0; g_ascii_isdigit (p[n]); n++)
        ;
      if (n == 0 || n > 3)
        return FALSE;
      p += n;
    }
  return *p == '\0';
}

/* Whether a pattern holds an unbounded wildcard that crosses lines: a
 * dot in (?s) mode, or [\s\S], followed by * or +. A recipient pattern
 * like that searches the rest of the report from every recipient, which
 * costs recipients × length. */
static gboolean
reaches_forward (const char *pattern)
{
  static const char *const any[] = { "[\\s\\S]", "[\\S\\s]", NULL };

  for (const char *p = strstr (pattern, "(?s"); p && *p; p++)
    if (*p == '\\' && p[1])
      p++;
    else if (*p == '.' && (p[1] == '*' || p[1] == '+'))
      return TRUE;
  for (guint i = 0; any[i]; i++)
    for (const char *p = strstr (pattern, any[i]); p; p = strstr (p + 1, any[i]))
      {
        char next = p[strlen (any[i])];

        if (next == '*' || next == '+')
          return TRUE;
      }
  return FALSE;
}

/* Split "word rest" at the first run of white space. */
static void
split_word (char *s, char **word, char **rest)
{
  char *p = s;

  while (*p && !g_ascii_isspace (*p))
    p++;
  *word = s;
  if (*p)
    {
      *p++ = '\0';
      while (g_ascii_isspace (*p))
        p++;
    }
  *rest = p;
}

static int
cond_cost (gconstpointer a, gconstpointer b)
{
  const Cond *x = *(const Cond **) a, *y = *(const Cond **) b;

  /* Header tests first: a body test scans the whole report text. */
  return (x->where == COND_BODY) - (y->where == COND_BODY);
}

static gboolean
finish_format (Ctx *ctx, BounceFormatRule *r, int line)
{
  int here = ctx->line;

  if (r != NULL && r->conds->len > 1)
    g_ptr_array_sort (r->conds, cond_cost);
  if (r == NULL || r->conds->len > 0)
    return TRUE;
  ctx->line = line;
  fail (ctx, "format %s has no condition (from, subject, header or body)", r->name);
  ctx->line = here;
  return FALSE;
}

/* ---- statements ---------------------------------------------------------
 * Each handler gets the statement's argument (its text after the keyword,
 * which it may cut up) and the keyword's entry in the table below. */

typedef struct _Statement Statement;
typedef gboolean (*StatementFunc) (Ctx *ctx, const Statement *st, char *arg);

typedef enum
{
  SCOPE_ANY,    /* the handler decides */
  SCOPE_TOP,    /* outside a format block */
  SCOPE_FORMAT, /* inside a format block */
} Scope;

/* Which list of a format rule a pattern statement adds to. */
typedef enum
{
  LIST_DIAGNOSTICS,
  LIST_FOLLOWS,
  LIST_ORIGINALS,
} PatternList;

struct _Statement
{
  const char *word;
  Scope scope;
  StatementFunc func;
  int where;       /* COND_*, or a PatternList, as the handler reads it */
  gboolean negate; /* a not- condition */
};

static gboolean
st_format (Ctx *ctx, const Statement *st, char *arg)
{
  BounceFormatRule *cur;

  if (!finish_format (ctx, ctx->cur, ctx->cur_line))
    return FALSE;
  if (*arg == '\0' || strpbrk (arg, " \t"))
    return fail (ctx, "format takes one name");
  cur = g_new0 (BounceFormatRule, 1);
  cur->name = g_strdup (arg);
  cur->file = g_strdup (ctx->file);
  cur->line = ctx->line;
  cur->kind = BOUNCE_KIND_FAILURE;
  cur->conds = g_ptr_array_new_with_free_func (bounce_rule_cond_free);
  cur->recipients = g_ptr_array_new_with_free_func (bounce_pattern_free);
  cur->diagnostics = g_ptr_array_new_with_free_func (bounce_pattern_free);
  cur->follows = g_ptr_array_new_with_free_func (bounce_pattern_free);
  cur->originals = g_ptr_array_new_with_free_func (bounce_pattern_free);
  g_ptr_array_add (ctx->user ? ctx->rules->user_formats : ctx->rules->formats, cur);
  ctx->cur = cur;
  ctx->cur_line = ctx->line;
  return TRUE;
}

/* "reason NAME PATTERN" stands alone and ends a format block;
 * "reason NAME" inside one names the reason of the format's failures. */
static gboolean
st_reason (Ctx *ctx, const Statement *st, char *arg)
{
  char *name, *pattern;
  ReasonRule *rr;
  Test *test;

  if (!strpbrk (arg, " \t"))
    {
      if (ctx->cur == NULL)
        return fail (ctx, "'%s' outside a format block (or an unknown statement)", st->word);
      if (!valid_reason (arg))
        return fail (ctx, "unknown reason '%s'", arg);
      g_free (ctx->cur->reason);
      ctx->cur->reason = g_strdup (arg);
      return TRUE;
    }
  if (!finish_format (ctx, ctx->cur, ctx->cur_line))
    return FALSE;
  ctx->cur = NULL;
  split_word (arg, &name, &pattern);
  if (!valid_reason (name))
    return fail (ctx, "unknown reason '%s'", name);
  if ((test = test_new (ctx, ctx->rules, pattern, TRUE)) == NULL)
    return FALSE;
  rr = g_new0 (ReasonRule, 1);
  rr->reason = g_strdup (name);
  rr->test = test;
  g_ptr_array_add (ctx->user ? ctx->rules->user_reasons : ctx->rules->reasons, rr);
  return TRUE;
}

static gboolean
st_status_reason (Ctx *ctx, const Statement *st, char *arg)
{
  char *code, *name;

  split_word (arg, &code, &name);
  if (!valid_status_pattern (code))
    return fail (ctx, "'%s' is not a status code such as 5.1.1 or X.1.1", code);
  if (!valid_reason (name))
    return fail (ctx, "unknown reason '%s'", name);
  if (code[0] == 'x')
    code[0] = 'X';
  g_hash_table_replace (ctx->rules->status_reasons, g_strdup (code), g_strdup (name));
  return TRUE;
}

static gboolean
st_weight (Ctx *ctx, const Statement *st, char *arg)
{
  char *name, *value, *end = NULL;
  double v;

  split_word (arg, &name, &value);
  v = g_ascii_strtod (value, &end);
  if (*name == '\0' || *value == '\0' || end == value || *end != '\0')
    return fail (ctx, "weight takes a name and a number");
  g_hash_table_replace (ctx->rules->weights, g_strdup (name), g_memdup2 (&v, sizeof v));
  return TRUE;
}

static gboolean
st_kind (Ctx *ctx, const Statement *st, char *arg)
{
  if (!bounce_kind_from_string (arg, &ctx->cur->kind))
    return fail (ctx, "unknown kind '%s'", arg);
  return TRUE;
}

/* from, subject, body, header NAME, and their not- forms. The header's
 * name is kept in lower case: GMime and the triage look names up without
 * regard to case. */
static gboolean
st_condition (Ctx *ctx, const Statement *st, char *arg)
{
  g_autofree char *header = NULL;
  Cond *c;
  Test *test;

  if (st->where == COND_HEADER)
    {
      char *name, *pattern;

      split_word (arg, &name, &pattern);
      if (*name == '\0' || *pattern == '\0')
        return fail (ctx, "header takes a header name and a pattern");
      if (name[strlen (name) - 1] == ':')
        name[strlen (name) - 1] = '\0';
      header = g_ascii_strdown (name, -1);
      g_hash_table_add (ctx->rules->header_names, g_strdup (header));
      arg = pattern;
    }
  if ((test = test_new (ctx, ctx->rules, arg, st->where != COND_HEADER)) == NULL)
    return FALSE;
  c = g_new0 (Cond, 1);
  c->where = st->where;
  c->negate = st->negate;
  c->header = g_steal_pointer (&header);
  c->test = test;
  g_ptr_array_add (ctx->cur->conds, c);
  return TRUE;
}

static gboolean
st_recipient (Ctx *ctx, const Statement *st, char *arg)
{
  BouncePattern *re;

  if (reaches_forward (arg))
    return fail (ctx, "a recipient pattern may not reach forward without bound "
                      "(each match would search the rest of the report): "
                      "use diagnostic-after");
  if ((re = compile (ctx, arg)) == NULL)
    return FALSE;
  if (!ctx->rules->checked && g_regex_get_string_number (re->re, "addr") < 0)
    {
      bounce_pattern_free (re);
      return fail (ctx, "a recipient pattern needs a group (?<addr>...)");
    }
  g_ptr_array_add (ctx->cur->recipients, re);
  return TRUE;
}

/* diagnostic, diagnostic-after, original */
static gboolean
st_pattern (Ctx *ctx, const Statement *st, char *arg)
{
  GPtrArray *lists[] = {
    [LIST_DIAGNOSTICS] = ctx->cur->diagnostics,
    [LIST_FOLLOWS] = ctx->cur->follows,
    [LIST_ORIGINALS] = ctx->cur->originals,
  };
  BouncePattern *re = compile (ctx, arg);

  if (re == NULL)
    return FALSE;
  g_ptr_array_add (lists[st->where], re);
  return TRUE;
}

/* errors-start, errors-end: once each */
static gboolean
st_errors_bound (Ctx *ctx, const Statement *st, char *arg)
{
  BouncePattern **slot = st->where == 0 ? &ctx->cur->errors_start : &ctx->cur->errors_end;

  if (*slot)
    return fail (ctx, "%s is given twice", st->word);
  return (*slot = compile (ctx, arg)) != NULL;
}

static gboolean
st_status (Ctx *ctx, const Statement *st, char *arg)
{
  if (!valid_status_pattern (arg) || arg[0] == 'X' || arg[0] == 'x')
    return fail (ctx, "'%s' is not a status code such as 5.0.0", arg);
  g_free (ctx->cur->status);
  ctx->cur->status = g_strdup (arg);
  return TRUE;
}

static gboolean
st_samples (Ctx *ctx, const Statement *st, char *arg)
{
  if (*arg == '\0')
    return fail (ctx, "samples takes one or more file names");
  /* The names, between runs of blanks (the line is stripped). Not with a
   * regular expression: compiling one for each format would cost more
   * than the rest of its block. */
  {
    g_auto (GStrv) parts = g_strsplit_set (arg, " \t\v\f\r", -1);
    g_autoptr (GStrvBuilder) names = g_strv_builder_new ();

    for (guint i = 0; parts[i]; i++)
      if (*parts[i])
        g_strv_builder_add (names, parts[i]);
    g_strfreev (ctx->cur->samples);
    ctx->cur->samples = g_strv_builder_end (names);
  }
  return TRUE;
}

static const Statement statements[] = {
  { "format", SCOPE_ANY, st_format },
  { "reason", SCOPE_ANY, st_reason },
  { "status-reason", SCOPE_TOP, st_status_reason },
  { "weight", SCOPE_TOP, st_weight },
  { "kind", SCOPE_FORMAT, st_kind },
  { "from", SCOPE_FORMAT, st_condition, COND_FROM, FALSE },
  { "subject", SCOPE_FORMAT, st_condition, COND_SUBJECT, FALSE },
  { "body", SCOPE_FORMAT, st_condition, COND_BODY, FALSE },
  { "header", SCOPE_FORMAT, st_condition, COND_HEADER, FALSE },
  { "not-from", SCOPE_FORMAT, st_condition, COND_FROM, TRUE },
  { "not-subject", SCOPE_FORMAT, st_condition, COND_SUBJECT, TRUE },
  { "not-body", SCOPE_FORMAT, st_condition, COND_BODY, TRUE },
  { "not-header", SCOPE_FORMAT, st_condition, COND_HEADER, TRUE },
  { "recipient", SCOPE_FORMAT, st_recipient },
  { "diagnostic", SCOPE_FORMAT, st_pattern, LIST_DIAGNOSTICS },
  { "diagnostic-after", SCOPE_FORMAT, st_pattern, LIST_FOLLOWS },
  { "original", SCOPE_FORMAT, st_pattern, LIST_ORIGINALS },
  { "errors-start", SCOPE_FORMAT, st_errors_bound, 0 },
  { "errors-end", SCOPE_FORMAT, st_errors_bound, 1 },
  { "status", SCOPE_FORMAT, st_status },
  { "samples", SCOPE_FORMAT, st_samples },
};

static const Statement *
find_statement (const char *word)
{
  for (guint i = 0; i < G_N_ELEMENTS (statements); i++)
    if (strcmp (statements[i].word, word) == 0)
      return &statements[i];
  return NULL;
}

static gboolean
parse_rules (Ctx *ctx, char *data)
{
  char *line, *next;

  ctx->line = 0;
  for (line = data; line; line = next)
    {
      const Statement *st;
      char *word, *arg;

      next = strchr (line, '\n');
      if (next)
        *next++ = '\0';
      ctx->line++;
      g_strstrip (line);
      if (*line == '\0' || *line == '#')
        continue;
      if (!g_utf8_validate (line, -1, NULL))
        return fail (ctx, "the line is not valid UTF-8");
      split_word (line, &word, &arg);
      st = find_statement (word);
      if (st && st->scope == SCOPE_TOP && ctx->cur != NULL)
        return fail (ctx, "%s belongs outside a format block", word);
      if ((st == NULL || st->scope == SCOPE_FORMAT) && ctx->cur == NULL)
        return fail (ctx, "'%s' outside a format block (or an unknown statement)", word);
      if (st == NULL)
        return fail (ctx, "unknown statement '%s'", word);
      if (!st->func (ctx, st, arg))
        return FALSE;
    }
  return finish_format (ctx, ctx->cur, ctx->cur_line);
}

/**
 * bounce_rules_load_data:
 * @rules: the rule set
 * @name: the file name to use in error messages
 * @data: the text of a rule file
 * @length: its length, or -1 if NUL-terminated
 * @user: whether these are the user's rules (tried before installed ones)
 * @error: BOUNCE_ERROR_RULES, "NAME:LINE: what is wrong"
 *
 * Returns: TRUE when the whole text was loaded. On error, rules loaded from
 * the text before the faulty line stay loaded: discard the set.
 */
gboolean
bounce_rules_load_data (BounceRules *rules, const char *name, const char *data, gssize length, gboolean user,
                        GError **error)
{
  Ctx ctx = { name, 0, error, rules, user, NULL, 0 };
  g_autofree char *copy = length < 0 ? g_strdup (data) : g_strndup (data, length);

  if (length >= 0 && memchr (data, '\0', length))
    return fail (&ctx, "the file holds a NUL byte");
  return parse_rules (&ctx, copy);
}

/* Calls @fn on each `*.rules` file below @dir, in name order, folders
 * included where their names fall; stops at the first that fails. */
typedef gboolean (*RulesFileFunc) (const char *path, gpointer data, GError **error);

static gboolean
each_rules_file (const char *dir, RulesFileFunc fn, gpointer data, GError **error)
{
  g_autoptr (GDir) d = NULL;
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) err = NULL;
  const char *name;

  d = g_dir_open (dir, 0, &err);
  if (d == NULL)
    {
      g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_IO, "%s: %s", dir, err->message);
      return FALSE;
    }
  while ((name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, bounce_compare_strings);
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *path = g_build_filename (dir, g_ptr_array_index (names, i), NULL);

      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        {
          if (!each_rules_file (path, fn, data, error))
            return FALSE;
          continue;
        }
      if (g_str_has_suffix (path, ".rules") && !fn (path, data, error))
        return FALSE;
    }
  return TRUE;
}

typedef struct
{
  BounceRules *rules;
  gboolean user;
} LoadDir;

static gboolean
load_file (const char *path, gpointer data, GError **error)
{
  LoadDir *ld = data;
  g_autofree char *text = NULL;
  g_autoptr (GError) err = NULL;
  gsize len;

  if (!g_file_get_contents (path, &text, &len, &err))
    {
      g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_IO, "%s", err->message);
      return FALSE;
    }
  return bounce_rules_load_data (ld->rules, path, text, len, ld->user, error);
}

/**
 * bounce_rules_load_dir:
 * @rules: the rule set
 * @dir: a folder of `*.rules` files (read in name order; sub-folders too)
 * @user: whether these are the user's rules
 * @error: BOUNCE_ERROR_RULES for a faulty file, BOUNCE_ERROR_IO when @dir
 *   cannot be read
 *
 * Returns: TRUE on success.
 */
gboolean
bounce_rules_load_dir (BounceRules *rules, const char *dir, gboolean user, GError **error)
{
  LoadDir ld = { rules, user };

  return each_rules_file (dir, load_file, &ld, error);
}

static gboolean
stamp_file (const char *path, gpointer data, GError **error)
{
  GString *out = data;
  GStatBuf st;

  if (g_stat (path, &st) != 0)
    {
      g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_IO, "%s: %s", path, g_strerror (errno));
      return FALSE;
    }
  g_string_append_printf (out,
                          "%s %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GINT64_FORMAT ".%09ld %" G_GINT64_FORMAT
                          ".%09ld\n",
                          path, (guint64) st.st_ino, (guint64) st.st_size, (gint64) st.st_mtim.tv_sec,
                          (long) st.st_mtim.tv_nsec, (gint64) st.st_ctim.tv_sec, (long) st.st_ctim.tv_nsec);
  return TRUE;
}

/**
 * bounce_rules_dir_stamp:
 * @dir: a folder of rule files, as for bounce_rules_load_dir()
 * @error: BOUNCE_ERROR_IO when @dir or a file in it cannot be read
 *
 * A text that changes whenever a rule file bounce_rules_load_dir() would
 * read in @dir changes: one line a file with its path, inode, size and
 * times of change. A program that keeps the stamp of rules it loaded and
 * checked may load them again unchecked (bounce_rules_set_checked()) while
 * the stamp is the same.
 *
 * Returns: (transfer full) (nullable): the stamp, or NULL with @error set.
 */
char *
bounce_rules_dir_stamp (const char *dir, GError **error)
{
  g_autoptr (GString) out = g_string_new (NULL);

  if (!each_rules_file (dir, stamp_file, out, error))
    return NULL;
  return g_string_free (g_steal_pointer (&out), FALSE);
}

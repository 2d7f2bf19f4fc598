/* rules.c — load the rule files of rules/ and apply them.
 *
 * A rule file is a list of statements, one a line (rules/README.md gives
 * the language): `format` blocks that recognise a kind of report and say
 * where its recipients, diagnostics and returned original are; `reason`
 * and `status-reason` lines that name the cause of a failure; `weight`
 * lines that set how much each piece of evidence counts for the judge.
 *
 * Patterns are compiled once, when the file is loaded, case-insensitive
 * and multi-line. A mistake stops the load with BOUNCE_ERROR_RULES and the
 * message "FILE:LINE: what is wrong".
 */
#include "bounce-private.h"

#include <stdlib.h>
#include <string.h>

typedef enum
{
  COND_FROM,
  COND_SUBJECT,
  COND_HEADER,
  COND_BODY,
} CondWhere;

/* A rule's regular expression: checked when the rules are read, and
 * compiled again for speed (PCRE2's JIT) the first time it is run, since
 * most are never run in a given scan. An alternative cut from a checked
 * pattern (see Test) is compiled only then. */
typedef struct _Pattern Pattern;
struct _Pattern
{
  char *source;
  GRegex *re; /* the checked one, then the fast one; NULL until then for an alternative */
  gsize fast;
  Pattern *whole; /* an alternative: the pattern it was cut from */
};

/* A pattern that only says whether a text matches. It is run as its
 * top-level alternatives, when they can stand alone (prefilter.c), each
 * only when the text holds one of that alternative's words: most texts
 * hold the words of few. */
typedef struct
{
  Pattern *whole;
  guint n;
  Pattern **alts;
  guint **words; /* the prefilter's words of each, or NULL: always run it */
} Test;

typedef struct
{
  CondWhere where;
  gboolean negate;
  char *header;
  Test *test;
} Cond;

struct _BounceFormatRule
{
  char *name;
  char *file;
  int line;
  BounceKind kind;
  GPtrArray *conds;       /* Cond */
  GPtrArray *recipients;  /* Pattern */
  GPtrArray *diagnostics; /* Pattern */
  GPtrArray *follows;     /* Pattern: diagnostic-after */
  GPtrArray *originals;   /* Pattern */
  Pattern *errors_start;
  Pattern *errors_end;
  char *status;
  char *reason;
  GStrv samples;
};

typedef struct
{
  char *reason;
  Test *test;
} ReasonRule;

struct _BounceRules
{
  gint ref;
  GPtrArray *formats;      /* BounceFormatRule, installed */
  GPtrArray *user_formats; /* BounceFormatRule, tried first */
  GPtrArray *reasons;      /* ReasonRule */
  GPtrArray *user_reasons; /* ReasonRule, tried first */
  GHashTable *status_reasons;
  GHashTable *weights;     /* char * -> double * */
  BouncePrefilter *prefilter;
  GHashTable *header_names; /* lower case: the headers conditions read */
};

static const char *const known_reasons[] = {
  "userunknown", "mailboxfull", "hostunknown", "blocked", "spamdetected",
  "virusdetected", "policyviolation", "expired", "mesgtoobig", "exceedlimit",
  "norelaying", "systemerror", "systemfull", "networkerror", "suspend",
  "rejected", "filtered", "securityerror", "authfailure", "badreputation",
  "requireptr", "toomanyconn", "speeding", "notaccept", "notcompliantrfc",
  "contenterror", "syntaxerror", "mailererror", "hasmoved", "failedstarttls",
  "suppressed", "onhold", "undefined", "vacation", "feedback", "delivered",
  NULL,
};

#define PATTERN_FLAGS (G_REGEX_CASELESS | G_REGEX_MULTILINE)

static void
pattern_free (gpointer data)
{
  Pattern *p = data;

  g_free (p->source);
  if (p->re)
    g_regex_unref (p->re);
  g_free (p);
}

/* The expression to run; safe from several threads. */
static GRegex *
pattern_re (Pattern *p)
{
  if (g_once_init_enter (&p->fast))
    {
      GRegex *fast = g_regex_new (p->source, PATTERN_FLAGS | G_REGEX_OPTIMIZE, 0, NULL);

      if (fast)
        {
          if (p->re)
            g_regex_unref (p->re);
          p->re = fast;
        }
      else if (p->re == NULL)
        {
          /* An alternative that does not compile alone (none should):
           * the whole pattern matches whenever it would. */
          p->re = g_regex_ref (pattern_re (p->whole));
        }
      g_once_init_leave (&p->fast, 1);
    }
  return p->re;
}

static void
test_free (Test *t)
{
  if (t == NULL)
    return;
  pattern_free (t->whole);
  for (guint i = 0; i < t->n; i++)
    {
      if (t->alts[i] != t->whole)
        pattern_free (t->alts[i]);
      g_free (t->words[i]);
    }
  g_free (t->alts);
  g_free (t->words);
  g_free (t);
}

/* Whether @text matches @t; @seen: the prefilter's words in it, or NULL
 * when it was not scanned (every alternative is run). Without the
 * prefilter, the whole pattern is run, as written. */
static gboolean
test_matches (const Test *t, BouncePrefilter *pf, const guint64 *seen, const char *text, gssize len)
{
  if (!bounce_prefilter_get_enabled (pf))
    return g_regex_match_full (pattern_re (t->whole), text, len, 0, 0, NULL, NULL);
  for (guint i = 0; i < t->n; i++)
    if (bounce_prefilter_may_match (pf, t->words[i], seen)
        && g_regex_match_full (pattern_re (t->alts[i]), text, len, 0, 0, NULL, NULL))
      return TRUE;
  return FALSE;
}

static void
test_compile (Test *t)
{
  for (guint i = 0; i < t->n; i++)
    pattern_re (t->alts[i]);
}

static void
cond_free (gpointer p)
{
  Cond *c = p;

  g_free (c->header);
  test_free (c->test);
  g_free (c);
}

static void
format_rule_free (gpointer p)
{
  BounceFormatRule *r = p;

  g_free (r->name);
  g_free (r->file);
  g_ptr_array_unref (r->conds);
  g_ptr_array_unref (r->recipients);
  g_ptr_array_unref (r->diagnostics);
  g_ptr_array_unref (r->follows);
  g_ptr_array_unref (r->originals);
  g_clear_pointer (&r->errors_start, pattern_free);
  g_clear_pointer (&r->errors_end, pattern_free);
  g_free (r->status);
  g_free (r->reason);
  g_strfreev (r->samples);
  g_free (r);
}

static void
reason_rule_free (gpointer p)
{
  ReasonRule *r = p;

  g_free (r->reason);
  test_free (r->test);
  g_free (r);
}

/**
 * bounce_rules_new:
 *
 * An empty rule set; load files into it with bounce_rules_load_dir().
 *
 * Returns: (transfer full): a new rule set
 */
BounceRules *
bounce_rules_new (void)
{
  BounceRules *rules = g_new0 (BounceRules, 1);

  rules->ref = 1;
  rules->formats = g_ptr_array_new_with_free_func (format_rule_free);
  rules->user_formats = g_ptr_array_new_with_free_func (format_rule_free);
  rules->reasons = g_ptr_array_new_with_free_func (reason_rule_free);
  rules->user_reasons = g_ptr_array_new_with_free_func (reason_rule_free);
  rules->status_reasons = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  rules->weights = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  rules->header_names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  rules->prefilter = bounce_prefilter_new ();
  return rules;
}

BounceRules *
bounce_rules_ref (BounceRules *rules)
{
  g_atomic_int_inc (&rules->ref);
  return rules;
}

void
bounce_rules_unref (BounceRules *rules)
{
  if (rules == NULL || !g_atomic_int_dec_and_test (&rules->ref))
    return;
  g_ptr_array_unref (rules->formats);
  g_ptr_array_unref (rules->user_formats);
  g_ptr_array_unref (rules->reasons);
  g_ptr_array_unref (rules->user_reasons);
  g_hash_table_unref (rules->status_reasons);
  g_hash_table_unref (rules->weights);
  g_hash_table_unref (rules->header_names);
  bounce_prefilter_free (rules->prefilter);
  g_free (rules);
}

/** bounce_rules_get_n_formats: Returns: how many format rules are loaded. */
guint
bounce_rules_get_n_formats (BounceRules *rules)
{
  return rules->formats->len + rules->user_formats->len;
}

/**
 * bounce_rules_get_weight:
 * @rules: the rules
 * @evidence: the name of a piece of evidence (see rules/weights.rules)
 * @fallback: the weight when no rule file sets one
 *
 * Returns: the weight the rule files give @evidence.
 */
double
bounce_rules_get_weight (BounceRules *rules, const char *evidence, double fallback)
{
  double *w = g_hash_table_lookup (rules->weights, evidence);

  return w ? *w : fallback;
}

typedef struct
{
  const char *file;
  int line;
  GError **error;
} Ctx;

static gboolean G_GNUC_PRINTF (2, 3)
fail (Ctx *ctx, const char *fmt, ...)
{
  va_list ap;
  g_autofree char *msg = NULL;

  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (ctx->error, BOUNCE_ERROR, BOUNCE_ERROR_RULES, "%s:%d: %s",
               ctx->file, ctx->line, msg);
  return FALSE;
}

static Pattern *
compile (Ctx *ctx, const char *pattern)
{
  g_autoptr (GError) err = NULL;
  Pattern *p;
  GRegex *re;

  if (*pattern == '\0')
    {
      fail (ctx, "a pattern is missing");
      return NULL;
    }
  re = g_regex_new (pattern, PATTERN_FLAGS, 0, &err);
  if (re == NULL)
    {
      fail (ctx, "bad pattern: %s", err->message);
      return NULL;
    }
  p = g_new0 (Pattern, 1);
  p->source = g_strdup (pattern);
  p->re = re;
  return p;
}

/* A Test of @pattern; with @words, its alternatives get the prefilter's
 * words. NULL (and the error set) when the pattern is bad. */
static Test *
test_new (Ctx *ctx, BounceRules *rules, const char *pattern, gboolean words)
{
  Pattern *whole = compile (ctx, pattern);
  g_auto (GStrv) split = NULL;
  Test *t;

  if (whole == NULL)
    return NULL;
  t = g_new0 (Test, 1);
  t->whole = whole;
  split = words ? bounce_pattern_split (pattern) : NULL;
  t->n = split ? g_strv_length (split) : 1;
  t->alts = g_new0 (Pattern *, t->n);
  t->words = g_new0 (guint *, t->n);
  for (guint i = 0; split && i < t->n; i++)
    {
      t->alts[i] = g_new0 (Pattern, 1);
      t->alts[i]->source = g_strdup (split[i]);
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

static gboolean
parse_rules (BounceRules *rules, Ctx *ctx, char *data, gboolean user)
{
  BounceFormatRule *cur = NULL;
  int cur_line = 0;
  GPtrArray *formats = user ? rules->user_formats : rules->formats;
  GPtrArray *reasons = user ? rules->user_reasons : rules->reasons;
  char *line, *next;

  ctx->line = 0;
  for (line = data; line; line = next)
    {
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

      if (strcmp (word, "format") == 0)
        {
          if (!finish_format (ctx, cur, cur_line))
            return FALSE;
          if (*arg == '\0' || strpbrk (arg, " \t"))
            return fail (ctx, "format takes one name");
          cur = g_new0 (BounceFormatRule, 1);
          cur->name = g_strdup (arg);
          cur->file = g_strdup (ctx->file);
          cur->line = ctx->line;
          cur->kind = BOUNCE_KIND_FAILURE;
          cur->conds = g_ptr_array_new_with_free_func (cond_free);
          cur->recipients = g_ptr_array_new_with_free_func (pattern_free);
          cur->diagnostics = g_ptr_array_new_with_free_func (pattern_free);
          cur->follows = g_ptr_array_new_with_free_func (pattern_free);
          cur->originals = g_ptr_array_new_with_free_func (pattern_free);
          g_ptr_array_add (formats, cur);
          cur_line = ctx->line;
          continue;
        }
      if (strcmp (word, "reason") == 0 && strpbrk (arg, " \t"))
        {
          char *name, *pattern;
          ReasonRule *rr;
          Test *test;

          /* "reason NAME PATTERN" stands alone: it ends a format block. */
          if (!finish_format (ctx, cur, cur_line))
            return FALSE;
          cur = NULL;
          split_word (arg, &name, &pattern);
          if (!valid_reason (name))
            return fail (ctx, "unknown reason '%s'", name);
          if ((test = test_new (ctx, rules, pattern, TRUE)) == NULL)
            return FALSE;
          rr = g_new0 (ReasonRule, 1);
          rr->reason = g_strdup (name);
          rr->test = test;
          g_ptr_array_add (reasons, rr);
          continue;
        }
      if (strcmp (word, "status-reason") == 0)
        {
          char *code, *name;

          if (cur != NULL)
            return fail (ctx, "status-reason belongs outside a format block");
          split_word (arg, &code, &name);
          if (!valid_status_pattern (code))
            return fail (ctx, "'%s' is not a status code such as 5.1.1 or X.1.1", code);
          if (!valid_reason (name))
            return fail (ctx, "unknown reason '%s'", name);
          if (code[0] == 'x')
            code[0] = 'X';
          g_hash_table_replace (rules->status_reasons, g_strdup (code), g_strdup (name));
          continue;
        }
      if (strcmp (word, "weight") == 0)
        {
          char *name, *value, *end = NULL;
          double v;

          if (cur != NULL)
            return fail (ctx, "weight belongs outside a format block");
          split_word (arg, &name, &value);
          v = g_ascii_strtod (value, &end);
          if (*name == '\0' || *value == '\0' || end == value || *end != '\0')
            return fail (ctx, "weight takes a name and a number");
          g_hash_table_replace (rules->weights, g_strdup (name), g_memdup2 (&v, sizeof v));
          continue;
        }
      if (cur == NULL)
        return fail (ctx, "'%s' outside a format block (or an unknown statement)", word);

      if (strcmp (word, "kind") == 0)
        {
          if (!bounce_kind_from_string (arg, &cur->kind))
            return fail (ctx, "unknown kind '%s'", arg);
        }
      else if (strcmp (word, "from") == 0 || strcmp (word, "subject") == 0
               || strcmp (word, "body") == 0 || strcmp (word, "header") == 0
               || strcmp (word, "not-from") == 0 || strcmp (word, "not-subject") == 0
               || strcmp (word, "not-body") == 0 || strcmp (word, "not-header") == 0)
        {
          Cond *c = g_new0 (Cond, 1);
          const char *w = word;

          if (g_str_has_prefix (w, "not-"))
            {
              c->negate = TRUE;
              w += 4;
            }
          c->where = strcmp (w, "from") == 0 ? COND_FROM
                   : strcmp (w, "subject") == 0 ? COND_SUBJECT
                   : strcmp (w, "body") == 0 ? COND_BODY
                   : COND_HEADER;
          if (c->where == COND_HEADER)
            {
              char *name, *pattern;

              split_word (arg, &name, &pattern);
              if (*name == '\0' || *pattern == '\0')
                {
                  g_free (c);
                  return fail (ctx, "header takes a header name and a pattern");
                }
              if (name[strlen (name) - 1] == ':')
                name[strlen (name) - 1] = '\0';
              c->header = g_strdup (name);
              g_hash_table_add (rules->header_names, g_ascii_strdown (name, -1));
              arg = pattern;
            }
          if ((c->test = test_new (ctx, rules, arg, c->where != COND_HEADER)) == NULL)
            {
              g_free (c->header);
              g_free (c);
              return FALSE;
            }
          g_ptr_array_add (cur->conds, c);
        }
      else if (strcmp (word, "recipient") == 0)
        {
          Pattern *re;

          if (reaches_forward (arg))
            return fail (ctx, "a recipient pattern may not reach forward without bound "
                              "(each match would search the rest of the report): "
                              "use diagnostic-after");
          if ((re = compile (ctx, arg)) == NULL)
            return FALSE;
          if (g_regex_get_string_number (re->re, "addr") < 0)
            {
              pattern_free (re);
              return fail (ctx, "a recipient pattern needs a group (?<addr>...)");
            }
          g_ptr_array_add (cur->recipients, re);
        }
      else if (strcmp (word, "diagnostic") == 0 || strcmp (word, "diagnostic-after") == 0
               || strcmp (word, "original") == 0)
        {
          Pattern *re = compile (ctx, arg);

          if (re == NULL)
            return FALSE;
          g_ptr_array_add (word[0] == 'o'                           ? cur->originals
                           : strcmp (word, "diagnostic-after") == 0 ? cur->follows
                                                                     : cur->diagnostics,
                           re);
        }
      else if (strcmp (word, "errors-start") == 0 || strcmp (word, "errors-end") == 0)
        {
          Pattern **slot = word[7] == 's' ? &cur->errors_start : &cur->errors_end;

          if (*slot)
            return fail (ctx, "%s is given twice", word);
          if ((*slot = compile (ctx, arg)) == NULL)
            return FALSE;
        }
      else if (strcmp (word, "status") == 0)
        {
          if (!valid_status_pattern (arg) || arg[0] == 'X' || arg[0] == 'x')
            return fail (ctx, "'%s' is not a status code such as 5.0.0", arg);
          g_free (cur->status);
          cur->status = g_strdup (arg);
        }
      else if (strcmp (word, "reason") == 0)
        {
          if (!valid_reason (arg))
            return fail (ctx, "unknown reason '%s'", arg);
          g_free (cur->reason);
          cur->reason = g_strdup (arg);
        }
      else if (strcmp (word, "samples") == 0)
        {
          if (*arg == '\0')
            return fail (ctx, "samples takes one or more file names");
          g_strfreev (cur->samples);
          cur->samples = g_regex_split_simple ("\\s+", arg, 0, 0);
        }
      else
        return fail (ctx, "unknown statement '%s'", word);
    }
  return finish_format (ctx, cur, cur_line);
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
bounce_rules_load_data (BounceRules *rules, const char *name, const char *data,
                        gssize length, gboolean user, GError **error)
{
  Ctx ctx = { name, 0, error };
  g_autofree char *copy = length < 0 ? g_strdup (data) : g_strndup (data, length);

  if (length >= 0 && memchr (data, '\0', length))
    return fail (&ctx, "the file holds a NUL byte");
  return parse_rules (rules, &ctx, copy, user);
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char **) a, *(char **) b);
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
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *path = g_build_filename (dir, g_ptr_array_index (names, i), NULL);
      g_autofree char *data = NULL;
      gsize len;

      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        {
          if (!bounce_rules_load_dir (rules, path, user, error))
            return FALSE;
          continue;
        }
      if (!g_str_has_suffix (path, ".rules"))
        continue;
      if (!g_file_get_contents (path, &data, &len, &err))
        {
          g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_IO, "%s", err->message);
          return FALSE;
        }
      if (!bounce_rules_load_data (rules, path, data, len, user, error))
        return FALSE;
    }
  return TRUE;
}

/* ---- matching ---------------------------------------------------------- */

static gboolean
header_list_matches (GMimeHeaderList *list, const Cond *c)
{
  int n;

  /* Most messages have none of the headers rules look for: GMime's index
   * says so at once. */
  if (list == NULL || !g_mime_header_list_contains (list, c->header))
    return FALSE;
  n = g_mime_header_list_get_count (list);
  for (int i = 0; i < n; i++)
    {
      GMimeHeader *h = g_mime_header_list_get_header_at (list, i);
      const char *value;

      if (g_ascii_strcasecmp (g_mime_header_get_name (h), c->header) != 0)
        continue;
      value = g_mime_header_get_value (h);
      if (value && g_utf8_validate (value, -1, NULL)
          && g_regex_match (pattern_re (c->test->whole), value, 0, NULL))
        return TRUE;
    }
  return FALSE;
}

/* The message's own headers, then its body part's (GMime keeps the
 * Content-* headers of a message there). */
static gboolean
header_matches (GMimeMessage *msg, const Cond *c)
{
  GMimeObject *body = g_mime_message_get_mime_part (msg);

  return header_list_matches (g_mime_object_get_header_list (GMIME_OBJECT (msg)), c)
         || (body && header_list_matches (g_mime_object_get_header_list (body), c));
}

/* The words of the prefilter found in the texts a message's rules read. */
typedef struct
{
  BouncePrefilter *pf;
  guint64 *from, *subject, *body;
} Seen;

static gboolean
cond_holds (const Cond *c, const BounceRuleInput *in, const char *from, const char *subject,
            const Seen *seen)
{
  gboolean m = FALSE;

  switch (c->where)
    {
    case COND_FROM:
      m = from && test_matches (c->test, seen->pf, seen->from, from, -1);
      break;
    case COND_SUBJECT:
      m = subject && test_matches (c->test, seen->pf, seen->subject, subject, -1);
      break;
    case COND_HEADER:
      m = header_matches (in->message, c);
      break;
    case COND_BODY:
      m = in->text && test_matches (c->test, seen->pf, seen->body, in->text, in->text_len);
      break;
    }
  return c->negate ? !m : m;
}

static const BounceFormatRule *
match_in (GPtrArray *formats, const BounceRuleInput *in, const char *from, const char *subject,
          const Seen *seen)
{
  for (guint i = 0; i < formats->len; i++)
    {
      const BounceFormatRule *r = g_ptr_array_index (formats, i);
      gboolean all = TRUE;

      for (guint j = 0; j < r->conds->len && all; j++)
        all = cond_holds (g_ptr_array_index (r->conds, j), in, from, subject, seen);
      if (all)
        return r;
    }
  return NULL;
}

/* bounce_rules_match: the first format rule (user rules first) whose
 * conditions all hold for the message. Returns: (nullable) (transfer none) */
const BounceFormatRule *
bounce_rules_match (BounceRules *rules, const BounceRuleInput *in)
{
  g_autofree char *f = bounce_header_text (GMIME_OBJECT (in->message), "From");
  g_autofree char *s = bounce_header_text (GMIME_OBJECT (in->message), "Subject");
  g_autofree char *from = f ? bounce_utf8 (f, -1) : NULL;
  g_autofree char *subject = s ? bounce_utf8 (s, -1) : NULL;
  gsize n = bounce_prefilter_n_words (rules->prefilter) / 64 + 1;
  g_autofree guint64 *bits = g_new0 (guint64, 3 * n);
  Seen seen = { rules->prefilter, bits, bits + n, bits + 2 * n };
  const BounceFormatRule *r;

  bounce_prefilter_scan (rules->prefilter, from, from ? strlen (from) : 0, seen.from);
  bounce_prefilter_scan (rules->prefilter, subject, subject ? strlen (subject) : 0, seen.subject);
  bounce_prefilter_scan (rules->prefilter, in->text, in->text ? in->text_len : 0, seen.body);
  r = match_in (rules->user_formats, in, from, subject, &seen);
  if (r == NULL)
    r = match_in (rules->formats, in, from, subject, &seen);
  return r;
}

/* Whether @t cannot match a text whose words are @seen: every alternative
 * has words and none is there. */
static gboolean
test_cannot_match (const Test *t, BouncePrefilter *pf, const guint64 *seen)
{
  if (!bounce_prefilter_get_enabled (pf))
    return FALSE;
  for (guint i = 0; i < t->n; i++)
    if (t->words[i] == NULL || bounce_prefilter_may_match (pf, t->words[i], seen))
      return FALSE;
  return TRUE;
}

/* Whether @t matches one of @values (a NULL-terminated list). */
static gboolean
test_matches_any (const Test *t, const char *const *values)
{
  for (; *values; values++)
    if (g_regex_match (pattern_re (t->whole), *values, 0, NULL))
      return TRUE;
  return FALSE;
}

/* The words of the prefilter in the texts of a BounceLook. */
typedef struct
{
  guint64 *from, *subject, *body;
} LookWords;

/* Whether condition @c surely does not hold for @look: by the words its
 * pattern needs and the headers there are, and with @run by running its
 * pattern. */
static gboolean
cond_cannot_hold (const Cond *c, BouncePrefilter *pf, const BounceLook *look, const LookWords *seen,
                  gboolean run)
{
  GPtrArray *values;
  g_autofree char *name = NULL;

  if (c->negate)
    return FALSE;
  switch (c->where)
    {
    case COND_FROM:
      return look->from && (test_cannot_match (c->test, pf, seen->from)
                            || (run && !test_matches_any (c->test, look->from)));
    case COND_SUBJECT:
      return look->subject && (test_cannot_match (c->test, pf, seen->subject)
                               || (run && !test_matches_any (c->test, look->subject)));
    case COND_HEADER:
      name = g_ascii_strdown (c->header, -1);
      if (!g_hash_table_lookup_extended (look->headers, name, NULL, (gpointer *) &values))
        return TRUE; /* no such header */
      return run && values && !test_matches_any (c->test, (const char *const *) values->pdata);
    case COND_BODY:
      return test_cannot_match (c->test, pf, seen->body)
             || (run && !test_matches (c->test, pf, seen->body, look->text, look->text_len));
    }
  return FALSE;
}

static gboolean
may_report_in (GPtrArray *formats, BouncePrefilter *pf, const BounceLook *look, const LookWords *seen)
{
  for (guint i = 0; i < formats->len; i++)
    {
      const BounceFormatRule *r = g_ptr_array_index (formats, i);
      gboolean cannot = FALSE;

      if (r->kind == BOUNCE_KIND_NOT_BOUNCE)
        continue;
      /* The cheap proofs first, then the patterns. */
      for (int run = 0; run < 2 && !cannot; run++)
        for (guint j = 0; j < r->conds->len && !cannot; j++)
          cannot = cond_cannot_hold (g_ptr_array_index (r->conds, j), pf, look, seen, run);
      if (!cannot)
        return TRUE;
    }
  return FALSE;
}

/* bounce_rules_reads_header: whether a condition reads the header
 * @lower_name (in lower case). */
gboolean
bounce_rules_reads_header (BounceRules *rules, const char *lower_name)
{
  return g_hash_table_contains (rules->header_names, lower_name);
}

/* bounce_rules_may_report: whether a format rule of any kind but
 * not-bounce could hold for the message @look describes. FALSE only when
 * each such rule has a condition that surely does not hold. */
gboolean
bounce_rules_may_report (BounceRules *rules, const BounceLook *look)
{
  gsize n = bounce_prefilter_n_words (rules->prefilter) / 64 + 1;
  g_autofree guint64 *bits = g_new0 (guint64, 3 * n);
  LookWords seen = { bits, bits + n, bits + 2 * n };
  const char *const *texts[] = { look->from, look->subject };
  guint64 *sets[] = { seen.from, seen.subject };

  /* All the forms of From and of Subject: the words of any. */
  for (guint k = 0; k < G_N_ELEMENTS (texts); k++)
    for (const char *const *v = texts[k]; v && *v; v++)
      bounce_prefilter_scan (rules->prefilter, *v, strlen (*v), sets[k]);
  bounce_prefilter_scan (rules->prefilter, look->text, look->text_len, seen.body);
  return may_report_in (rules->user_formats, rules->prefilter, look, &seen)
         || may_report_in (rules->formats, rules->prefilter, look, &seen);
}

static void
compile_formats (GPtrArray *formats)
{
  for (guint i = 0; i < formats->len; i++)
    {
      BounceFormatRule *r = g_ptr_array_index (formats, i);
      GPtrArray *lists[] = { r->recipients, r->diagnostics, r->follows, r->originals };

      for (guint j = 0; j < r->conds->len; j++)
        test_compile (((Cond *) g_ptr_array_index (r->conds, j))->test);
      for (guint k = 0; k < G_N_ELEMENTS (lists); k++)
        for (guint j = 0; j < lists[k]->len; j++)
          pattern_re (g_ptr_array_index (lists[k], j));
      if (r->errors_start)
        pattern_re (r->errors_start);
      if (r->errors_end)
        pattern_re (r->errors_end);
    }
}

/**
 * bounce_rules_compile:
 *
 * Compiles every pattern for speed now (PCRE2's JIT) instead of the first
 * time each is run: for a long job, on a spare thread, while the rules are
 * already in use. No rules may be loaded meanwhile.
 */
void
bounce_rules_compile (BounceRules *rules)
{
  GPtrArray *reasons[] = { rules->user_reasons, rules->reasons };

  bounce_prefilter_scan (rules->prefilter, NULL, 0, NULL);
  compile_formats (rules->user_formats);
  compile_formats (rules->formats);
  for (guint k = 0; k < G_N_ELEMENTS (reasons); k++)
    for (guint i = 0; i < reasons[k]->len; i++)
      test_compile (((ReasonRule *) g_ptr_array_index (reasons[k], i))->test);
}

/* bounce_rules_set_prefilter: with FALSE every rule's expression is run,
 * as if there were no prefilter (tests compare both ways). */
void
bounce_rules_set_prefilter (BounceRules *rules, gboolean on)
{
  bounce_prefilter_set_enabled (rules->prefilter, on);
}

const char *
bounce_format_rule_name (const BounceFormatRule *rule)
{
  return rule->name;
}

BounceKind
bounce_format_rule_kind (const BounceFormatRule *rule)
{
  return rule->kind;
}

const char *
bounce_format_rule_default_status (const BounceFormatRule *rule)
{
  return rule->status;
}

const char *
bounce_format_rule_default_reason (const BounceFormatRule *rule)
{
  return rule->reason;
}

const char *const *
bounce_format_rule_samples (const BounceFormatRule *rule)
{
  return (const char *const *) rule->samples;
}

/* bounce_rules_list_formats: every format rule, user rules first.
 * Returns: (transfer container) */
GPtrArray *
bounce_rules_list_formats (BounceRules *rules)
{
  GPtrArray *all = g_ptr_array_new ();

  for (guint i = 0; i < rules->user_formats->len; i++)
    g_ptr_array_add (all, g_ptr_array_index (rules->user_formats, i));
  for (guint i = 0; i < rules->formats->len; i++)
    g_ptr_array_add (all, g_ptr_array_index (rules->formats, i));
  return all;
}

/* The offset of the start of the line after the first match of @re in
 * text[from, len), or -1. */
static gssize
line_after_match (GRegex *re, const char *text, gsize len, gsize from)
{
  g_autoptr (GMatchInfo) mi = NULL;
  int start, end;
  const char *nl;

  if (!g_regex_match_full (re, text, len, from, 0, &mi, NULL))
    return -1;
  g_match_info_fetch_pos (mi, 0, &start, &end);
  nl = memchr (text + end, '\n', len - end);
  return nl ? nl - text + 1 : (gssize) len;
}

/* The offset of the start of the line holding the first match, or -1. */
static gssize
line_of_match (GRegex *re, const char *text, gsize len, gsize from)
{
  g_autoptr (GMatchInfo) mi = NULL;
  int start, end;

  if (!g_regex_match_full (re, text, len, from, 0, &mi, NULL))
    return -1;
  g_match_info_fetch_pos (mi, 0, &start, &end);
  while (start > (int) from && text[start - 1] != '\n')
    start--;
  return start;
}

typedef struct
{
  int start, end;      /* the recipient match */
  char *addr;
  char *diag;          /* from a diag group, or NULL */
  char *code;
  char *status;
} Hit;

static void
hit_clear (gpointer p)
{
  Hit *h = p;

  g_free (h->addr);
  g_free (h->diag);
  g_free (h->code);
  g_free (h->status);
}

static int
compare_hits (gconstpointer a, gconstpointer b)
{
  const Hit *x = a, *y = b;

  return x->start - y->start;
}

static char *
named (GMatchInfo *mi, const char *name)
{
  char *v = g_match_info_fetch_named (mi, name);

  return bounce_strip (v);
}

/* A diagnostic-after match: where it starts, and its text. */
typedef struct
{
  int start;
  char *diag;
} Follow;

static void
follow_clear (gpointer p)
{
  g_free (((Follow *) p)->diag);
}

static int
compare_follows (gconstpointer a, gconstpointer b)
{
  int x = ((const Follow *) a)->start, y = ((const Follow *) b)->start;

  return (x > y) - (x < y);
}

/* Every match of @rule's diagnostic-after patterns in the error text, in
 * order: each recipient takes the first one after it. One pass over the
 * text for all recipients, rather than a search from each. */
static GArray *
follows_in (const BounceFormatRule *rule, const char *text, gsize err_start, gsize err_end)
{
  GArray *out = g_array_new (FALSE, TRUE, sizeof (Follow));

  g_array_set_clear_func (out, follow_clear);
  for (guint i = 0; i < rule->follows->len; i++)
    {
      g_autoptr (GMatchInfo) mi = NULL;

      g_regex_match_full (pattern_re (g_ptr_array_index (rule->follows, i)), text, err_end,
                          err_start, 0, &mi, NULL);
      while (g_match_info_matches (mi) && out->len < BOUNCE_MAX_RECIPIENTS)
        {
          Follow f = { 0 };
          g_autofree char *d = named (mi, "diag");

          g_match_info_fetch_pos (mi, 0, &f.start, NULL);
          if (d == NULL)
            d = bounce_strip (g_match_info_fetch (mi, 0));
          f.diag = d ? bounce_collapse_space (d) : NULL;
          if (f.diag)
            g_array_append_val (out, f);
          if (!g_match_info_next (mi, NULL))
            break;
        }
    }
  g_array_sort (out, compare_follows);
  return out;
}

/* The first of @follows that starts at or after @pos, or NULL. */
static const char *
follow_after (GArray *follows, int pos)
{
  guint lo = 0, hi = follows->len;

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;

      if (g_array_index (follows, Follow, mid).start < pos)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo < follows->len ? g_array_index (follows, Follow, lo).diag : NULL;
}

/* The paragraph after a recipient: up to @limit, ending at a blank line;
 * when the text right after the match is blank, the next paragraph. */
static char *
paragraph_after (const char *text, gsize pos, gsize limit)
{
  const char *p = text + pos, *end = text + limit;
  const char *start, *stop;
  gboolean skipped = FALSE;

  /* rest of the matched line */
  start = p;
  for (;;)
    {
      const char *nl;

      stop = start;
      while (stop < end)
        {
          nl = memchr (stop, '\n', end - stop);
          if (nl == NULL)
            {
              stop = end;
              break;
            }
          /* a blank line ends the paragraph */
          {
            const char *q = nl + 1;

            while (q < end && (*q == ' ' || *q == '\t' || *q == '\r'))
              q++;
            if (q >= end || *q == '\n')
              {
                stop = nl;
                break;
              }
          }
          stop = nl + 1;
        }
      {
        g_autofree char *raw = g_strndup (start, stop - start);
        char *c = bounce_collapse_space (raw);

        if (c || skipped || stop >= end)
          return c;
        g_free (c);
      }
      /* blank right after the recipient: take the next paragraph */
      skipped = TRUE;
      start = stop;
      while (start < end && g_ascii_isspace (*start))
        start++;
      if (start >= end)
        return NULL;
    }
}

/* bounce_format_rule_extract: apply @rule's extraction to the report text:
 * add failed recipients to @recipients (BounceRecipient) and set
 * @original_offset to where an inline original starts (or G_MAXSIZE). */
void
bounce_format_rule_extract (const BounceFormatRule *rule, const char *text, gsize len,
                            GPtrArray *recipients, gsize *original_offset)
{
  gsize err_start = 0, err_end = len, orig = G_MAXSIZE;
  g_autoptr (GArray) hits = g_array_new (FALSE, TRUE, sizeof (Hit));
  g_autoptr (GArray) follows = NULL;
  g_autofree char *shared_diag = NULL;

  g_array_set_clear_func (hits, hit_clear);
  for (guint i = 0; i < rule->originals->len && orig == G_MAXSIZE; i++)
    {
      GRegex *re = pattern_re (g_ptr_array_index (rule->originals, i));
      gssize at = line_after_match (re, text, len, 0);
      gssize line = line_of_match (re, text, len, 0);

      if (at >= 0)
        {
          orig = at;
          err_end = line;
        }
    }
  *original_offset = orig;
  if (rule->errors_start)
    {
      gssize at = line_after_match (pattern_re (rule->errors_start), text, err_end, 0);

      if (at >= 0)
        err_start = at;
    }
  if (rule->errors_end)
    {
      gssize at = line_of_match (pattern_re (rule->errors_end), text, err_end, err_start);

      if (at >= 0)
        err_end = at;
    }
  if (err_end <= err_start)
    return;

  for (guint i = 0; i < rule->recipients->len; i++)
    {
      GRegex *re = pattern_re (g_ptr_array_index (rule->recipients, i));
      g_autoptr (GMatchInfo) mi = NULL;

      g_regex_match_full (re, text, err_end, err_start, 0, &mi, NULL);
      while (g_match_info_matches (mi) && hits->len < BOUNCE_MAX_RECIPIENTS)
        {
          Hit h = { 0 };
          g_autofree char *raw = named (mi, "addr");

          g_match_info_fetch_pos (mi, 0, &h.start, &h.end);
          h.addr = bounce_addr_spec (raw);
          if (h.addr)
            {
              h.diag = named (mi, "diag");
              h.code = named (mi, "code");
              h.status = named (mi, "status");
              g_array_append_val (hits, h);
            }
          if (!g_match_info_next (mi, NULL))
            break;
        }
    }
  g_array_sort (hits, compare_hits);
  follows = follows_in (rule, text, err_start, err_end);

  for (guint i = 0; i < rule->diagnostics->len && shared_diag == NULL; i++)
    {
      g_autoptr (GMatchInfo) mi = NULL;

      if (g_regex_match_full (pattern_re (g_ptr_array_index (rule->diagnostics, i)), text, err_end,
                              err_start, 0, &mi, NULL))
        {
          shared_diag = named (mi, "diag");
          if (shared_diag == NULL)
            shared_diag = bounce_strip (g_match_info_fetch (mi, 0));
          if (shared_diag)
            {
              char *c = bounce_collapse_space (shared_diag);

              g_free (shared_diag);
              shared_diag = c;
            }
        }
    }

  for (guint i = 0; i < hits->len; i++)
    {
      Hit *h = &g_array_index (hits, Hit, i);
      BounceRecipient *r = NULL;
      gsize limit = err_end;

      for (guint j = i + 1; j < hits->len; j++)
        if (g_array_index (hits, Hit, j).start >= h->end)
          {
            limit = g_array_index (hits, Hit, j).start;
            break;
          }
      for (guint k = 0; k < recipients->len; k++)
        {
          BounceRecipient *x = g_ptr_array_index (recipients, k);

          if (g_ascii_strcasecmp (x->address, h->addr) == 0)
            r = x;
        }
      if (r == NULL)
        {
          if (recipients->len >= BOUNCE_MAX_RECIPIENTS)
            break;
          r = bounce_recipient_new ();
          r->address = g_strdup (h->addr);
          r->action = g_strdup (rule->kind == BOUNCE_KIND_DELAY ? "delayed"
                                : rule->kind == BOUNCE_KIND_DELIVERED ? "delivered"
                                : "failed");
          g_ptr_array_add (recipients, r);
        }
      if (r->diagnostic == NULL)
        {
          const char *after = h->diag ? NULL : follow_after (follows, h->end);
          char *d = h->diag ? bounce_collapse_space (h->diag)
                    : after ? g_strdup (after)
                            : paragraph_after (text, h->end, limit);

          r->diagnostic = d ? d : g_strdup (shared_diag);
        }
      if (r->reply_code == NULL && h->code)
        r->reply_code = g_strndup (h->code, 3);
      if (r->status == NULL && h->status)
        {
          char st[16];

          if (bounce_find_status (h->status, st))
            r->status = g_strdup (st);
        }
    }
}

static const char *
reason_in (BouncePrefilter *pf, GPtrArray *reasons, const char *diagnostic, const guint64 *seen)
{
  for (guint i = 0; i < reasons->len; i++)
    {
      ReasonRule *rr = g_ptr_array_index (reasons, i);

      if (test_matches (rr->test, pf, seen, diagnostic, -1))
        return rr->reason;
    }
  return NULL;
}

/* bounce_rules_reason: the reason the first reason rule matching
 * @diagnostic names, else the one its status code has. */
const char *
bounce_rules_reason (BounceRules *rules, const char *diagnostic, const char *status)
{
  const char *r = NULL;

  if (diagnostic)
    {
      gsize n = bounce_prefilter_n_words (rules->prefilter) / 64 + 1;
      g_autofree guint64 *seen = g_new0 (guint64, n);
      g_autofree char *valid = NULL;

      /* PCRE2 in UTF-8 mode must never see invalid UTF-8: its JIT code
       * reads out of bounds on some. */
      if (!g_utf8_validate (diagnostic, -1, NULL))
        diagnostic = valid = g_utf8_make_valid (diagnostic, -1);

      bounce_prefilter_scan (rules->prefilter, diagnostic, strlen (diagnostic), seen);
      r = reason_in (rules->prefilter, rules->user_reasons, diagnostic, seen);
      if (r == NULL)
        r = reason_in (rules->prefilter, rules->reasons, diagnostic, seen);
    }
  if (r == NULL && status)
    {
      char x[16];

      r = g_hash_table_lookup (rules->status_reasons, status);
      if (r == NULL && strlen (status) < sizeof x)
        {
          g_strlcpy (x, status, sizeof x);
          x[0] = 'X';
          r = g_hash_table_lookup (rules->status_reasons, x);
        }
    }
  return r;
}

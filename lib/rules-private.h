/* rules-private.h — the rule set's insides, shared by the files that
 * read rules (rules-parse.c), hold them (rules.c), match them against a
 * message (rules-match.c) and extract a report's recipients with them
 * (rules-extract.c). Nothing outside these files looks in here.
 */
#ifndef BOUNCE_RULES_PRIVATE_H
#define BOUNCE_RULES_PRIVATE_H

#include "bounce-private.h"

typedef enum
{
  COND_FROM,
  COND_SUBJECT,
  COND_HEADER,
  COND_BODY,
} CondWhere;

/* A rule's regular expression: checked when the rules are read, and run
 * as checked (PCRE2's interpreter) its first PATTERN_PLAIN_RUNS times;
 * compiled again for speed (PCRE2's JIT) only when it runs more often
 * than that: the JIT compile costs more than it saves a pattern that runs
 * a few times, and most patterns run a few times or never in a run of the
 * program (one message in check or filter: none is worth it). An alternative
 * cut from a checked pattern (see Test) is compiled the first time it
 * runs. */
typedef struct _Pattern Pattern;
struct _Pattern
{
  char *source;
  GRegex *re;   /* the checked one; NULL until it first runs for an alternative */
  GRegex *fast; /* the JIT-compiled one, once it has run often enough */
  gint runs;
  Pattern *whole; /* an alternative: the pattern it was cut from */
};

/* The runs of a pattern before it is compiled for speed. */
#define PATTERN_PLAIN_RUNS 16
/* The longest text the checked expression runs over (bytes). */
#define PATTERN_PLAIN_MAX_TEXT (16 * 1024)

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
  char *header; /* lower case */
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
  GHashTable *weights; /* char * -> double * */
  BouncePrefilter *prefilter;
  GHashTable *header_names; /* lower case: the headers conditions read */
  gboolean checked;         /* the files loaded were checked before: see bounce_rules_set_checked() */
};

#define PATTERN_FLAGS (G_REGEX_CASELESS | G_REGEX_MULTILINE)

GRegex *bounce_rule_pattern_re (Pattern *p, gssize len);
void bounce_rule_pattern_free (gpointer data);
gboolean bounce_rule_test_matches (const Test *t, BouncePrefilter *pf, const guint64 *seen, const char *text,
                                   gssize len);
void bounce_rule_cond_free (gpointer p);
void bounce_rule_test_free (Test *t);
guint64 bounce_rules_cache_checksum (const guint8 *p, gsize len);

#endif /* BOUNCE_RULES_PRIVATE_H */

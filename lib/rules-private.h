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

/* A pattern that only says whether a text matches. It is run as its
 * top-level alternatives, when they can stand alone (prefilter.c), each
 * only when the text holds one of that alternative's words: most texts
 * hold the words of few. */
typedef struct
{
  BouncePattern *whole;
  guint n;
  BouncePattern **alts;
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
  GPtrArray *recipients;  /* BouncePattern */
  GPtrArray *diagnostics; /* BouncePattern */
  GPtrArray *follows;     /* BouncePattern: diagnostic-after */
  GPtrArray *originals;   /* BouncePattern */
  BouncePattern *errors_start;
  BouncePattern *errors_end;
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

gboolean bounce_rule_test_matches (const Test *t, BouncePrefilter *pf, const guint64 *seen, const char *text,
                                   gssize len);
void bounce_rule_cond_free (gpointer p);
void bounce_rule_test_free (Test *t);
guint64 bounce_rules_cache_checksum (const guint8 *p, gsize len);

#endif /* BOUNCE_RULES_PRIVATE_H */

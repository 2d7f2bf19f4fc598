/* pattern.c — a regular expression of the rules or of the format-free
 * reader, compiled the first time it runs and compiled again with PCRE2's
 * JIT once it has run a few times (see BouncePattern). Safe from several
 * threads: the first thread to compile a pattern publishes it.
 */
#include "bounce-private.h"

/* bounce_pattern_new: a pattern of @source, compiled with @flags when it
 * first runs. Returns: (transfer full) */
BouncePattern *
bounce_pattern_new (const char *source, GRegexCompileFlags flags)
{
  BouncePattern *p = g_new0 (BouncePattern, 1);

  p->source = g_strdup (source);
  p->flags = flags;
  return p;
}

void
bounce_pattern_free (gpointer data)
{
  BouncePattern *p = data;

  g_free (p->source);
  if (p->re)
    g_regex_unref (p->re);
  if (p->fast)
    g_regex_unref (p->fast);
  g_free (p);
}

/* Sets *@at to @re unless another thread set it first, and returns what
 * it holds. A pattern is compiled the first time any thread runs it, and
 * two threads may both compile it then: the first to finish wins and the
 * other's copy is let go. (g_once_init_enter() would make the other wait
 * instead, on a lock and a condition every g_once of the process shares,
 * with a system call for each pattern compiled.) */
static GRegex *
publish (GRegex **at, GRegex *re)
{
  if (!g_atomic_pointer_compare_and_exchange (at, NULL, re))
    {
      g_regex_unref (re);
      re = g_atomic_pointer_get (at);
    }
  return re;
}

/* The checked expression (compiled now for an alternative); safe from
 * several threads. */
static GRegex *
pattern_plain (BouncePattern *p)
{
  GRegex *re = g_atomic_pointer_get (&p->re);

  if (G_LIKELY (re != NULL))
    return re;
  re = g_regex_new (p->source, p->flags, 0, NULL);
  /* An alternative that does not compile alone (none should): the whole
   * pattern matches whenever it would. A whole pattern of rules loaded
   * from their cache that does not compile matches nothing. */
  if (re == NULL && p->whole)
    re = g_regex_ref (pattern_plain (p->whole));
  else if (re == NULL)
    re = g_regex_new ("(?!)", 0, 0, NULL);
  return publish (&p->re, re);
}

/* bounce_pattern_compile: the expression compiled for speed, now if it
 * was not yet; safe from several threads. Returns: (transfer none) */
GRegex *
bounce_pattern_compile (BouncePattern *p)
{
  GRegex *re = g_atomic_pointer_get (&p->fast);

  if (G_LIKELY (re != NULL))
    return re;
  re = g_regex_new (p->source, p->flags | G_REGEX_OPTIMIZE, 0, NULL);
  if (re == NULL)
    re = g_regex_ref (pattern_plain (p));
  return publish (&p->fast, re);
}

/* bounce_pattern_re: the expression to run this time over a text of
 * @len bytes (-1: a header value, short): the checked one for the first
 * PATTERN_PLAIN_RUNS runs over short texts, then the fast one. PCRE2's
 * interpreter takes time out of all proportion to a long text for some
 * patterns (a repeated group over 256 KiB: a minute, against milliseconds
 * compiled), so a text longer than PATTERN_PLAIN_MAX_TEXT always gets the
 * fast one. Both match the same texts the same way. Safe from several
 * threads. */
GRegex *
bounce_pattern_re (BouncePattern *p, gssize len)
{
  if (len <= PATTERN_PLAIN_MAX_TEXT && g_atomic_int_get (&p->runs) < PATTERN_PLAIN_RUNS
      && g_atomic_int_add (&p->runs, 1) < PATTERN_PLAIN_RUNS)
    return pattern_plain (p);
  return bounce_pattern_compile (p);
}

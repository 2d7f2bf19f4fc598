/* prefilter.c — words a regular expression cannot match without, so that
 * most rules are ruled out without running their expression.
 *
 * bounce_pattern_words() reads a pattern (PCRE2 syntax, matched without
 * regard to case) and finds, for each of its top-level alternatives, a
 * literal run of at least three bytes that every match of that
 * alternative contains, or a set of them of which every match contains
 * one (from a group that must match). The pattern can only match a text
 * holding one of the words found. It errs towards "no words": anything
 * it does not understand ends a run, and a pattern with an alternative
 * that yields nothing gets no words at all, i.e. is always run.
 *
 * A BouncePrefilter numbers the words of many patterns and finds, in one
 * pass over a text, which of them occur in it.
 */
#include "bounce-private.h"

#include <string.h>

#define MIN_WORD 3
#define TRIPLE_BITS 18
#define TRIPLES (1 << TRIPLE_BITS)

/* An ASCII letter in lower case, every other byte as it is: a table, so
 * that the scan of a text takes one load a byte for it. */
#define LOWER1(c) ((c) - 'A' < 26u ? (c) + ('a' - 'A') : (c))
#define LOWER4(c) LOWER1 (c), LOWER1 (c + 1), LOWER1 (c + 2), LOWER1 (c + 3)
#define LOWER16(c) LOWER4 (c), LOWER4 (c + 4), LOWER4 (c + 8), LOWER4 (c + 12)
#define LOWER64(c) LOWER16 (c), LOWER16 (c + 16), LOWER16 (c + 32), LOWER16 (c + 48)
static const guint8 lower_of[256] = { LOWER64 (0u), LOWER64 (64u), LOWER64 (128u), LOWER64 (192u) };

static inline guint
lower (guchar c)
{
  return lower_of[c];
}

/* The hash of three bytes in lower case, the first in the lowest byte of
 * @key: the product's top bits (a multiplicative hash), cheap enough to
 * take at every byte of a text. */
static inline guint
triple_hash (guint32 key)
{
  return (key * 0x9e3779b1u) >> (32 - TRIPLE_BITS);
}

static guint
triple_of (gconstpointer word)
{
  const guchar *p = word;

  return triple_hash (lower (p[0]) | lower (p[1]) << 8 | lower (p[2]) << 16);
}

/* ---- reading a pattern ---------------------------------------------------- */

typedef struct
{
  gboolean give_up; /* \Q...\E and the like: no words for this pattern */
} Reader;

/* After a character class opened at @p ("["). */
static const char *
skip_class (const char *p, const char *end)
{
  const char *q = p + 1;

  if (q < end && *q == '^')
    q++;
  if (q < end && *q == ']')
    q++;
  while (q < end)
    {
      if (*q == '\\')
        q += 2;
      else if (q + 1 < end && q[0] == '[' && q[1] == ':')
        {
          const char *close = g_strstr_len (q + 2, end - q - 2, ":]");

          q = close ? close + 2 : q + 1;
        }
      else if (*q == ']')
        return q + 1;
      else
        q++;
    }
  return end;
}

/* After the group opened at @p ("("). */
static const char *
skip_group (const char *p, const char *end)
{
  int depth = 0;

  while (p < end)
    {
      switch (*p)
        {
        case '\\':
          p += 2;
          continue;
        case '[':
          p = skip_class (p, end);
          continue;
        case '(':
          depth++;
          break;
        case ')':
          if (--depth == 0)
            return p + 1;
          break;
        default:
          break;
        }
      p++;
    }
  return end;
}

/* The length of a quantifier at @p (0 when there is none), and whether it
 * allows zero repetitions. */
static gsize
quantifier (const char *p, const char *end, gboolean *optional)
{
  const char *q = p;

  *optional = FALSE;
  if (p >= end)
    return 0;
  if (*p == '?' || *p == '*')
    {
      *optional = TRUE;
      q++;
    }
  else if (*p == '+')
    q++;
  else if (*p == '{')
    {
      const char *d = p + 1;
      guint64 min = 0;
      gboolean digits = FALSE;

      while (d < end && g_ascii_isdigit (*d))
        {
          min = MIN (min * 10 + (*d - '0'), 1000);
          digits = TRUE;
          d++;
        }
      if (d < end && *d == ',')
        {
          d++;
          while (d < end && g_ascii_isdigit (*d))
            d++;
        }
      if (!digits || d >= end || *d != '}')
        return 0; /* a literal "{" */
      *optional = min == 0;
      q = d + 1;
    }
  else
    return 0;
  if (q < end && (*q == '?' || *q == '+'))
    q++; /* lazy or possessive */
  return q - p;
}

/* The escape at @p ("\x"): its length, and the literal byte it stands for
 * (or -1 when it is a class, an anchor, a reference or anything else). */
static gsize
escape (Reader *rd, const char *p, const char *end, int *literal)
{
  const char *q = p + 2;
  char c;

  *literal = -1;
  if (p + 1 >= end)
    return 1;
  c = p[1];
  if (!g_ascii_isalnum (c))
    {
      *literal = (guchar) c;
      return 2;
    }
  switch (c)
    {
    case 'Q':
    case 'E':
      rd->give_up = TRUE;
      return 2;
    case 'x':
    case 'o':
    case 'p':
    case 'P':
    case 'g':
    case 'k':
    case 'N':
      if (q < end && (*q == '{' || *q == '<' || *q == '\''))
        {
          char close = *q == '{' ? '}' : *q == '<' ? '>' : '\'';
          const char *e = memchr (q, close, end - q);

          return (e ? e + 1 : end) - p;
        }
      if (c == 'x')
        while (q < end && q < p + 4 && g_ascii_isxdigit (*q))
          q++;
      else if (c == 'p' || c == 'P')
        q = MIN (q + 1, end);
      else if (c == 'g')
        while (q < end && (g_ascii_isdigit (*q) || *q == '-' || *q == '+'))
          q++;
      return q - p;
    case 'c':
      return MIN (3, (gsize) (end - p));
    default:
      while (g_ascii_isdigit (c) && q < end && g_ascii_isdigit (*q))
        q++;
      return q - p;
    }
}

static void words_of_alternatives (Reader *rd, const char *p, const char *end, GPtrArray **out);

/* The sets of words a sequence requires, as they are found: the best one
 * (the longest shortest word), and every one when @all is not NULL. */
typedef struct
{
  GPtrArray *best;
  gsize best_score;
  GPtrArray *all; /* GPtrArray * of sets; NULL: only the best is kept */
} Found;

/* Note @set, a set of words of which every match of the sequence holds
 * one: kept as the best when it is better than what there is. Takes
 * @set. */
static void
consider (Found *f, GPtrArray *set)
{
  gsize score = G_MAXSIZE;

  if (set == NULL)
    return;
  for (guint i = 0; i < set->len; i++)
    score = MIN (score, strlen (g_ptr_array_index (set, i)));
  if (set->len == 0 || score < MIN_WORD)
    {
      g_ptr_array_unref (set);
      return;
    }
  if (f->all)
    g_ptr_array_add (f->all, g_ptr_array_ref (set));
  if (f->best && score <= f->best_score)
    {
      g_ptr_array_unref (set);
      return;
    }
  if (f->best)
    g_ptr_array_unref (f->best);
  f->best = set;
  f->best_score = score;
}

static void
end_run (GString *run, Found *f)
{
  if (run->len >= MIN_WORD)
    {
      GPtrArray *set = g_ptr_array_new_with_free_func (g_free);

      g_ptr_array_add (set, g_strndup (run->str, run->len));
      consider (f, set);
    }
  g_string_truncate (run, 0);
}

/* The best words of one alternative (a sequence without a top-level "|"),
 * or NULL; every set of words it requires added to @all (nullable). */
static GPtrArray *
words_of_sequence (Reader *rd, const char *p, const char *end, GPtrArray *all)
{
  g_autoptr (GString) run = g_string_new (NULL);
  Found f = { NULL, 0, all };
  gsize qlen;
  gboolean optional;

  while (p < end && !rd->give_up)
    {
      int literal = -1;
      gsize len = 1;

      if (*p == '(')
        {
          const char *close = skip_group (p, end);
          const char *inner = p + 1, *inner_end = close > inner ? close - 1 : inner;
          gboolean contributes = TRUE;

          /* A verb ("(*ACCEPT)") may end a match before what follows. */
          if (inner < inner_end && *inner == '*')
            rd->give_up = TRUE;
          if (inner < inner_end && *inner == '?')
            {
              /* (?:...), (?<name>...), (?P<name>...), (?'name'...) and
               * (?flags:...) match their content; lookarounds, comments,
               * conditions and option settings do not count. */
              const char *q = inner + 1;

              if (q < inner_end && (*q == '<' || *q == '\'' || (*q == 'P' && q + 1 < inner_end && q[1] == '<')))
                {
                  char close_name = *q == '\'' ? '\'' : '>';
                  const char *e = memchr (q, close_name, inner_end - q);

                  if (q + 1 < inner_end && *q == '<' && (q[1] == '=' || q[1] == '!'))
                    contributes = FALSE;
                  else if (e == NULL)
                    contributes = FALSE;
                  else
                    inner = e + 1;
                }
              else
                {
                  while (q < inner_end && (g_ascii_isalpha (*q) || *q == '-' || *q == '^'))
                    q++;
                  if (q < inner_end && *q == ':')
                    inner = q + 1;
                  else
                    contributes = FALSE;
                }
            }
          qlen = quantifier (close, end, &optional);
          end_run (run, &f);
          if (contributes && !optional)
            {
              GPtrArray *set = NULL;

              words_of_alternatives (rd, inner, inner_end, &set);
              consider (&f, set);
            }
          p = close + qlen;
          continue;
        }
      if (*p == '[')
        {
          const char *close = skip_class (p, end);

          end_run (run, &f);
          p = close + quantifier (close, end, &optional);
          continue;
        }
      if (*p == '\\')
        len = escape (rd, p, end, &literal);
      else if (*p == '.' || *p == '^' || *p == '$' || *p == '?' || *p == '*' || *p == '+' || *p == '{' || *p == ')'
               || *p == '|')
        literal = -1;
      else
        literal = (guchar) *p;
      if (literal >= 0x80 || literal == '\n' || literal == '\r' || literal == '\0')
        literal = -1; /* only ASCII is compared without regard to case */
      qlen = quantifier (p + len, end, &optional);
      if (literal < 0)
        end_run (run, &f);
      else if (qlen && optional)
        end_run (run, &f);
      else
        {
          g_string_append_c (run, g_ascii_tolower (literal));
          if (qlen)
            end_run (run, &f);
        }
      p += len + qlen;
    }
  end_run (run, &f);
  return f.best;
}

/* The first top-level "|" in @p..@end, or @end. */
static const char *
next_bar (const char *p, const char *end)
{
  while (p < end && *p != '|')
    {
      if (*p == '\\')
        p = MIN (p + 2, end);
      else if (*p == '[')
        p = skip_class (p, end);
      else if (*p == '(')
        p = skip_group (p, end);
      else
        p++;
    }
  return p;
}

/* The words of @p..@end split at top-level "|": one set for all, or NULL
 * in *out when an alternative has none. */
static void
words_of_alternatives (Reader *rd, const char *p, const char *end, GPtrArray **out)
{
  GPtrArray *all = g_ptr_array_new_with_free_func (g_free);
  const char *start = p;

  *out = NULL;
  while (!rd->give_up)
    {
      GPtrArray *set;

      p = next_bar (p, end);
      set = words_of_sequence (rd, start, p, NULL);
      if (set == NULL)
        {
          g_ptr_array_unref (all);
          return;
        }
      for (guint i = 0; i < set->len; i++)
        g_ptr_array_add (all, g_strdup (g_ptr_array_index (set, i)));
      g_ptr_array_unref (set);
      if (p >= end)
        break;
      start = ++p;
    }
  if (rd->give_up)
    {
      g_ptr_array_unref (all);
      return;
    }
  *out = all;
}

/**
 * bounce_pattern_words:
 * @pattern: a regular expression, matched without regard to case
 *
 * Returns: (transfer full) (nullable): lower-case words of which every
 *   match holds one, or NULL when no such words were found.
 */
GPtrArray *
bounce_pattern_words (const char *pattern)
{
  Reader rd = { FALSE };
  GPtrArray *words = NULL;

  words_of_alternatives (&rd, pattern, pattern + strlen (pattern), &words);
  if (words && (rd.give_up || words->len == 0))
    g_clear_pointer (&words, g_ptr_array_unref);
  return words;
}

/**
 * bounce_pattern_word_sets:
 * @pattern: a regular expression without a top-level "|", matched without
 *   regard to case
 *
 * Every set of words the pattern requires, as bounce_pattern_words()
 * finds them one at a time: the literal runs of at least three bytes
 * every match holds, and the words of the groups every match goes
 * through. A text the pattern matches holds a word of each set; the
 * best set (bounce_pattern_words()'s) comes first.
 *
 * Returns: (transfer full) (nullable): the sets (each a #GPtrArray of
 *   lower-case words), or NULL when the pattern has a top-level "|" or
 *   no set was found.
 */
GPtrArray *
bounce_pattern_word_sets (const char *pattern)
{
  Reader rd = { FALSE };
  const char *end = pattern + strlen (pattern);
  g_autoptr (GPtrArray) sets = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  g_autoptr (GPtrArray) best = NULL;

  if (next_bar (pattern, end) < end)
    return NULL;
  best = words_of_sequence (&rd, pattern, end, sets);
  if (rd.give_up || best == NULL)
    return NULL;
  /* The best first: a text without it is told at the first set. */
  for (guint i = 1; i < sets->len; i++)
    if (g_ptr_array_index (sets, i) == best)
      {
        sets->pdata[i] = sets->pdata[0];
        sets->pdata[0] = best;
      }
  return g_steal_pointer (&sets);
}

/* Whether the group at @p..@close refers to nothing outside itself and
 * sets no options for what follows it. */
static gboolean
group_stands_alone (const char *p, const char *close)
{
  for (const char *q = p; q + 1 < close; q++)
    {
      char c;

      if (*q == '\\')
        {
          c = q[1];
          if ((c >= '1' && c <= '9') || c == 'g' || c == 'k' || c == 'Q' || c == 'E')
            return FALSE;
          q++;
          continue;
        }
      if (*q != '(')
        continue;
      if (q[1] == '*')
        return FALSE; /* a verb */
      if (q[1] != '?' || q + 2 >= close)
        continue;
      c = q[2];
      /* Calls, recursion, conditions, named references. */
      if (c == '&' || c == 'R' || c == '(' || c == '+' || g_ascii_isdigit (c)
          || (c == '-' && q + 3 < close && g_ascii_isdigit (q[3]))
          || (c == 'P' && q + 3 < close && (q[3] == '=' || q[3] == '>')))
        return FALSE;
      /* Options for the rest: "(?i)", "(?-x)". */
      {
        const char *o = q + 2;

        while (o < close && (g_ascii_isalpha (*o) || *o == '-' || *o == '^'))
          o++;
        if (o > q + 2 && o < close && *o == ')')
          return FALSE;
      }
    }
  return TRUE;
}

/**
 * bounce_pattern_split:
 * @pattern: a regular expression
 *
 * The top-level alternatives of @pattern, as patterns of their own, when a
 * text matches the whole exactly when it matches one of them: none may be
 * empty, and the pattern may not refer from one to another (back
 * references, subroutine calls, recursion, conditions), set options for
 * what follows ("(?i)"), start with a verb ("(*UTF)") or quote ("\Q").
 *
 * Returns: (transfer full) (nullable): the alternatives, or NULL when
 *   there is only one or the pattern cannot be split.
 */
GStrv
bounce_pattern_split (const char *pattern)
{
  const char *p = pattern, *end = pattern + strlen (pattern), *start = pattern;
  g_autoptr (GPtrArray) alts = g_ptr_array_new_with_free_func (g_free);

  while (p < end)
    {
      if (*p == '\\')
        {
          char c = p + 1 < end ? p[1] : '\0';

          if ((c >= '1' && c <= '9') || c == 'g' || c == 'k' || c == 'Q' || c == 'E')
            return NULL;
          p = MIN (p + 2, end);
          continue;
        }
      if (*p == '[')
        {
          p = skip_class (p, end);
          continue;
        }
      if (*p == '(')
        {
          const char *close = skip_group (p, end);

          if (!group_stands_alone (p, close))
            return NULL;
          p = close;
          continue;
        }
      if (*p == '|')
        {
          if (p == start)
            return NULL;
          g_ptr_array_add (alts, g_strndup (start, p - start));
          start = p + 1;
        }
      p++;
    }
  if (alts->len == 0 || start == end)
    return NULL;
  g_ptr_array_add (alts, g_strndup (start, end - start));
  g_ptr_array_add (alts, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&alts), FALSE);
}

/* ---- finding words in a text -------------------------------------------- */

/* A word in the index: its first four bytes (fewer for a three-byte word)
 * for a quick comparison, then the rest. */
typedef struct
{
  guint32 prefix, mask;
  guint32 id, len;
  const char *word;
} Entry;

/* Words by triple_of () >> BUCKET_SHIFT: a few hundred words spread over
 * 16,384 buckets, few share one, and the table is small to clear (it
 * is made in every run of the program; the triples' bit map already says
 * which triples start a word). */
#define BUCKET_SHIFT 4
#define BUCKETS (TRIPLES >> BUCKET_SHIFT)

struct _BouncePrefilter
{
  GPtrArray *words; /* char *, lower case; a word's id is its index */
  GHashTable *ids;  /* word -> id + 1; NULL until a word is looked up */
  gboolean on;

  /* The index, built on first use. */
  GMutex lock;
  gint ready;
  guint8 triples[TRIPLES / 8]; /* bit triple_of ("abc"): a word starts with "abc" */
  guint32 *first;              /* bucket -> first entry; BUCKETS + 1 of them */
  Entry *entries;              /* sorted by bucket */
};

BouncePrefilter *
bounce_prefilter_new (void)
{
  BouncePrefilter *pf = g_new0 (BouncePrefilter, 1);

  pf->words = g_ptr_array_new_with_free_func (g_free);
  pf->on = TRUE;
  g_mutex_init (&pf->lock);
  return pf;
}

void
bounce_prefilter_free (BouncePrefilter *pf)
{
  if (pf == NULL)
    return;
  g_clear_pointer (&pf->ids, g_hash_table_unref);
  g_ptr_array_unref (pf->words);
  g_free (pf->first);
  g_free (pf->entries);
  g_mutex_clear (&pf->lock);
  g_free (pf);
}

/* bounce_prefilter_add_word: the id of @word (lower case), numbered now
 * when it is new. */
guint
bounce_prefilter_add_word (BouncePrefilter *pf, const char *word)
{
  gpointer id;

  if (pf->ids == NULL)
    {
      pf->ids = g_hash_table_new (g_str_hash, g_str_equal);
      for (guint i = 0; i < pf->words->len; i++)
        g_hash_table_insert (pf->ids, g_ptr_array_index (pf->words, i), GUINT_TO_POINTER (i + 1));
    }
  id = g_hash_table_lookup (pf->ids, word);
  if (id == NULL)
    {
      g_ptr_array_add (pf->words, g_strdup (word));
      id = GUINT_TO_POINTER (pf->words->len);
      g_hash_table_insert (pf->ids, g_ptr_array_index (pf->words, pf->words->len - 1), id);
      g_atomic_int_set (&pf->ready, 0);
    }
  return GPOINTER_TO_UINT (id) - 1;
}

/* bounce_prefilter_add_words: numbers @words (each lower case, none
 * twice, none numbered yet) in their order, after the words there are:
 * the first gets the id bounce_prefilter_get_words() has as its length.
 * Takes the strings. */
void
bounce_prefilter_add_words (BouncePrefilter *pf, char **words, guint n)
{
  for (guint i = 0; i < n; i++)
    {
      g_ptr_array_add (pf->words, words[i]);
      if (pf->ids)
        g_hash_table_insert (pf->ids, words[i], GUINT_TO_POINTER (pf->words->len));
    }
  g_atomic_int_set (&pf->ready, 0);
}

/* bounce_prefilter_get_words: Returns: (transfer none) the words, each at
 * its id. */
const GPtrArray *
bounce_prefilter_get_words (BouncePrefilter *pf)
{
  return pf->words;
}

/* bounce_prefilter_add_pattern: number the words of @pattern: every set
 * it requires when it has no top-level "|" (bounce_pattern_word_sets()),
 * else the one set bounce_pattern_words() finds.
 * Returns: (transfer full) (nullable): their ids, each set ended by
 *   BOUNCE_PREFILTER_AND but the last, which G_MAXUINT ends; or NULL when
 *   the pattern must always be run. */
guint *
bounce_prefilter_add_pattern (BouncePrefilter *pf, const char *pattern)
{
  g_autoptr (GPtrArray) sets = bounce_pattern_word_sets (pattern);
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (guint));
  guint end = G_MAXUINT;

  if (sets == NULL)
    {
      GPtrArray *words = bounce_pattern_words (pattern);

      if (words == NULL)
        return NULL;
      sets = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
      g_ptr_array_add (sets, words);
    }
  for (guint i = 0; i < sets->len; i++)
    {
      GPtrArray *words = g_ptr_array_index (sets, i);

      if (i > 0)
        {
          guint and = BOUNCE_PREFILTER_AND;

          g_array_append_val (ids, and);
        }
      for (guint k = 0; k < words->len; k++)
        {
          guint id = bounce_prefilter_add_word (pf, g_ptr_array_index (words, k));

          g_array_append_val (ids, id);
        }
    }
  g_array_append_val (ids, end);
  g_atomic_int_set (&pf->ready, 0);
  return (guint *) g_array_free (g_steal_pointer (&ids), FALSE);
}

/* bounce_prefilter_set_enabled: with FALSE every pattern is run (for
 * tests that compare both ways). */
void
bounce_prefilter_set_enabled (BouncePrefilter *pf, gboolean on)
{
  pf->on = on;
}

gboolean
bounce_prefilter_get_enabled (BouncePrefilter *pf)
{
  return pf->on;
}

static void
build_index (BouncePrefilter *pf)
{
  guint n = pf->words->len;

  g_free (pf->first);
  g_free (pf->entries);
  memset (pf->triples, 0, sizeof pf->triples);
  pf->first = g_new0 (guint32, BUCKETS + 1);
  pf->entries = g_new0 (Entry, MAX (n, 1));
  /* A counting sort of the words by bucket: first[b] counts up to the end
   * of bucket b, then back down to its start as its words are placed
   * (the last first, so that a bucket keeps the words' order). */
  for (guint i = 0; i < n; i++)
    pf->first[triple_of (g_ptr_array_index (pf->words, i)) >> BUCKET_SHIFT]++;
  for (guint b = 1; b <= BUCKETS; b++)
    pf->first[b] += pf->first[b - 1];
  for (guint i = n; i-- > 0;)
    {
      const guchar *w = g_ptr_array_index (pf->words, i);
      guint triple = triple_of (w);
      Entry *e = &pf->entries[--pf->first[triple >> BUCKET_SHIFT]];

      e->id = i;
      e->word = (const char *) w;
      e->len = strlen (e->word);
      e->mask = e->len >= 4 ? 0xffffffffu : 0xffffffu;
      e->prefix = (w[0] | w[1] << 8 | w[2] << 16 | (e->len >= 4 ? (guint32) w[3] << 24 : 0));
      pf->triples[triple >> 3] |= 1 << (triple & 7);
    }
}

/* bounce_prefilter_seen_len: how many 64-bit words the set of words seen
 * in a text takes (one bit a word), for bounce_prefilter_scan(). */
gsize
bounce_prefilter_seen_len (BouncePrefilter *pf)
{
  return pf->words->len / 64 + 1;
}

/* bounce_prefilter_scan: set in @seen the bit of each word @text holds
 * (ASCII letters compared without regard to case). @seen must be cleared
 * and sized by bounce_prefilter_seen_len(). Safe from several threads
 * once no more patterns are added. */
void
bounce_prefilter_scan (BouncePrefilter *pf, const char *text, gsize len, guint64 *seen)
{
  const guchar *t = (const guchar *) text;
  guint32 window;

  if (!g_atomic_int_get (&pf->ready))
    {
      g_mutex_lock (&pf->lock);
      if (!pf->ready)
        {
          build_index (pf);
          g_atomic_int_set (&pf->ready, 1);
        }
      g_mutex_unlock (&pf->lock);
    }
  if (text == NULL || len < MIN_WORD)
    return;
  /* The text's bytes i, i + 1 and i + 2 in lower case, byte i lowest. */
  window = lower (t[0]) | lower (t[1]) << 8;
  for (gsize i = 0; i + MIN_WORD <= len; i++)
    {
      guint triple;

      window |= (guint32) lower (t[i + 2]) << 16;
      triple = triple_hash (window);
      if (pf->triples[triple >> 3] & (1 << (triple & 7)))
        {
          guint32 quad = window | (i + 3 < len ? (guint32) lower (t[i + 3]) << 24 : 0);

          for (guint k = pf->first[triple >> BUCKET_SHIFT]; k < pf->first[(triple >> BUCKET_SHIFT) + 1]; k++)
            {
              const Entry *e = &pf->entries[k];
              gsize j;

              if ((quad & e->mask) != e->prefix || e->len > len - i
                  || (seen[e->id / 64] & (G_GUINT64_CONSTANT (1) << (e->id % 64))))
                continue;
              for (j = 4; j < e->len && lower (t[i + j]) == (guchar) e->word[j]; j++)
                ;
              if (j >= e->len)
                seen[e->id / 64] |= G_GUINT64_CONSTANT (1) << (e->id % 64);
            }
        }
      window >>= 8;
    }
}

/* bounce_prefilter_may_match: whether a pattern with @ids (from
 * bounce_prefilter_add_pattern) can match a text whose words are @seen:
 * whether the text holds a word of each of its sets. */
gboolean
bounce_prefilter_may_match (BouncePrefilter *pf, const guint *ids, const guint64 *seen)
{
  if (ids == NULL || seen == NULL || !pf->on)
    return TRUE;
  for (;;)
    {
      gboolean held = FALSE;

      for (; *ids < BOUNCE_PREFILTER_AND && !held; ids++)
        held = (seen[*ids / 64] & (G_GUINT64_CONSTANT (1) << (*ids % 64))) != 0;
      if (!held)
        return FALSE;
      /* The rest of the set, to its end. */
      while (*ids < BOUNCE_PREFILTER_AND)
        ids++;
      if (*ids++ == G_MAXUINT)
        return TRUE;
    }
}

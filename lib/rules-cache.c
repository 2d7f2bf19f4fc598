/* rules-cache.c — a rule set as bytes, to be loaded again without reading
 * its files.
 *
 * Reading the rule files (each pattern split into its alternatives, and
 * the prefilter's words found in each) costs more than reading a message:
 * a program that reads one message per run (check, filter) keeps the set
 * it read as bytes and takes them back while its files are unchanged.
 * The bytes hold what the files said, after reading: the patterns'
 * sources (compiled when they first run, as bounce_rules_set_checked()
 * says), the alternatives and their words, the weights and reasons.
 *
 * They start with this library's version and the caller's key (what the
 * files were like), and carry a checksum: bytes of another version, of
 * another key, cut short or damaged are refused (BOUNCE_ERROR_RULES), and
 * the caller reads the files instead. Every count and length is checked
 * against what is left: no input makes this read out of bounds.
 */
#include "config.h"
#include "rules-private.h"

#include <string.h>

#define CACHE_MAGIC "backscatter rules\n"
/* Raised whenever what is written here, or what reading a rule file
 * gives, changes. */
#define CACHE_FORMAT 2u
#define NONE G_MAXUINT32

/* ---- writing ------------------------------------------------------------ */

static void
put_u32 (GByteArray *out, guint32 v)
{
  g_byte_array_append (out, (const guint8 *) &v, sizeof v);
}

static void
put_u64 (GByteArray *out, guint64 v)
{
  g_byte_array_append (out, (const guint8 *) &v, sizeof v);
}

/* A string, or NULL. */
static void
put_str (GByteArray *out, const char *s)
{
  gsize len = s ? strlen (s) : 0;

  put_u32 (out, s ? (guint32) len : NONE);
  if (s)
    g_byte_array_append (out, (const guint8 *) s, len);
}

static void
put_strv (GByteArray *out, char **v)
{
  put_u32 (out, v ? g_strv_length (v) : NONE);
  for (guint i = 0; v && v[i]; i++)
    put_str (out, v[i]);
}

/* Each item of @items, after their number. */
static void
put_list (GByteArray *out, GPtrArray *items, void (*put_one) (GByteArray *out, gconstpointer item))
{
  put_u32 (out, items->len);
  for (guint i = 0; i < items->len; i++)
    put_one (out, g_ptr_array_index (items, i));
}

static void
put_pattern (GByteArray *out, gconstpointer item)
{
  put_str (out, ((const BouncePattern *) item)->source);
}

static void
put_test (GByteArray *out, const Test *t)
{
  gboolean split = t->alts[0] != t->whole;

  put_str (out, t->whole->source);
  put_u32 (out, t->n);
  put_u32 (out, split);
  for (guint i = 0; split && i < t->n; i++)
    put_str (out, t->alts[i]->source);
  for (guint i = 0; i < t->n; i++)
    {
      guint n = 0;

      while (t->words[i] && t->words[i][n] != G_MAXUINT)
        n++;
      put_u32 (out, t->words[i] ? n : NONE);
      for (guint k = 0; k < n; k++)
        put_u32 (out, t->words[i][k]);
    }
}

static void
put_cond (GByteArray *out, gconstpointer item)
{
  const Cond *c = item;

  put_u32 (out, c->where);
  put_u32 (out, c->negate);
  put_str (out, c->header);
  put_test (out, c->test);
}

static void
put_format (GByteArray *out, gconstpointer item)
{
  const BounceFormatRule *r = item;

  put_str (out, r->name);
  put_str (out, r->file);
  put_u32 (out, r->line);
  put_u32 (out, r->kind);
  put_list (out, r->conds, put_cond);
  put_list (out, r->recipients, put_pattern);
  put_list (out, r->diagnostics, put_pattern);
  put_list (out, r->follows, put_pattern);
  put_list (out, r->originals, put_pattern);
  put_str (out, r->errors_start ? r->errors_start->source : NULL);
  put_str (out, r->errors_end ? r->errors_end->source : NULL);
  put_str (out, r->status);
  put_str (out, r->reason);
  put_strv (out, r->samples);
}

static void
put_reason (GByteArray *out, gconstpointer item)
{
  const ReasonRule *rr = item;

  put_str (out, rr->reason);
  put_test (out, rr->test);
}

/* A checksum that finds damaged bytes (not a defence against forgery: the
 * bytes are the caller's own, in a private place). */
guint64
bounce_rules_cache_checksum (const guint8 *p, gsize len)
{
  guint64 h = G_GUINT64_CONSTANT (0x9e3779b97f4a7c15) ^ len;

  for (; len >= 8; p += 8, len -= 8)
    {
      guint64 w;

      memcpy (&w, p, sizeof w);
      h = (h ^ w) * G_GUINT64_CONSTANT (0xff51afd7ed558ccd);
      h ^= h >> 32;
    }
  for (; len > 0; p++, len--)
    {
      h = (h ^ *p) * G_GUINT64_CONSTANT (0xc4ceb9fe1a85ec53);
      h ^= h >> 29;
    }
  return h;
}

/* The keys of @table in string order: the same rules give the same
 * bytes. */
static GPtrArray *
sorted_keys (GHashTable *table)
{
  GPtrArray *keys = g_ptr_array_sized_new (g_hash_table_size (table));
  GHashTableIter it;
  gpointer key;

  g_hash_table_iter_init (&it, table);
  while (g_hash_table_iter_next (&it, &key, NULL))
    g_ptr_array_add (keys, key);
  g_ptr_array_sort (keys, bounce_compare_strings);
  return keys;
}

/**
 * bounce_rules_to_cache:
 * @rules: a rule set, as loaded from its files
 * @key: what the files were like when they were read (such as
 *   bounce_rules_dir_stamp()'s of each folder), and anything else that
 *   changes what reading them gives (which program and library read
 *   them)
 *
 * The rule set as bytes, for bounce_rules_new_from_cache(). Save them only
 * for rules whose files were checked (loaded without
 * bounce_rules_set_checked()) and loaded without a mistake.
 *
 * Returns: (transfer full): the bytes
 */
GBytes *
bounce_rules_to_cache (BounceRules *rules, const char *key)
{
  g_autoptr (GByteArray) payload = g_byte_array_new ();
  GByteArray *out = g_byte_array_new ();
  const GPtrArray *words = bounce_prefilter_get_words (rules->prefilter);
  g_autoptr (GPtrArray) codes = sorted_keys (rules->status_reasons);
  g_autoptr (GPtrArray) weights = sorted_keys (rules->weights);
  g_autoptr (GPtrArray) headers = sorted_keys (rules->header_names);

  put_u32 (payload, words->len);
  for (guint i = 0; i < words->len; i++)
    put_str (payload, g_ptr_array_index (words, i));
  put_list (payload, rules->formats, put_format);
  put_list (payload, rules->user_formats, put_format);
  put_list (payload, rules->reasons, put_reason);
  put_list (payload, rules->user_reasons, put_reason);
  put_u32 (payload, codes->len);
  for (guint i = 0; i < codes->len; i++)
    {
      put_str (payload, g_ptr_array_index (codes, i));
      put_str (payload, g_hash_table_lookup (rules->status_reasons, g_ptr_array_index (codes, i)));
    }
  put_u32 (payload, weights->len);
  for (guint i = 0; i < weights->len; i++)
    {
      guint64 bits;

      memcpy (&bits, g_hash_table_lookup (rules->weights, g_ptr_array_index (weights, i)), sizeof bits);
      put_str (payload, g_ptr_array_index (weights, i));
      put_u64 (payload, bits);
    }
  put_u32 (payload, headers->len);
  for (guint i = 0; i < headers->len; i++)
    put_str (payload, g_ptr_array_index (headers, i));

  g_byte_array_append (out, (const guint8 *) CACHE_MAGIC, strlen (CACHE_MAGIC));
  put_u32 (out, CACHE_FORMAT);
  put_str (out, BOUNCE_VERSION);
  put_str (out, key);
  put_u64 (out, payload->len);
  put_u64 (out, bounce_rules_cache_checksum (payload->data, payload->len));
  g_byte_array_append (out, payload->data, payload->len);
  return g_byte_array_free_to_bytes (out);
}

/* ---- reading ------------------------------------------------------------ */

/* What is left to read; once anything is wrong, bad is set and every read
 * gives nothing. */
typedef struct
{
  const guint8 *p, *end;
  gboolean bad;
  guint n_words; /* the prefilter's: the ids an alternative may have */
} Reader;

static gboolean
get_bytes (Reader *rd, void *dst, gsize len)
{
  if (rd->bad || (gsize) (rd->end - rd->p) < len)
    {
      rd->bad = TRUE;
      return FALSE;
    }
  memcpy (dst, rd->p, len);
  rd->p += len;
  return TRUE;
}

static guint32
get_u32 (Reader *rd)
{
  guint32 v = 0;

  get_bytes (rd, &v, sizeof v);
  return v;
}

static guint64
get_u64 (Reader *rd)
{
  guint64 v = 0;

  get_bytes (rd, &v, sizeof v);
  return v;
}

/* A count of things that take at least @size bytes each: no more than
 * what is left could hold. */
static guint32
get_count (Reader *rd, gsize size)
{
  guint32 n = get_u32 (rd);

  if (!rd->bad && n > (gsize) (rd->end - rd->p) / size)
    rd->bad = TRUE;
  return rd->bad ? 0 : n;
}

/* A string (NULL for none, and with @may_be_null FALSE that is wrong).
 * Every string of the rules is UTF-8 without a NUL byte as read from
 * their files; one that is not was damaged, and a pattern that is not
 * would be handed to PCRE2, which trusts GLib to have checked it. */
static char *
get_str (Reader *rd, gboolean may_be_null)
{
  guint32 len = get_u32 (rd);
  char *s;

  if (rd->bad || (len == NONE && may_be_null))
    return NULL;
  if (len == NONE || len > (gsize) (rd->end - rd->p) || !bounce_utf8_valid ((const char *) rd->p, len))
    {
      rd->bad = TRUE;
      return NULL;
    }
  s = g_strndup ((const char *) rd->p, len);
  rd->p += len;
  return s;
}

static char **
get_strv (Reader *rd)
{
  guint32 n = get_u32 (rd);
  char **v;

  if (rd->bad || n == NONE)
    return NULL;
  if (n > (gsize) (rd->end - rd->p) / 4)
    {
      rd->bad = TRUE;
      return NULL;
    }
  v = g_new0 (char *, n + 1);
  for (guint i = 0; i < n && !rd->bad; i++)
    v[i] = get_str (rd, FALSE);
  return v;
}

static BouncePattern *
get_pattern (Reader *rd, gboolean may_be_null)
{
  g_autofree char *source = get_str (rd, may_be_null);

  return source ? bounce_pattern_new (source, PATTERN_FLAGS) : NULL;
}

static void
get_patterns (Reader *rd, GPtrArray *into)
{
  guint32 n = get_count (rd, 4);

  for (guint i = 0; i < n && !rd->bad; i++)
    {
      BouncePattern *p = get_pattern (rd, FALSE);

      if (p)
        g_ptr_array_add (into, p);
    }
}

/* The words of an alternative: their ids in the new set's prefilter,
 * sets of them between BOUNCE_PREFILTER_AND, none empty. */
static guint *
get_words (Reader *rd)
{
  guint32 n = get_u32 (rd);
  guint *ids;

  if (rd->bad || n == NONE)
    return NULL;
  if (n == 0 || n > (gsize) (rd->end - rd->p) / 4)
    {
      rd->bad = TRUE;
      return NULL;
    }
  ids = g_new (guint, n + 1);
  for (guint i = 0; i < n; i++)
    {
      guint32 id = get_u32 (rd);

      if (id == BOUNCE_PREFILTER_AND ? i == 0 || i + 1 == n || ids[i - 1] == BOUNCE_PREFILTER_AND : id >= rd->n_words)
        rd->bad = TRUE;
      ids[i] = rd->bad ? 0 : id;
    }
  ids[n] = G_MAXUINT;
  return ids;
}

static Test *
get_test (Reader *rd)
{
  BouncePattern *whole = get_pattern (rd, FALSE);
  guint32 n = get_count (rd, 4);
  guint32 split = get_u32 (rd);
  Test *t;

  if (whole == NULL || n == 0 || split > 1 || (!split && n != 1))
    {
      rd->bad = TRUE;
      g_clear_pointer (&whole, bounce_pattern_free);
      return NULL;
    }
  t = g_new0 (Test, 1);
  t->whole = whole;
  t->n = n;
  t->alts = g_new0 (BouncePattern *, n);
  t->words = g_new0 (guint *, n);
  for (guint i = 0; i < n && !rd->bad; i++)
    if ((t->alts[i] = split ? get_pattern (rd, FALSE) : whole) != NULL && split)
      t->alts[i]->whole = whole;
  for (guint i = 0; i < n && !rd->bad; i++)
    t->words[i] = get_words (rd);
  if (rd->bad)
    g_clear_pointer (&t, bounce_rule_test_free);
  return t;
}

static void
get_formats (Reader *rd, GPtrArray *into)
{
  guint32 n = get_count (rd, 4);

  for (guint i = 0; i < n && !rd->bad; i++)
    {
      BounceFormatRule *r = g_new0 (BounceFormatRule, 1);
      guint32 n_conds;

      /* In the set at once: freed with it if what follows is wrong. */
      r->conds = g_ptr_array_new_with_free_func (bounce_rule_cond_free);
      r->recipients = g_ptr_array_new_with_free_func (bounce_pattern_free);
      r->diagnostics = g_ptr_array_new_with_free_func (bounce_pattern_free);
      r->follows = g_ptr_array_new_with_free_func (bounce_pattern_free);
      r->originals = g_ptr_array_new_with_free_func (bounce_pattern_free);
      g_ptr_array_add (into, r);
      r->name = get_str (rd, FALSE);
      r->file = get_str (rd, FALSE);
      r->line = get_u32 (rd);
      r->kind = get_u32 (rd);
      if (r->kind > BOUNCE_KIND_MDN)
        rd->bad = TRUE;
      n_conds = get_count (rd, 16);
      for (guint k = 0; k < n_conds && !rd->bad; k++)
        {
          Cond *c = g_new0 (Cond, 1);
          guint32 where = get_u32 (rd);
          guint32 negate = get_u32 (rd);

          g_ptr_array_add (r->conds, c);
          if (where > COND_BODY || negate > 1)
            rd->bad = TRUE;
          c->where = where;
          c->negate = negate;
          c->header = get_str (rd, where != COND_HEADER);
          if (!rd->bad)
            c->test = get_test (rd);
        }
      get_patterns (rd, r->recipients);
      get_patterns (rd, r->diagnostics);
      get_patterns (rd, r->follows);
      get_patterns (rd, r->originals);
      r->errors_start = get_pattern (rd, TRUE);
      r->errors_end = get_pattern (rd, TRUE);
      r->status = get_str (rd, TRUE);
      r->reason = get_str (rd, TRUE);
      r->samples = get_strv (rd);
      if (!rd->bad && (r->name == NULL || r->file == NULL || r->conds->len == 0))
        rd->bad = TRUE;
    }
}

static void
get_reasons (Reader *rd, GPtrArray *into)
{
  guint32 n = get_count (rd, 8);

  for (guint i = 0; i < n && !rd->bad; i++)
    {
      ReasonRule *rr = g_new0 (ReasonRule, 1);

      g_ptr_array_add (into, rr);
      rr->reason = get_str (rd, FALSE);
      if (!rd->bad)
        rr->test = get_test (rd);
    }
}

static gboolean
refuse (GError **error, const char *why)
{
  g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_RULES, "saved rules: %s", why);
  return FALSE;
}

/* The header: the format, the version, the key and the checksum; on
 * success @rd is left on the payload. */
static gboolean
read_header (Reader *rd, const char *key, GError **error)
{
  gsize magic = strlen (CACHE_MAGIC);
  g_autofree char *version = NULL;
  g_autofree char *saved_key = NULL;
  guint64 len, sum;

  if ((gsize) (rd->end - rd->p) < magic || memcmp (rd->p, CACHE_MAGIC, magic) != 0)
    return refuse (error, "not a saved rule set");
  rd->p += magic;
  if (get_u32 (rd) != CACHE_FORMAT)
    return refuse (error, "another format");
  version = get_str (rd, FALSE);
  saved_key = get_str (rd, FALSE);
  len = get_u64 (rd);
  sum = get_u64 (rd);
  if (rd->bad)
    return refuse (error, "cut short");
  if (strcmp (version, BOUNCE_VERSION) != 0)
    return refuse (error, "saved by another version");
  if (strcmp (saved_key, key) != 0)
    return refuse (error, "saved from other files");
  if (len != (guint64) (rd->end - rd->p))
    return refuse (error, "cut short");
  if (bounce_rules_cache_checksum (rd->p, len) != sum)
    return refuse (error, "damaged");
  return TRUE;
}

/**
 * bounce_rules_new_from_cache:
 * @data: bytes from bounce_rules_to_cache()
 * @len: their length
 * @key: the key they must have been saved with
 * @error: BOUNCE_ERROR_RULES when the bytes are not a rule set saved by
 *   this version of the library with @key, or are damaged
 *
 * The rule set saved in @data, its patterns compiled when they first run
 * (as with bounce_rules_set_checked()).
 *
 * Returns: (transfer full) (nullable): the rules, or NULL with @error set.
 */
BounceRules *
bounce_rules_new_from_cache (const void *data, gsize len, const char *key, GError **error)
{
  Reader rd = { data, (const guint8 *) data + len, FALSE, 0 };
  g_autoptr (BounceRules) rules = NULL;
  g_autofree char **words = NULL;
  guint32 n;

  if (!read_header (&rd, key, error))
    return NULL;
  rules = bounce_rules_new ();
  /* The prefilter's words, numbered as they were: an empty set's
   * prefilter gives them the same ids. */
  n = get_count (&rd, 4);
  words = g_new0 (char *, MAX (n, 1));
  for (guint i = 0; i < n && !rd.bad; i++)
    words[i] = get_str (&rd, FALSE);
  if (rd.bad)
    {
      for (guint i = 0; i < n; i++)
        g_free (words[i]);
      refuse (error, "damaged");
      return NULL;
    }
  bounce_prefilter_add_words (rules->prefilter, words, n);
  rd.n_words = n;
  get_formats (&rd, rules->formats);
  get_formats (&rd, rules->user_formats);
  get_reasons (&rd, rules->reasons);
  get_reasons (&rd, rules->user_reasons);
  n = get_count (&rd, 8);
  for (guint i = 0; i < n && !rd.bad; i++)
    {
      char *code = get_str (&rd, FALSE);
      char *reason = get_str (&rd, FALSE);

      if (code && reason)
        g_hash_table_replace (rules->status_reasons, code, reason);
      else
        {
          g_free (code);
          g_free (reason);
        }
    }
  n = get_count (&rd, 12);
  for (guint i = 0; i < n && !rd.bad; i++)
    {
      char *name = get_str (&rd, FALSE);
      guint64 bits = get_u64 (&rd);

      if (name && !rd.bad)
        g_hash_table_replace (rules->weights, name, g_memdup2 (&bits, sizeof bits));
      else
        g_free (name);
    }
  n = get_count (&rd, 4);
  for (guint i = 0; i < n && !rd.bad; i++)
    {
      char *name = get_str (&rd, FALSE);

      if (name)
        g_hash_table_add (rules->header_names, name);
    }
  if (rd.bad || rd.p != rd.end)
    {
      refuse (error, "damaged");
      return NULL;
    }
  return g_steal_pointer (&rules);
}

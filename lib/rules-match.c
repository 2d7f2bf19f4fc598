/* rules-match.c — which rules hold for a message.
 *
 * The first format rule whose conditions all hold names the kind of
 * report (bounce_rules_match); before any parsing, the triage asks
 * whether one could hold at all (bounce_rules_may_report), from the
 * prefilter's words and the headers there are. The reason of a failure is
 * that of the first reason rule matching its diagnostic, else the one its
 * status code has (bounce_rules_reason). User rules are tried first.
 */
#include "rules-private.h"

#include <string.h>

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
      g_autofree char *value = NULL;

      if (g_ascii_strcasecmp (g_mime_header_get_name (h), c->header) != 0)
        continue;
      value = bounce_header_value (h);
      if (value && g_utf8_validate (value, -1, NULL)
          && g_regex_match (bounce_pattern_re (c->test->whole, -1), value, 0, NULL))
        return TRUE;
    }
  return FALSE;
}

/* Whether a header of the message matches: of its top part, which holds
 * all of its header block (bounce_parse_bounded_part()). */
static gboolean
header_matches (GMimeObject *msg, const Cond *c)
{
  return header_list_matches (g_mime_object_get_header_list (msg), c);
}

/* The words of the prefilter found in the texts a message's rules read. */
typedef struct
{
  BouncePrefilter *pf;
  guint64 *from, *subject, *body;
} Seen;

static gboolean
cond_holds (const Cond *c, const BounceRuleInput *in, const char *from, const char *subject, const Seen *seen)
{
  gboolean m = FALSE;

  switch (c->where)
    {
    case COND_FROM:
      m = from && bounce_rule_test_matches (c->test, seen->pf, seen->from, from, -1);
      break;
    case COND_SUBJECT:
      m = subject && bounce_rule_test_matches (c->test, seen->pf, seen->subject, subject, -1);
      break;
    case COND_HEADER:
      m = header_matches (in->message, c);
      break;
    case COND_BODY:
      m = in->text && bounce_rule_test_matches (c->test, seen->pf, seen->body, in->text, in->text_len);
      break;
    }
  return c->negate ? !m : m;
}

static const BounceFormatRule *
match_in (GPtrArray *formats, const BounceRuleInput *in, const char *from, const char *subject, const Seen *seen)
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
  g_autofree char *f = bounce_header_text (in->message, "From");
  g_autofree char *s = bounce_header_text (in->message, "Subject");
  g_autofree char *from = f ? bounce_utf8 (f, -1) : NULL;
  g_autofree char *subject = s ? bounce_utf8 (s, -1) : NULL;
  gsize n = bounce_prefilter_seen_len (rules->prefilter);
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
    if (g_regex_match (bounce_pattern_re (t->whole, -1), *values, 0, NULL))
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
cond_cannot_hold (const Cond *c, BouncePrefilter *pf, const BounceLook *look, const LookWords *seen, gboolean run)
{
  GPtrArray *values;

  if (c->negate)
    return FALSE;
  switch (c->where)
    {
    case COND_FROM:
      return look->from
             && (test_cannot_match (c->test, pf, seen->from) || (run && !test_matches_any (c->test, look->from)));
    case COND_SUBJECT:
      return look->subject
             && (test_cannot_match (c->test, pf, seen->subject) || (run && !test_matches_any (c->test, look->subject)));
    case COND_HEADER:
      if (!g_hash_table_lookup_extended (look->headers, c->header, NULL, (gpointer *) &values))
        return TRUE; /* no such header */
      return run && values && !test_matches_any (c->test, (const char *const *) values->pdata);
    case COND_BODY:
      return test_cannot_match (c->test, pf, seen->body)
             || (run && !bounce_rule_test_matches (c->test, pf, seen->body, look->text, look->text_len));
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
  gsize n = bounce_prefilter_seen_len (rules->prefilter);
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

static const char *
reason_in (BouncePrefilter *pf, GPtrArray *reasons, const char *diagnostic, const guint64 *seen)
{
  for (guint i = 0; i < reasons->len; i++)
    {
      ReasonRule *rr = g_ptr_array_index (reasons, i);

      if (bounce_rule_test_matches (rr->test, pf, seen, diagnostic, -1))
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
      gsize n = bounce_prefilter_seen_len (rules->prefilter);
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

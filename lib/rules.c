/* rules.c — the rule set: what the rule files of rules/ say, held in
 * memory, and the patterns they are made of.
 *
 * A rule file is a list of statements, one a line (rules/README.md gives
 * the language): `format` blocks that recognise a kind of report and say
 * where its recipients, diagnostics and returned original are; `reason`
 * and `status-reason` lines that name the cause of a failure; `weight`
 * lines that set how much each piece of evidence counts for the judge.
 * rules-parse.c reads them into a set, rules-match.c finds the format and
 * the reason that apply, rules-extract.c reads a report with its format.
 *
 * Patterns are checked when the rules are read, and compiled again for
 * speed (PCRE2's JIT) once they have run a few times, or all at once with
 * bounce_rules_compile().
 */
#include "rules-private.h"

#include <string.h>

/* Frees @t (nullable), also one that rules-cache.c left half made: an
 * alternative may be missing. */
void
bounce_rule_test_free (Test *t)
{
  if (t == NULL)
    return;
  bounce_pattern_free (t->whole);
  for (guint i = 0; i < t->n; i++)
    {
      if (t->alts[i] && t->alts[i] != t->whole)
        bounce_pattern_free (t->alts[i]);
      g_free (t->words[i]);
    }
  g_free (t->alts);
  g_free (t->words);
  g_free (t);
}

/* Whether @text matches @t; @seen: the prefilter's words in it, or NULL
 * when it was not scanned (every alternative is run). Without the
 * prefilter, the whole pattern is run, as written. */
gboolean
bounce_rule_test_matches (const Test *t, BouncePrefilter *pf, const guint64 *seen, const char *text, gssize len)
{
  if (!bounce_prefilter_get_enabled (pf))
    return g_regex_match_full (bounce_pattern_re (t->whole, len), text, len, 0, 0, NULL, NULL);
  for (guint i = 0; i < t->n; i++)
    if (bounce_prefilter_may_match (pf, t->words[i], seen)
        && g_regex_match_full (bounce_pattern_re (t->alts[i], len), text, len, 0, 0, NULL, NULL))
      return TRUE;
  return FALSE;
}

static void
test_compile (Test *t)
{
  for (guint i = 0; i < t->n; i++)
    bounce_pattern_compile (t->alts[i]);
}

void
bounce_rule_cond_free (gpointer p)
{
  Cond *c = p;

  g_free (c->header);
  bounce_rule_test_free (c->test);
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
  g_clear_pointer (&r->errors_start, bounce_pattern_free);
  g_clear_pointer (&r->errors_end, bounce_pattern_free);
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
  bounce_rule_test_free (r->test);
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

/* bounce_rules_ref: Returns: (transfer full) @rules, with one more
 * reference; loaded rules may be shared by threads. */
BounceRules *
bounce_rules_ref (BounceRules *rules)
{
  g_atomic_int_inc (&rules->ref);
  return rules;
}

/* bounce_rules_unref: drops a reference to @rules (nullable); the last
 * frees them. */
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
          bounce_pattern_compile (g_ptr_array_index (lists[k], j));
      if (r->errors_start)
        bounce_pattern_compile (r->errors_start);
      if (r->errors_end)
        bounce_pattern_compile (r->errors_end);
    }
}

/**
 * bounce_rules_compile:
 *
 * Compiles every pattern for speed now (PCRE2's JIT) instead of once
 * each has run a few times: for a long job, on a spare thread, while the rules are
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

/**
 * bounce_rules_set_checked:
 * @rules: a rule set, before anything is loaded into it
 * @checked: whether the files to be loaded were loaded and checked before
 *   and have not changed since (bounce_rules_dir_stamp() tells)
 *
 * With TRUE, the patterns of the files loaded next are not compiled to be
 * checked when they are read, only the first time each runs: loading
 * costs a fraction, which matters to a program that reads one message.
 * A mistake in a pattern is then not reported; such a pattern matches
 * nothing.
 */
void
bounce_rules_set_checked (BounceRules *rules, gboolean checked)
{
  rules->checked = checked;
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

/* judgement.c — what the evidence adds up to.
 *
 * The names of the evidence the judge knows and which of them are about
 * the owner's own mail; a judgement holds the evidence found, its score
 * (the sum of the weights rules/weights.rules gives) and the verdict the
 * thresholds and the veto make of it (judge.c says what each verdict
 * means). The judgement is also written as the X-Backscatter header
 * lines that `filter` and `scan --action tag` add.
 */
#include "judge-private.h"

#include <string.h>

/* The evidence the judge knows. Its weights are data: rules/weights.rules
 * sets each one (a weight no rule file sets is 0), with the thresholds
 * and the veto. What stays here is what each piece is about. */
static const struct
{
  const char *name;
  gboolean about_owner; /* evidence about the owner's own mail */
} evidence_names[] = {
  { "sent-id-found", TRUE },
  { "sent-id-missing", TRUE },
  { "sent-id-missing-uncovered", FALSE },
  { "sent-id-missing-incomplete", FALSE },
  { "sent-id-missing-known-path", FALSE },
  { "relay-found", TRUE },
  { "relay-missing", TRUE },
  { "relay-missing-whole", TRUE },
  { "relay-id-domain", TRUE },
  { "relay-id-foreign", TRUE },
  { "dkim-found", TRUE },
  { "dkim-missing", TRUE },
  { "dkim-learned", FALSE },
  { "batv-valid", TRUE },
  { "batv-invalid", TRUE },
  { "batv-expired", TRUE },
  { "batv-untagged", TRUE },
  { "from-not-owner", TRUE },
  { "path-known", TRUE },
  { "style-known", FALSE },
  { "path-new-submission", FALSE },
  { "no-submission-hop", TRUE },
  { "id-domain-unknown", FALSE },
  { "id-domain-known", FALSE },
  { "id-shape-unknown", FALSE },
  { "agent-unknown", FALSE },
  { "agent-known", FALSE },
  { "agent-bulk", FALSE },
  { "zone-unknown", FALSE },
  { "recipient-stranger", FALSE },
  { "recipient-new", FALSE },
  { "recipient-known", FALSE },
  { "recipients-harvested", FALSE },
  { "date-outside-history", FALSE },
  { "date-far-from-bounce", FALSE },
  { "risky-attachment", FALSE },
  { "virus-notice", FALSE },
  { "no-original", FALSE },
  { "no-message-id", FALSE },
};

/* bounce_judge_evidence_name: the @i-th name the judge knows, or NULL
 * past the last (for the test that weights.rules sets them all). */
const char *
bounce_judge_evidence_name (guint i)
{
  return i < G_N_ELEMENTS (evidence_names) ? evidence_names[i].name : NULL;
}

static gboolean
about_owner (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (evidence_names); i++)
    if (strcmp (evidence_names[i].name, name) == 0)
      return evidence_names[i].about_owner;
  return FALSE;
}

static void
evidence_clear (gpointer p)
{
  BounceEvidence *e = p;

  g_free (e->rule);
  g_free (e->detail);
}

/* bounce_judgement_free: frees @judgement (nullable) and the evidence it
 * holds; what bounce_judgement_get_evidence() returned goes with it. */
void
bounce_judgement_free (BounceJudgement *j)
{
  if (j == NULL)
    return;
  g_array_unref (j->evidence);
  g_free (j);
}

/* bounce_judgement_new: a judgement without evidence yet. */
BounceJudgement *
bounce_judgement_new (void)
{
  BounceJudgement *jm = g_new0 (BounceJudgement, 1);

  jm->evidence = g_array_new (FALSE, TRUE, sizeof (BounceEvidence));
  g_array_set_clear_func (jm->evidence, evidence_clear);
  return jm;
}

/* bounce_judge_add: add to @jm the evidence @name, with the weight the
 * rules give it and a sentence saying what was seen. */
void
bounce_judge_add (BounceJudge *j, BounceJudgement *jm, const char *name, const char *fmt, ...)
{
  BounceEvidence e = { 0 };
  va_list ap;

  e.rule = g_strdup (name);
  e.weight = bounce_rules_get_weight (j->rules, name, 0);
  va_start (ap, fmt);
  e.detail = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_array_append_val (jm->evidence, e);
}

/* bounce_judge_day: @t as YYYY-MM-DD. */
char *
bounce_judge_day (gint64 t)
{
  g_autoptr (GDateTime) d = g_date_time_new_from_unix_utc (t);

  return d ? g_date_time_format (d, "%Y-%m-%d") : g_strdup ("?");
}

/* bounce_judgement_decide: the score (the sum of the weights) and the
 * verdict, by the thresholds and the veto the rules set. Without
 * weights.rules nothing is decided. */
void
bounce_judgement_decide (BounceJudgement *jm, BounceRules *rules)
{
  gboolean owner_evidence_for = FALSE, veto = FALSE;
  double b_threshold = bounce_rules_get_weight (rules, "threshold-backscatter", G_MAXDOUBLE);
  double l_threshold = bounce_rules_get_weight (rules, "threshold-legitimate", -G_MAXDOUBLE);
  double veto_weight = bounce_rules_get_weight (rules, "veto", -G_MAXDOUBLE);

  for (guint i = 0; i < jm->evidence->len; i++)
    {
      BounceEvidence *e = &g_array_index (jm->evidence, BounceEvidence, i);

      jm->score += e->weight;
      if (e->weight > 0 && about_owner (e->rule))
        owner_evidence_for = TRUE;
      if (e->weight <= veto_weight)
        veto = TRUE;
    }
  if (jm->score >= b_threshold && owner_evidence_for && !veto)
    jm->verdict = BOUNCE_VERDICT_BACKSCATTER;
  else if (jm->score <= l_threshold)
    jm->verdict = BOUNCE_VERDICT_LEGITIMATE;
  else
    jm->verdict = BOUNCE_VERDICT_UNKNOWN;
}

/* bounce_judgement_get_verdict: Returns: the verdict. */
BounceVerdict
bounce_judgement_get_verdict (BounceJudgement *jm)
{
  return jm->verdict;
}

/* bounce_judgement_get_score: Returns: the score, the sum of the
 * evidence's weights. */
double
bounce_judgement_get_score (BounceJudgement *jm)
{
  return jm->score;
}

/* bounce_judgement_get_n_evidence: Returns: how many pieces of evidence
 * the judgement holds, in the order they were found. */
guint
bounce_judgement_get_n_evidence (BounceJudgement *jm)
{
  return jm->evidence->len;
}

/** Returns: (transfer none) the @index-th piece of evidence. */
const BounceEvidence *
bounce_judgement_get_evidence (BounceJudgement *jm, guint index)
{
  g_return_val_if_fail (index < jm->evidence->len, NULL);
  return &g_array_index (jm->evidence, BounceEvidence, index);
}

static const char *const verdict_names[] = {
  [BOUNCE_VERDICT_NOT_BOUNCE] = "not-bounce",
  [BOUNCE_VERDICT_UNKNOWN] = "unknown",
  [BOUNCE_VERDICT_LEGITIMATE] = "legitimate",
  [BOUNCE_VERDICT_BACKSCATTER] = "backscatter",
};

/* bounce_verdict_to_string: Returns: (transfer none) the verdict's name
 * in the JSON output and the X-Backscatter header ("backscatter", ...),
 * a static string. */
const char *
bounce_verdict_to_string (BounceVerdict verdict)
{
  g_return_val_if_fail ((guint) verdict < G_N_ELEMENTS (verdict_names), NULL);
  return verdict_names[verdict];
}

/* bounce_verdict_from_string: Returns: TRUE and sets @verdict when @name
 * (nullable) is a verdict's name; FALSE, @verdict untouched, otherwise. */
gboolean
bounce_verdict_from_string (const char *name, BounceVerdict *verdict)
{
  int i = bounce_name_index (verdict_names, G_N_ELEMENTS (verdict_names), name);

  if (i < 0)
    return FALSE;
  *verdict = i;
  return TRUE;
}

/**
 * bounce_judgement_to_headers:
 * @report: the report judged
 * @newline: the line ending to use ("\n" or "\r\n")
 *
 * The header lines `backscatter filter` and `scan --action tag` add:
 * "X-Backscatter: VERDICT; score=S; kind=K[; format=F]" and, when there is
 * evidence, "X-Backscatter-Evidence: RULE (WEIGHT), ..." folded at 78
 * columns.
 *
 * Returns: (transfer full): the lines, each ending with @newline
 */
char *
bounce_judgement_to_headers (BounceJudgement *jm, BounceReport *report, const char *newline)
{
  GString *out = g_string_new (NULL);
  char score[G_ASCII_DTOSTR_BUF_SIZE];
  const char *format = bounce_report_get_format (report);
  gsize line_start;

  g_ascii_formatd (score, sizeof score, "%.1f", jm->score);
  g_string_append_printf (out, "X-Backscatter: %s; score=%s; kind=%s", bounce_verdict_to_string (jm->verdict), score,
                          bounce_kind_to_string (bounce_report_get_kind (report)));
  if (format)
    g_string_append_printf (out, "; format=%s", format);
  g_string_append (out, newline);
  if (jm->evidence->len == 0)
    return g_string_free (out, FALSE);
  line_start = out->len;
  g_string_append (out, "X-Backscatter-Evidence:");
  for (guint i = 0; i < jm->evidence->len; i++)
    {
      BounceEvidence *e = &g_array_index (jm->evidence, BounceEvidence, i);
      char w[G_ASCII_DTOSTR_BUF_SIZE];
      g_autofree char *item = NULL;

      g_ascii_formatd (w, sizeof w, "%+.1f", e->weight);
      item = g_strdup_printf (" %s (%s)%s", e->rule, w, i + 1 < jm->evidence->len ? "," : "");
      if (out->len - line_start + strlen (item) > 78)
        {
          g_string_append (out, newline);
          line_start = out->len;
          g_string_append_c (out, ' ');
        }
      g_string_append (out, item);
    }
  g_string_append (out, newline);
  return g_string_free (out, FALSE);
}

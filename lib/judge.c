/* judge.c — did the owner really send the message that bounced?
 *
 * Each piece of evidence has a name, a weight (positive: backscatter,
 * negative: the owner's own mail) and a sentence saying what was seen.
 * The weights, the two thresholds and the veto are data: the rule files
 * set them (`weight NAME VALUE`, rules/weights.rules); a weight no file
 * sets is 0 and, without thresholds, nothing is decided. The verdict:
 *
 *   backscatter  the score reaches threshold-backscatter, at least one
 *                piece of evidence about the owner (sent mail, relays,
 *                DKIM, BATV, From, a path through no submission server)
 *                points that way, and nothing at or below the veto
 *                points the other way;
 *   legitimate   the score falls to threshold-legitimate;
 *   unknown      otherwise, and always when nothing of the original came
 *                back and no BATV tag speaks.
 *
 * A real bounce called backscatter is the worst mistake the program can
 * make, so the thresholds are conservative and strong evidence for the
 * owner (the Message-ID is in the sent mail, the original passed a relay
 * of theirs or a hop their sent mail shows, carries their DKIM signature,
 * or came back to a valid BATV address) vetoes a backscatter verdict.
 *
 * Without a complete Sent folder the judge leans on how the owner sends
 * (profile.c, learned by the sent-mail index): the original's path, its
 * Message-ID shape, mail program, time zone and DKIM domains against
 * those of the sent mail, several ways of sending side by side.
 *
 * This file holds the judge and the evidence about the owner's identity
 * (sent mail, relays, DKIM, BATV, From, the original's dates);
 * judge-profile.c the evidence the sent mail's history gives,
 * judgement.c the scoring and the verdict, batv.c the BATV tags.
 */
#include "judge-private.h"

#include <string.h>

/**
 * bounce_judge_new:
 * @identity: (nullable): who the owner is
 * @index: (nullable): the sent-mail index; the judge holds a reference
 *   to it, so the caller may drop its own at any time
 * @rules: the rules, for the weights
 *
 * Returns: (transfer full): a judge
 */
BounceJudge *
bounce_judge_new (BounceIdentity *identity, BounceIndex *index, BounceRules *rules)
{
  BounceJudge *j = g_new0 (BounceJudge, 1);

  j->ref = 1;
  j->identity = identity ? bounce_identity_ref (identity) : NULL;
  j->index = index ? bounce_index_ref (index) : NULL;
  j->rules = bounce_rules_ref (rules);
  if (index)
    {
      j->index_dated = bounce_index_get_range (index, &j->index_n, &j->index_first, &j->index_last);
      j->index_updated = MAX (bounce_index_get_updated (index), j->index_last);
    }
  return j;
}

/* bounce_judge_ref: Returns: (transfer full) @judge, with one more
 * reference: worker threads may each hold one while they judge. */
BounceJudge *
bounce_judge_ref (BounceJudge *j)
{
  g_atomic_int_inc (&j->ref);
  return j;
}

/* bounce_judge_unref: drops a reference to @judge (nullable); the last
 * frees it and drops its references to the identity, index and rules. */
void
bounce_judge_unref (BounceJudge *j)
{
  if (j == NULL || !g_atomic_int_dec_and_test (&j->ref))
    return;
  g_clear_pointer (&j->identity, bounce_identity_unref);
  g_clear_pointer (&j->index, bounce_index_unref);
  bounce_rules_unref (j->rules);
  g_free (j);
}

/* @t as YYYY-MM-DD HH:MM UTC: where the index's span and a message's
 * date meet, the day alone could make one seem inside the other. */
static char *
minute (gint64 t)
{
  g_autoptr (GDateTime) d = g_date_time_new_from_unix_utc (t);

  return d ? g_date_time_format (d, "%Y-%m-%d %H:%M UTC") : g_strdup ("?");
}

static gint64
header_date (const char *value)
{
  gint64 t;

  return bounce_date_unix (value, &t) ? t : 0;
}

/* The From address (addr-spec) of a header value. */
static char *
from_address (const char *value)
{
  return value ? bounce_addr_spec (value) : NULL;
}

static void
judge_index (BounceJudge *j, BounceJudgement *jm, const char *mid, gint64 orig_date, gint64 bounce_date,
             const PathFacts *pf)
{
  gint64 sent = 0;
  gint64 when = orig_date ? orig_date : bounce_date;
  const gint64 day = 86400;

  if (bounce_index_lookup (j->index, mid, &sent))
    {
      g_autofree char *d = bounce_judge_day (sent);

      bounce_judge_add (j, jm, "sent-id-found", "The original's Message-ID %s is in your sent mail (sent %s).", mid,
                        sent ? d : "on an unknown date");
      return;
    }
  if (j->identity && bounce_identity_get_complete (j->identity))
    {
      g_autofree char *w = minute (when);
      g_autofree char *f = minute (j->index_first);
      g_autofree char *l = minute (j->index_updated);

      /* The index holds all that was sent from its first message until
       * it was last brought up to date. */
      if (j->index_dated && when && when >= j->index_first - day && when <= j->index_updated)
        bounce_judge_add (j, jm, "sent-id-missing",
                          "The original's Message-ID %s is not in your sent mail, which is complete from %s to %s "
                          "(its first message, and when it was last brought up to date) and so holds the original's "
                          "date, %s.",
                          mid, f, l, w);
      else if (j->index_dated)
        bounce_judge_add (
            j, jm, "sent-id-missing-uncovered",
            "The original's Message-ID %s is not in your sent mail, which holds what you sent from %s to %s "
            "(its first message, and when it was last brought up to date); the original is of %s, outside that span.",
            mid, f, l, when ? w : "an unknown date");
      else
        bounce_judge_add (j, jm, "sent-id-missing-uncovered",
                          "The original's Message-ID %s is not in your sent mail, which holds no dated message yet.",
                          mid);
      return;
    }
  if (pf->known || pf->style)
    bounce_judge_add (j, jm, "sent-id-missing-known-path",
                      "The original's Message-ID %s is not in your sent mail, which may not hold everything you send; "
                      "the original took a way you send by, so that says little.",
                      mid);
  else
    bounce_judge_add (j, jm, "sent-id-missing-incomplete",
                      "The original's Message-ID %s is not in your sent mail (which may not hold everything you send).",
                      mid);
}

/* Header fields a sending program writes that a report quoting a few
 * headers of the original (From, To, Subject, Date) leaves out. */
static gboolean
whole_header (BounceOriginal *o)
{
  static const char *const more[] = { "MIME-Version", "Content-Type", "User-Agent", "X-Mailer", NULL };
  guint n = 0;

  for (guint i = 0; more[i]; i++)
    if (bounce_original_get_header (o, more[i]))
      n++;
  return n >= 2 && bounce_original_get_n_fields (o) >= 7;
}

/* The original came back without a Received header: what the relays
 * still say. Many reports return a few of its headers only, so the
 * Message-ID's domain (made by the program that sent it, or by the
 * relay) is read against the relays' and addresses' domains; and a
 * whole header without a Received line never passed a relay. */
static void
judge_relays_unreceived (BounceJudge *j, BounceJudgement *jm, BounceOriginal *o, const PathFacts *pf,
                         const char *from_addr)
{
  const char *mid = bounce_original_get_message_id (o);
  g_autofree char *domain = bounce_message_id_domain (mid);

  if (pf->known)
    return;
  /* Another person's mail (from-not-owner says so) made its Message-ID
   * by its own ways. */
  if (from_addr && bounce_identity_has_addresses (j->identity)
      && !bounce_identity_is_owner_address (j->identity, from_addr))
    g_clear_pointer (&domain, g_free);
  if (whole_header (o))
    bounce_judge_add (j, jm, "relay-missing-whole",
                      "The original came back with its whole header (%u fields) and no Received header: mail through "
                      "your relays has one.",
                      bounce_original_get_n_fields (o));
  if (domain && *domain)
    {
      const char *under = bounce_identity_sends_under (j->identity, domain);

      if (under)
        bounce_judge_add (j, jm, "relay-id-domain",
                          "The original came back without a Received header; its Message-ID %s was made under the "
                          "domain of %s.",
                          mid, under);
      /* With sent mail to learn from, the list of relays may be a part of
       * the ways the owner sends; what that mail shows of Message-IDs
       * speaks instead (id-domain-known, id-domain-unknown). */
      else if (j->index_n < MIN_HISTORY)
        bounce_judge_add (j, jm, "relay-id-foreign",
                          "The original came back without a Received header, and its Message-ID %s was made under a "
                          "domain none of your relays or addresses is in.",
                          mid);
    }
}

static void
judge_relays (BounceJudge *j, BounceJudgement *jm, BounceOriginal *o, const PathFacts *pf, const char *from_addr)
{
  const char *const *texts = bounce_original_get_received_text (o);
  guint n = g_strv_length ((char **) texts);

  for (guint i = 0; i < n; i++)
    {
      BounceHop hop;
      const char *m = NULL;

      if (!bounce_hop_parse (texts[i], &hop))
        continue;
      /* The name after "from" is what the client said in HELO: anyone can
       * say it. The address and the name the server found are its own. */
      if (hop.by_host)
        m = bounce_identity_is_relay (j->identity, hop.by_host, hop.by_host);
      if (m == NULL)
        m = bounce_identity_is_relay (j->identity, hop.from_name, hop.from_ip);
      if (m)
        {
          bounce_judge_add (j, jm, "relay-found",
                            "The original passed through your relay (%s: Received from %s by %s).", m,
                            hop.from_host ? hop.from_host
                            : hop.from_ip ? hop.from_ip
                                          : "?",
                            hop.by_host ? hop.by_host : "?");
          bounce_hop_clear (&hop);
          return;
        }
      bounce_hop_clear (&hop);
    }
  /* Configured relays add to the ways learned from the sent mail; they
   * never make one of those missing. */
  if (n > 0 && !pf->known)
    bounce_judge_add (j, jm, "relay-missing", "None of the original's %u Received headers names one of your relays.",
                      n);
  if (n == 0)
    judge_relays_unreceived (j, jm, o, pf, from_addr);
}

static void
judge_dkim (BounceJudge *j, BounceJudgement *jm, BounceOriginal *o, const char *from_addr)
{
  const char *from_domain = from_addr ? strrchr (from_addr, '@') : NULL;
  const char *signer;

  for (guint i = 0; i < bounce_original_get_n_dkim (o); i++)
    {
      const BounceDkim *d = bounce_original_get_dkim (o, i);

      if (bounce_identity_signs (j->identity, d->domain))
        {
          bounce_judge_add (j, jm, "dkim-found", "The original carries a DKIM signature of your domain (d=%s%s%s).",
                            d->domain, d->selector ? ", s=" : "", d->selector ?: "");
          return;
        }
    }
  /* Missing only counts where a signature was due: mail from a signing
   * domain, with its headers back. */
  signer = from_domain ? bounce_identity_signs (j->identity, from_domain + 1) : NULL;
  if (signer && g_strcmp0 (bounce_original_get_carried_as (o), "inline") != 0)
    bounce_judge_add (j, jm, "dkim-missing",
                      "The original, From %s, has no DKIM signature of %s, which signs all your mail.", from_addr,
                      signer);
}

static void
judge_batv (BounceJudge *j, BounceJudgement *jm, BounceReport *r, gint64 bounce_date)
{
  GBytes *key = bounce_identity_get_batv_key (j->identity);
  BounceOriginal *o = bounce_report_get_original (r);
  const char *cands[4] = {
    bounce_report_get_bounce_to (r),
    bounce_report_get_header (r, "To"),
    o ? bounce_original_get_header (o, "Return-Path") : NULL,
    NULL,
  };
  gint64 today = (bounce_date ? bounce_date : g_get_real_time () / G_USEC_PER_SEC) / 86400;
  BounceKind kind = bounce_report_get_kind (r);

  for (guint i = 0; i < G_N_ELEMENTS (cands); i++)
    {
      g_autofree char *a = cands[i] ? bounce_addr_spec (cands[i]) : NULL;
      g_autofree char *mailbox = NULL;

      if (a == NULL)
        continue;
      switch (bounce_batv_check (key, a, today, &mailbox))
        {
        case BOUNCE_BATV_VALID:
          bounce_judge_add (j, jm, "batv-valid", "The bounce came back to %s, a valid BATV address of yours.", a);
          return;
        case BOUNCE_BATV_INVALID:
          bounce_judge_add (j, jm, "batv-invalid", "The bounce came back to %s, whose BATV tag you did not make.", a);
          return;
        case BOUNCE_BATV_EXPIRED:
          bounce_judge_add (j, jm, "batv-expired", "The bounce came back to %s, whose BATV tag had expired.", a);
          return;
        case BOUNCE_BATV_NONE:
          break;
        }
    }
  /* Only delivery reports go to the envelope sender, which BATV tags. */
  if (kind == BOUNCE_KIND_FAILURE || kind == BOUNCE_KIND_DELAY || kind == BOUNCE_KIND_DELIVERED)
    {
      g_autofree char *to = bounce_addr_spec (cands[0]);

      if (to && bounce_identity_is_owner_address (j->identity, to))
        bounce_judge_add (j, jm, "batv-untagged",
                          "The bounce came to %s without a BATV tag, though all your mail leaves with one.", to);
    }
}

/**
 * bounce_judge_report:
 * @judge: the judge
 * @report: a report
 *
 * Returns: (transfer full): the verdict, score and evidence for @report.
 */
BounceJudgement *
bounce_judge_report (BounceJudge *j, BounceReport *r)
{
  BounceJudgement *jm = bounce_judgement_new ();
  BounceKind kind = bounce_report_get_kind (r);
  BounceOriginal *o = bounce_report_get_original (r);
  const char *mid = o ? bounce_original_get_message_id (o) : NULL;
  g_autofree char *from_addr = NULL;
  gint64 orig_date = 0, bounce_date;
  gboolean has_original = o != NULL;
  PathFacts pf = { FALSE, FALSE, FALSE };

  if (kind == BOUNCE_KIND_NOT_BOUNCE)
    {
      jm->verdict = BOUNCE_VERDICT_NOT_BOUNCE;
      return jm;
    }
  bounce_date = header_date (bounce_report_get_header (r, "Date"));
  /* Replies name the message they answer; so do many reports that
   * return nothing of it (In-Reply-To: the original's Message-ID). */
  if (mid == NULL
      && (kind == BOUNCE_KIND_AUTOREPLY || kind == BOUNCE_KIND_CHALLENGE || kind == BOUNCE_KIND_MDN || o == NULL))
    {
      mid = bounce_report_get_header (r, "In-Reply-To");
      if (mid && !strchr (mid, '<'))
        mid = NULL;
    }
  if (o)
    {
      from_addr = from_address (bounce_original_get_from (o));
      orig_date = header_date (bounce_original_get_header (o, "Date"));
    }

  if (o && j->index && j->index_n > 0)
    bounce_judge_path (j, jm, r, o, mid, &pf);
  if (j->index && mid)
    judge_index (j, jm, mid, orig_date, bounce_date, &pf);
  else if (j->index && o)
    bounce_judge_add (j, jm, "no-message-id", "The original has no Message-ID to look up in your sent mail.");
  if (o && j->identity && bounce_identity_has_relays (j->identity))
    judge_relays (j, jm, o, &pf, from_addr);
  if (o && j->identity && bounce_identity_has_dkim_domains (j->identity))
    judge_dkim (j, jm, o, from_addr);
  if (j->identity && bounce_identity_get_batv_key (j->identity))
    judge_batv (j, jm, r, bounce_date);
  if (o && from_addr && j->identity && bounce_identity_has_addresses (j->identity)
      && !bounce_identity_is_owner_address (j->identity, from_addr))
    bounce_judge_add (j, jm, "from-not-owner", "The original's From (%s) is not one of your addresses.", from_addr);
  if (o && j->index)
    bounce_judge_profile (j, jm, r, o, mid, orig_date);
  if (o)
    for (guint i = 0; i < bounce_original_get_n_attachments (o); i++)
      {
        const BounceAttachment *a = bounce_original_get_attachment (o, i);

        if (a->risky)
          {
            bounce_judge_add (j, jm, "risky-attachment",
                              "The original carries %s (%s), the kind of attachment worms travel in.",
                              a->name ?: "an attachment", a->content_type);
            break;
          }
      }
  if (o && orig_date && bounce_date && (orig_date < bounce_date - 7 * 86400 || orig_date > bounce_date + 86400))
    {
      g_autofree char *d = bounce_judge_day (orig_date);
      g_autofree char *b = bounce_judge_day (bounce_date);

      bounce_judge_add (j, jm, "date-far-from-bounce",
                        "The original is dated %s and its bounce %s: forgers set the clock anywhere, servers give up "
                        "within days.",
                        d, b);
    }
  if (kind == BOUNCE_KIND_VIRUS_NOTICE)
    bounce_judge_add (j, jm, "virus-notice",
                      "The report is a virus scanner's notice; worms forge the sender of what they send.");
  if (!has_original && mid == NULL)
    bounce_judge_add (j, jm, "no-original",
                      "Nothing of the original message came back, so it cannot be checked against your mail.");

  bounce_judgement_decide (jm, j->rules);
  return jm;
}

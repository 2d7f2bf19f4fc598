/* judge-profile.c — what the owner's sent mail says of the original.
 *
 * The sent-mail index learns how the owner sends (profile.c): the hops
 * their mail takes, the shape of its Message-IDs, its mail programs, time
 * zones, DKIM domains and recipients. Without a complete Sent folder the
 * judge leans on these: the original's path (bounce_judge_path) and how
 * it compares with that history (bounce_judge_profile), once the index
 * has seen MIN_HISTORY messages.
 */
#include "judge-private.h"

#include <string.h>

static const char *
submission_how (BounceSubmission s)
{
  switch (s)
    {
    case BOUNCE_SUBMISSION_AUTHENTICATED:
      return "the sender logged in";
    case BOUNCE_SUBMISSION_LOCAL:
      return "written on that host";
    case BOUNCE_SUBMISSION_WEBMAIL:
      return "webmail";
    case BOUNCE_SUBMISSION_PRIVATE:
      return "from a private network";
    case BOUNCE_SUBMISSION_NONE:
      break;
    }
  return "relayed";
}

static char *
agent_of (BounceOriginal *o, const char **raw)
{
  const char *ua = bounce_original_get_header (o, "User-Agent");

  if (ua == NULL)
    ua = bounce_original_get_header (o, "X-Mailer");
  if (raw)
    *raw = ua;
  return bounce_user_agent_family (ua);
}

/* The organisations on the recipients' side: the reporting server's,
 * the failed recipients' and the newest hop's. */
static gboolean
recipient_side (BounceReport *r, const BounceHop *top, const char *org)
{
  g_autofree char *rep = bounce_org_domain (bounce_report_get_reporting_mta (r));
  g_autofree char *topo = top ? bounce_org_domain (top->by_host) : NULL;

  if (org == NULL)
    return FALSE;
  if (g_strcmp0 (org, rep) == 0 || g_strcmp0 (org, topo) == 0)
    return TRUE;
  for (guint i = 0; i < bounce_report_get_n_recipients (r); i++)
    {
      const char *a = bounce_recipient_get_address (bounce_report_get_recipient (r, i));
      const char *at = a ? strrchr (a, '@') : NULL;
      g_autofree char *d = at ? bounce_org_domain (at + 1) : NULL;

      if (g_strcmp0 (org, d) == 0)
        return TRUE;
    }
  return FALSE;
}

void
bounce_judge_path (BounceJudge *j, BounceJudgement *jm, BounceReport *r, BounceOriginal *o, const char *mid,
                   PathFacts *pf)
{
  const char *const *texts = bounce_original_get_received_text (o);
  guint n = g_strv_length ((char **) texts);
  g_autofree BounceHop *hops = g_new0 (BounceHop, n + 1);
  g_autofree gboolean *parsed = g_new0 (gboolean, n + 1);
  g_autofree char *shape = bounce_message_id_shape (mid);
  g_autofree char *agent = agent_of (o, NULL);
  /* The profile speaks once it has seen some mail; of paths, once the
   * sent mail has shown some. */
  gboolean history = j->index_n >= MIN_HISTORY;
  gboolean learned = history && bounce_index_count_kind (j->index, BOUNCE_INDEX_HOP) > 0;
  int first_sub = -1;

  for (guint i = 0; i < n; i++)
    parsed[i] = bounce_hop_parse (texts[i], &hops[i]);
  /* From the first hop (the last header) up. */
  for (guint i = n; i-- > 0 && !pf->known;)
    {
      g_autofree char *key = parsed[i] ? bounce_hop_key (&hops[i]) : NULL;
      guint count = key ? bounce_index_count (j->index, BOUNCE_INDEX_HOP, key) : 0;

      if (parsed[i] && hops[i].submission != BOUNCE_SUBMISSION_NONE && first_sub < 0)
        first_sub = i;
      if (count > 0)
        {
          pf->known = TRUE;
          bounce_judge_add (j, jm, "path-known",
                            "The original left by a way your mail takes: %s (%s), as %u of your sent messages did.",
                            hops[i].by_host ? hops[i].by_host : "the sending host", submission_how (hops[i].submission),
                            count);
        }
    }
  pf->submitted = first_sub >= 0;
  /* A style without a mail program's name is a Message-ID shape alone,
   * too common to tell owners apart; and a complete Sent folder speaks
   * louder than a likeness. */
  if (shape && agent && !pf->known && !(j->identity && bounce_identity_get_complete (j->identity)))
    {
      g_autofree char *bare = bounce_sending_style (NULL, shape, agent);

      pf->style = bounce_index_count (j->index, BOUNCE_INDEX_STYLE, bare) > 0;
      if (pf->style)
        bounce_judge_add (j, jm, "style-known",
                          "The original's Message-ID (%s) and mail program (%s) are those of one of the ways you send.",
                          shape, agent ? agent : "none named");
    }
  if (!pf->known && first_sub >= 0 && learned)
    bounce_judge_add (j, jm, "path-new-submission",
                      "The original was handed in at %s (%s), a way none of your sent mail shows: a new way of sending "
                      "rather than a forgery's.",
                      hops[first_sub].by_host ? hops[first_sub].by_host : "the sending host",
                      submission_how (hops[first_sub].submission));
  else if (!pf->known && !pf->style && history && n > 0 && parsed[n - 1]
           && hops[n - 1].submission == BOUNCE_SUBMISSION_NONE)
    {
      /* No hop took the message in from its author. Said when it went
       * from there straight to the recipients' server, or, through other
       * servers, when every way the sent mail shows has a submission hop
       * (an owner whose provider relays by address alone would send so). */
      const BounceHop *first = &hops[n - 1];
      g_autofree char *org = bounce_org_domain (first->by_host);
      gboolean straight = recipient_side (r, parsed[0] ? &hops[0] : NULL, org);
      gboolean always_submits = learned && bounce_index_count_prefix (j->index, BOUNCE_INDEX_HOP, "n:") == 0;

      if (straight || always_submits)
        bounce_judge_add (j, jm, "no-submission-hop",
                          "The original came from %s%s%s%s and %s %s, through no server that takes mail in from its "
                          "author: the way worms and bots send%s.",
                          first->from_host ? first->from_host : "", first->from_ip ? " [" : "",
                          first->from_ip ? first->from_ip : "", first->from_ip ? "]" : "",
                          straight ? "went straight to the recipients' server" : "was relayed by", first->by_host,
                          straight ? "" : ", and your sent mail always passes one");
    }
  for (guint i = 0; i < n; i++)
    if (parsed[i])
      bounce_hop_clear (&hops[i]);
}

/* Mail programs that bulk senders and bots name (or forge) far more
 * often than people do. Only evidence when the owner never used one. */
static const char *const bulk_agents[] = {
  "microsoft outlook express",
  "phpmailer",
  "swiftmailer",
  "the bat!",
  "foxmail",
  "mailer",
  "mail.ru mailer",
  "smtp relay",
  "bulk",
  "mass mailer",
  "atomic mail sender",
};

/* Forgery markers and what else the profile says: the shape of the
 * Message-ID, a bulk mail program, the time zone, DKIM domains of the
 * owner's sent mail, a harvested-looking recipient list. */
static void
judge_markers (BounceJudge *j, BounceJudgement *jm, BounceOriginal *o, const char *mid, const char *agent)
{
  g_autofree char *shape = bounce_message_id_shape (mid);
  g_autofree char *zone = bounce_date_zone (bounce_original_get_header (o, "Date"));
  guint n_addr = 0, n_known = 0;

  if (shape && bounce_index_count_kind (j->index, BOUNCE_INDEX_ID_SHAPE) > 0
      && bounce_index_count (j->index, BOUNCE_INDEX_ID_SHAPE, shape) == 0)
    bounce_judge_add (j, jm, "id-shape-unknown", "No mail program of yours makes Message-IDs shaped like %s (%s).", mid,
                      shape);
  if (agent && bounce_index_count (j->index, BOUNCE_INDEX_AGENT, agent) == 0)
    for (guint i = 0; i < G_N_ELEMENTS (bulk_agents); i++)
      if (strcmp (agent, bulk_agents[i]) == 0)
        {
          bounce_judge_add (j, jm, "agent-bulk",
                            "The original names %s, a program bulk senders and bots use (or name), and you never did.",
                            agent);
          break;
        }
  if (zone && bounce_index_count_kind (j->index, BOUNCE_INDEX_TIME_ZONE) > 0
      && bounce_index_count (j->index, BOUNCE_INDEX_TIME_ZONE, zone) == 0)
    bounce_judge_add (j, jm, "zone-unknown",
                      "The original is dated in time zone %s, in which none of your sent mail is.", zone);
  for (guint i = 0; i < bounce_original_get_n_dkim (o); i++)
    {
      const BounceDkim *d = bounce_original_get_dkim (o, i);

      if ((j->identity == NULL || !bounce_identity_signs (j->identity, d->domain))
          && bounce_index_count (j->index, BOUNCE_INDEX_DKIM, d->domain) > 0)
        {
          bounce_judge_add (j, jm, "dkim-learned",
                            "The original carries a DKIM signature of %s, as your sent mail does.", d->domain);
          break;
        }
    }
  /* Addresses scraped from the web go out in batches: many recipients,
   * none of them someone the owner writes to. */
  for (guint h = 0; h < 2; h++)
    {
      const char *v = bounce_original_get_header (o, h == 0 ? "To" : "Cc");
      InternetAddressList *list = v ? internet_address_list_parse (NULL, v) : NULL;

      for (int i = 0; list && i < internet_address_list_length (list) && n_addr < BOUNCE_MAX_LISTED_ADDRESSES; i++)
        {
          InternetAddress *a = internet_address_list_get_address (list, i);

          if (!INTERNET_ADDRESS_IS_MAILBOX (a))
            continue;
          n_addr++;
          if (bounce_index_count (j->index, BOUNCE_INDEX_RECIPIENT,
                                  internet_address_mailbox_get_idn_addr (INTERNET_ADDRESS_MAILBOX (a)))
              > 0)
            n_known++;
        }
      g_clear_object (&list);
    }
  if (n_addr >= 5 && n_known == 0)
    bounce_judge_add (j, jm, "recipients-harvested",
                      "The original went to %u addresses, none of whom you have written to: a harvested list.", n_addr);
}

void
bounce_judge_profile (BounceJudge *j, BounceJudgement *jm, BounceReport *r, BounceOriginal *o, const char *mid,
                      gint64 orig_date)
{
  g_autofree char *domain = bounce_message_id_domain (mid);
  const char *ua = bounce_original_get_header (o, "User-Agent");
  g_autofree char *agent = NULL;
  guint known = 0, strangers = 0;
  const char *stranger = NULL, *friend = NULL;

  if (j->index_n < MIN_HISTORY)
    return;
  if (domain)
    {
      if (bounce_index_count (j->index, BOUNCE_INDEX_ID_DOMAIN, domain) > 0)
        bounce_judge_add (j, jm, "id-domain-known", "Your mail has had Message-IDs @%s before.", domain);
      else
        bounce_judge_add (j, jm, "id-domain-unknown", "None of your %u sent messages has a Message-ID @%s.", j->index_n,
                          domain);
    }
  if (ua == NULL)
    ua = bounce_original_get_header (o, "X-Mailer");
  agent = bounce_user_agent_family (ua);
  if (agent)
    {
      if (bounce_index_count (j->index, BOUNCE_INDEX_AGENT, agent) > 0)
        bounce_judge_add (j, jm, "agent-known", "You send mail with %s.", ua);
      else
        bounce_judge_add (j, jm, "agent-unknown", "You have never sent mail with %s.", ua);
    }
  for (guint i = 0; i < bounce_report_get_n_recipients (r); i++)
    {
      const char *a = bounce_recipient_get_address (bounce_report_get_recipient (r, i));

      if (bounce_index_count (j->index, BOUNCE_INDEX_RECIPIENT, a) > 0)
        known++, friend = a;
      else
        strangers++, stranger = a;
    }
  if (known)
    bounce_judge_add (j, jm, "recipient-known", "You have written to %s before.", friend);
  else if (strangers
           && (bounce_report_get_kind (r) == BOUNCE_KIND_FAILURE || bounce_report_get_kind (r) == BOUNCE_KIND_DELAY))
    bounce_judge_add (j, jm, "recipient-new",
                      "You have never written to %s%s; a first message to a mistyped or departed address is what "
                      "bounces are about.",
                      stranger, strangers > 1 ? " or the other recipients" : "");
  else if (strangers)
    bounce_judge_add (j, jm, "recipient-stranger", "You have never written to %s%s.", stranger,
                      strangers > 1 ? " or the other recipients" : "");
  judge_markers (j, jm, o, mid, agent);
  if (orig_date && j->index_dated
      && (orig_date < j->index_first - 30 * 86400 || orig_date > j->index_last + 30 * 86400))
    {
      g_autofree char *d = bounce_judge_day (orig_date);
      g_autofree char *f = bounce_judge_day (j->index_first);
      g_autofree char *l = bounce_judge_day (j->index_last);

      bounce_judge_add (j, jm, "date-outside-history",
                        "The original is dated %s, far outside your sending history (your sent messages are dated %s "
                        "to %s).",
                        d, f, l);
    }
}

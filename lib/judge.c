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
 */
#include "bounce-private.h"

#include <stdio.h>
#include <string.h>

struct _BounceJudge
{
  gint ref;
  BounceIdentity *identity; /* nullable */
  BounceIndex *index;       /* nullable, borrowed */
  BounceRules *rules;
  guint index_n;
  gint64 index_first, index_last, index_updated;
  gboolean index_dated;
};

struct _BounceJudgement
{
  BounceVerdict verdict;
  double score;
  GArray *evidence; /* BounceEvidence */
};

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

static void
evidence_clear (gpointer p)
{
  BounceEvidence *e = p;

  g_free (e->rule);
  g_free (e->detail);
}

void
bounce_judgement_free (BounceJudgement *j)
{
  if (j == NULL)
    return;
  g_array_unref (j->evidence);
  g_free (j);
}

/**
 * bounce_judge_new:
 * @identity: (nullable): who the owner is
 * @index: (nullable): the sent-mail index (borrowed: keep it open while
 *   the judge is used)
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
  j->index = index;
  j->rules = bounce_rules_ref (rules);
  if (index)
    {
      j->index_dated = bounce_index_get_range (index, &j->index_n, &j->index_first, &j->index_last);
      j->index_updated = MAX (bounce_index_get_updated (index), j->index_last);
    }
  return j;
}

void
bounce_judge_unref (BounceJudge *j)
{
  if (j == NULL || !g_atomic_int_dec_and_test (&j->ref))
    return;
  g_clear_pointer (&j->identity, bounce_identity_unref);
  bounce_rules_unref (j->rules);
  g_free (j);
}

static double
weight_of (BounceJudge *j, const char *name)
{
  return bounce_rules_get_weight (j->rules, name, 0);
}

static gboolean
about_owner (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (evidence_names); i++)
    if (strcmp (evidence_names[i].name, name) == 0)
      return evidence_names[i].about_owner;
  return FALSE;
}

static void G_GNUC_PRINTF (4, 5)
add (BounceJudge *j, BounceJudgement *jm, const char *name, const char *fmt, ...)
{
  BounceEvidence e;
  va_list ap;

  e.rule = g_strdup (name);
  e.weight = weight_of (j, name);
  va_start (ap, fmt);
  e.detail = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_array_append_val (jm->evidence, e);
}

static char *
format_day (gint64 t)
{
  g_autoptr (GDateTime) d = g_date_time_new_from_unix_utc (t);

  return d ? g_date_time_format (d, "%Y-%m-%d") : g_strdup ("?");
}

static gint64
header_date (const char *value)
{
  g_autoptr (GDateTime) d = value ? g_mime_utils_header_decode_date (value) : NULL;

  return d ? g_date_time_to_unix (d) : 0;
}

/* The From address (addr-spec) of a header value. */
static char *
from_address (const char *value)
{
  return value ? bounce_addr_spec (value) : NULL;
}

/* ---- BATV (draft-levine-smtp-batv) ----------------------------------- */

/* bounce_batv_tag: the 10-character tag "KDDDSSSSSS" for @mailbox with key
 * number @k and expiry day @day (days since 1970, mod 1000). */
char *
bounce_batv_tag (GBytes *key, const char *mailbox, int k, int day)
{
  g_autofree char *src = g_strdup_printf ("%d%03d%s", k % 10, day % 1000, mailbox);
  g_autofree char *lower = g_ascii_strdown (src, -1);
  g_autoptr (GHmac) h = g_hmac_new (G_CHECKSUM_SHA1, g_bytes_get_data (key, NULL),
                                     g_bytes_get_size (key));
  guint8 digest[20];
  gsize len = sizeof digest;

  g_hmac_update (h, (const guchar *) lower, -1);
  g_hmac_get_digest (h, digest, &len);
  return g_strdup_printf ("%d%03d%02x%02x%02x", k % 10, day % 1000, digest[0], digest[1], digest[2]);
}

typedef enum
{
  BATV_NONE,
  BATV_VALID,
  BATV_INVALID,
  BATV_EXPIRED,
} BatvResult;

static gboolean
is_tag (const char *t, gsize n)
{
  if (n != 10)
    return FALSE;
  for (gsize i = 0; i < 4; i++)
    if (!g_ascii_isdigit (t[i]))
      return FALSE;
  for (gsize i = 4; i < 10; i++)
    if (!g_ascii_isxdigit (t[i]))
      return FALSE;
  return TRUE;
}

/* Check a "prvs=" address; @today is days since 1970 when the bounce came. */
static BatvResult
batv_check (GBytes *key, const char *address, gint64 today, char **mailbox_out)
{
  const char *at = strrchr (address, '@');
  g_autofree char *local = NULL;
  g_auto (GStrv) parts = NULL;
  const char *tag = NULL, *user = NULL;
  g_autofree char *mailbox = NULL, *want = NULL;
  int day, diff;

  if (at == NULL || g_ascii_strncasecmp (address, "prvs=", 5) != 0)
    return BATV_NONE;
  local = g_strndup (address + 5, at - address - 5);
  parts = g_strsplit (local, "=", 2);
  if (g_strv_length (parts) != 2)
    return BATV_INVALID;
  /* prvs=TAG=user (the draft) or prvs=user=TAG (older signers) */
  if (is_tag (parts[0], strlen (parts[0])))
    tag = parts[0], user = parts[1];
  else if (is_tag (parts[1], strlen (parts[1])))
    tag = parts[1], user = parts[0];
  else
    return BATV_INVALID;
  mailbox = g_strconcat (user, at, NULL);
  day = (tag[1] - '0') * 100 + (tag[2] - '0') * 10 + (tag[3] - '0');
  want = bounce_batv_tag (key, mailbox, tag[0] - '0', day);
  if (mailbox_out)
    *mailbox_out = g_strdup (mailbox);
  if (g_ascii_strcasecmp (want, tag) != 0)
    return BATV_INVALID;
  diff = (int) ((day - today % 1000 + 1000) % 1000);
  return diff <= 60 ? BATV_VALID : BATV_EXPIRED;
}

/**
 * bounce_batv_sign:
 * @key: the BATV secret (bounce_identity_get_batv_key())
 * @address: an envelope sender, local-part@domain; one that already
 *   carries a "prvs=" tag is signed anew from its plain address
 * @now: the time of sending, Unix time
 * @days: how many days the tag stays valid (1 to 60, the verifier's window)
 *
 * Tags @address as draft-levine-smtp-batv's "prvs" scheme does:
 * "prvs=KDDDSSSSSS=local-part@domain", K the key number (0), DDD the day
 * the tag expires (days since 1970, modulo 1000), SSSSSS the first three
 * bytes of the HMAC-SHA1 of "KDDD" and the address, in hex. The same code
 * checks tags in bounce_batv_verify() and in the judgement.
 *
 * Returns: (transfer full) (nullable): the tagged address, or NULL when
 *   @address has no '@' or @days is out of range
 */
char *
bounce_batv_sign (GBytes *key, const char *address, gint64 now, guint days)
{
  g_autofree char *plain = NULL;
  g_autofree char *tag = NULL;
  const char *at;
  int expires;

  g_return_val_if_fail (key != NULL && address != NULL, NULL);
  if (days < 1 || days > 60)
    return NULL;
  if (batv_check (key, address, now / 86400, &plain) == BATV_NONE)
    plain = g_strdup (address);
  at = plain ? strrchr (plain, '@') : NULL;
  if (at == NULL || at == plain || at[1] == '\0')
    return NULL;
  expires = (int) ((now / 86400 + days) % 1000);
  tag = bounce_batv_tag (key, plain, 0, expires);
  return g_strconcat ("prvs=", tag, "=", plain, NULL);
}

/**
 * bounce_batv_verify:
 * @key: the BATV secret
 * @address: a recipient (of a bounce), local-part@domain
 * @now: when the bounce came, Unix time
 * @plain: (out) (optional) (transfer full): the address without its tag,
 *   for a tagged address (valid or not); NULL otherwise
 *
 * Returns: BOUNCE_BATV_NONE for an address without a "prvs=" tag,
 *   BOUNCE_BATV_VALID for a tag made with @key that has not expired,
 *   BOUNCE_BATV_EXPIRED for one whose day has passed, BOUNCE_BATV_INVALID
 *   for one @key did not make
 */
BounceBatv
bounce_batv_verify (GBytes *key, const char *address, gint64 now, char **plain)
{
  g_autofree char *mailbox = NULL;
  BatvResult r;

  g_return_val_if_fail (key != NULL && address != NULL, BOUNCE_BATV_NONE);
  r = batv_check (key, address, now / 86400, &mailbox);
  if (plain)
    *plain = r == BATV_NONE ? NULL : g_steal_pointer (&mailbox);
  switch (r)
    {
    case BATV_VALID:
      return BOUNCE_BATV_VALID;
    case BATV_INVALID:
      return BOUNCE_BATV_INVALID;
    case BATV_EXPIRED:
      return BOUNCE_BATV_EXPIRED;
    case BATV_NONE:
    default:
      return BOUNCE_BATV_NONE;
    }
}

/* ---- the judgement --------------------------------------------------- */

typedef struct
{
  gboolean known;     /* a hop the owner's mail takes */
  gboolean style;     /* shape and mail program of one of the owner's ways */
  gboolean submitted; /* some hop is a submission hop */
} PathFacts;


static void
judge_index (BounceJudge *j, BounceJudgement *jm, const char *mid, gint64 orig_date,
             gint64 bounce_date, const PathFacts *pf)
{
  gint64 sent = 0;
  gint64 when = orig_date ? orig_date : bounce_date;
  const gint64 day = 86400;

  if (bounce_index_lookup (j->index, mid, &sent))
    {
      g_autofree char *d = format_day (sent);

      add (j, jm, "sent-id-found", "The original's Message-ID %s is in your sent mail (sent %s).",
           mid, sent ? d : "on an unknown date");
      return;
    }
  if (j->identity && bounce_identity_get_complete (j->identity))
    {
      g_autofree char *w = format_day (when);
      g_autofree char *f = format_day (j->index_first);
      g_autofree char *l = format_day (j->index_updated);

      /* The index holds all that was sent from its first message until
       * it was last brought up to date. */
      if (j->index_dated && when && when >= j->index_first - day && when <= j->index_updated)
        add (j, jm, "sent-id-missing",
             "The original's Message-ID %s is not in your sent mail, which is complete and covers %s.",
             mid, w);
      else
        add (j, jm, "sent-id-missing-uncovered",
             "The original's Message-ID %s is not in your sent mail, but that covers %s to %s and the original is of %s.",
             mid, j->index_dated ? f : "nothing", j->index_dated ? l : "nothing",
             when ? w : "an unknown date");
      return;
    }
  if (pf->known || pf->style)
    add (j, jm, "sent-id-missing-known-path",
         "The original's Message-ID %s is not in your sent mail, which may not hold everything you send; the original took a way you send by, so that says little.",
         mid);
  else
    add (j, jm, "sent-id-missing-incomplete",
         "The original's Message-ID %s is not in your sent mail (which may not hold everything you send).",
         mid);
}

/* Sent messages in the index before what they show of the owner's ways
 * (Message-ID domains, programs, recipients) speaks. */
#define MIN_HISTORY 20

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
    add (j, jm, "relay-missing-whole",
         "The original came back with its whole header (%u fields) and no Received header: mail through your relays has one.",
         bounce_original_get_n_fields (o));
  if (domain && *domain)
    {
      const char *under = bounce_identity_sends_under (j->identity, domain);

      if (under)
        add (j, jm, "relay-id-domain",
             "The original came back without a Received header; its Message-ID %s was made under the domain of %s.",
             mid, under);
      /* With sent mail to learn from, the list of relays may be a part of
       * the ways the owner sends; what that mail shows of Message-IDs
       * speaks instead (id-domain-known, id-domain-unknown). */
      else if (j->index_n < MIN_HISTORY)
        add (j, jm, "relay-id-foreign",
             "The original came back without a Received header, and its Message-ID %s was made under a domain none of your relays or addresses is in.",
             mid);
    }
}

static void
judge_relays (BounceJudge *j, BounceJudgement *jm, BounceOriginal *o, const PathFacts *pf,
              const char *from_addr)
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
          add (j, jm, "relay-found",
               "The original passed through your relay (%s: Received from %s by %s).", m,
               hop.from_host ? hop.from_host : hop.from_ip ? hop.from_ip : "?", hop.by_host ? hop.by_host : "?");
          bounce_hop_clear (&hop);
          return;
        }
      bounce_hop_clear (&hop);
    }
  /* Configured relays add to the ways learned from the sent mail; they
   * never make one of those missing. */
  if (n > 0 && !pf->known)
    add (j, jm, "relay-missing", "None of the original's %u Received headers names one of your relays.", n);
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
          add (j, jm, "dkim-found", "The original carries a DKIM signature of your domain (d=%s%s%s).",
               d->domain, d->selector ? ", s=" : "", d->selector ?: "");
          return;
        }
    }
  /* Missing only counts where a signature was due: mail from a signing
   * domain, with its headers back. */
  signer = from_domain ? bounce_identity_signs (j->identity, from_domain + 1) : NULL;
  if (signer && g_strcmp0 (bounce_original_get_carried_as (o), "inline") != 0)
    add (j, jm, "dkim-missing", "The original, From %s, has no DKIM signature of %s, which signs all your mail.",
         from_addr, signer);
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
      switch (batv_check (key, a, today, &mailbox))
        {
        case BATV_VALID:
          add (j, jm, "batv-valid", "The bounce came back to %s, a valid BATV address of yours.", a);
          return;
        case BATV_INVALID:
          add (j, jm, "batv-invalid", "The bounce came back to %s, whose BATV tag you did not make.", a);
          return;
        case BATV_EXPIRED:
          add (j, jm, "batv-expired", "The bounce came back to %s, whose BATV tag had expired.", a);
          return;
        case BATV_NONE:
          break;
        }
    }
  /* Only delivery reports go to the envelope sender, which BATV tags. */
  if (kind == BOUNCE_KIND_FAILURE || kind == BOUNCE_KIND_DELAY || kind == BOUNCE_KIND_DELIVERED)
    {
      g_autofree char *to = bounce_addr_spec (cands[0]);

      if (to && bounce_identity_is_owner_address (j->identity, to))
        add (j, jm, "batv-untagged",
             "The bounce came to %s without a BATV tag, though all your mail leaves with one.", to);
    }
}

/* ---- the original's path (profile.c) ---------------------------------- */

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

static void
judge_path (BounceJudge *j, BounceJudgement *jm, BounceReport *r, BounceOriginal *o,
            const char *mid, PathFacts *pf)
{
  const char *const *texts = bounce_original_get_received_text (o);
  guint n = g_strv_length ((char **) texts);
  g_autofree BounceHop *hops = g_new0 (BounceHop, n + 1);
  g_autofree gboolean *parsed = g_new0 (gboolean, n + 1);
  g_autofree char *shape = bounce_message_id_shape (mid);
  g_autofree char *agent = agent_of (o, NULL);
  /* The profile speaks once it has seen some mail; of paths, once the
   * sent mail has shown some. */
  gboolean history = j->index_n >= 20;
  gboolean learned = history && bounce_index_count_kind (j->index, "hop") > 0;
  int first_sub = -1;

  for (guint i = 0; i < n; i++)
    parsed[i] = bounce_hop_parse (texts[i], &hops[i]);
  /* From the first hop (the last header) up. */
  for (guint i = n; i-- > 0 && !pf->known;)
    {
      g_autofree char *key = parsed[i] ? bounce_hop_key (&hops[i]) : NULL;
      guint count = key ? bounce_index_count (j->index, "hop", key) : 0;

      if (parsed[i] && hops[i].submission != BOUNCE_SUBMISSION_NONE && first_sub < 0)
        first_sub = i;
      if (count > 0)
        {
          pf->known = TRUE;
          add (j, jm, "path-known",
               "The original left by a way your mail takes: %s (%s), as %u of your sent messages did.",
               hops[i].by_host ? hops[i].by_host : "the sending host", submission_how (hops[i].submission), count);
        }
    }
  pf->submitted = first_sub >= 0;
  /* A style without a mail program's name is a Message-ID shape alone,
   * too common to tell owners apart; and a complete Sent folder speaks
   * louder than a likeness. */
  if (shape && agent && !pf->known && !(j->identity && bounce_identity_get_complete (j->identity)))
    {
      g_autofree char *bare = bounce_sending_style (NULL, shape, agent);

      pf->style = bounce_index_count (j->index, "style", bare) > 0;
      if (pf->style)
        add (j, jm, "style-known",
             "The original's Message-ID (%s) and mail program (%s) are those of one of the ways you send.",
             shape, agent ? agent : "none named");
    }
  if (!pf->known && first_sub >= 0 && learned)
    add (j, jm, "path-new-submission",
         "The original was handed in at %s (%s), a way none of your sent mail shows: a new way of sending rather than a forgery's.",
         hops[first_sub].by_host ? hops[first_sub].by_host : "the sending host", submission_how (hops[first_sub].submission));
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
      gboolean always_submits = learned && bounce_index_count_prefix (j->index, "hop", "n:") == 0;

      if (straight || always_submits)
        add (j, jm, "no-submission-hop",
             "The original came from %s%s%s%s and %s %s, through no server that takes mail in from its author: the way worms and bots send%s.",
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
  "microsoft outlook express", "phpmailer", "swiftmailer", "the bat!", "foxmail",
  "mailer", "mail.ru mailer", "smtp relay", "bulk", "mass mailer", "atomic mail sender",
};

/* Forgery markers and what else the profile says: the shape of the
 * Message-ID, a bulk mail program, the time zone, DKIM domains of the
 * owner's sent mail, a harvested-looking recipient list. */
static void
judge_markers (BounceJudge *j, BounceJudgement *jm, BounceOriginal *o, const char *mid,
               const char *agent)
{
  g_autofree char *shape = bounce_message_id_shape (mid);
  g_autofree char *zone = bounce_date_zone (bounce_original_get_header (o, "Date"));
  guint n_addr = 0, n_known = 0;

  if (shape && bounce_index_count_kind (j->index, "idshape") > 0
      && bounce_index_count (j->index, "idshape", shape) == 0)
    add (j, jm, "id-shape-unknown", "No mail program of yours makes Message-IDs shaped like %s (%s).",
         mid, shape);
  if (agent && bounce_index_count (j->index, "agent", agent) == 0)
    for (guint i = 0; i < G_N_ELEMENTS (bulk_agents); i++)
      if (strcmp (agent, bulk_agents[i]) == 0)
        {
          add (j, jm, "agent-bulk", "The original names %s, a program bulk senders and bots use (or name), and you never did.",
               agent);
          break;
        }
  if (zone && bounce_index_count_kind (j->index, "tz") > 0 && bounce_index_count (j->index, "tz", zone) == 0)
    add (j, jm, "zone-unknown", "The original is dated in time zone %s, in which none of your sent mail is.", zone);
  for (guint i = 0; i < bounce_original_get_n_dkim (o); i++)
    {
      const BounceDkim *d = bounce_original_get_dkim (o, i);

      if ((j->identity == NULL || !bounce_identity_signs (j->identity, d->domain))
          && bounce_index_count (j->index, "dkim", d->domain) > 0)
        {
          add (j, jm, "dkim-learned", "The original carries a DKIM signature of %s, as your sent mail does.", d->domain);
          break;
        }
    }
  /* Addresses scraped from the web go out in batches: many recipients,
   * none of them someone the owner writes to. */
  for (guint h = 0; h < 2; h++)
    {
      const char *v = bounce_original_get_header (o, h == 0 ? "To" : "Cc");
      InternetAddressList *list = v ? internet_address_list_parse (NULL, v) : NULL;

      for (int i = 0; list && i < internet_address_list_length (list) && n_addr < 500; i++)
        {
          InternetAddress *a = internet_address_list_get_address (list, i);

          if (!INTERNET_ADDRESS_IS_MAILBOX (a))
            continue;
          n_addr++;
          if (bounce_index_count (j->index, "rcpt", internet_address_mailbox_get_idn_addr (INTERNET_ADDRESS_MAILBOX (a))) > 0)
            n_known++;
        }
      g_clear_object (&list);
    }
  if (n_addr >= 5 && n_known == 0)
    add (j, jm, "recipients-harvested", "The original went to %u addresses, none of whom you have written to: a harvested list.",
         n_addr);
}

static void
judge_profile (BounceJudge *j, BounceJudgement *jm, BounceReport *r, BounceOriginal *o,
               const char *mid, gint64 orig_date)
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
      if (bounce_index_count (j->index, "iddomain", domain) > 0)
        add (j, jm, "id-domain-known", "Your mail has had Message-IDs @%s before.", domain);
      else
        add (j, jm, "id-domain-unknown", "None of your %u sent messages has a Message-ID @%s.",
             j->index_n, domain);
    }
  if (ua == NULL)
    ua = bounce_original_get_header (o, "X-Mailer");
  agent = bounce_user_agent_family (ua);
  if (agent)
    {
      if (bounce_index_count (j->index, "agent", agent) > 0)
        add (j, jm, "agent-known", "You send mail with %s.", ua);
      else
        add (j, jm, "agent-unknown", "You have never sent mail with %s.", ua);
    }
  for (guint i = 0; i < bounce_report_get_n_recipients (r); i++)
    {
      const char *a = bounce_recipient_get_address (bounce_report_get_recipient (r, i));

      if (bounce_index_count (j->index, "rcpt", a) > 0)
        known++, friend = a;
      else
        strangers++, stranger = a;
    }
  if (known)
    add (j, jm, "recipient-known", "You have written to %s before.", friend);
  else if (strangers && (bounce_report_get_kind (r) == BOUNCE_KIND_FAILURE
                         || bounce_report_get_kind (r) == BOUNCE_KIND_DELAY))
    add (j, jm, "recipient-new",
         "You have never written to %s%s; a first message to a mistyped or departed address is what bounces are about.",
         stranger, strangers > 1 ? " or the other recipients" : "");
  else if (strangers)
    add (j, jm, "recipient-stranger", "You have never written to %s%s.", stranger,
         strangers > 1 ? " or the other recipients" : "");
  judge_markers (j, jm, o, mid, agent);
  if (orig_date && j->index_dated
      && (orig_date < j->index_first - 30 * 86400 || orig_date > j->index_last + 30 * 86400))
    {
      g_autofree char *d = format_day (orig_date);
      g_autofree char *f = format_day (j->index_first);
      g_autofree char *l = format_day (j->index_last);

      add (j, jm, "date-outside-history", "The original is dated %s, far outside your sending history (%s to %s).",
           d, f, l);
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
  BounceJudgement *jm = g_new0 (BounceJudgement, 1);
  BounceKind kind = bounce_report_get_kind (r);
  BounceOriginal *o = bounce_report_get_original (r);
  const char *mid = o ? bounce_original_get_message_id (o) : NULL;
  g_autofree char *from_addr = NULL;
  gint64 orig_date = 0, bounce_date;
  gboolean owner_evidence_for = FALSE, veto = FALSE, has_original = o != NULL;
  PathFacts pf = { FALSE, FALSE, FALSE };
  /* Without weights.rules nothing is decided. */
  double b_threshold = bounce_rules_get_weight (j->rules, "threshold-backscatter", G_MAXDOUBLE);
  double l_threshold = bounce_rules_get_weight (j->rules, "threshold-legitimate", -G_MAXDOUBLE);
  double veto_weight = bounce_rules_get_weight (j->rules, "veto", -G_MAXDOUBLE);

  jm->evidence = g_array_new (FALSE, TRUE, sizeof (BounceEvidence));
  g_array_set_clear_func (jm->evidence, evidence_clear);
  if (kind == BOUNCE_KIND_NOT_BOUNCE)
    {
      jm->verdict = BOUNCE_VERDICT_NOT_BOUNCE;
      return jm;
    }
  bounce_date = header_date (bounce_report_get_header (r, "Date"));
  /* Replies name the message they answer. */
  if (mid == NULL && (kind == BOUNCE_KIND_AUTOREPLY || kind == BOUNCE_KIND_CHALLENGE
                      || kind == BOUNCE_KIND_MDN))
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
    judge_path (j, jm, r, o, mid, &pf);
  if (j->index && mid)
    judge_index (j, jm, mid, orig_date, bounce_date, &pf);
  else if (j->index && o)
    add (j, jm, "no-message-id", "The original has no Message-ID to look up in your sent mail.");
  if (o && j->identity && bounce_identity_has_relays (j->identity))
    judge_relays (j, jm, o, &pf, from_addr);
  if (o && j->identity && bounce_identity_has_dkim_domains (j->identity))
    judge_dkim (j, jm, o, from_addr);
  if (j->identity && bounce_identity_get_batv_key (j->identity))
    judge_batv (j, jm, r, bounce_date);
  if (o && from_addr && j->identity && bounce_identity_has_addresses (j->identity)
      && !bounce_identity_is_owner_address (j->identity, from_addr))
    add (j, jm, "from-not-owner", "The original's From (%s) is not one of your addresses.", from_addr);
  if (o && j->index)
    judge_profile (j, jm, r, o, mid, orig_date);
  if (o)
    for (guint i = 0; i < bounce_original_get_n_attachments (o); i++)
      {
        const BounceAttachment *a = bounce_original_get_attachment (o, i);

        if (a->risky)
          {
            add (j, jm, "risky-attachment", "The original carries %s (%s), the kind of attachment worms travel in.",
                 a->name ?: "an attachment", a->content_type);
            break;
          }
      }
  if (o && orig_date && bounce_date
      && (orig_date < bounce_date - 7 * 86400 || orig_date > bounce_date + 86400))
    {
      g_autofree char *d = format_day (orig_date);
      g_autofree char *b = format_day (bounce_date);

      add (j, jm, "date-far-from-bounce",
           "The original is dated %s and its bounce %s: forgers set the clock anywhere, servers give up within days.",
           d, b);
    }
  if (kind == BOUNCE_KIND_VIRUS_NOTICE)
    add (j, jm, "virus-notice", "The report is a virus scanner's notice; worms forge the sender of what they send.");
  if (!has_original && mid == NULL)
    add (j, jm, "no-original", "Nothing of the original message came back, so it cannot be checked against your mail.");

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
  return jm;
}

BounceVerdict
bounce_judgement_get_verdict (BounceJudgement *jm)
{
  return jm->verdict;
}

double
bounce_judgement_get_score (BounceJudgement *jm)
{
  return jm->score;
}

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

const char *
bounce_verdict_to_string (BounceVerdict verdict)
{
  g_return_val_if_fail ((guint) verdict < G_N_ELEMENTS (verdict_names), NULL);
  return verdict_names[verdict];
}

gboolean
bounce_verdict_from_string (const char *name, BounceVerdict *verdict)
{
  for (guint i = 0; i < G_N_ELEMENTS (verdict_names); i++)
    if (g_strcmp0 (name, verdict_names[i]) == 0)
      {
        *verdict = i;
        return TRUE;
      }
  return FALSE;
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
  g_string_append_printf (out, "X-Backscatter: %s; score=%s; kind=%s",
                          bounce_verdict_to_string (jm->verdict), score,
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

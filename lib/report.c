/* report.c — read one message and make a BounceReport of it.
 *
 * The flow: ask the triage whether the message is worth parsing (most
 * mail stops there); parse the MIME structure and walk it (mimewalk.c)
 * for the delivery-status, disposition-notification or feedback-report
 * part, the report text and the part carrying the original; apply the
 * first format rule that recognises the message; let the format-free
 * reader (generic.c) add what no rule named; complete the recipients
 * (recipients.c); recover the original.
 *
 * Diagnostics: a message that cannot be parsed at all is an error
 * (BOUNCE_ERROR_PARSE); one over a limit is cut to the limit and parsed,
 * with a warning on the report.
 */
#include "bounce-private.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct _BounceReport
{
  gint ref;
  BounceKind kind;
  char *format;
  char *reporting_mta;
  char *received_from_mta;
  char *arrival_date;
  char *envelope_id;
  char *bounce_to;
  char *rule_name;       /* the format rule that recognised it */
  GPtrArray *signals;    /* char *: what made it a report, NULL-terminated */
  char *not_report;      /* why it is not one */
  GPtrArray *headers;    /* alternating name, value of the report itself */
  GPtrArray *recipients; /* BounceRecipient */
  BounceOriginal *original;
  GPtrArray *warnings; /* char *, NULL-terminated */
};

static const char *const kind_names[] = {
  [BOUNCE_KIND_NOT_BOUNCE] = "not-bounce",
  [BOUNCE_KIND_FAILURE] = "failure",
  [BOUNCE_KIND_DELAY] = "delay",
  [BOUNCE_KIND_DELIVERED] = "delivered",
  [BOUNCE_KIND_VIRUS_NOTICE] = "virus-notice",
  [BOUNCE_KIND_CHALLENGE] = "challenge",
  [BOUNCE_KIND_AUTOREPLY] = "autoreply",
  [BOUNCE_KIND_FEEDBACK] = "feedback",
  [BOUNCE_KIND_MDN] = "mdn",
};

/** bounce_kind_to_string: Returns: (transfer none) the kind's JSON name. */
const char *
bounce_kind_to_string (BounceKind kind)
{
  g_return_val_if_fail ((guint) kind < G_N_ELEMENTS (kind_names), NULL);
  return kind_names[kind];
}

/** bounce_kind_from_string: Returns: TRUE and sets @kind when @name is a
 * kind's JSON name. */
gboolean
bounce_kind_from_string (const char *name, BounceKind *kind)
{
  int i = bounce_name_index (kind_names, G_N_ELEMENTS (kind_names), name);

  if (i < 0)
    return FALSE;
  *kind = i;
  return TRUE;
}

static BounceReport *
report_new (void)
{
  BounceReport *r = g_new0 (BounceReport, 1);

  r->ref = 1;
  r->headers = g_ptr_array_new_with_free_func (g_free);
  r->recipients = g_ptr_array_new_with_free_func ((GDestroyNotify) bounce_recipient_free);
  r->warnings = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (r->warnings, NULL);
  return r;
}

/* bounce_report_ref: Returns: (transfer full) @report, with one more
 * reference; a report does not change once made, so threads may share
 * it. */
BounceReport *
bounce_report_ref (BounceReport *report)
{
  g_atomic_int_inc (&report->ref);
  return report;
}

/* bounce_report_unref: drops a reference to @report (nullable); the last
 * frees it, with every string and object its getters returned. */
void
bounce_report_unref (BounceReport *report)
{
  if (report == NULL || !g_atomic_int_dec_and_test (&report->ref))
    return;
  g_free (report->format);
  g_free (report->reporting_mta);
  g_free (report->received_from_mta);
  g_free (report->arrival_date);
  g_free (report->envelope_id);
  g_free (report->bounce_to);
  g_free (report->rule_name);
  g_free (report->not_report);
  g_ptr_array_unref (report->headers);
  g_ptr_array_unref (report->recipients);
  g_clear_pointer (&report->original, bounce_original_free);
  g_ptr_array_unref (report->warnings);
  g_clear_pointer (&report->signals, g_ptr_array_unref);
  g_free (report);
}

static void warn (BounceReport *r, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static void
warn (BounceReport *r, const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  g_ptr_array_insert (r->warnings, r->warnings->len - 1, g_strdup_vprintf (fmt, ap));
  va_end (ap);
}

static void
keep_header (BounceReport *r, GMimeObject *msg, const char *name)
{
  GMimeHeader *h = g_mime_header_list_get_header (g_mime_object_get_header_list (msg), name);
  g_autofree char *v = h ? bounce_header_value (h) : NULL;

  if (v)
    {
      g_ptr_array_add (r->headers, g_strdup (name));
      g_ptr_array_add (r->headers, bounce_collapse_space (v) ?: g_strdup (""));
    }
}

/* ---- the parse -------------------------------------------------------- */

/* The fields of a report's own header block that the reader reads: those
 * kept on the report (keep_header), those the format-free reader weighs
 * (generic.c, generic-evidence.c), and MIME-Version; with every Content-*
 * field, which give the MIME structure, and those the rules' header
 * conditions name. */
static const char *const read_fields[] = {
  "From",           "To",          "Subject",       "Date",       "Message-ID",   "Delivered-To",
  "X-Original-To",  "In-Reply-To", "Sender",        "Reply-To",   "Return-Path",  "X-Failed-Recipients",
  "Auto-Submitted", "X-Autoreply", "X-Autorespond", "Precedence", "MIME-Version",
};

static gboolean
field_is_read (const char *name, gsize len, BounceRules *rules)
{
  g_autofree char *lower = NULL;

  if (len >= 8 && g_ascii_strncasecmp (name, "Content-", 8) == 0)
    return TRUE;
  for (gsize i = 0; i < G_N_ELEMENTS (read_fields); i++)
    if (strlen (read_fields[i]) == len && g_ascii_strncasecmp (name, read_fields[i], len) == 0)
      return TRUE;
  lower = g_ascii_strdown (name, len);
  return rules && bounce_rules_reads_header (rules, lower);
}

/* The fields of the header block of @data (@len bytes) that the reader
 * does not read (the trace and signature fields, mostly: most of a
 * report's header block), added to @drop. GMime makes an object of every
 * field and reads each address and date field it is given; that is most
 * of the time a report costs. None is added for a header block with a
 * line GMime might read otherwise than as a field (no colon, a name with
 * a blank or a byte outside ASCII). */
static void
unread_fields (const char *data, gsize len, BounceRules *rules, GArray *drop)
{
  BounceHeaderField f;
  gsize pos = 0;
  guint before = drop->len;

  while (bounce_header_next (data, len, &pos, &f))
    {
      BounceRange span = { f.line - data, pos };

      if (f.value == NULL || f.name_len == 0 || f.line + f.name_len + 1 != f.value)
        goto odd;
      for (gsize i = 0; i < f.name_len; i++)
        if ((guchar) f.line[i] <= ' ' || (guchar) f.line[i] >= 127)
          goto odd;
      if (!field_is_read (f.line, f.name_len, rules))
        g_array_append_val (drop, span);
    }
  return;
odd:
  g_array_set_size (drop, before);
}

/* bounce_parser_input: @data (*@len bytes) as GMime is to parse it:
 * without the fields of its header block that the reader does not read
 * (unread_fields()), and with each Content-Type field in @carried
 * (BounceRange, in order, as bounce_mime_bounded_length() gives them)
 * made one of BOUNCE_CARRIED_SUBTYPE. GMime then leaves the message of
 * such a part unparsed (a returned original, mostly, whose header block
 * is read without GMime where it can be: original.c); the walk parses it
 * only when it needs to (mimewalk.c).
 * Returns: (transfer full) (nullable): the copy, with *@len its length;
 * NULL when there is nothing to change. */
char *
bounce_parser_input (const char *data, gsize *len, BounceRules *rules, GArray *carried)
{
  g_autoptr (GArray) drop = g_array_new (FALSE, FALSE, sizeof (BounceRange));
  GString *out;
  gsize at = 0;

  unread_fields (data, *len, rules, drop);
  if (drop->len == 0 && carried->len == 0)
    return NULL;
  out = g_string_sized_new (*len);
  for (guint i = 0, j = 0; i < drop->len || j < carried->len;)
    {
      gboolean relabel =
          i == drop->len
          || (j < carried->len
              && g_array_index (carried, BounceRange, j).start < g_array_index (drop, BounceRange, i).start);
      const BounceRange *s =
          relabel ? &g_array_index (carried, BounceRange, j++) : &g_array_index (drop, BounceRange, i++);

      g_string_append_len (out, data + at, s->start - at);
      if (relabel)
        {
          /* the same line end */
          const char *eol = s->end > s->start && data[s->end - 1] == '\n'
                                ? (s->end - s->start > 1 && data[s->end - 2] == '\r' ? "\r\n" : "\n")
                                : "";

          g_string_append_printf (out, "Content-Type: message/%s%s", BOUNCE_CARRIED_SUBTYPE, eol);
        }
      at = s->end;
    }
  g_string_append_len (out, data + at, *len - at);
  *len = out->len;
  return g_string_free (out, FALSE);
}

static void
parse_message (BounceReport *r, GMimeObject *msg, BounceRules *rules)
{
  g_auto (BounceWalk) w = { 0 };
  g_autofree char *text = NULL;
  gsize text_len = 0;
  const BounceFormatRule *rule;
  BounceRuleInput in;
  g_autoptr (GPtrArray) found = g_ptr_array_new_with_free_func ((GDestroyNotify) bounce_recipient_free);
  BounceGeneric g = { 0 };
  guint n_cut;

  g.kind = BOUNCE_KIND_NOT_BOUNCE;
  g.inline_at = G_MAXSIZE;
  g.signals = g_ptr_array_new_with_free_func (g_free);
  w.report_message = msg;
  bounce_walk (&w, msg);
  if (w.limited)
    warn (r, "the MIME structure is deeper or larger than %d levels / %d parts; the rest was not read",
          BOUNCE_MAX_MIME_DEPTH, BOUNCE_MAX_MIME_PARTS);
  text = bounce_report_text (&w, &text_len);
  if (w.text_cut)
    warn (r, "the report text is longer than %d KiB; only its start was read", BOUNCE_MAX_TEXT_BYTES / 1024);

  if (w.status_part && GMIME_IS_PART (w.status_part))
    {
      /* one byte more than is parsed, to know whether there was more */
      g_autoptr (GByteArray) body = bounce_part_content (GMIME_PART (w.status_part), BOUNCE_MAX_DSN_BYTES + 1);
      g_autoptr (BounceDsn) dsn = bounce_dsn_parse ((const char *) body->data, body->len);

      /* A delivery-status part of prose, not fields: a later one may
       * hold them. */
      for (guint i = 0; dsn->recipients->len == 0 && i < G_N_ELEMENTS (w.more_status); i++)
        if (w.more_status[i] && GMIME_IS_PART (w.more_status[i]))
          {
            g_autoptr (GByteArray) next = bounce_part_content (GMIME_PART (w.more_status[i]), BOUNCE_MAX_DSN_BYTES + 1);
            BounceDsn *d = bounce_dsn_parse ((const char *) next->data, next->len);

            if (d->recipients->len > 0)
              {
                g_byte_array_unref (body);
                body = g_steal_pointer (&next);
                bounce_dsn_free (dsn);
                dsn = d;
              }
            else
              bounce_dsn_free (d);
          }
      if (body->len > BOUNCE_MAX_DSN_BYTES)
        warn (r, "the delivery-status part is larger than %d KiB; only its start was read",
              BOUNCE_MAX_DSN_BYTES / 1024);

      r->reporting_mta = g_steal_pointer (&dsn->reporting_mta);
      r->received_from_mta = g_steal_pointer (&dsn->received_from_mta);
      r->arrival_date = g_steal_pointer (&dsn->arrival_date);
      r->envelope_id = g_steal_pointer (&dsn->envelope_id);
      while (dsn->recipients->len)
        g_ptr_array_add (r->recipients, g_ptr_array_steal_index (dsn->recipients, 0));
      g.format = w.global ? "rfc6533" : "rfc3464";
      g.kind = BOUNCE_KIND_FAILURE;
      g_ptr_array_add (g.signals, g_strdup (w.global ? "a message/global-delivery-status part (RFC 6533)"
                                                     : "a message/delivery-status part (RFC 3464)"));
    }
  else if (w.mdn_part)
    {
      g.kind = BOUNCE_KIND_MDN;
      g.format = "rfc8098";
      g_ptr_array_add (g.signals, g_strdup ("a message/disposition-notification part (RFC 8098)"));
    }
  else if (w.feedback_part)
    {
      g.kind = BOUNCE_KIND_FEEDBACK;
      g.format = "arf";
      g_ptr_array_add (g.signals, g_strdup ("a message/feedback-report part (RFC 5965)"));
    }

  if (g.format == NULL)
    {
      g_autoptr (BounceDsn) dsn = bounce_generic_dsn (text, text_len);

      /* A report whose delivery-status part is labelled text/plain. */
      if (dsn == NULL && w.text_attachment && GMIME_IS_PART (w.text_attachment))
        {
          g_autoptr (GByteArray) body = bounce_part_content (GMIME_PART (w.text_attachment), BOUNCE_MAX_DSN_BYTES);

          if (g_utf8_validate ((const char *) body->data, body->len, NULL))
            dsn = bounce_generic_dsn ((const char *) body->data, body->len);
        }
      if (dsn)
        {
          r->reporting_mta = g_steal_pointer (&dsn->reporting_mta);
          r->arrival_date = g_steal_pointer (&dsn->arrival_date);
          while (dsn->recipients->len)
            g_ptr_array_add (r->recipients, g_ptr_array_steal_index (dsn->recipients, 0));
          g.format = "rfc3464";
          g.kind = BOUNCE_KIND_FAILURE;
          g_ptr_array_add (g.signals, g_strdup ("delivery-status fields in the text (RFC 3464)"));
        }
    }

  in.message = msg;
  in.text = text;
  in.text_len = text_len;
  rule = bounce_rules_match (rules, &in);
  if (rule)
    {
      BounceKind rk = bounce_format_rule_kind (rule);

      r->rule_name = g_strdup (bounce_format_rule_name (rule));
      bounce_format_rule_extract (rule, text, text_len, found, &g.inline_at);
      if (g.format == NULL || rk == BOUNCE_KIND_NOT_BOUNCE || rk == BOUNCE_KIND_VIRUS_NOTICE
          || rk == BOUNCE_KIND_CHALLENGE || rk == BOUNCE_KIND_AUTOREPLY)
        {
          g.kind = rk;
          g.format = bounce_format_rule_name (rule);
        }
      g_ptr_array_add (g.signals, g_strdup_printf ("the format rule %s", bounce_format_rule_name (rule)));
      if (g.kind != BOUNCE_KIND_NOT_BOUNCE)
        bounce_recipients_merge (r->recipients, found);
    }
  g.message = msg;
  g.text = text;
  g.text_len = text_len;
  g.rule = rule != NULL;
  g.rules = rules;
  g.recipients = r->recipients;
  g.orig_part = w.orig_part;
  bounce_generic_read (&g);
  if ((g.kind == BOUNCE_KIND_FAILURE || g.kind == BOUNCE_KIND_DELAY)
      && (g_strcmp0 (g.format, "rfc3464") == 0 || g_strcmp0 (g.format, "rfc6533") == 0))
    g.kind = bounce_kind_from_actions (r->recipients);
  r->kind = g.kind;
  r->format = g_strdup (g.format);
  r->original = g_steal_pointer (&g.original);
  if (g.kind != BOUNCE_KIND_NOT_BOUNCE)
    {
      g_ptr_array_add (g.signals, NULL);
      r->signals = g_steal_pointer (&g.signals);
    }
  g_clear_pointer (&g.signals, g_ptr_array_unref);
  g_clear_pointer (&g.text_words, g_free);
  if (g.kind == BOUNCE_KIND_NOT_BOUNCE)
    {
      r->not_report =
          rule && bounce_format_rule_kind (rule) == BOUNCE_KIND_NOT_BOUNCE
              ? g_strdup_printf ("the format rule %s says it is no report", bounce_format_rule_name (rule))
              : g_strdup ("read whole, it has no delivery-status part and no report format a rule knows, and "
                          "the format-free reader did not find a report's sender, wording and codes together");
      g_ptr_array_set_size (r->recipients, 0);
      g_clear_pointer (&r->original, bounce_original_free);
      return;
    }
  n_cut = bounce_recipients_finish (r->recipients, rules, rule, text, text_len);
  if (n_cut == 1)
    warn (r, "a diagnostic is longer than %d bytes; only its start was kept", BOUNCE_MAX_DIAGNOSTIC_BYTES);
  else if (n_cut > 1)
    warn (r, "%u diagnostics are longer than %d bytes; only their start was kept", n_cut, BOUNCE_MAX_DIAGNOSTIC_BYTES);
  if (r->recipients->len >= BOUNCE_MAX_RECIPIENTS)
    warn (r, "the report names %d recipients or more; only the first %d were read", BOUNCE_MAX_RECIPIENTS,
          BOUNCE_MAX_RECIPIENTS);

  /* The original: an attached part first, then text after a marker, then
   * a header block found in the text. */
  if (w.orig_part && r->original == NULL)
    r->original = bounce_original_from_part (w.orig_part);
  if (r->original == NULL && w.text_attachment && GMIME_IS_PART (w.text_attachment))
    {
      /* Some servers return the headers as a text attachment. */
      gsize alen = 0;
      g_autofree char *att = bounce_text_of (w.text_attachment, &alen);

      if (bounce_generic_original (att, alen) == 0)
        r->original = bounce_original_from_headers_text (att, alen, "text/rfc822-headers");
    }
  if (r->original == NULL && g.inline_at < text_len)
    r->original = bounce_original_from_headers_text (text + g.inline_at, text_len - g.inline_at, "inline");
  if (r->original == NULL && g.kind != BOUNCE_KIND_AUTOREPLY && g.kind != BOUNCE_KIND_MDN)
    {
      gsize at = bounce_generic_original (text, text_len);

      if (at < text_len)
        r->original = bounce_original_from_headers_text (text + at, text_len - at, "inline");
    }
  if (r->original && r->original->cut_received)
    warn (r, "the original has more than %d Received headers; only the first %d were read", BOUNCE_MAX_RECEIVED,
          BOUNCE_MAX_RECEIVED);
  if (r->original && r->original->cut_fields)
    warn (r, "the original has more than %d header fields; only the first %d were read", BOUNCE_MAX_ORIGINAL_FIELDS,
          BOUNCE_MAX_ORIGINAL_FIELDS);
  if (r->original && r->original->cut_attachments)
    warn (r, "the original has more than %d attachments; only the first %d are listed", BOUNCE_MAX_ATTACHMENTS,
          BOUNCE_MAX_ATTACHMENTS);
}

/* The address the report was delivered to: Delivered-To, X-Original-To,
 * else To. */
static char *
delivered_to (BounceReport *report)
{
  const char *v = bounce_report_get_header (report, "Delivered-To");

  if (v == NULL)
    v = bounce_report_get_header (report, "X-Original-To");
  if (v == NULL)
    v = bounce_report_get_header (report, "To");
  return bounce_addr_spec (v);
}

/* The triage of the header block of @data (@length bytes) as
 * bounce_report_new_from_data() reads it: bare CRs made LFs (decided on
 * the first 4 KiB, then byte by byte), the message's start found, the
 * block read up to BOUNCE_MAX_HEADER_BYTES. *@rest: how many bytes
 * follow the start (none: NO); *@hend: where the block ends in them, as
 * bounce_header_block_end() says. */
static BounceTriage
triage_of_start (const char *data, gsize length, gsize *hend, gsize *rest)
{
  g_autofree char *lf = bounce_bare_cr_to_lf (data, &length);
  gsize start;

  data = lf ? lf : data;
  start = bounce_message_start (data, length);
  *rest = length - start;
  *hend = 0;
  if (*rest == 0)
    return BOUNCE_TRIAGE_NO;
  return bounce_triage (data + start, MIN (*rest, (gsize) BOUNCE_MAX_HEADER_BYTES + 2), hend);
}

/* A message the triage, or the second look after it, found no report in. */
static void
not_a_report (BounceReport *r, BounceTriage triage)
{
  r->kind = BOUNCE_KIND_NOT_BOUNCE;
  r->not_report =
      g_strdup (triage == BOUNCE_TRIAGE_NO ? "its header has nothing of a report: no report content type, no mail "
                                             "system's From or empty Return-Path, no automatic-reply header, no "
                                             "report's word in the Subject"
                : triage == BOUNCE_TRIAGE_ROLE
                    ? "it is from a role address, and neither its parts nor its Subject and text have what a "
                      "report has: no report part, no delivery-status field, no failure's words or codes, no "
                      "phrase a rule looks for"
                    : "only its Subject has a report's word, and neither its parts nor its text have what a "
                      "report has: no report part, no delivery-status field, no phrase a rule looks for");
}

/**
 * bounce_report_new_from_start:
 * @data: the first @length bytes of a message, and no more (an mbox
 *   "From " line before it is accepted)
 * @length: their length
 *
 * Reads a message of which only the start is at hand, when the start
 * decides it: a message whose header block ends within @data and has
 * nothing of a report (the triage's no) is not a report, whatever
 * follows. The report is the one bounce_report_new_from_data() makes of
 * the whole message: kind BOUNCE_KIND_NOT_BOUNCE, for the same reason
 * (but no warning that the message is over the read limit, which its
 * start does not tell). A start shorter than 4 KiB decides nothing: how
 * a message's line ends are read is decided on its first 4 KiB. A
 * program reading a large file reads the rest only when this returns
 * NULL.
 *
 * Returns: (transfer full) (nullable): the report, or NULL when the
 *   whole message must be read.
 */
BounceReport *
bounce_report_new_from_start (const char *data, gsize length)
{
  gsize hend, rest;
  BounceReport *r;

  /* Once the header block has ended, what follows changes none of what
   * the triage read. */
  if (length < BOUNCE_BARE_CR_PROBE || triage_of_start (data, length, &hend, &rest) != BOUNCE_TRIAGE_NO || hend == 0
      || hend >= rest || hend > BOUNCE_MAX_HEADER_BYTES)
    return NULL;
  r = report_new ();
  not_a_report (r, BOUNCE_TRIAGE_NO);
  return r;
}

/**
 * bounce_report_new_from_data:
 * @data: a whole message (an mbox "From " line before it is accepted)
 * @length: its length in bytes
 * @rules: the rules to recognise non-standard reports with
 * @flags: BounceParseFlags
 * @error: BOUNCE_ERROR_PARSE when @data is not a message at all
 *
 * Reads one message. A message that is not a report of any kind gives a
 * report of kind BOUNCE_KIND_NOT_BOUNCE, not an error.
 *
 * Returns: (transfer full) (nullable): the report, or NULL on error.
 */
BounceReport *
bounce_report_new_from_data (const char *data, gsize length, BounceRules *rules, BounceParseFlags flags, GError **error)
{
  g_autoptr (BounceReport) r = report_new ();
  /* The bytes the message is parsed from, freed after it (in the
   * reverse order of these declarations): it reads its parts from them. */
  g_autofree char *lf = bounce_bare_cr_to_lf (data, &length);
  g_autofree char *fewer = NULL;
  g_autoptr (GMimeObject) msg = NULL;
  gsize probe, hend = 0, start;
  gboolean worth;
  BounceTriage triage;

  data = lf ? lf : data;

  /* An mbox "From " line, a byte order mark, blank lines before the
   * header: the message starts after them. */
  start = bounce_message_start (data, length);
  data += start;
  length -= start;
  /* The triage reads the header block once; a candidate's is measured
   * on its own. */
  probe = MIN (length, (gsize) BOUNCE_MAX_HEADER_BYTES + 2);
  worth =
      bounce_worth_parsing (data, MIN (length, (gsize) BOUNCE_MAX_MESSAGE_BYTES), probe, rules, flags, &hend, &triage);
  if (length == 0 || hend == 0)
    {
      g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_PARSE, "empty message or no header");
      return NULL;
    }
  if (hend > BOUNCE_MAX_HEADER_BYTES || (hend == probe && length > probe))
    {
      /* No mail system writes such a header block: refuse it whole rather
       * than hand it to the MIME parser. */
      g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_LIMIT, "the header block is larger than %d KiB",
                   BOUNCE_MAX_HEADER_BYTES / 1024);
      return NULL;
    }
  if (length > BOUNCE_MAX_MESSAGE_BYTES)
    {
      warn (r, "the message is larger than %d bytes; only the start was read", BOUNCE_MAX_MESSAGE_BYTES);
      length = BOUNCE_MAX_MESSAGE_BYTES;
    }
  if (!worth)
    {
      not_a_report (r, triage);
      return g_steal_pointer (&r);
    }
  {
    g_autofree char *why = NULL;
    g_autoptr (GArray) carried = g_array_new (FALSE, FALSE, sizeof (BounceRange));
    gsize parsed;

    length = bounce_mime_bounded_length (data, length, &why, carried);
    if (why)
      warn (r, "%s", why);
    parsed = length;
    fewer = bounce_parser_input (data, &parsed, rules, carried);
    msg = bounce_parse_bounded_part (fewer ? fewer : data, parsed);
  }
  if (msg == NULL)
    {
      g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_PARSE, "not a mail message");
      return NULL;
    }
  keep_header (r, msg, "From");
  keep_header (r, msg, "To");
  keep_header (r, msg, "Subject");
  keep_header (r, msg, "Date");
  keep_header (r, msg, "Message-ID");
  keep_header (r, msg, "Delivered-To");
  keep_header (r, msg, "X-Original-To");
  keep_header (r, msg, "In-Reply-To");
  r->bounce_to = delivered_to (r);
  parse_message (r, msg, rules);
  return g_steal_pointer (&r);
}

/**
 * bounce_report_needs_rules:
 * @data: a whole message, as for bounce_report_new_from_data()
 * @length: its length in bytes
 * @flags: BounceParseFlags, as they will be given to the reading
 *
 * Whether the rules can make a difference to reading @data: FALSE when
 * the triage of its header block alone says it is no report of any kind
 * (most mail), or when it has no header block to read, so that
 * bounce_report_new_from_data() gives the same result whatever rules it
 * is given, even an empty set. A program that reads one message can then
 * leave loading its rules (and anything else only reports need) until a
 * message needs them.
 *
 * Returns: TRUE when the message may be a report and is to be read with
 *   the rules.
 */
gboolean
bounce_report_needs_rules (const char *data, gsize length, BounceParseFlags flags)
{
  gsize hend, rest;

  return (flags & BOUNCE_PARSE_NO_TRIAGE) || triage_of_start (data, length, &hend, &rest) != BOUNCE_TRIAGE_NO;
}

/**
 * bounce_report_new_from_file:
 * @path: a file holding one message
 * @rules: the rules
 * @flags: BounceParseFlags
 * @error: BOUNCE_ERROR_IO when the file cannot be read, else as
 *   bounce_report_new_from_data()
 *
 * Returns: (transfer full) (nullable): the report, or NULL on error.
 */
BounceReport *
bounce_report_new_from_file (const char *path, BounceRules *rules, BounceParseFlags flags, GError **error)
{
  /* O_NONBLOCK: a FIFO is refused, not waited on. */
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  g_autoptr (GByteArray) buf = NULL;
  g_autoptr (GError) read_error = NULL;
  struct stat st;
  gboolean more;
  const char *why = NULL;

  if (fd < 0 || fstat (fd, &st) < 0)
    why = g_strerror (errno);
  else if (!S_ISREG (st.st_mode))
    why = "not a regular file";
  else if ((buf = bounce_message_read (fd, &more, &read_error)) == NULL)
    why = read_error->message;
  if (fd >= 0)
    close (fd);
  if (buf == NULL)
    {
      g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_IO, "%s: %s", path, why);
      return NULL;
    }
  return bounce_report_new_from_data ((const char *) buf->data, buf->len, rules, flags, error);
}

/* ---- accessors -------------------------------------------------------- */

/* bounce_report_get_kind: Returns: what kind of report the message is
 * (BOUNCE_KIND_NOT_BOUNCE for ordinary mail). */
BounceKind
bounce_report_get_kind (BounceReport *report)
{
  return report->kind;
}

/** bounce_report_get_format: Returns: (nullable) how the report was
 * recognised: "rfc3464", "rfc6533", "rfc8098", "arf", "rfc3834",
 * "generic" or a rule's name. */
const char *
bounce_report_get_format (BounceReport *report)
{
  return report->format;
}

/** bounce_report_get_rule_name: Returns: (nullable) the name of the format
 * rule that recognised the message, even where the format is a standard
 * one and the rule only filled in gaps; NULL when no rule applied. */
const char *
bounce_report_get_rule_name (BounceReport *report)
{
  return report->rule_name;
}

/** Returns: (nullable) */
const char *
bounce_report_get_reporting_mta (BounceReport *report)
{
  return report->reporting_mta;
}

/** Returns: (nullable) */
const char *
bounce_report_get_received_from_mta (BounceReport *report)
{
  return report->received_from_mta;
}

/** Returns: (nullable) */
const char *
bounce_report_get_arrival_date (BounceReport *report)
{
  return report->arrival_date;
}

/** Returns: (nullable) the Original-Envelope-Id. */
const char *
bounce_report_get_envelope_id (BounceReport *report)
{
  return report->envelope_id;
}

/**
 * bounce_report_get_header:
 * @name: From, To, Subject, Date, Message-ID, Delivered-To or X-Original-To
 *
 * Returns: (nullable) (transfer none): a header of the report itself.
 */
const char *
bounce_report_get_header (BounceReport *report, const char *name)
{
  for (guint i = 0; i + 1 < report->headers->len; i += 2)
    if (g_ascii_strcasecmp (g_ptr_array_index (report->headers, i), name) == 0)
      return g_ptr_array_index (report->headers, i + 1);
  return NULL;
}

/** bounce_report_get_bounce_to: Returns: (nullable) (transfer none) the
 * address the report was delivered to (Delivered-To, X-Original-To, else
 * To), read when the report was made. */
const char *
bounce_report_get_bounce_to (BounceReport *report)
{
  return report->bounce_to;
}

/* bounce_report_get_n_recipients: Returns: how many recipients the
 * report names (at most BOUNCE_MAX_RECIPIENTS). */
guint
bounce_report_get_n_recipients (BounceReport *report)
{
  return report->recipients->len;
}

/** Returns: (transfer none) the @index-th recipient. */
BounceRecipient *
bounce_report_get_recipient (BounceReport *report, guint index)
{
  g_return_val_if_fail (index < report->recipients->len, NULL);
  return g_ptr_array_index (report->recipients, index);
}

/** Returns: (nullable) (transfer none) the returned original, or NULL
 * when none came back. */
BounceOriginal *
bounce_report_get_original (BounceReport *report)
{
  return report->original;
}

/** Returns: (transfer none) what made the message a report, as phrases
 * ("a null Return-Path", "a failure in the Subject (\"Undeliverable\")",
 * "the format rule exim"); an empty list for one that is not. */
const char *const *
bounce_report_get_signals (BounceReport *report)
{
  static const char *const none[] = { NULL };

  return report->signals ? (const char *const *) report->signals->pdata : none;
}

/** Returns: (transfer none) (nullable) why the message is not a report,
 * as a sentence (what was looked at and found missing); NULL for a
 * report. */
const char *
bounce_report_get_not_report_reason (BounceReport *report)
{
  return report->kind == BOUNCE_KIND_NOT_BOUNCE ? report->not_report : NULL;
}

/** Returns: (transfer none) the limits this message exceeded, as
 * sentences; an empty list when none. */
const char *const *
bounce_report_get_warnings (BounceReport *report)
{
  return (const char *const *) report->warnings->pdata;
}

/* The recipient's fields: bounce_recipient_get_address() and the rest
 * return (transfer none) (nullable) strings, valid UTF-8, borrowed until
 * the report that holds the recipient is freed. */
#define RCPT_GETTER(field)                                                                                             \
  const char *bounce_recipient_get_##field (BounceRecipient *rcpt)                                                     \
  {                                                                                                                    \
    return rcpt->field;                                                                                                \
  }

RCPT_GETTER (address)
RCPT_GETTER (original_recipient)
RCPT_GETTER (action)
RCPT_GETTER (status)
RCPT_GETTER (reply_code)
RCPT_GETTER (diagnostic)
RCPT_GETTER (remote_mta)
RCPT_GETTER (reason)

/** bounce_recipient_get_permanent: Returns: 1 for a permanent failure, 0
 * for a temporary one, -1 when the report does not say. */
int
bounce_recipient_get_permanent (BounceRecipient *rcpt)
{
  return rcpt->permanent;
}

/* json.c — a BounceReport and its judgement as JSON text, with the field
 * names of the product's contract (DESIGN: source, kind, format,
 * reporting_mta, recipients, original, verdict, score, evidence, error).
 * Names are only ever added, never renamed.
 *
 * The text is written straight into a GString: `scan --json` writes a
 * line per bounce, and building a tree of JsonNodes first cost ten times
 * as much as the writing. */
#include "bounce-private.h"

#include <math.h>
#include <string.h>

/**
 * bounce_json_append_string:
 * @out: the JSON text being written
 * @s: (nullable): a string
 *
 * Appends @s as a JSON string (null for NULL). Bytes that are not UTF-8
 * become U+FFFD, so that the text is always valid JSON.
 */
void
bounce_json_append_string (GString *out, const char *s)
{
  g_autofree char *valid = NULL;
  const char *run;

  if (s == NULL)
    {
      g_string_append (out, "null");
      return;
    }
  if (!g_utf8_validate (s, -1, NULL))
    s = valid = g_utf8_make_valid (s, -1);
  g_string_append_c (out, '"');
  for (run = s; *s; s++)
    {
      guchar c = *s;

      if (c >= 0x20 && c != '"' && c != '\\')
        continue;
      g_string_append_len (out, run, s - run);
      run = s + 1;
      switch (c)
        {
        case '"': g_string_append (out, "\\\""); break;
        case '\\': g_string_append (out, "\\\\"); break;
        case '\n': g_string_append (out, "\\n"); break;
        case '\r': g_string_append (out, "\\r"); break;
        case '\t': g_string_append (out, "\\t"); break;
        case '\b': g_string_append (out, "\\b"); break;
        case '\f': g_string_append (out, "\\f"); break;
        default: g_string_append_printf (out, "\\u%04x", c); break;
        }
    }
  g_string_append_len (out, run, s - run);
  g_string_append_c (out, '"');
}

/* A comma, unless the object or array was just opened. */
static void
sep (GString *o)
{
  if (o->len && o->str[o->len - 1] != '{' && o->str[o->len - 1] != '[')
    g_string_append_c (o, ',');
}

static void
member (GString *o, const char *name)
{
  sep (o);
  g_string_append_c (o, '"');
  g_string_append (o, name);
  g_string_append (o, "\":");
}

static void
member_str (GString *o, const char *name, const char *value)
{
  member (o, name);
  bounce_json_append_string (o, value);
}

/* A date as the message wrote it (@name) and, beside it (@name_iso), in
 * ISO 8601 with its own offset, or null when it is no RFC 5322 date. */
static void
member_date (GString *o, const char *name, const char *value)
{
  g_autoptr (GDateTime) d = value ? g_mime_utils_header_decode_date (value) : NULL;
  g_autofree char *iso = d ? g_date_time_format (d, "%Y-%m-%dT%H:%M:%S%:z") : NULL;
  g_autofree char *iso_name = g_strconcat (name, "_iso", NULL);

  member_str (o, name, value);
  member_str (o, iso_name, iso);
}

static void
member_bool (GString *o, const char *name, gboolean value)
{
  member (o, name);
  g_string_append (o, value ? "true" : "false");
}

/* A number as JSON-GLib writes a double: enough digits to read back the
 * same, and always a point. */
static void
member_double (GString *o, const char *name, double value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  member (o, name);
  if (!isfinite (value))
    {
      g_string_append (o, "null");
      return;
    }
  g_ascii_dtostr (buf, sizeof buf, value);
  g_string_append (o, buf);
  if (strpbrk (buf, ".eE") == NULL)
    g_string_append (o, ".0");
}

/* An object opened as an element of an array, or as a member's value. */
static void
open_object (GString *o)
{
  sep (o);
  g_string_append_c (o, '{');
}

static void
recipient_json (GString *o, BounceRecipient *x)
{
  open_object (o);
  member_str (o, "address", x->address);
  member_str (o, "original_recipient", x->original_recipient);
  member_str (o, "action", x->action);
  member_str (o, "status", x->status);
  member_str (o, "reply_code", x->reply_code);
  member_str (o, "diagnostic", x->diagnostic);
  member_str (o, "remote_mta", x->remote_mta);
  member_str (o, "reason", x->reason);
  member_str (o, "command", x->command);
  if (x->permanent < 0)
    {
      member (o, "permanent");
      g_string_append (o, "null");
    }
  else
    member_bool (o, "permanent", x->permanent == 1);
  member_date (o, "last_attempt", x->last_attempt);
  member_date (o, "will_retry_until", x->will_retry_until);
  g_string_append_c (o, '}');
}

static void
original_json (GString *o, BounceOriginal *orig)
{
  const char *ua = bounce_original_get_header (orig, "User-Agent");

  g_string_append_c (o, '{');
  member_str (o, "message_id", orig->message_id);
  member_str (o, "from", orig->from);
  member_str (o, "sender", bounce_original_get_header (orig, "Sender"));
  member_str (o, "return_path", bounce_original_get_header (orig, "Return-Path"));
  member_str (o, "to", bounce_original_get_header (orig, "To"));
  member_str (o, "cc", bounce_original_get_header (orig, "Cc"));
  member_str (o, "subject", bounce_original_get_header (orig, "Subject"));
  member_date (o, "date", bounce_original_get_header (orig, "Date"));
  member (o, "received");
  g_string_append_c (o, '[');
  for (guint i = 0; i < orig->received->len; i++)
    {
      const BounceReceived *r = &g_array_index (orig->received, BounceReceived, i);

      open_object (o);
      member_str (o, "from_host", r->from_host);
      member_str (o, "from_ip", r->from_ip);
      member_str (o, "by_host", r->by_host);
      member_date (o, "date", r->date);
      g_string_append_c (o, '}');
    }
  g_string_append_c (o, ']');
  member (o, "dkim");
  g_string_append_c (o, '[');
  for (guint i = 0; i < orig->dkim->len; i++)
    {
      const BounceDkim *d = &g_array_index (orig->dkim, BounceDkim, i);

      open_object (o);
      member_str (o, "domain", d->domain);
      member_str (o, "selector", d->selector);
      g_string_append_c (o, '}');
    }
  g_string_append_c (o, ']');
  member_str (o, "user_agent", ua ? ua : bounce_original_get_header (orig, "X-Mailer"));
  member (o, "attachments");
  g_string_append_c (o, '[');
  for (guint i = 0; i < orig->attachments->len; i++)
    {
      const BounceAttachment *a = &g_array_index (orig->attachments, BounceAttachment, i);

      open_object (o);
      member_str (o, "name", a->name);
      member_str (o, "type", a->content_type);
      member_bool (o, "risky", a->risky);
      g_string_append_c (o, '}');
    }
  g_string_append_c (o, ']');
  member_str (o, "carried_as", orig->carried_as);
  g_string_append_c (o, '}');
}

/**
 * bounce_report_append_json:
 * @report: a report
 * @object: the text of a JSON object being written, open (its last
 *   member, or the opening brace, written)
 *
 * Appends the report's members: kind, format, reporting_mta,
 * received_from_mta, arrival_date, envelope_id, recipients, original,
 * for a report what made it one (recognised_by) and, when a limit was
 * exceeded, warnings.
 */
void
bounce_report_append_json (BounceReport *report, GString *o)
{
  BounceOriginal *orig = bounce_report_get_original (report);
  const char *const *warnings = bounce_report_get_warnings (report);
  const char *const *signals = bounce_report_get_signals (report);

  member_str (o, "kind", bounce_kind_to_string (bounce_report_get_kind (report)));
  member_str (o, "format", bounce_report_get_format (report));
  member_str (o, "reporting_mta", bounce_report_get_reporting_mta (report));
  member_str (o, "received_from_mta", bounce_report_get_received_from_mta (report));
  member_date (o, "arrival_date", bounce_report_get_arrival_date (report));
  member_str (o, "envelope_id", bounce_report_get_envelope_id (report));
  member (o, "recipients");
  g_string_append_c (o, '[');
  for (guint i = 0; i < bounce_report_get_n_recipients (report); i++)
    recipient_json (o, bounce_report_get_recipient (report, i));
  g_string_append_c (o, ']');
  member (o, "original");
  if (orig)
    original_json (o, orig);
  else
    g_string_append (o, "null");
  for (guint k = 0; k < 2; k++)
    {
      const char *const *list = k == 0 ? signals : warnings;

      if (list[0] == NULL)
        continue;
      member (o, k == 0 ? "recognised_by" : "warnings");
      g_string_append_c (o, '[');
      for (guint i = 0; list[i]; i++)
        {
          sep (o);
          bounce_json_append_string (o, list[i]);
        }
      g_string_append_c (o, ']');
    }
}

/**
 * bounce_judgement_append_json:
 * @judgement: a judgement
 * @object: the text of a JSON object being written, open
 *
 * Appends the members verdict, score and evidence.
 */
void
bounce_judgement_append_json (BounceJudgement *jm, GString *o)
{
  member_str (o, "verdict", bounce_verdict_to_string (bounce_judgement_get_verdict (jm)));
  member_double (o, "score", bounce_judgement_get_score (jm));
  member (o, "evidence");
  g_string_append_c (o, '[');
  for (guint i = 0; i < bounce_judgement_get_n_evidence (jm); i++)
    {
      const BounceEvidence *e = bounce_judgement_get_evidence (jm, i);

      open_object (o);
      member_str (o, "rule", e->rule);
      member_double (o, "weight", e->weight);
      member_str (o, "detail", e->detail);
      g_string_append_c (o, '}');
    }
  g_string_append_c (o, ']');
}

/**
 * bounce_report_to_json:
 * @report: a report
 *
 * The report as a JSON object, with the members of
 * bounce_report_append_json().
 *
 * Returns: (transfer full): a JSON object node
 */
JsonNode *
bounce_report_to_json (BounceReport *report)
{
  g_autoptr (GString) text = g_string_new ("{");

  bounce_report_append_json (report, text);
  g_string_append_c (text, '}');
  return json_from_string (text->str, NULL);
}

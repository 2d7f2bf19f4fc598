/* json.c — a BounceReport and its judgement as JSON text, with the field
 * names of the product's contract (DESIGN: source, kind, format,
 * reporting_mta, recipients, original, verdict, score, evidence, error).
 * Names are only ever added, never renamed.
 *
 * BounceJsonWriter writes the text straight into a buffer, keeping track
 * of where commas go: `scan --json` writes a line per bounce, and building
 * a tree of nodes first cost ten times as much as the writing. */
#include "bounce-private.h"

#include <math.h>
#include <string.h>

/* Deeper than any object this library writes (a report is four deep);
 * a caller's own objects get the rest. */
#define JSON_MAX_DEPTH 32

struct _BounceJsonWriter
{
  GString *text;
  guint depth;
  /* For each open object or array: whether it holds a value yet (the next
   * one needs a comma), and whether it is an object. */
  gboolean filled[JSON_MAX_DEPTH];
  gboolean object[JSON_MAX_DEPTH];
  /* A member's name was written; its value comes next, without a comma. */
  gboolean after_key;
};

/**
 * bounce_json_writer_new:
 *
 * A writer of one JSON text (an object or array, or a single value), empty.
 *
 * Returns: (transfer full): a new writer; free with bounce_json_writer_free()
 */
BounceJsonWriter *
bounce_json_writer_new (void)
{
  BounceJsonWriter *w = g_new0 (BounceJsonWriter, 1);

  w->text = g_string_sized_new (2048);
  return w;
}

void
bounce_json_writer_free (BounceJsonWriter *w)
{
  if (w == NULL)
    return;
  g_string_free (w->text, TRUE);
  g_free (w);
}

/**
 * bounce_json_writer_reset:
 * @w: a writer
 *
 * Forgets the text written so far, to write another with the same buffer.
 */
void
bounce_json_writer_reset (BounceJsonWriter *w)
{
  g_string_truncate (w->text, 0);
  w->depth = 0;
  w->after_key = FALSE;
}

/**
 * bounce_json_writer_get_text:
 * @w: a writer
 * @length: (out) (optional): where to store the length of the text
 *
 * Returns: (transfer none): the text written so far, valid until the
 * writer is written to, reset or freed
 */
const char *
bounce_json_writer_get_text (BounceJsonWriter *w, gsize *length)
{
  if (length)
    *length = w->text->len;
  return w->text->str;
}

/**
 * bounce_json_writer_steal_text:
 * @w: a writer
 *
 * Frees the writer and hands over its text.
 *
 * Returns: (transfer full): the text written
 */
char *
bounce_json_writer_steal_text (BounceJsonWriter *w)
{
  char *text = g_string_free (w->text, FALSE);

  g_free (w);
  return text;
}

/* Before a value: the comma that separates it from the one before.
 * FALSE (and a critical warning) where no value may go: in an object, a
 * value without a name. */
static gboolean
value_begins (BounceJsonWriter *w)
{
  if (w->after_key)
    {
      w->after_key = FALSE;
      return TRUE;
    }
  g_return_val_if_fail (w->depth == 0 || !w->object[w->depth - 1], FALSE);
  if (w->depth > 0)
    {
      if (w->filled[w->depth - 1])
        g_string_append_c (w->text, ',');
      w->filled[w->depth - 1] = TRUE;
    }
  return TRUE;
}

static void
open_container (BounceJsonWriter *w, char brace, gboolean object)
{
  g_return_if_fail (w->depth < JSON_MAX_DEPTH);
  if (!value_begins (w))
    return;
  g_string_append_c (w->text, brace);
  w->filled[w->depth] = FALSE;
  w->object[w->depth] = object;
  w->depth++;
}

static void
close_container (BounceJsonWriter *w, char brace, gboolean object)
{
  g_return_if_fail (w->depth > 0 && w->object[w->depth - 1] == object && !w->after_key);
  w->depth--;
  g_string_append_c (w->text, brace);
}

void
bounce_json_writer_begin_object (BounceJsonWriter *w)
{
  open_container (w, '{', TRUE);
}

void
bounce_json_writer_end_object (BounceJsonWriter *w)
{
  close_container (w, '}', TRUE);
}

void
bounce_json_writer_begin_array (BounceJsonWriter *w)
{
  open_container (w, '[', FALSE);
}

void
bounce_json_writer_end_array (BounceJsonWriter *w)
{
  close_container (w, ']', FALSE);
}

/* @s as a JSON string; bytes that are not UTF-8 become U+FFFD, so that the
 * text is always valid JSON. */
static void
append_string (GString *out, const char *s)
{
  g_autofree char *valid = NULL;
  const char *run;

  if (!bounce_utf8_valid (s, strlen (s)))
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
        case '"':
          g_string_append (out, "\\\"");
          break;
        case '\\':
          g_string_append (out, "\\\\");
          break;
        case '\n':
          g_string_append (out, "\\n");
          break;
        case '\r':
          g_string_append (out, "\\r");
          break;
        case '\t':
          g_string_append (out, "\\t");
          break;
        case '\b':
          g_string_append (out, "\\b");
          break;
        case '\f':
          g_string_append (out, "\\f");
          break;
        default:
          g_string_append_printf (out, "\\u%04x", c);
          break;
        }
    }
  g_string_append_len (out, run, s - run);
  g_string_append_c (out, '"');
}

/**
 * bounce_json_writer_key:
 * @w: a writer, inside an object
 * @name: the member's name
 *
 * Writes the name of the object's next member; its value comes next.
 */
void
bounce_json_writer_key (BounceJsonWriter *w, const char *name)
{
  const char *p;

  g_return_if_fail (w->depth > 0 && w->object[w->depth - 1] && !w->after_key);
  if (w->filled[w->depth - 1])
    g_string_append_c (w->text, ',');
  w->filled[w->depth - 1] = TRUE;
  /* Names are nearly always plain words: written as they are. */
  for (p = name; *p; p++)
    if ((guchar) *p < 0x20 || (guchar) *p >= 0x80 || *p == '"' || *p == '\\')
      break;
  if (*p)
    append_string (w->text, name);
  else
    {
      g_string_append_c (w->text, '"');
      g_string_append_len (w->text, name, p - name);
      g_string_append_c (w->text, '"');
    }
  g_string_append_c (w->text, ':');
  w->after_key = TRUE;
}

/**
 * bounce_json_writer_string:
 * @w: a writer
 * @s: (nullable): a string
 *
 * Writes @s as a JSON string, or null for NULL. Bytes that are not UTF-8
 * become U+FFFD, so that the text is always valid JSON.
 */
void
bounce_json_writer_string (BounceJsonWriter *w, const char *s)
{
  if (!value_begins (w))
    return;
  if (s == NULL)
    g_string_append (w->text, "null");
  else
    append_string (w->text, s);
}

void
bounce_json_writer_null (BounceJsonWriter *w)
{
  if (!value_begins (w))
    return;
  g_string_append (w->text, "null");
}

void
bounce_json_writer_boolean (BounceJsonWriter *w, gboolean value)
{
  if (!value_begins (w))
    return;
  g_string_append (w->text, value ? "true" : "false");
}

/* A whole number, as written. */
void
bounce_json_writer_int (BounceJsonWriter *w, gint64 value)
{
  if (!value_begins (w))
    return;
  g_string_append_printf (w->text, "%" G_GINT64_FORMAT, value);
}

/**
 * bounce_json_writer_double:
 * @w: a writer
 * @value: a number
 *
 * Writes @value with enough digits to be read back the same, and always
 * with a point (1.0, not 1); null when it is no finite number.
 */
void
bounce_json_writer_double (BounceJsonWriter *w, double value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (!value_begins (w))
    return;
  if (!isfinite (value))
    {
      g_string_append (w->text, "null");
      return;
    }
  g_ascii_dtostr (buf, sizeof buf, value);
  g_string_append (w->text, buf);
  if (strpbrk (buf, ".eE") == NULL)
    g_string_append (w->text, ".0");
}

static void
member_str (BounceJsonWriter *w, const char *name, const char *value)
{
  bounce_json_writer_key (w, name);
  bounce_json_writer_string (w, value);
}

/* A date as the message wrote it (@name) and, beside it (@name_iso), in
 * ISO 8601 with its own offset, or null when it is no RFC 5322 date. */
static void
member_date (BounceJsonWriter *w, const char *name, const char *value)
{
  g_autofree char *iso = bounce_date_to_iso (value);
  char iso_name[64];
  gsize n = strlen (name);

  g_assert (n + sizeof "_iso" <= sizeof iso_name);
  memcpy (iso_name, name, n);
  memcpy (iso_name + n, "_iso", sizeof "_iso");
  member_str (w, name, value);
  member_str (w, iso_name, iso);
}

static void
member_bool (BounceJsonWriter *w, const char *name, gboolean value)
{
  bounce_json_writer_key (w, name);
  bounce_json_writer_boolean (w, value);
}

static void
recipient_json (BounceJsonWriter *w, BounceRecipient *x)
{
  bounce_json_writer_begin_object (w);
  member_str (w, "address", x->address);
  member_str (w, "original_recipient", x->original_recipient);
  member_str (w, "action", x->action);
  member_str (w, "status", x->status);
  member_str (w, "reply_code", x->reply_code);
  member_str (w, "diagnostic", x->diagnostic);
  member_str (w, "remote_mta", x->remote_mta);
  member_str (w, "reason", x->reason);
  member_str (w, "command", x->command);
  bounce_json_writer_key (w, "permanent");
  if (x->permanent < 0)
    bounce_json_writer_null (w);
  else
    bounce_json_writer_boolean (w, x->permanent == 1);
  member_date (w, "last_attempt", x->last_attempt);
  member_date (w, "will_retry_until", x->will_retry_until);
  bounce_json_writer_end_object (w);
}

static void
original_json (BounceJsonWriter *w, BounceOriginal *orig)
{
  const char *ua = bounce_original_get_header (orig, "User-Agent");

  bounce_json_writer_begin_object (w);
  member_str (w, "message_id", orig->message_id);
  member_str (w, "from", orig->from);
  member_str (w, "sender", bounce_original_get_header (orig, "Sender"));
  member_str (w, "return_path", bounce_original_get_header (orig, "Return-Path"));
  member_str (w, "to", bounce_original_get_header (orig, "To"));
  member_str (w, "cc", bounce_original_get_header (orig, "Cc"));
  member_str (w, "subject", bounce_original_get_header (orig, "Subject"));
  member_date (w, "date", bounce_original_get_header (orig, "Date"));
  bounce_json_writer_key (w, "received");
  bounce_json_writer_begin_array (w);
  for (guint i = 0; i < orig->received->len; i++)
    {
      const BounceReceived *r = &g_array_index (orig->received, BounceReceived, i);

      bounce_json_writer_begin_object (w);
      member_str (w, "from_host", r->from_host);
      member_str (w, "from_ip", r->from_ip);
      member_str (w, "by_host", r->by_host);
      member_date (w, "date", r->date);
      bounce_json_writer_end_object (w);
    }
  bounce_json_writer_end_array (w);
  bounce_json_writer_key (w, "dkim");
  bounce_json_writer_begin_array (w);
  for (guint i = 0; i < orig->dkim->len; i++)
    {
      const BounceDkim *d = &g_array_index (orig->dkim, BounceDkim, i);

      bounce_json_writer_begin_object (w);
      member_str (w, "domain", d->domain);
      member_str (w, "selector", d->selector);
      bounce_json_writer_end_object (w);
    }
  bounce_json_writer_end_array (w);
  member_str (w, "user_agent", ua ? ua : bounce_original_get_header (orig, "X-Mailer"));
  bounce_json_writer_key (w, "attachments");
  bounce_json_writer_begin_array (w);
  for (guint i = 0; i < orig->attachments->len; i++)
    {
      const BounceAttachment *a = &g_array_index (orig->attachments, BounceAttachment, i);

      bounce_json_writer_begin_object (w);
      member_str (w, "name", a->name);
      member_str (w, "type", a->content_type);
      member_bool (w, "risky", a->risky);
      bounce_json_writer_end_object (w);
    }
  bounce_json_writer_end_array (w);
  member_str (w, "carried_as", orig->carried_as);
  bounce_json_writer_end_object (w);
}

static void
member_strv (BounceJsonWriter *w, const char *name, const char *const *list)
{
  bounce_json_writer_key (w, name);
  bounce_json_writer_begin_array (w);
  for (guint i = 0; list[i]; i++)
    bounce_json_writer_string (w, list[i]);
  bounce_json_writer_end_array (w);
}

/**
 * bounce_report_write_json:
 * @report: a report
 * @w: a writer inside an open object
 *
 * Writes the report's members into that object: kind, format,
 * reporting_mta, received_from_mta, arrival_date, envelope_id,
 * recipients, original, for a report what made it one (recognised_by)
 * and, when a limit was exceeded, warnings.
 */
void
bounce_report_write_json (BounceReport *report, BounceJsonWriter *w)
{
  BounceOriginal *orig = bounce_report_get_original (report);
  const char *const *warnings = bounce_report_get_warnings (report);
  const char *const *signals = bounce_report_get_signals (report);

  member_str (w, "kind", bounce_kind_to_string (bounce_report_get_kind (report)));
  member_str (w, "format", bounce_report_get_format (report));
  member_str (w, "reporting_mta", bounce_report_get_reporting_mta (report));
  member_str (w, "received_from_mta", bounce_report_get_received_from_mta (report));
  member_date (w, "arrival_date", bounce_report_get_arrival_date (report));
  member_str (w, "envelope_id", bounce_report_get_envelope_id (report));
  bounce_json_writer_key (w, "recipients");
  bounce_json_writer_begin_array (w);
  for (guint i = 0; i < bounce_report_get_n_recipients (report); i++)
    recipient_json (w, bounce_report_get_recipient (report, i));
  bounce_json_writer_end_array (w);
  bounce_json_writer_key (w, "original");
  if (orig)
    original_json (w, orig);
  else
    bounce_json_writer_null (w);
  if (signals[0])
    member_strv (w, "recognised_by", signals);
  if (warnings[0])
    member_strv (w, "warnings", warnings);
}

/**
 * bounce_judgement_write_json:
 * @judgement: a judgement
 * @w: a writer inside an open object
 *
 * Writes the members verdict, score and evidence into that object.
 */
void
bounce_judgement_write_json (BounceJudgement *jm, BounceJsonWriter *w)
{
  member_str (w, "verdict", bounce_verdict_to_string (bounce_judgement_get_verdict (jm)));
  bounce_json_writer_key (w, "score");
  bounce_json_writer_double (w, bounce_judgement_get_score (jm));
  bounce_json_writer_key (w, "evidence");
  bounce_json_writer_begin_array (w);
  for (guint i = 0; i < bounce_judgement_get_n_evidence (jm); i++)
    {
      const BounceEvidence *e = bounce_judgement_get_evidence (jm, i);

      bounce_json_writer_begin_object (w);
      member_str (w, "rule", e->rule);
      bounce_json_writer_key (w, "weight");
      bounce_json_writer_double (w, e->weight);
      member_str (w, "detail", e->detail);
      bounce_json_writer_end_object (w);
    }
  bounce_json_writer_end_array (w);
}

/**
 * bounce_report_to_json:
 * @report: a report
 *
 * The report as the text of a JSON object, with the members of
 * bounce_report_write_json().
 *
 * Returns: (transfer full): the text, on one line
 */
char *
bounce_report_to_json (BounceReport *report)
{
  BounceJsonWriter *w = bounce_json_writer_new ();

  bounce_json_writer_begin_object (w);
  bounce_report_write_json (report, w);
  bounce_json_writer_end_object (w);
  return bounce_json_writer_steal_text (w);
}

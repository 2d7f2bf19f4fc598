/* json.c — a BounceReport as JSON, with the field names of the product's
 * contract (DESIGN: source, kind, format, reporting_mta, recipients,
 * original, verdict, score, evidence, error). Names are only ever added,
 * never renamed. */
#include "bounce-private.h"

static void
member_str (JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name (b, name);
  if (value)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

static void
recipient_json (JsonBuilder *b, BounceRecipient *x)
{
  json_builder_begin_object (b);
  member_str (b, "address", x->address);
  member_str (b, "original_recipient", x->original_recipient);
  member_str (b, "action", x->action);
  member_str (b, "status", x->status);
  member_str (b, "reply_code", x->reply_code);
  member_str (b, "diagnostic", x->diagnostic);
  member_str (b, "remote_mta", x->remote_mta);
  member_str (b, "reason", x->reason);
  member_str (b, "command", x->command);
  json_builder_set_member_name (b, "permanent");
  if (x->permanent < 0)
    json_builder_add_null_value (b);
  else
    json_builder_add_boolean_value (b, x->permanent == 1);
  member_str (b, "last_attempt", x->last_attempt);
  member_str (b, "will_retry_until", x->will_retry_until);
  json_builder_end_object (b);
}

static void
original_json (JsonBuilder *b, BounceOriginal *o)
{
  json_builder_begin_object (b);
  member_str (b, "message_id", o->message_id);
  member_str (b, "from", o->from);
  member_str (b, "sender", bounce_original_get_header (o, "Sender"));
  member_str (b, "return_path", bounce_original_get_header (o, "Return-Path"));
  member_str (b, "to", bounce_original_get_header (o, "To"));
  member_str (b, "cc", bounce_original_get_header (o, "Cc"));
  member_str (b, "subject", bounce_original_get_header (o, "Subject"));
  member_str (b, "date", bounce_original_get_header (o, "Date"));
  json_builder_set_member_name (b, "received");
  json_builder_begin_array (b);
  for (guint i = 0; i < o->received->len; i++)
    {
      const BounceReceived *r = &g_array_index (o->received, BounceReceived, i);

      json_builder_begin_object (b);
      member_str (b, "from_host", r->from_host);
      member_str (b, "from_ip", r->from_ip);
      member_str (b, "by_host", r->by_host);
      member_str (b, "date", r->date);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "dkim");
  json_builder_begin_array (b);
  for (guint i = 0; i < o->dkim->len; i++)
    {
      const BounceDkim *d = &g_array_index (o->dkim, BounceDkim, i);

      json_builder_begin_object (b);
      member_str (b, "domain", d->domain);
      member_str (b, "selector", d->selector);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  {
    const char *ua = bounce_original_get_header (o, "User-Agent");

    member_str (b, "user_agent", ua ? ua : bounce_original_get_header (o, "X-Mailer"));
  }
  json_builder_set_member_name (b, "attachments");
  json_builder_begin_array (b);
  for (guint i = 0; i < o->attachments->len; i++)
    {
      const BounceAttachment *a = &g_array_index (o->attachments, BounceAttachment, i);

      json_builder_begin_object (b);
      member_str (b, "name", a->name);
      member_str (b, "type", a->content_type);
      json_builder_set_member_name (b, "risky");
      json_builder_add_boolean_value (b, a->risky);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  member_str (b, "carried_as", o->carried_as);
  json_builder_end_object (b);
}

/**
 * bounce_report_add_json:
 * @report: a report
 * @builder: a JsonBuilder inside an object
 *
 * Adds the report's members: kind, format, reporting_mta,
 * received_from_mta, arrival_date, envelope_id, recipients, original and,
 * when a limit was exceeded, warnings.
 */
void
bounce_report_add_json (BounceReport *report, JsonBuilder *b)
{
  BounceOriginal *o = bounce_report_get_original (report);
  const char *const *warnings = bounce_report_get_warnings (report);

  member_str (b, "kind", bounce_kind_to_string (bounce_report_get_kind (report)));
  member_str (b, "format", bounce_report_get_format (report));
  member_str (b, "reporting_mta", bounce_report_get_reporting_mta (report));
  member_str (b, "received_from_mta", bounce_report_get_received_from_mta (report));
  member_str (b, "arrival_date", bounce_report_get_arrival_date (report));
  member_str (b, "envelope_id", bounce_report_get_envelope_id (report));
  json_builder_set_member_name (b, "recipients");
  json_builder_begin_array (b);
  for (guint i = 0; i < bounce_report_get_n_recipients (report); i++)
    recipient_json (b, bounce_report_get_recipient (report, i));
  json_builder_end_array (b);
  json_builder_set_member_name (b, "original");
  if (o)
    original_json (b, o);
  else
    json_builder_add_null_value (b);
  if (warnings[0])
    {
      json_builder_set_member_name (b, "warnings");
      json_builder_begin_array (b);
      for (guint i = 0; warnings[i]; i++)
        json_builder_add_string_value (b, warnings[i]);
      json_builder_end_array (b);
    }
}

/**
 * bounce_report_to_json:
 * @report: a report
 *
 * The report as a JSON object, with the members of
 * bounce_report_add_json().
 *
 * Returns: (transfer full): a JSON object node
 */
JsonNode *
bounce_report_to_json (BounceReport *report)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  bounce_report_add_json (report, b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

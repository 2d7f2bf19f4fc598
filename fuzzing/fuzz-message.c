/* fuzz-message.c — a whole message through the library, as `backscatter
 * check --json` takes it: bounce_report_new_from_data() with the project's
 * rules (loaded once from the source tree), once with the triage and once
 * without it (BOUNCE_PARSE_NO_TRIAGE: every input is fully parsed), then
 * the report as JSON, a judgement with an empty identity and no sent-mail
 * index, and the X-Backscatter headers of filter mode.
 *
 * Besides crashes, it checks what the library promises: an error only in
 * BOUNCE_ERROR, every string it hands out valid UTF-8, the JSON it writes
 * JSON, and no report left unparsed by the second look at plain messages.
 */
#include "config.h"
#include "fuzz.h"

#include <backscatter.h>
#include "bounce-private.h"

#include <json-glib/json-glib.h>
#include <string.h>

static BounceRules *rules;
static BounceJudge *judge;

static void
init (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BounceIdentity) identity = NULL;

  if (rules != NULL)
    return;
  fuzz_init_logging ();
  rules = bounce_rules_new ();
  if (!bounce_rules_load_dir (rules, BOUNCE_SOURCE_RULES_DIR, FALSE, &error))
    g_error ("loading the rules: %s", error->message);
  identity = bounce_identity_new ();
  judge = bounce_judge_new (identity, NULL, rules);
}

/* The JSON text the library writes: UTF-8, and JSON. */
static void
check_json_text (const char *text)
{
  g_autoptr (JsonNode) node = NULL;
  g_autoptr (GError) error = NULL;

  fuzz_assert_utf8 ("the JSON", text);
  node = json_from_string (text, &error);
  if (node == NULL)
    g_error ("the library wrote invalid JSON (%s): %s", error->message, text);
}

static void
check_report (BounceReport *report)
{
  BounceOriginal *o = bounce_report_get_original (report);

  g_assert (bounce_kind_to_string (bounce_report_get_kind (report)) != NULL);
  fuzz_assert_utf8 ("bounce-to", bounce_report_get_bounce_to (report));
  for (guint i = 0; i < bounce_report_get_n_recipients (report); i++)
    {
      BounceRecipient *r = bounce_report_get_recipient (report, i);

      fuzz_assert_utf8 ("an address", bounce_recipient_get_address (r));
      fuzz_assert_utf8 ("a diagnostic", bounce_recipient_get_diagnostic (r));
    }
  if (o)
    {
      fuzz_assert_utf8 ("the original's Message-ID", bounce_original_get_message_id (o));
      for (guint i = 0; i < bounce_original_get_n_received (o); i++)
        fuzz_assert_utf8 ("a Received host", bounce_original_get_received (o, i)->from_host);
      for (guint i = 0; i < bounce_original_get_n_dkim (o); i++)
        fuzz_assert_utf8 ("a DKIM domain", bounce_original_get_dkim (o, i)->domain);
      for (guint i = 0; i < bounce_original_get_n_attachments (o); i++)
        fuzz_assert_utf8 ("an attachment name", bounce_original_get_attachment (o, i)->name);
    }
  for (const char *const *w = bounce_report_get_warnings (report); *w; w++)
    fuzz_assert_utf8 ("a warning", *w);
}

static void
one (const uint8_t *data, size_t size, BounceParseFlags flags)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BounceReport) report = NULL;
  g_autoptr (BounceJudgement) judgement = NULL;
  g_autoptr (BounceJsonWriter) w = bounce_json_writer_new ();
  g_autofree char *headers = NULL;

  report = bounce_report_new_from_data ((const char *) data, size, rules, flags, &error);
  if (report == NULL)
    {
      g_assert (error != NULL && error->domain == BOUNCE_ERROR);
      fuzz_assert_utf8 ("the error message", error->message);
      return;
    }
  g_assert (error == NULL);
  check_report (report);
  bounce_json_writer_begin_object (w);
  bounce_report_write_json (report, w);
  bounce_json_writer_end_object (w);
  check_json_text (bounce_json_writer_get_text (w, NULL));
  judgement = bounce_judge_report (judge, report);
  bounce_json_writer_reset (w);
  bounce_json_writer_begin_object (w);
  bounce_judgement_write_json (judgement, w);
  bounce_json_writer_end_object (w);
  check_json_text (bounce_json_writer_get_text (w, NULL));
  headers = bounce_judgement_to_headers (judgement, report, "\n");
  fuzz_assert_utf8 ("the X-Backscatter headers", headers);
}

/* The second look at plain messages (bounce_second_look) never leaves
 * unparsed a message in which the full parse finds a report. */
static void
check_second_look (const uint8_t *data, size_t size)
{
  const char *d = (const char *) data;
  gsize len = size, hend = 0, probe, skip;
  g_autoptr (BounceReport) full = NULL;

  skip = bounce_mbox_from_end (d, len, '\n');
  if (skip > 0 && d[skip - 1] != '\n')
    return;
  len -= skip;
  d += skip;
  probe = MIN (len, (gsize) BOUNCE_MAX_HEADER_BYTES + 2);
  if (bounce_triage (d, probe, &hend) != BOUNCE_TRIAGE_SUBJECT || hend > BOUNCE_MAX_HEADER_BYTES
      || (hend == probe && len > probe)
      || !bounce_second_look (d, MIN (len, (gsize) BOUNCE_MAX_MESSAGE_BYTES), hend, rules))
    return;
  full = bounce_report_new_from_data ((const char *) data, size, rules, BOUNCE_PARSE_NO_TRIAGE, NULL);
  if (full && bounce_report_get_kind (full) != BOUNCE_KIND_NOT_BOUNCE)
    g_error ("the second look leaves a %s unparsed", bounce_kind_to_string (bounce_report_get_kind (full)));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  init ();
  one (data, size, BOUNCE_PARSE_NO_TRIAGE);
  one (data, size, BOUNCE_PARSE_DEFAULT);
  check_second_look (data, size);
  return 0;
}

/* fuzz-message.c — a whole message through the library, as `backscatter
 * check --json` takes it: bounce_report_new_from_data() with the project's
 * rules (loaded once from the source tree), once with the triage and once
 * without it (BOUNCE_PARSE_NO_TRIAGE: every input is fully parsed), then
 * the report as JSON, a judgement with an empty identity and no sent-mail
 * index, and the X-Backscatter headers of filter mode.
 *
 * Besides crashes, it checks what the library promises: an error only in
 * BOUNCE_ERROR, and every string it hands out valid UTF-8.
 */
#include "config.h"
#include "fuzz.h"

#include <backscatter.h>

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

static void
check_json (JsonNode *node)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autofree char *text = NULL;

  json_generator_set_root (gen, node);
  text = json_generator_to_data (gen, NULL);
  fuzz_assert_utf8 ("the JSON", text);
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
  g_autoptr (JsonNode) node = NULL;
  g_autoptr (BounceJudgement) judgement = NULL;
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) verdict = NULL;
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
  node = bounce_report_to_json (report);
  check_json (node);
  judgement = bounce_judge_report (judge, report);
  json_builder_begin_object (builder);
  bounce_judgement_add_json (judgement, builder);
  json_builder_end_object (builder);
  verdict = json_builder_get_root (builder);
  check_json (verdict);
  headers = bounce_judgement_to_headers (judgement, report, "\n");
  fuzz_assert_utf8 ("the X-Backscatter headers", headers);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  init ();
  one (data, size, BOUNCE_PARSE_NO_TRIAGE);
  one (data, size, BOUNCE_PARSE_DEFAULT);
  return 0;
}

/* fuzz-message.c — a whole message through the library, as `backscatter
 * check --json` takes it: bounce_report_new_from_data() with the project's
 * rules (loaded once from the source tree), once with the triage and once
 * without it (BOUNCE_PARSE_NO_TRIAGE: every input is fully parsed), then
 * the report as JSON, a judgement with an empty identity and no sent-mail
 * index, and the X-Backscatter headers of filter mode.
 *
 * Besides crashes, it checks what the library promises: an error only in
 * BOUNCE_ERROR, every string it hands out valid UTF-8, the JSON it writes
 * JSON, no report left unparsed by the second look, the second look's
 * text, From and Subject, when it reads a text, those the parse reads,
 * and a start that settles a message settling it as the whole does.
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

/* The second look (bounce_second_look) never leaves unparsed a message
 * in which the full parse finds a report. */
static void
check_second_look (const uint8_t *data, size_t size)
{
  const char *d = (const char *) data;
  gsize len = size, hend = 0, probe, skip;
  g_autoptr (BounceReport) full = NULL;
  BounceTriage triage;

  skip = bounce_mbox_from_end (d, len, '\n');
  if (skip > 0 && d[skip - 1] != '\n')
    return;
  len -= skip;
  d += skip;
  probe = MIN (len, (gsize) BOUNCE_MAX_HEADER_BYTES + 2);
  triage = bounce_triage (d, probe, &hend);
  if ((triage != BOUNCE_TRIAGE_SUBJECT && triage != BOUNCE_TRIAGE_ROLE) || hend > BOUNCE_MAX_HEADER_BYTES
      || (hend == probe && len > probe)
      || !bounce_second_look (d, MIN (len, (gsize) BOUNCE_MAX_MESSAGE_BYTES), hend, rules))
    return;
  full = bounce_report_new_from_data ((const char *) data, size, rules, BOUNCE_PARSE_NO_TRIAGE, NULL);
  if (full && bounce_report_get_kind (full) != BOUNCE_KIND_NOT_BOUNCE)
    g_error ("the second look leaves a %s unparsed", bounce_kind_to_string (bounce_report_get_kind (full)));
}

/* The text the second look reads, when it reads one, is the parse's. */
static void
check_second_look_text (const uint8_t *data, size_t size)
{
  gsize len = size, start, hend, seen_len = 0, parsed_len = 0;
  g_autofree char *lf = bounce_bare_cr_to_lf ((const char *) data, &len);
  const char *d = lf ? lf : (const char *) data;
  g_autofree char *seen = NULL, *parsed = NULL;
  g_autoptr (GMimeObject) msg = NULL;
  gboolean later = FALSE, original = FALSE;
  BounceWalk w = { 0 };

  start = bounce_message_start (d, len);
  d += start;
  len = MIN (len - start, (gsize) BOUNCE_MAX_MESSAGE_BYTES);
  hend = bounce_header_block_end (d, MIN (len, (gsize) BOUNCE_MAX_HEADER_BYTES + 2));
  if (hend == 0 || hend > BOUNCE_MAX_HEADER_BYTES
      || (seen = bounce_second_look_text (d, len, hend, &seen_len, &later, &original)) == NULL)
    return;
  msg = bounce_parse_part_bytes (d, len);
  if (msg == NULL)
    g_error ("the second look reads a text, the parse no message");
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *look = bounce_second_look_header (d, hend, i ? "Subject" : "From");
      g_autofree char *raw = bounce_header_text (msg, i ? "Subject" : "From");
      g_autofree char *read = raw ? bounce_utf8 (raw, -1) : NULL;

      if (g_strcmp0 (look, read) != 0)
        g_error ("the second look reads another %s than the rules", i ? "Subject" : "From");
    }
  w.report_message = msg;
  bounce_walk (&w, msg);
  parsed = bounce_report_text (&w, &parsed_len);
  if (w.report_message != msg || w.status_part || w.mdn_part || w.feedback_part || w.prologue || w.limited)
    g_error ("the second look reads a text where the parse reads a report part");
  if (seen_len != parsed_len || memcmp (seen, parsed, seen_len) != 0)
    g_error ("the second look reads another text (%" G_GSIZE_FORMAT " bytes) than the parse (%" G_GSIZE_FORMAT
             " bytes)",
             seen_len, parsed_len);
}

/* A start of the message, when it settles the message
 * (bounce_report_new_from_start), reads as the whole does. */
static void
check_start (const uint8_t *data, size_t size)
{
  const gsize cuts[] = { 4096, size / 2, size - 1 };
  g_autoptr (BounceReport) whole = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (cuts); i++)
    {
      g_autoptr (BounceReport) part = NULL;

      if (cuts[i] == 0 || cuts[i] >= size
          || (part = bounce_report_new_from_start ((const char *) data, cuts[i])) == NULL)
        continue;
      if (whole == NULL)
        whole = bounce_report_new_from_data ((const char *) data, size, rules, BOUNCE_PARSE_DEFAULT, NULL);
      if (whole == NULL || bounce_report_get_kind (whole) != BOUNCE_KIND_NOT_BOUNCE
          || g_strcmp0 (bounce_report_get_not_report_reason (whole), bounce_report_get_not_report_reason (part)) != 0)
        g_error ("its first %" G_GSIZE_FORMAT " bytes settle it as no report, the whole reads otherwise", cuts[i]);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  init ();
  one (data, size, BOUNCE_PARSE_NO_TRIAGE);
  one (data, size, BOUNCE_PARSE_DEFAULT);
  check_second_look (data, size);
  check_second_look_text (data, size);
  check_start (data, size);
  return 0;
}

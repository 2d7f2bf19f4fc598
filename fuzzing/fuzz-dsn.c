/* fuzz-dsn.c — the body of a message/delivery-status part through the
 * field parser, bounce_dsn_parse() (internal: linked from the static
 * library). Checks its promises besides crashes: at most
 * BOUNCE_MAX_RECIPIENTS recipients, each with an address, every value
 * valid UTF-8 and at most a little over BOUNCE_MAX_FIELD_BYTES long.
 */
#include "fuzz.h"

#include "bounce-private.h"

#include <string.h>

static void
check_value (const char *what, const char *s)
{
  fuzz_assert_utf8 (what, s);
  if (s && strlen (s) > 4 * BOUNCE_MAX_FIELD_BYTES)
    g_error ("%s is %zu bytes long", what, strlen (s));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (BounceDsn) dsn = NULL;

  fuzz_init_logging ();
  dsn = bounce_dsn_parse ((const char *) data, size);
  g_assert (dsn != NULL && dsn->recipients != NULL);
  g_assert (dsn->recipients->len <= BOUNCE_MAX_RECIPIENTS);
  check_value ("Reporting-MTA", dsn->reporting_mta);
  check_value ("Received-From-MTA", dsn->received_from_mta);
  check_value ("Arrival-Date", dsn->arrival_date);
  check_value ("Original-Envelope-Id", dsn->envelope_id);
  for (guint i = 0; i < dsn->recipients->len; i++)
    {
      BounceRecipient *r = g_ptr_array_index (dsn->recipients, i);

      g_assert (r->address != NULL);
      check_value ("Final-Recipient", r->address);
      check_value ("Original-Recipient", r->original_recipient);
      check_value ("Action", r->action);
      check_value ("Status", r->status);
      check_value ("reply code", r->reply_code);
      check_value ("Diagnostic-Code", r->diagnostic);
      check_value ("Remote-MTA", r->remote_mta);
      check_value ("Last-Attempt-Date", r->last_attempt);
      check_value ("Will-Retry-Until", r->will_retry_until);
    }
  return 0;
}

/* fuzz-rules.c — a rule file through bounce_rules_load_data(), as the
 * installed rules and a user's rules.d/ are read. A faulty file must fail
 * with BOUNCE_ERROR_RULES and a "NAME:LINE: what is wrong" message; a good
 * one must leave a usable rule set. The text goes in both as a counted
 * buffer (as read from disk) and, up to its first NUL, as a C string.
 */
#include "fuzz.h"

#include <backscatter.h>
#include <string.h>

static void
load (const char *data, gssize length, gboolean user)
{
  g_autoptr (BounceRules) rules = bounce_rules_new ();
  g_autoptr (GError) error = NULL;

  if (!bounce_rules_load_data (rules, "fuzz.rules", data, length, user, &error))
    {
      g_assert (error != NULL);
      g_assert (error->domain == BOUNCE_ERROR && error->code == BOUNCE_ERROR_RULES);
      g_assert (g_str_has_prefix (error->message, "fuzz.rules:"));
      return;
    }
  g_assert (error == NULL);
  (void) bounce_rules_get_n_formats (rules);
  (void) bounce_rules_get_weight (rules, "threshold-backscatter", 6);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *text = g_strndup ((const char *) data, size);

  fuzz_init_logging ();
  load ((const char *) data, size, FALSE);
  if (strlen (text) < size)
    load (text, -1, TRUE);
  return 0;
}

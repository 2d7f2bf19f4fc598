/* fuzz-rules.c — a rule file through bounce_rules_load_data(), as the
 * installed rules and a user's rules.d/ are read. A faulty file must fail
 * with BOUNCE_ERROR_RULES and a "NAME:LINE: what is wrong" message; a good
 * one must leave a usable rule set, which then reads two bounces (one
 * whose text is the rule file itself) so that the fuzzed patterns run
 * through the prefilter, their first-use compilation and the extraction.
 * The text goes in both as a counted buffer (as read from disk) and, up
 * to its first NUL, as a C string, which is also read as one pattern.
 */
#include "fuzz.h"

#include "bounce-private.h"
#include <string.h>

static const char bounce[] = "From: MAILER-DAEMON@example.org\n"
                             "Subject: Undelivered Mail Returned to Sender\n"
                             "Content-Type: text/plain\n\n"
                             "This is the mail system at host mx.example.org.\n\n"
                             "<user@example.com>: host mx.example.com[192.0.2.1] said: 550 5.1.1\n"
                             "    <user@example.com>: Recipient address rejected: User unknown\n";

static void
use (BounceRules *rules, const char *data, gssize length)
{
  g_autoptr (GString) text = g_string_new ("From: Mail Delivery System <MAILER-DAEMON@example.org>\n"
                                           "Subject: Delivery failure\n\n");
  g_autoptr (BounceReport) a = NULL, b = NULL;

  a = bounce_report_new_from_data (bounce, strlen (bounce), rules, BOUNCE_PARSE_DEFAULT, NULL);
  g_string_append_len (text, data, length < 0 ? (gssize) strlen (data) : length);
  b = bounce_report_new_from_data (text->str, text->len, rules, BOUNCE_PARSE_DEFAULT, NULL);
  (void) bounce_rules_reason (rules, text->str, "5.1.1");
}

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
  use (rules, data, length);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *text = g_strndup ((const char *) data, size);
  g_autoptr (GPtrArray) words = NULL;
  g_autoptr (GPtrArray) sets = NULL;

  fuzz_init_logging ();
  load ((const char *) data, size, FALSE);
  if (strlen (text) < size)
    load (text, -1, TRUE);
  words = bounce_pattern_words (text);
  sets = bounce_pattern_word_sets (text);
  /* The best set is the one bounce_pattern_words() finds. */
  if (sets && words)
    {
      GPtrArray *best = g_ptr_array_index (sets, 0);

      g_assert_cmpuint (best->len, ==, words->len);
      for (guint i = 0; i < words->len; i++)
        g_assert_cmpstr (g_ptr_array_index (best, i), ==, g_ptr_array_index (words, i));
    }
  g_assert (sets == NULL || words != NULL);
  return 0;
}

/* test-rules.c — the rule loader refuses mistakes with FILE:LINE, every
 * format rule recognises the testdata/ samples it names, and the prefilter
 * (the words a pattern cannot match without) never changes a result, nor
 * does taking the rules back from their cache. */
#include "test-common.h"
#include "rules-private.h"
#include "generic-private.h"

typedef struct
{
  const char *name;
  const char *text;
  const char *error; /* the start of the expected message */
} BadRule;

static const BadRule bad_rules[] = {
  { "unknown-statement", "format a\nbody x\nfrobnicate y\n", "t.rules:3: unknown statement 'frobnicate'" },
  { "outside-block", "body x\n", "t.rules:1: 'body' outside a format block" },
  { "no-condition", "format a\nkind failure\n\nformat b\nbody x\n", "t.rules:1: format a has no condition" },
  { "bad-pattern", "format a\nbody (unclosed\n", "t.rules:2: bad pattern" },
  { "no-addr-group", "format a\nbody x\nrecipient ^<(.*)>\n", "t.rules:3: a recipient pattern needs a group" },
  { "bad-kind", "format a\nkind bogus\nbody x\n", "t.rules:2: unknown kind 'bogus'" },
  { "bad-reason", "reason nosuch x\n", "t.rules:1: unknown reason 'nosuch'" },
  { "bad-status", "format a\nbody x\nstatus 9.9\n", "t.rules:3: '9.9' is not a status code" },
  { "bad-status-reason", "status-reason 5.1 userunknown\n", "t.rules:1: '5.1' is not a status code" },
  { "bad-weight", "weight relay-found lots\n", "t.rules:1: weight takes a name and a number" },
  { "format-two-names", "format a b\nbody x\n", "t.rules:1: format takes one name" },
  { "missing-pattern", "format a\nsubject\n", "t.rules:2: a pattern is missing" },
  { "reaches-forward", "format a\nbody x\nrecipient ^To: (?<addr>\\S+)$(?:(?s:.*?)^Virus: (?<diag>.+))?\n",
    "t.rules:3: a recipient pattern may not reach forward without bound" },
  { "reaches-forward-class", "format a\nbody x\nrecipient (?<addr>\\S+@\\S+)[\\s\\S]*?Virus\n",
    "t.rules:3: a recipient pattern may not reach forward without bound" },
};

static void
test_bad_rule (gconstpointer data)
{
  const BadRule *b = data;
  g_autoptr (BounceRules) rules = bounce_rules_new ();
  g_autoptr (GError) error = NULL;

  g_assert_false (bounce_rules_load_data (rules, "t.rules", b->text, -1, FALSE, &error));
  g_assert_error (error, BOUNCE_ERROR, BOUNCE_ERROR_RULES);
  if (!g_str_has_prefix (error->message, b->error))
    g_error ("got '%s', want '%s...'", error->message, b->error);
}

static void
test_good_rules (void)
{
  g_autoptr (BounceRules) rules = bounce_rules_new ();
  g_autoptr (GError) error = NULL;
  const char *text = "# a comment\n\n"
                     "format demo\n"
                     "  kind failure\n"
                     "  from (?-i)MAILER-DAEMON\n"
                     "  header X-Demo: .\n"
                     "  recipient ^<(?<addr>[^>]+)>:\n"
                     "  original ^--- copy\n"
                     "  status 5.0.0\n"
                     "reason userunknown no such user\n"
                     "status-reason X.1.1 userunknown\n"
                     "weight relay-found -5.5\n";

  bounce_rules_load_data (rules, "t.rules", text, -1, FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (bounce_rules_get_n_formats (rules), ==, 1);
  g_assert_cmpfloat (bounce_rules_get_weight (rules, "relay-found", 0), ==, -5.5);
  g_assert_cmpfloat (bounce_rules_get_weight (rules, "absent", 2.0), ==, 2.0);
  g_assert_cmpstr (bounce_rules_reason (rules, "550 No such user here", NULL), ==, "userunknown");
  g_assert_cmpstr (bounce_rules_reason (rules, "whatever", "4.1.1"), ==, "userunknown");
  g_assert_null (bounce_rules_reason (rules, "whatever", "5.2.2"));
}

/* A user's rule is tried before an installed one of the same shape. */
static void
test_user_rules_first (void)
{
  g_autoptr (BounceRules) rules = bounce_rules_new ();
  const char *msg = "From: MAILER-DAEMON@example.org\nSubject: failure notice\n\n"
                    "Hi. This is a test.\n<a@example.com>:\n550 no\n";
  g_autoptr (BounceReport) report = NULL;

  g_assert_true (bounce_rules_load_data (rules, "i.rules", "format installed\nbody This is a test\n", -1, FALSE, NULL));
  g_assert_true (bounce_rules_load_data (rules, "u.rules",
                                         "format mine\nbody This is a test\nrecipient ^<(?<addr>[^>]+)>:\n", -1, TRUE,
                                         NULL));
  report = bounce_report_new_from_data (msg, strlen (msg), rules, 0, NULL);
  g_assert_nonnull (report);
  g_assert_cmpstr (bounce_report_get_format (report), ==, "mine");
  g_assert_cmpuint (bounce_report_get_n_recipients (report), ==, 1);
}

/* Every format rule names samples, and recognises each of them. */
static void
test_samples (void)
{
  g_autoptr (BounceRules) rules = test_project_rules ();
  g_autoptr (GPtrArray) formats = bounce_rules_list_formats (rules);
  g_autoptr (GString) failures = g_string_new (NULL);
  guint checked = 0;

  for (guint i = 0; i < formats->len; i++)
    {
      const BounceFormatRule *rule = g_ptr_array_index (formats, i);
      const char *const *samples = bounce_format_rule_samples (rule);

      if (samples == NULL)
        {
          g_string_append_printf (failures, "format %s names no samples\n", bounce_format_rule_name (rule));
          continue;
        }
      for (guint j = 0; samples[j]; j++)
        {
          g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "testdata", samples[j], NULL);
          g_autoptr (GError) error = NULL;
          /* A rule that says a message is no report is read only when
           * the message is read whole: the triage and the second look
           * may leave it unread, with the same kind. */
          g_autoptr (BounceReport) report =
              bounce_report_new_from_file (path, rules,
                                           bounce_format_rule_kind (rule) == BOUNCE_KIND_NOT_BOUNCE
                                               ? BOUNCE_PARSE_NO_TRIAGE
                                               : BOUNCE_PARSE_DEFAULT,
                                           &error);

          checked++;
          if (report == NULL)
            g_string_append_printf (failures, "%s: %s\n", samples[j], error->message);
          else if (g_strcmp0 (bounce_report_get_rule_name (report), bounce_format_rule_name (rule)) != 0)
            g_string_append_printf (failures, "format %s does not recognise its sample %s (%s did)\n",
                                    bounce_format_rule_name (rule), samples[j],
                                    bounce_report_get_rule_name (report) ?: "no rule");
        }
    }
  g_test_message ("%u samples of %u format rules", checked, formats->len);
  g_assert_cmpuint (checked, >, 0);
  if (failures->len)
    g_test_fail_printf ("%s", failures->str);
}

/* Patterns and the words bounce_pattern_words() must find ("" for none). */
static const struct
{
  const char *pattern;
  const char *words; /* space-separated, in order */
} pattern_words[] = {
  { "This is the MAILER-DAEMON", "this is the mailer-daemon" },
  { "^Sent <<< RCPT TO:", "sent <<< rcpt to:" },
  { "\\buser\\s+unknown\\b", "unknown" },
  { "e-?mail\\s+delivery", "delivery" },
  { "abc?d", "" }, /* "ab" and "d": too short */
  { "abcx?defg", "defg" },
  { "mailbox+ full", "mailbox" },
  { "over ?quota", "quota" },
  { "(?:sub)?system", "system" },
  { "(?:mailer-?daemon|postmaster)\\s+here", "mailer postmaster" }, /* the group's words are longer */
  { "(?:undeliverable|returned)\\s*:", "undeliverable returned" },
  { "unknown|no such user", "unknown no such user" },
  { "unknown|no", "" }, /* one alternative has no word */
  { "[Uu]ser unknown", "ser unknown" },
  { "(?!not )delivered", "delivered" },
  { "(?=delivery)deliv", "deliv" },
  { "x{0,3}failure", "failure" },
  { "fail{2}ure", "fail" },
  { "a{foo}bar", "foo}bar" }, /* not a quantifier: "{" ends a run */
  { "\\Qa.b\\E", "" },
  { "caf\xc3\xa9 ferm\xc3\xa9", " ferm" }, /* non-ASCII ends a run */
  { "\\x41BCD", "bcd" },
  { "5\\.1\\.1", "5.1.1" },
  { "(?i)quota", "quota" },
  { "(?<addr>[^@]+)@example\\.com", "@example.com" },
  { "(foo|barbaz)+x", "foo barbaz" },
  { "(foo|barbaz)*x", "" },
  { "\\d+ recipients? failed", " recipient" },
};

static void
test_pattern_words (void)
{
  g_autoptr (GString) failures = g_string_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (pattern_words); i++)
    {
      g_autoptr (GPtrArray) words = bounce_pattern_words (pattern_words[i].pattern);
      g_autoptr (GString) got = g_string_new (NULL);

      for (guint j = 0; words && j < words->len; j++)
        g_string_append_printf (got, "%s%s", j ? " " : "", (char *) g_ptr_array_index (words, j));
      if (g_strcmp0 (got->str, pattern_words[i].words) != 0)
        g_string_append_printf (failures, "%s: got \"%s\", expected \"%s\"\n", pattern_words[i].pattern, got->str,
                                pattern_words[i].words);
    }
  if (failures->len)
    g_test_fail_printf ("%s", failures->str);
}

/* Patterns and the sets of words bounce_pattern_word_sets() must find,
 * " | " between sets, the best first ("" for none). */
static const struct
{
  const char *pattern;
  const char *sets;
} pattern_word_sets[] = {
  { "\\bmessage\\s+size\\s+exceeds", "message | size | exceeds" },
  { "mailer-daemon@(?:googlemail|google|gmail)\\.com", "mailer-daemon@ | googlemail google gmail | .com" },
  { "^Our\\s+content\\s+checker\\s+found[ \\t]*\\n[ \\t]+(?:virus|viruses|banned\\s+names?)\\s*:",
    "content | our | checker | found | virus viruses banned" },
  { "(?:sub)?system failure", "system failure" },
  { "too\\s+(?:big|large)", "too | big large" }, /* "big" as long as "too": the first found leads */
  { "user (?:unknown|x)", "user " },             /* the group has an alternative without a word */
  { "user unknown|no such user", "" },           /* a top-level "|": bounce_pattern_words() decides */
  { "quota(?= exceeded)", "quota" },             /* a lookahead is not counted */
  { "abc(*ACCEPT)defghi", "" },                  /* a verb: nothing is sure */
  { "x?y", "" },
};

/* Texts the patterns above are tried on: where one matches, each of its
 * sets has a word in the text. */
static const char *const word_set_texts[] = {
  "Message size exceeds the limit",
  "message  size exceeds",
  "MAILER-DAEMON@googlemail.com",
  "mailer-daemon@gmail.com",
  "Our content checker found\n  virus: X",
  "Our content checker found\n\tbanned names:",
  "system failure",
  "subsystem failure",
  "too big",
  "Too  LARGE",
  "user unknown",
  "user x",
  "quota exceeded",
  "abc",
  "y",
};

static void
test_pattern_word_sets (void)
{
  g_autoptr (GString) failures = g_string_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (pattern_word_sets); i++)
    {
      const char *pattern = pattern_word_sets[i].pattern;
      g_autoptr (GPtrArray) sets = bounce_pattern_word_sets (pattern);
      g_autoptr (GString) got = g_string_new (NULL);
      g_autoptr (GRegex) re = g_regex_new (pattern, G_REGEX_CASELESS | G_REGEX_MULTILINE, 0, NULL);

      g_assert_nonnull (re);
      for (guint j = 0; sets && j < sets->len; j++)
        {
          GPtrArray *set = g_ptr_array_index (sets, j);

          g_string_append (got, j ? " | " : "");
          for (guint k = 0; k < set->len; k++)
            g_string_append_printf (got, "%s%s", k ? " " : "", (char *) g_ptr_array_index (set, k));
        }
      if (g_strcmp0 (got->str, pattern_word_sets[i].sets) != 0)
        g_string_append_printf (failures, "%s: got \"%s\", expected \"%s\"\n", pattern, got->str,
                                pattern_word_sets[i].sets);
      for (guint t = 0; sets && t < G_N_ELEMENTS (word_set_texts); t++)
        {
          g_autofree char *lower = g_ascii_strdown (word_set_texts[t], -1);

          if (!g_regex_match (re, word_set_texts[t], 0, NULL))
            continue;
          for (guint j = 0; j < sets->len; j++)
            {
              GPtrArray *set = g_ptr_array_index (sets, j);
              gboolean held = FALSE;

              for (guint k = 0; k < set->len; k++)
                held |= strstr (lower, g_ptr_array_index (set, k)) != NULL;
              if (!held)
                g_string_append_printf (failures, "%s matches \"%s\", which holds no word of set %u\n", pattern,
                                        word_set_texts[t], j);
            }
        }
    }
  if (failures->len)
    g_test_fail_printf ("%s", failures->str);
}

/* A prefilter lets a pattern run only on a text holding a word of each
 * of its sets. */
static void
test_prefilter_sets (void)
{
  static const struct
  {
    const char *text;
    gboolean may;
  } texts[] = {
    { "Message size exceeds the limit", TRUE },
    { "message size is 10 MB", FALSE },      /* no "exceeds" */
    { "the size exceeds the limit", FALSE }, /* no "message" */
    { "EXCEEDS SIZE MESSAGE", TRUE },        /* each set held: the pattern decides */
    { "", FALSE },
  };
  BouncePrefilter *pf = bounce_prefilter_new ();
  g_autofree guint *ids = bounce_prefilter_add_pattern (pf, "\\bmessage\\s+size\\s+exceeds");
  g_autofree guint *one = bounce_prefilter_add_pattern (pf, "user unknown|no such user");

  g_assert_nonnull (ids);
  g_assert_nonnull (one);
  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      g_autofree guint64 *seen = g_new0 (guint64, bounce_prefilter_seen_len (pf));

      bounce_prefilter_scan (pf, texts[i].text, strlen (texts[i].text), seen);
      g_assert_cmpint (bounce_prefilter_may_match (pf, ids, seen), ==, texts[i].may);
      g_assert_false (bounce_prefilter_may_match (pf, one, seen));
    }
  {
    g_autofree guint64 *seen = g_new0 (guint64, bounce_prefilter_seen_len (pf));

    bounce_prefilter_scan (pf, "No such user here", 17, seen);
    g_assert_true (bounce_prefilter_may_match (pf, one, seen));
    g_assert_false (bounce_prefilter_may_match (pf, ids, seen));
  }
  bounce_prefilter_free (pf);
}

/* Patterns and the alternatives bounce_pattern_split() must cut them in,
 * " || " between them ("" when it must not cut). */
static const struct
{
  const char *pattern;
  const char *alts;
} pattern_splits[] = {
  { "user unknown|no such user", "user unknown || no such user" },
  { "(?:a|b)c|d[|]e|f\\|g", "(?:a|b)c || d[|]e || f\\|g" },
  { "^Subject: (?:Undeliver|Return)ed$|^From: MAILER", "^Subject: (?:Undeliver|Return)ed$ || ^From: MAILER" },
  { "(?<addr>\\S+@\\S+) failed|bounced", "(?<addr>\\S+@\\S+) failed || bounced" },
  { "(?=\\d)\\d+ held|pending", "(?=\\d)\\d+ held || pending" },
  { "single alternative", "" },
  { "a||b", "" }, /* an empty alternative */
  { "a|", "" },
  { "(a)x|\\1y", "" }, /* a back reference */
  { "(?<n>a)x|\\k<n>y", "" },
  { "(a)x|(?1)y", "" }, /* a subroutine call */
  { "(?i)a|b", "" },    /* options for the rest */
  { "a|(?-x)b", "" },
  { "(*UTF)a|b", "" },
  { "\\Qa|b\\E|c", "" },
  { "(?(?=a)ab|cd)|e", "" }, /* a condition */
  { "(?:x(?R)?y)|z", "" },   /* recursion */
};

/* The texts every split pattern is tried on: the whole must match one
 * exactly when one of its alternatives does. */
static const char *const split_texts[] = {
  "user unknown",
  "No such user here",
  "ac",
  "d|e",
  "f\\",
  "g",
  "Subject: Undelivered",
  "From: MAILER-DAEMON",
  "x@example.com failed",
  "BOUNCED",
  "12 held",
  "pending",
  "nothing at all",
  "",
};

static void
test_pattern_split (void)
{
  g_autoptr (GString) failures = g_string_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (pattern_splits); i++)
    {
      g_auto (GStrv) alts = bounce_pattern_split (pattern_splits[i].pattern);
      g_autofree char *got = alts ? g_strjoinv (" || ", alts) : g_strdup ("");
      g_autoptr (GRegex) whole = g_regex_new (pattern_splits[i].pattern, G_REGEX_CASELESS | G_REGEX_MULTILINE, 0, NULL);

      g_assert_nonnull (whole);
      if (strcmp (got, pattern_splits[i].alts) != 0)
        g_string_append_printf (failures, "%s: got \"%s\", expected \"%s\"\n", pattern_splits[i].pattern, got,
                                pattern_splits[i].alts);
      for (guint t = 0; alts && t < G_N_ELEMENTS (split_texts); t++)
        {
          gboolean any = FALSE;

          for (guint k = 0; alts[k]; k++)
            {
              g_autoptr (GRegex) re = g_regex_new (alts[k], G_REGEX_CASELESS | G_REGEX_MULTILINE, 0, NULL);

              g_assert_nonnull (re);
              any |= g_regex_match (re, split_texts[t], 0, NULL);
            }
          if (any != g_regex_match (whole, split_texts[t], 0, NULL))
            g_string_append_printf (failures, "%s on \"%s\": the whole %s, its alternatives %s\n",
                                    pattern_splits[i].pattern, split_texts[t], any ? "does not match" : "matches",
                                    any ? "do" : "do not");
        }
    }
  if (failures->len)
    g_test_fail_printf ("%s", failures->str);
}

/* Reads each message below @dir (every @step-th of a folder) twice: with
 * @rules and the prefilters, then with @other, or with @rules without the
 * prefilters (the rules' and the format-free reader's phrases') when
 * @other is NULL; a difference goes to @failures. */
static void
compare_reads (BounceRules *rules, BounceRules *other, const char *dir, guint step, guint *n, GString *failures)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  guint seen = 0;

  while (d && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autofree char *with = NULL, *without = NULL;

      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        {
          compare_reads (rules, other, path, step, n, failures);
          continue;
        }
      if (seen++ % step != 0)
        continue;
      if (name[0] == '.' || g_str_has_prefix (name, "README") || g_str_has_suffix (name, ".expected")
          || g_str_has_suffix (name, ".json") || g_str_has_suffix (name, ".py") || g_str_has_suffix (name, ".conf")
          || g_str_has_suffix (name, ".key") || g_str_has_suffix (name, ".md") || g_str_has_suffix (name, ".sh"))
        continue; /* not a message */
      for (int pass = 0; pass < 2; pass++)
        {
          g_autoptr (GError) error = NULL;
          g_autoptr (BounceReport) report = NULL;
          char *text;

          if (other == NULL)
            {
              bounce_rules_set_prefilter (rules, pass == 0);
              bounce_prefilter_set_enabled (bounce_generic_phrases ()->words, pass == 0);
            }
          report =
              bounce_report_new_from_file (path, pass == 1 && other ? other : rules, BOUNCE_PARSE_NO_TRIAGE, &error);
          text = report ? bounce_report_to_json (report) : g_strdup (error->message);
          if (pass == 0)
            with = text;
          else
            without = text;
        }
      (*n)++;
      if (strcmp (with, without) != 0)
        g_string_append_printf (failures, "%s:\n  first:  %.300s\n  second: %.300s\n", path, with, without);
    }
  bounce_rules_set_prefilter (rules, TRUE);
  bounce_prefilter_set_enabled (bounce_generic_phrases ()->words, TRUE);
}

static void
test_prefilter_same (void)
{
  g_autoptr (BounceRules) rules = test_project_rules ();
  g_autoptr (GString) failures = g_string_new (NULL);
  g_autofree char *testdata = g_test_build_filename (G_TEST_DIST, "..", "testdata", NULL);
  g_autofree char *corpus = test_corpus_path (NULL);
  guint n = 0;

  compare_reads (rules, NULL, testdata, 1, &n, failures);
  /* Under valgrind (BACKSCATTER_VALGRIND), a tenth of the corpus. */
  if (g_file_test (corpus, G_FILE_TEST_IS_DIR))
    compare_reads (rules, NULL, corpus, g_getenv ("BACKSCATTER_VALGRIND") ? 10 : 1, &n, failures);
  else
    g_test_message ("no corpus at %s (set BACKSCATTER_CORPUS): testdata only", corpus);
  g_test_message ("%u messages read with and without the prefilters", n);
  g_assert_cmpuint (n, >, 100);
  if (failures->len)
    g_test_fail_printf ("the prefilters change results (first with them, then without):\n%s", failures->str);
}

/* No rules at all (an empty file, say): messages still read, as no
 * format; the prefilter has no words to look for. */
static void
test_empty_rules (void)
{
  static const char bounce[] = "From: MAILER-DAEMON@example.org\nSubject: Undelivered Mail\n\n"
                               "<user@example.com>: 550 5.1.1 User unknown\n";
  g_autoptr (BounceRules) rules = bounce_rules_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (BounceReport) report = NULL;

  g_assert_true (bounce_rules_load_data (rules, "empty.rules", "", 0, FALSE, &error));
  report = bounce_report_new_from_data (bounce, strlen (bounce), rules, BOUNCE_PARSE_DEFAULT, &error);
  g_assert_no_error (error);
  g_assert_null (bounce_report_get_rule_name (report));
  g_assert_null (bounce_rules_reason (rules, "550 5.1.1 User unknown", NULL));
}

/* A diagnostic that is not UTF-8 (a byte of Windows-1252 before "s" and
 * spaces made PCRE2's JIT code read out of bounds) is read as UTF-8 with
 * the bad byte replaced. */
static void
test_reason_invalid_utf8 (void)
{
  g_autoptr (BounceRules) rules = test_project_rules ();

  g_assert_null (bounce_rules_reason (rules,
                                      "From: Mail Delivery System <MAILER-DAEMON@example.org>\n"
                                      "Subject: Delivery failure\n\n\x91s         ",
                                      NULL));
  g_assert_cmpstr (bounce_rules_reason (rules, "550 mailbox \x91 full", NULL), ==, "mailboxfull");
}

/* User rules, loaded after the project's, so that a saved set holds both. */
static const char user_rules[] = "format user-postfix\n"
                                 "from (?i)mailer-daemon|postmaster\n"
                                 "body This is the mail system at host|could not be delivered\n"
                                 "not-header x-test (?i)^yes$\n"
                                 "reason mailboxfull\n"
                                 "reason mailboxfull (?i)quota (?:exceeded|full)|over quota\n"
                                 "weight no-original 0.25\n";

static BounceRules *
rules_with_user (void)
{
  BounceRules *rules = test_project_rules ();
  g_autoptr (GError) error = NULL;

  if (!bounce_rules_load_data (rules, "user.rules", user_rules, -1, TRUE, &error))
    g_error ("%s", error->message);
  return rules;
}

/* A rule set taken back from its cache reads every message as the set
 * read from the files does. */
static void
test_cache_same (void)
{
  g_autoptr (BounceRules) rules = rules_with_user ();
  g_autoptr (GBytes) bytes = bounce_rules_to_cache (rules, "key");
  g_autoptr (GError) error = NULL;
  g_autoptr (BounceRules) saved = NULL;
  g_autoptr (GString) failures = g_string_new (NULL);
  g_autofree char *testdata = g_test_build_filename (G_TEST_DIST, "..", "testdata", NULL);
  g_autofree char *corpus = test_corpus_path (NULL);
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);
  guint n = 0;

  saved = bounce_rules_new_from_cache (data, len, "key", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (bounce_rules_get_n_formats (saved), ==, bounce_rules_get_n_formats (rules));
  g_assert_cmpfloat (bounce_rules_get_weight (saved, "no-original", 9), ==, 0.25);
  g_assert_cmpstr (bounce_rules_reason (saved, "552 over quota", NULL), ==, "mailboxfull");
  g_assert_cmpstr (bounce_rules_reason (saved, "550 5.1.1 no such user", "5.1.1"), ==,
                   bounce_rules_reason (rules, "550 5.1.1 no such user", "5.1.1"));
  compare_reads (rules, saved, testdata, 1, &n, failures);
  if (g_file_test (corpus, G_FILE_TEST_IS_DIR))
    compare_reads (rules, saved, corpus, g_getenv ("BACKSCATTER_VALGRIND") ? 10 : 1, &n, failures);
  g_test_message ("%u messages read with the rules and with their cache", n);
  g_assert_cmpuint (n, >, 100);
  if (failures->len)
    g_test_fail_printf ("the cache changes results (first the rules, then their cache):\n%s", failures->str);
  {
    /* Saved again, the same bytes. */
    g_autoptr (GBytes) again = bounce_rules_to_cache (saved, "key");

    g_assert_true (g_bytes_equal (bytes, again));
  }
}

static void
assert_refused (const void *data, gsize len, const char *key)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BounceRules) rules = bounce_rules_new_from_cache (data, len, key, &error);

  g_assert_null (rules);
  g_assert_error (error, BOUNCE_ERROR, BOUNCE_ERROR_RULES);
}

/* Bytes of another key, cut short or damaged are refused; damaged bytes
 * whose checksum was made again are read or refused, never read out of
 * bounds (the sanitizers and valgrind watch this test). */
static void
test_cache_damaged (void)
{
  static const char bounce[] = "From: MAILER-DAEMON@example.org\nSubject: Undelivered Mail Returned to Sender\n\n"
                               "This is the mail system at host mx.example.org.\n\n"
                               "<user@example.com>: host mx.example.com said: 550 5.1.1 User unknown quota exceeded\n";
  g_autoptr (BounceRules) rules = rules_with_user ();
  g_autoptr (GBytes) bytes = bounce_rules_to_cache (rules, "key");
  gsize len, header = strlen ("backscatter rules\n") + 4 + 4 + strlen (bounce_version ()) + 4 + strlen ("key") + 16;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  g_autofree guint8 *copy = g_memdup2 (data, len);
  guint steps = g_getenv ("BACKSCATTER_VALGRIND") ? 40 : 400;

  assert_refused (data, len, "another key");
  assert_refused (data, len, "ke");
  assert_refused ("", 0, "key");
  for (gsize cut = 0; cut < len; cut += cut < header + 64 ? 1 : len / steps + 1)
    assert_refused (data, cut, "key");
  for (gsize at = 0; at < len; at += len / steps + 1)
    {
      memcpy (copy, data, len);
      copy[at] ^= 0x5a;
      assert_refused (copy, len, "key");
    }
  for (gsize at = header; at < len; at += len / steps + 1)
    for (guint v = 0; v < 3; v++)
      {
        g_autoptr (BounceRules) damaged = NULL;
        guint64 sum;

        memcpy (copy, data, len);
        copy[at] = v == 0 ? 0xff : v == 1 ? 0 : copy[at] + 1;
        sum = bounce_rules_cache_checksum (copy + header, len - header);
        memcpy (copy + header - 8, &sum, 8);
        damaged = bounce_rules_new_from_cache (copy, len, "key", NULL);
        if (damaged)
          {
            g_autoptr (BounceReport) report =
                bounce_report_new_from_data (bounce, strlen (bounce), damaged, BOUNCE_PARSE_DEFAULT, NULL);
          }
      }
}

/* Messages read at once by several threads with rules whose patterns none
 * has run yet (taken from the cache: each is compiled on its first run,
 * and again with the JIT once it has run often): each thread reads each
 * message as one thread alone does. */
typedef struct
{
  BounceRules *rules;
  GPtrArray *paths, *expected;
  guint offset;
  gint *go, *wrong;
} FirstUse;

static gpointer
first_use_thread (gpointer data)
{
  FirstUse *f = data;

  while (!g_atomic_int_get (f->go))
    ;
  /* Each thread in its own order, over and over: patterns reach their
   * first run and their JIT compile while the others run them. */
  for (guint round = 0; round < (g_getenv ("BACKSCATTER_VALGRIND") ? 1u : 3u); round++)
    for (guint k = 0; k < f->paths->len; k++)
      {
        guint i = (k + f->offset) % f->paths->len;
        g_autoptr (BounceReport) report =
            bounce_report_new_from_file (g_ptr_array_index (f->paths, i), f->rules, BOUNCE_PARSE_NO_TRIAGE, NULL);
        g_autofree char *text = report ? bounce_report_to_json (report) : g_strdup ("");

        if (strcmp (text, g_ptr_array_index (f->expected, i)) != 0)
          g_atomic_int_inc (f->wrong);
      }
  return NULL;
}

static void
test_first_use_threads (void)
{
  g_autoptr (BounceRules) rules = test_project_rules ();
  g_autoptr (GBytes) bytes = bounce_rules_to_cache (rules, "key");
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) expected = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *testdata = g_test_build_filename (G_TEST_DIST, "..", "testdata", NULL);
  g_autoptr (GDir) top = g_dir_open (testdata, 0, NULL);
  const char *family;
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);
  g_autoptr (BounceRules) fresh = bounce_rules_new_from_cache (data, len, "key", NULL);
  GThread *threads[6];
  FirstUse f[G_N_ELEMENTS (threads)];
  gint go = 0, wrong = 0;

  g_assert_nonnull (top);
  g_assert_nonnull (fresh);
  /* The first .eml of each family of testdata/. */
  while ((family = g_dir_read_name (top)) != NULL)
    {
      g_autofree char *dir = g_build_filename (testdata, family, NULL);
      g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
      const char *name;

      while (d && (name = g_dir_read_name (d)) != NULL)
        if (g_str_has_suffix (name, ".eml"))
          {
            char *path = g_build_filename (dir, name, NULL);
            g_autoptr (BounceReport) report = bounce_report_new_from_file (path, rules, BOUNCE_PARSE_NO_TRIAGE, NULL);

            g_ptr_array_add (paths, path);
            g_ptr_array_add (expected, report ? bounce_report_to_json (report) : g_strdup (""));
            break;
          }
    }
  g_test_message ("%u messages, %u threads", paths->len, (guint) G_N_ELEMENTS (threads));
  g_assert_cmpuint (paths->len, >, 40);
  for (guint t = 0; t < G_N_ELEMENTS (threads); t++)
    {
      f[t] = (FirstUse){ fresh, paths, expected, t * paths->len / G_N_ELEMENTS (threads), &go, &wrong };
      threads[t] = g_thread_new ("first-use", first_use_thread, &f[t]);
    }
  g_atomic_int_set (&go, 1);
  for (guint t = 0; t < G_N_ELEMENTS (threads); t++)
    g_thread_join (threads[t]);
  g_assert_cmpint (wrong, ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (bad_rules); i++)
    {
      g_autofree char *path = g_strdup_printf ("/rules/bad/%s", bad_rules[i].name);

      g_test_add_data_func (path, &bad_rules[i], test_bad_rule);
    }
  g_test_add_func ("/rules/good", test_good_rules);
  g_test_add_func ("/rules/user-first", test_user_rules_first);
  g_test_add_func ("/rules/samples", test_samples);
  g_test_add_func ("/rules/pattern-words", test_pattern_words);
  g_test_add_func ("/rules/pattern-word-sets", test_pattern_word_sets);
  g_test_add_func ("/rules/prefilter-sets", test_prefilter_sets);
  g_test_add_func ("/rules/pattern-split", test_pattern_split);
  g_test_add_func ("/rules/empty", test_empty_rules);
  g_test_add_func ("/rules/reason-invalid-utf8", test_reason_invalid_utf8);
  g_test_add_func ("/rules/prefilter-same", test_prefilter_same);
  g_test_add_func ("/rules/cache-same", test_cache_same);
  g_test_add_func ("/rules/cache-damaged", test_cache_damaged);
  g_test_add_func ("/rules/first-use-threads", test_first_use_threads);
  return g_test_run ();
}

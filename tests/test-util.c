/* test-util.c — finding status codes, reply codes and addresses in free
 * text, naming risky attachments, and the library's first use from
 * several threads at once; dates read as GMime reads them, and transfer
 * encodings decoded as GMime decodes them. */
#include "bounce-private.h"
#include "test-common.h"

#include <sys/wait.h>
#include <unistd.h>

#include <json-glib/json-glib.h>

static void
test_status (void)
{
  static const struct
  {
    const char *text, *want;
  } cases[] = {
    { "550 5.1.1 <a@example.com>: User unknown", "5.1.1" },
    { "host 192.0.2.1 said: 4.4.7 timeout", "4.4.7" },
    { "(#5.5.0)", "5.5.0" },
    { "Exim 4.72 said 550", NULL },
    { "version 5.10.100.2", NULL },
    { "status 5.7.26 unauthenticated", "5.7.26" },
    { "#4.3.2", "4.3.2" },
    { "", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      char out[16];
      gboolean found = bounce_find_status (cases[i].text, out);

      g_assert_cmpint (found, ==, cases[i].want != NULL);
      if (found)
        g_assert_cmpstr (out, ==, cases[i].want);
    }
}

static void
test_reply_code (void)
{
  static const struct
  {
    const char *text, *want;
  } cases[] = {
    { "550 5.1.1 unknown", "550" },
    { "said: 550-5.1.1 The email account", "550" },
    { "remote host 192.0.2.32 said: 554 denied", "554" },
    { "port 25: 421 try later", "421" },
    { "id 5512345 queued", NULL },
    { "size 45678", NULL },
    { "code 599x", NULL },
    { "HTTP/1.1 500 internal", "500" },
    { "Error, ERROR_CODE :421, ERROR_CODE :, no route", "421" },
    { "connect to mx.example.net:465 refused", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      char out[4];
      gboolean found = bounce_find_reply_code (cases[i].text, out);

      g_assert_cmpint (found, ==, cases[i].want != NULL);
      if (found)
        g_assert_cmpstr (out, ==, cases[i].want);
    }
}

static void
test_addr_spec (void)
{
  static const struct
  {
    const char *text, *want;
  } cases[] = {
    { "<alice@example.com>", "alice@example.com" },
    { "Alice <alice@example.com>", "alice@example.com" },
    { "rcpt bob@example.org.", "bob@example.org" },
    { "\"a b\"@example.net", "\"a b\"@example.net" },
    { "rfc822; \"sales@eu\"@example.net", "\"sales@eu\"@example.net" },
    { "<\"sales@eu\"@example.net>: unknown user", "\"sales@eu\"@example.net" },
    { "Say \"hello\" to bob@example.org", "bob@example.org" },
    { "postmaster", "postmaster" },
    { "no address here", NULL },
    { NULL, NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *got = bounce_addr_spec (cases[i].text);

      g_assert_cmpstr (got, ==, cases[i].want);
    }
}

static void
test_risky (void)
{
  g_assert_true (bounce_filename_is_risky ("document.zip", NULL));
  g_assert_true (bounce_filename_is_risky ("readme.txt.scr", NULL));
  g_assert_true (bounce_filename_is_risky ("INVOICE.EXE", NULL));
  g_assert_true (bounce_filename_is_risky (NULL, "application/x-msdownload"));
  g_assert_false (bounce_filename_is_risky ("report.pdf", "application/pdf"));
  /* Windows drops trailing dots and spaces: these run as programs. */
  g_assert_true (bounce_filename_is_risky ("x.exe.", NULL));
  g_assert_true (bounce_filename_is_risky ("x.exe ", NULL));
  g_assert_true (bounce_filename_is_risky ("x.Scr . .", NULL));
  g_assert_false (bounce_filename_is_risky ("x.exe.txt", NULL));
  g_assert_false (bounce_filename_is_risky ("x.pdf. ", NULL));
  g_assert_false (bounce_filename_is_risky ("x.exec", NULL));
  g_assert_false (bounce_filename_is_risky ("...", NULL));
  g_assert_false (bounce_filename_is_risky (NULL, "text/plain"));
}

/* Converters are kept open and reused: each conversion starts from the
 * initial state, whatever the one before left, and more charsets than are
 * kept still convert. */
static void
test_convert (void)
{
  /* ISO-2022-JP: "日本" between escapes; cut, it ends in shifted state. */
  static const char jis[] = "\x1b$BF|K\\\x1b(B!";
  static const char *const charsets[] = {
    "iso-8859-1", "ISO-8859-2", "windows-1252", "koi8-r", "iso-8859-15", "cp1251",
    "iso-8859-7", "macintosh",  "iso-8859-9",   "cp850",  "ISO-8859-1",
  };
  gsize n = 0;
  char *out;

  for (int round = 0; round < 3; round++)
    {
      out = bounce_convert_to_utf8 ("caf\xe9", 4, "ISO-8859-1", &n);
      g_assert_cmpstr (out, ==, "caf\xc3\xa9");
      g_assert_cmpuint (n, ==, 5);
      g_free (out);

      out = bounce_convert_to_utf8 (jis, sizeof jis - 1, "iso-2022-jp", &n);
      g_assert_cmpstr (out, ==, "\xe6\x97\xa5\xe6\x9c\xac!");
      g_free (out);
      /* Cut inside a character, in shifted state: no text, and the next
       * one does not start shifted. */
      g_assert_null (bounce_convert_to_utf8 (jis, 4, "ISO-2022-JP", &n));
      out = bounce_convert_to_utf8 ("ab", 2, "iso-2022-jp", &n);
      g_assert_cmpstr (out, ==, "ab");
      g_free (out);

      /* Bytes that are not UTF-8, and a charset that does not exist. */
      g_assert_null (bounce_convert_to_utf8 ("\xff\xfe", 2, "utf-8", &n));
      g_assert_null (bounce_convert_to_utf8 ("abc", 3, "x-no-such-charset", &n));

      for (guint i = 0; i < G_N_ELEMENTS (charsets); i++)
        {
          out = bounce_convert_to_utf8 ("plain", 5, charsets[i], &n);
          g_assert_cmpstr (out, ==, "plain");
          g_free (out);
        }
    }
}

/* Strings as JSON: every control character escaped, bytes that are not
 * UTF-8 replaced, and what JSON-GLib reads back is the string. */
static void
test_json_string (void)
{
  static const char *const cases[][2] = {
    { "plain", "plain" },
    { "a \"quoted\" \\ path", "a \"quoted\" \\ path" },
    { "tab\there\r\nnext\x01\x1f\b\f", "tab\there\r\nnext\x01\x1f\b\f" },
    { "caf\xc3\xa9 \xe6\x97\xa5", "caf\xc3\xa9 \xe6\x97\xa5" },
    { "bad \xff byte", "bad \xef\xbf\xbd byte" },
    { "", "" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (BounceJsonWriter) w = bounce_json_writer_new ();
      g_autoptr (JsonNode) node = NULL;
      g_autoptr (GError) error = NULL;
      gsize len;
      const char *text;

      bounce_json_writer_begin_array (w);
      bounce_json_writer_string (w, cases[i][0]);
      bounce_json_writer_end_array (w);
      text = bounce_json_writer_get_text (w, &len);
      for (gsize k = 0; k < len; k++)
        g_assert_cmpint ((guchar) text[k], >=, 0x20);
      node = json_from_string (text, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (json_array_get_string_element (json_node_get_array (node), 0), ==, cases[i][1]);
    }
  {
    g_autoptr (BounceJsonWriter) w = bounce_json_writer_new ();

    bounce_json_writer_string (w, NULL);
    g_assert_cmpstr (bounce_json_writer_get_text (w, NULL), ==, "null");
  }
}

/* The writer puts commas between members and elements only, at every
 * depth; names that need escaping are escaped; numbers read back. */
static void
test_json_writer (void)
{
  g_autoptr (BounceJsonWriter) w = bounce_json_writer_new ();
  g_autoptr (JsonNode) node = NULL;
  g_autoptr (GError) error = NULL;
  JsonObject *o, *inner;
  JsonArray *a;
  char *text;

  bounce_json_writer_begin_object (w);
  bounce_json_writer_key (w, "empty");
  bounce_json_writer_begin_array (w);
  bounce_json_writer_end_array (w);
  bounce_json_writer_key (w, "list");
  bounce_json_writer_begin_array (w);
  bounce_json_writer_begin_object (w);
  bounce_json_writer_end_object (w);
  bounce_json_writer_begin_object (w);
  bounce_json_writer_key (w, "n");
  bounce_json_writer_int (w, -42);
  bounce_json_writer_end_object (w);
  bounce_json_writer_null (w);
  bounce_json_writer_boolean (w, TRUE);
  bounce_json_writer_begin_array (w);
  bounce_json_writer_double (w, 2.5);
  bounce_json_writer_double (w, 3);
  bounce_json_writer_double (w, 1.0 / 0.0);
  bounce_json_writer_end_array (w);
  bounce_json_writer_end_array (w);
  bounce_json_writer_key (w, "odd \"name\"\n\xff");
  bounce_json_writer_string (w, "v");
  bounce_json_writer_key (w, "inner");
  bounce_json_writer_begin_object (w);
  bounce_json_writer_key (w, "a");
  bounce_json_writer_string (w, NULL);
  bounce_json_writer_key (w, "b");
  bounce_json_writer_boolean (w, FALSE);
  bounce_json_writer_end_object (w);
  bounce_json_writer_end_object (w);

  g_assert_cmpstr (bounce_json_writer_get_text (w, NULL), ==,
                   "{\"empty\":[],\"list\":[{},{\"n\":-42},null,true,[2.5,3.0,null]],"
                   "\"odd \\\"name\\\"\\n\xef\xbf\xbd\":\"v\",\"inner\":{\"a\":null,\"b\":false}}");
  node = json_from_string (bounce_json_writer_get_text (w, NULL), &error);
  g_assert_no_error (error);
  o = json_node_get_object (node);
  a = json_object_get_array_member (o, "list");
  g_assert_cmpuint (json_array_get_length (a), ==, 5);
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (a, 1), "n"), ==, -42);
  g_assert_cmpfloat (json_array_get_double_element (json_array_get_array_element (a, 4), 1), ==, 3.0);
  g_assert_true (json_object_has_member (o, "odd \"name\"\n\xef\xbf\xbd"));
  inner = json_object_get_object_member (o, "inner");
  g_assert_true (json_object_get_null_member (inner, "a"));

  /* Reset: a second text from the same buffer, with nothing left over. */
  bounce_json_writer_reset (w);
  bounce_json_writer_begin_object (w);
  bounce_json_writer_key (w, "again");
  bounce_json_writer_int (w, 1);
  bounce_json_writer_end_object (w);
  text = bounce_json_writer_steal_text (g_steal_pointer (&w));
  g_assert_cmpstr (text, ==, "{\"again\":1}");
  g_free (text);
}

/* Writing a value where none may go is refused, and the text stays what
 * it was. */
static void
test_json_writer_misuse (void)
{
  g_autoptr (BounceJsonWriter) w = bounce_json_writer_new ();

  bounce_json_writer_begin_object (w);
  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*assertion*failed*");
  bounce_json_writer_string (w, "a value without a name");
  g_test_assert_expected_messages ();
  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*assertion*failed*");
  bounce_json_writer_end_array (w);
  g_test_assert_expected_messages ();
  bounce_json_writer_end_object (w);
  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*assertion*failed*");
  bounce_json_writer_key (w, "outside");
  g_test_assert_expected_messages ();
  g_assert_cmpstr (bounce_json_writer_get_text (w, NULL), ==, "{}");
}

/* A field's value as bounce_message_get_header() reads it: after an mbox
 * "From " line and a byte order mark, names without case and with blanks
 * before the colon, folds taken out, and never from the body. */
static void
test_message_get_header (void)
{
  static const char msg[] = "From someone@example.org Mon Apr  8 12:00:00 2024\n"
                            "\xef\xbb\xbf"
                            "Subject: a long\r\n\tsubject\r\n"
                            "message-id :  <a@example.org> \n"
                            "X-Empty:\n"
                            "\n"
                            "Date: in the body\n";
  char *v;

  v = bounce_message_get_header (msg, sizeof msg - 1, "Subject");
  g_assert_cmpstr (v, ==, "a long\tsubject");
  g_free (v);
  v = bounce_message_get_header (msg, sizeof msg - 1, "Message-ID");
  g_assert_cmpstr (v, ==, "<a@example.org>");
  g_free (v);
  v = bounce_message_get_header (msg, sizeof msg - 1, "x-empty");
  g_assert_cmpstr (v, ==, "");
  g_free (v);
  g_assert_null (bounce_message_get_header (msg, sizeof msg - 1, "Date"));
  g_assert_null (bounce_message_get_header (msg, sizeof msg - 1, "Message"));
  g_assert_null (bounce_message_get_header ("", 0, "Subject"));
}

/* Two reports: a MIME one, whose Content-Type is read first, and a plain
 * one with an encoded Subject, whose Subject is decoded first. */
static const char *const first_reports[] = {
  "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\n"
  "To: owner@example.org\n"
  "Subject: Undelivered Mail Returned to Sender\n"
  "MIME-Version: 1.0\n"
  "Content-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\n"
  "\n"
  "--b1\n"
  "Content-Type: text/plain\n"
  "\n"
  "I could not deliver your message.\n"
  "--b1\n"
  "Content-Type: message/delivery-status\n"
  "\n"
  "Reporting-MTA: dns; mx.example.net\n"
  "\n"
  "Final-Recipient: rfc822; nobody@example.com\n"
  "Action: failed\n"
  "Status: 5.1.1\n"
  "--b1--\n",
  "From: MAILER-DAEMON@mx.example.net\n"
  "To: owner@example.org\n"
  "Subject: =?utf-8?q?Unzustellbar=3A_Hello?=\n"
  "Content-Type: text/plain; charset=utf-8\n"
  "\n"
  "<nobody@example.com>: 550 5.1.1 user unknown\n",
};

static gint first_go;

static BounceRules *first_rules;

static gpointer
first_parse (gpointer data)
{
  const char *report = data;
  /* each thread starts a little later than the last, by a different
   * amount each round, so that the first uses overlap in many ways */
  volatile guint spin = g_random_int_range (0, 20000);

  while (!g_atomic_int_get (&first_go))
    ;
  while (spin > 0)
    spin--;
  bounce_report_unref (bounce_report_new_from_data (report, strlen (report), first_rules, BOUNCE_PARSE_DEFAULT, NULL));
  return NULL;
}

/* Threads whose first call into the library is a parse, all at once, in
 * fresh processes: no warning, no crash, one report each. */
static void
test_first_use_threads (void)
{
  /* under valgrind, whose threads take turns, a few rounds suffice */
  int rounds = g_getenv ("BACKSCATTER_VALGRIND") ? 3 : 100;

  for (int round = 0; round < rounds; round++)
    {
      int status;
      pid_t pid = fork ();

      g_assert_cmpint (pid, >=, 0);
      if (pid == 0)
        {
          GThread *t[8];

          first_rules = bounce_rules_new ();
          g_log_set_always_fatal (G_LOG_LEVEL_WARNING | G_LOG_LEVEL_CRITICAL);
          for (guint i = 0; i < G_N_ELEMENTS (t); i++)
            t[i] = g_thread_new ("parse", first_parse, (char *) first_reports[i % 2]);
          g_atomic_int_set (&first_go, 1);
          for (guint i = 0; i < G_N_ELEMENTS (t); i++)
            g_thread_join (t[i]);
          _exit (0);
        }
      g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
      g_assert_true (WIFEXITED (status));
      g_assert_cmpint (WEXITSTATUS (status), ==, 0);
    }
}

/* Where a message starts after mbox "From " lines (escaped or not), and
 * after the blank lines, byte order mark and From line some writers put
 * first. */
static void
test_message_start (void)
{
  static const struct
  {
    const char *data;
    char eol;
    gsize from_end, start;
  } cases[] = {
    { "From a@example.org Mon Apr  8 10:00:00 2024\nSubject: x\n\nbody\n", '\n', 44, 44 },
    { "From a@example.org Mon Apr  8 10:00:00 2024\rSubject: x\r\rbody\r", '\r', 44, 0 },
    { "From a@example.org", '\n', 18, 18 },
    { "From: a@example.org\n\nbody\n", '\n', 0, 0 },
    { "Subject: x\n\nbody\n", '\n', 0, 0 },
    { "\n \t\n\xef\xbb\xbfSubject: x\n", '\n', 0, 4 },
    { "From x\n\xef\xbb\xbf\r\nSubject: x\n", '\n', 7, 12 },
    /* a message stored in an mbox with its own "From " line, escaped */
    { ">From a@example.org Mon Apr  8 10:00:00 2024\nSubject: x\n", '\n', 45, 45 },
    { "From b@example.net Tue Apr  9 11:00:00 2024\n>From a@example.org\nSubject: x\n", '\n', 64, 64 },
    { "From b\r>From a\rSubject: x\r", '\r', 15, 0 },
    { ">From a@example.org", '\n', 19, 19 },
    { ">>From a@example.org\nSubject: x\n", '\n', 0, 0 },
    { ">Fromage\nSubject: x\n", '\n', 0, 0 },
    { "Fro", '\n', 0, 0 },
    { "", '\n', 0, 0 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      gsize len = strlen (cases[i].data);

      g_assert_cmpuint (bounce_mbox_from_end (cases[i].data, len, cases[i].eol), ==, cases[i].from_end);
      if (cases[i].eol == '\n')
        g_assert_cmpuint (bounce_message_start (cases[i].data, len), ==, cases[i].start);
    }
}

/* Fields put on a message go at the top of its header block: after the
 * mbox "From " lines it starts with, escaped or not, which are kept as
 * they are. A field put before an escaped one would leave a line that is
 * no field inside the header block, where many readers end it. */
static void
test_add_headers_after_from_lines (void)
{
  static const struct
  {
    const char *data, *want;
  } cases[] = {
    { ">From a@example.org Mon Apr  8 10:00:00 2024\nSubject: x\n\nbody\n",
      ">From a@example.org Mon Apr  8 10:00:00 2024\nX-Backscatter: legitimate\nSubject: x\n\nbody\n" },
    { "From b@example.net\n>From a@example.org\nX-Backscatter: forged\nSubject: x\n\nbody\n",
      "From b@example.net\n>From a@example.org\nX-Backscatter: legitimate\nSubject: x\n\nbody\n" },
    { "From b@example.net\r\n>From a@example.org\r\nSubject: x\r\n\r\nbody\r\n",
      "From b@example.net\r\n>From a@example.org\r\nX-Backscatter: legitimate\r\nSubject: x\r\n\r\nbody\r\n" },
    { ">From a@example.org", ">From a@example.org" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      gsize len = 0;
      g_autofree char *got = bounce_message_add_headers (cases[i].data, strlen (cases[i].data),
                                                         "X-Backscatter: legitimate\n", "X-Backscatter", &len);

      g_assert_cmpuint (len, ==, strlen (cases[i].want));
      g_assert_cmpstr (got, ==, cases[i].want);
    }
}

/* The header block one unfolded field at a time, names as GMime reads
 * them, up to the blank line (LF or CRLF) that ends it. */
static void
test_header_fields (void)
{
  static const char block[] = "Content-Type : multipart/report;\r\n"
                              "\treport-type=delivery-status\r\n"
                              "no colon here\r\n"
                              "Subject:x\r\n"
                              "\r\n"
                              "Body: not a header\r\n";
  static const struct
  {
    const char *name, *value;
  } want[] = {
    { "Content-Type", " multipart/report;\r\n\treport-type=delivery-status\r\n" },
    { "", NULL },
    { "Subject", "x\r\n" },
  };
  gsize len = strlen (block), pos = 0;
  BounceHeaderField f;
  guint n = 0;

  while (bounce_header_next (block, len, &pos, &f))
    {
      g_assert_cmpuint (n, <, G_N_ELEMENTS (want));
      g_assert_cmpmem (f.line, f.name_len, want[n].name, strlen (want[n].name));
      if (want[n].value)
        g_assert_cmpmem (f.value, f.value_len, want[n].value, strlen (want[n].value));
      else
        g_assert_null (f.value);
      n++;
    }
  g_assert_cmpuint (n, ==, G_N_ELEMENTS (want));
  g_assert_cmpuint (pos, ==, strstr (block, "Body:") - block);
  g_assert_cmpuint (bounce_header_block_end (block, len), ==, pos);
  /* No blank line: the block is all of it; and one that ends unfinished. */
  g_assert_cmpuint (bounce_header_block_end ("A: b\n\tc", 8), ==, 8);
  g_assert_cmpuint (bounce_header_block_end ("A: b\n\nc", 7), ==, 6);
  g_assert_cmpuint (bounce_header_block_end ("\nA: b\n", 6), ==, 1);
}

/* A header's value read without GMime's decoder when there is nothing to
 * decode is the value GMime gives: folded, blanks at the ends, tabs,
 * encoded words, 8-bit text, a stray CR. */
static void
test_header_value (void)
{
  static const char msg[] = "Received: from a.example.com\r\n"
                            "\tby b.example.net;  Mon, 1 Jan 2024 00:00:00 +0000  \r\n"
                            "Subject:   plain\twords \r\n"
                            "X-Enc: =?utf-8?q?caf=C3=A9?= and more\r\n"
                            "X-Latin: caf\xe9\r\n"
                            "X-Cr: a\rb\r\n"
                            "X-Empty:\r\n"
                            "X-Almost: a = ? b =\r\n"
                            "\r\n"
                            "body\r\n";
  g_autoptr (GMimeMessage) m = bounce_parse_message_bytes (msg, strlen (msg));
  GMimeHeaderList *list = g_mime_object_get_header_list (GMIME_OBJECT (m));
  int n = g_mime_header_list_get_count (list);

  g_assert_cmpint (n, ==, 7);
  for (int i = 0; i < n; i++)
    {
      GMimeHeader *h = g_mime_header_list_get_header_at (list, i);
      g_autofree char *value = bounce_header_value (h);

      g_assert_cmpstr (value, ==, g_mime_header_get_value (h));
    }
  g_assert_cmpstr (g_mime_object_get_header (GMIME_OBJECT (m), "Subject"), ==, "plain\twords");
  g_assert_cmpstr (g_mime_object_get_header (GMIME_OBJECT (m), "X-Enc"), ==, "caf\xc3\xa9 and more");
}

/* A date in ISO 8601 as g_date_time_format() writes it: offsets east and
 * west, of whole hours and not, years of fewer than four digits. */
static void
test_date_iso (void)
{
  static const int years[] = { 1, 999, 1969, 2024, 9999 };
  static const char *const zones[] = { "+00:00", "-00:30", "+05:45", "-12:00", "+14:00", "-03:30", "+01:00" };

  for (guint y = 0; y < G_N_ELEMENTS (years); y++)
    for (guint z = 0; z < G_N_ELEMENTS (zones); z++)
      {
        g_autoptr (GTimeZone) tz = g_time_zone_new_identifier (zones[z]);
        g_autoptr (GDateTime) d = g_date_time_new (tz, years[y], 2, 3, 4, 5, 6);
        g_autofree char *want = g_date_time_format (d, "%Y-%m-%dT%H:%M:%S%:z");
        g_autofree char *got = bounce_date_iso (d);

        g_assert_cmpstr (got, ==, want);
      }
}

/* bounce_date_to_iso() and bounce_date_unix() read a date as GMime's
 * decoder does: the same instant and offset, or no date for both. Dates of the usual form and
 * near misses, every day of two years' months, and every Date-like field
 * of the shared corpus when it is there. */
static void
assert_date_agrees (const char *value)
{
  g_autoptr (GDateTime) want = g_mime_utils_header_decode_date (value);
  g_autofree char *want_iso = want ? bounce_date_iso (want) : NULL;
  g_autofree char *got_iso = bounce_date_to_iso (value);
  gint64 got_unix = 0;
  gboolean got = bounce_date_unix (value, &got_unix);

  if (g_strcmp0 (got_iso, want_iso) != 0 || got != (want != NULL) || (want && got_unix != g_date_time_to_unix (want)))
    g_error ("date \"%s\": GMime reads %s, bounce_date_to_iso %s, bounce_date_unix %s %" G_GINT64_FORMAT, value,
             want_iso ? want_iso : "none", got_iso ? got_iso : "none", got ? "yes" : "no", got_unix);
}

static void
test_date_parse (void)
{
  static const char *const values[] = {
    "Mon, 1 Jan 2024 09:30:00 +0100",
    "Mon, 01 Jan 2024 09:30:00 +0100",
    "1 Jan 2024 09:30 -0530",
    "Tue, 1 Jan 2024 09:30:00 +0100",
    "Mon, 1 Jan 2024 09:30:00 +0100 (CET)",
    "Mon, 1 Jan 2024 09:30:00 +0100 (a (b) c)",
    "Mon, 1 Jan 2024 09:30:00 +0100 (CET",
    "Mon, 1 Jan 2024 09:30:00 +0100 x",
    "Mon, 1 Jan 2024 09:30:00 GMT",
    "Mon, 1 Jan 24 09:30:00 +0100",
    "Mon,1 Jan 2024 09:30:00 +0100",
    "Mon, 1 jan 2024 09:30:00 +0100",
    "Mon, 31 Feb 2024 09:30:00 +0100",
    "Mon, 29 Feb 2023 09:30:00 +0100",
    "Thu, 29 Feb 2024 23:59:59 -1200",
    "Mon, 1 Jan 2024 24:00:00 +0100",
    "Mon, 1 Jan 2024 09:60:00 +0100",
    "Mon, 1 Jan 2024 09:30:60 +0100",
    "Mon, 1 Jan 2024 09:30:00 +2400",
    "Mon, 1 Jan 2024 09:30:00 +0160",
    "Mon, 1 Jan 2024 09:30:00 -0000",
    "Mon, 1 Jan 1969 09:30:00 +0100",
    "Mon, 1 Jan 0999 09:30:00 +0100",
    "Mon, 1 Jan 9999 23:59:59 +1400",
    "Mon, 1 Jan 2024 9:30:00 +0100",
    "Mon, 1 Jan 2024 09:30:00  +0100",
    "Mon, 1 Jan 2024 09:30:00 +010",
    "Mon, 1 Jan 2024 09:30:00 +01000",
    "Mon, 100 Jan 2024 09:30:00 +0100",
    "",
    "Mon,",
    "garbage",
  };
  static const char *const days[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
  static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
  g_autofree char *corpus = test_corpus_path ("bounces", NULL);
  g_autoptr (GRegex) field = g_regex_new ("^(?:Date|Last-Attempt-Date|Will-Retry-Until|Arrival-Date):[ \t]*(.*?)\\r?$",
                                          G_REGEX_MULTILINE | G_REGEX_CASELESS, 0, NULL);
  guint n_corpus = 0;

  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    assert_date_agrees (values[i]);
  for (int year = 2023; year <= 2024; year++)
    for (guint m = 0; m < 12; m++)
      for (int day = 0; day <= 32; day++)
        {
          g_autofree char *a = g_strdup_printf ("%s, %d %s %d 12:34:56 +0200", days[day % 7], day, months[m], year);
          g_autofree char *b = g_strdup_printf ("%02d %s %d 00:00 -0945", day, months[m], year);

          assert_date_agrees (a);
          assert_date_agrees (b);
        }
  if (corpus && g_file_test (corpus, G_FILE_TEST_IS_DIR))
    {
      g_autoptr (GDir) dir = g_dir_open (corpus, 0, NULL);
      const char *name;

      while (dir && (name = g_dir_read_name (dir)))
        {
          g_autofree char *path = g_build_filename (corpus, name, NULL);
          g_autofree char *data = NULL;
          g_autoptr (GMatchInfo) match = NULL;

          if (!g_file_get_contents (path, &data, NULL, NULL) || !g_utf8_validate (data, -1, NULL))
            continue;
          g_regex_match (field, data, 0, &match);
          for (; g_match_info_matches (match); g_match_info_next (match, NULL), n_corpus++)
            {
              g_autofree char *value = g_match_info_fetch (match, 1);

              assert_date_agrees (value);
            }
        }
    }
  g_test_message ("%u dates of the corpus read alike", n_corpus);
}

/* The Content-Type value @v as bounce_content_type_quick() reads it
 * agrees with GMime's reading wherever the quick one reads it at all.
 * Returns whether it did. */
static gboolean
assert_type_agrees (GMimeParserOptions *opts, const char *v)
{
  BounceQuickType qt;
  g_autoptr (GMimeContentType) ct = NULL;
  const char *names[] = { "boundary", "charset", "name" };

  if (!bounce_content_type_quick (v, &qt))
    return FALSE;
  ct = g_mime_content_type_parse (opts, v);
  if (ct == NULL)
    g_error ("[%s]: read quickly, yet GMime reads no type", v);
  {
    g_autofree char *type = g_strndup (qt.type, qt.type_len);
    g_autofree char *subtype = g_strndup (qt.subtype, qt.subtype_len);
    const char *values[] = { qt.boundary, qt.charset, qt.name };
    gsize lens[] = { qt.boundary_len, qt.charset_len, qt.name_len };

    if (g_strcmp0 (type, g_mime_content_type_get_media_type (ct)) != 0
        || g_strcmp0 (subtype, g_mime_content_type_get_media_subtype (ct)) != 0)
      g_error ("[%s]: %s/%s quickly, %s/%s by GMime", v, type, subtype, g_mime_content_type_get_media_type (ct),
               g_mime_content_type_get_media_subtype (ct));
    for (guint i = 0; i < G_N_ELEMENTS (names); i++)
      {
        g_autofree char *quick = values[i] ? g_strndup (values[i], lens[i]) : NULL;

        if (g_strcmp0 (quick, g_mime_content_type_get_parameter (ct, names[i])) != 0)
          g_error ("[%s]: %s [%s] quickly, [%s] by GMime", v, names[i], quick ? quick : "(none)",
                   g_mime_content_type_get_parameter (ct, names[i]) ?: "(none)");
      }
  }
  return TRUE;
}

/* Every Content-Type field of @data (unfolded), to assert_type_agrees();
 * counts them and those read quickly. */
static void
types_agree_in (GMimeParserOptions *opts, const char *data, guint *n, guint *quick)
{
  g_auto (GStrv) lines = g_strsplit (data, "\n", -1);

  for (guint i = 0; lines[i]; i++)
    if (g_ascii_strncasecmp (lines[i], "Content-Type:", 13) == 0)
      {
        GString *v = g_string_new (lines[i] + 13), *folded = g_string_new (lines[i] + 13);

        for (guint k = i + 1; lines[k] && (lines[k][0] == ' ' || lines[k][0] == '\t'); k++)
          {
            g_string_append (v, lines[k]);
            g_string_append_printf (folded, "\n%s", lines[k]);
          }
        g_strdelimit (v->str, "\r", ' ');
        (*n)++;
        *quick += assert_type_agrees (opts, g_strstrip (v->str));
        assert_type_agrees (opts, folded->str);
        g_string_free (v, TRUE);
        g_string_free (folded, TRUE);
      }
}

/* The plainest Content-Type values are read without GMime's parser, the
 * same as GMime reads them: over hand-made values in the forms it takes
 * and those it leaves to GMime, every Content-Type field of the samples
 * and of the corpus when it is there. */
static void
test_content_type_quick (void)
{
  static const struct
  {
    const char *v;
    gboolean quick;
  } values[] = {
    { "text/plain", TRUE },
    { "  Text/HTML ; charset=\"UTF-8\"", TRUE },
    { "multipart/mixed; boundary=\"----=_Part_1_2.3\"", TRUE },
    { "multipart/report; report-type=delivery-status;\tboundary=abc123", TRUE },
    { "text/plain; charset=us-ascii; name=\"notes.txt\"; format=flowed", TRUE },
    { "multipart/alternative; boundary=\"a;b\"", TRUE },
    { "multipart/mixed;\r\n\tboundary=\"b1\";\n charset=x", TRUE },
    { "text/plain; name=\"two\r\n lines\"", FALSE },
    { "application/octet-stream; name=\"\"", TRUE },
    { "multipart/mixed; boundary=----=_NextPart", FALSE },
    { "text/plain; charset = utf-8", FALSE },
    { "text/plain; charset=utf-8;", FALSE },
    { "text/plain (a comment); charset=utf-8", FALSE },
    { "text/plain; name*=utf-8''r%C3%A9sum%C3%A9.txt", FALSE },
    { "text/plain; name*0=\"a\"; name*1=\"b\"", FALSE },
    { "text/plain; name=\"=?utf-8?q?r=C3=A9sum=C3=A9?=\"", FALSE },
    { "text/plain; name=\"a\\\"b\"", FALSE },
    { "text/plain; charset=utf-8; charset=latin1", FALSE },
    { "text/plain; name=\"unclosed", FALSE },
    { "text/plain; name=\"caf\xc3\xa9\"", FALSE },
    { "text", FALSE },
    { "/plain", FALSE },
    { "text/", FALSE },
    { "", FALSE },
  };
  g_autoptr (GMimeParserOptions) opts = bounce_parser_options ();
  g_autoptr (GPtrArray) files = test_collect_samples ();
  guint n = 0, quick = 0;

  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    if (assert_type_agrees (opts, values[i].v) != values[i].quick)
      g_error ("[%s]: read quickly: %d, expected %d", values[i].v, !values[i].quick, values[i].quick);
  for (guint i = 0; i < files->len; i++)
    {
      g_autofree char *data = NULL;

      if (g_file_get_contents (g_ptr_array_index (files, i), &data, NULL, NULL))
        types_agree_in (opts, data, &n, &quick);
    }
  g_test_message ("%u Content-Type values of %u files, %u read quickly, alike", n, files->len, quick);
  g_assert_cmpuint (quick, >, n / 2);
}

/* The check of UTF-8 agrees with GLib's on every placing of a bad or cut
 * sequence, or of a NUL byte, among runs of ASCII of every length up to
 * and past a word, and on sequences of every lead byte. */
static void
test_utf8_valid (void)
{
  static const struct
  {
    const char *bytes;
    gsize len;
  } inserts[] = {
    { "", 0 },     { "\xc3\xa9", 2 },   { "\xe2\x82\xac", 3 }, { "\xf0\x9f\x93\xa7", 4 }, { "\xff", 1 },
    { "\xc3", 1 }, { "\xe2\x82", 2 },   { "\xc0\xaf", 2 },     { "\xed\xa0\x80", 3 },     { "\x80", 1 },
    { "\0", 1 },   { "\xc3\xa9\0", 3 },
  };

  for (guint before = 0; before < 20; before++)
    for (guint after = 0; after < 20; after++)
      for (guint k = 0; k < G_N_ELEMENTS (inserts); k++)
        {
          g_autoptr (GString) s = g_string_new (NULL);
          gboolean valid;

          for (guint i = 0; i < before; i++)
            g_string_append_c (s, 'a' + i % 26);
          g_string_append_len (s, inserts[k].bytes, inserts[k].len);
          for (guint i = 0; i < after; i++)
            g_string_append_c (s, 'A' + i % 26);
          valid = bounce_utf8_valid (s->str, s->len);
          g_assert_cmpint (valid, ==, g_utf8_validate_len (s->str, s->len, NULL));
          g_assert_cmpint (valid, ==, k < 4); /* the first four are whole characters */
        }
  /* Two of them, ASCII between, around and not. */
  for (guint k1 = 0; k1 < G_N_ELEMENTS (inserts); k1++)
    for (guint k2 = 0; k2 < G_N_ELEMENTS (inserts); k2++)
      for (guint between = 0; between < 18; between++)
        for (guint around = 0; around < 3; around++)
          {
            g_autoptr (GString) s = g_string_new (NULL);

            g_string_append_len (s, "abcdefghij", around * 3);
            g_string_append_len (s, inserts[k1].bytes, inserts[k1].len);
            for (guint i = 0; i < between; i++)
              g_string_append_c (s, 'a' + i % 26);
            g_string_append_len (s, inserts[k2].bytes, inserts[k2].len);
            g_string_append_len (s, "ABCDEFGHIJ", around * 3);
            g_assert_cmpint (bounce_utf8_valid (s->str, s->len), ==, g_utf8_validate_len (s->str, s->len, NULL));
          }
  /* Every lead byte with every second byte (a continuation byte after
   * them, or ASCII), and with the bytes at the edges of the ranges the
   * table of well-formed sequences draws in each of the next three; cut
   * short after each byte. */
  {
    static const guchar edges[] = { 0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xff };

    for (guint c = 0; c < 256; c++)
      {
        for (guint c2 = 0; c2 < 256; c2++)
          for (guint tail = 0; tail < 2; tail++)
            {
              char seq[5] = { (char) c, (char) c2, tail ? 'x' : '\x80', tail ? 'y' : '\x80', 'z' };

              for (gsize n = 1; n <= sizeof seq; n++)
                if (bounce_utf8_valid (seq, n) != g_utf8_validate_len (seq, n, NULL))
                  g_error ("%02x %02x %02x %02x: %zu bytes not as GLib says", c, c2, (guchar) seq[2], (guchar) seq[3],
                           n);
            }
        for (guint e2 = 0; e2 < G_N_ELEMENTS (edges); e2++)
          for (guint e3 = 0; e3 < G_N_ELEMENTS (edges); e3++)
            for (guint e4 = 0; e4 < G_N_ELEMENTS (edges); e4++)
              {
                char seq[5] = { (char) c, (char) edges[e2], (char) edges[e3], (char) edges[e4], 'z' };

                for (gsize n = 1; n <= sizeof seq; n++)
                  if (bounce_utf8_valid (seq, n) != g_utf8_validate_len (seq, n, NULL))
                    g_error ("%02x %02x %02x %02x: %zu bytes not as GLib says", c, edges[e2], edges[e3], edges[e4], n);
              }
      }
  }
  /* Only the length given is read. */
  g_assert_false (bounce_utf8_valid ("abcdefghijk\xff", 12));
  g_assert_true (bounce_utf8_valid ("abcdefghijk\xff", 11));
}

/* Runs of white space, line breaks included, become one space; nothing
 * is left at either end, and nothing at all is NULL. */
static void
test_collapse_space (void)
{
  static const struct
  {
    const char *in, *out;
  } cases[] = {
    { "550 5.1.1\n    <bob@example.org>:  no such\tuser ", "550 5.1.1 <bob@example.org>: no such user" },
    { "  \r\n one", "one" },
    { "one", "one" },
    { " \t\n ", NULL },
    { "", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *out = bounce_collapse_space (cases[i].in);

      g_assert_cmpstr (out, ==, cases[i].out);
    }
  g_assert_null (bounce_collapse_space (NULL));
}

/* GMime's one-shot decode of @in (@len bytes) from @encoding.
 * Returns: (transfer full) */
static GByteArray *
gmime_transfer_decode (GMimeContentEncoding encoding, const char *in, gsize len)
{
  GByteArray *bytes = g_byte_array_new ();
  GMimeEncoding state;

  g_mime_encoding_init_decode (&state, encoding);
  g_byte_array_set_size (bytes, g_mime_encoding_outlen (&state, len));
  g_byte_array_set_size (bytes, g_mime_encoding_flush (&state, in, len, (char *) bytes->data));
  return bytes;
}

/* @s (@len bytes, at most the first 200) printable. */
static char *
escaped (const char *s, gsize len)
{
  GString *out = g_string_new (NULL);

  for (gsize i = 0; i < MIN (len, 200); i++)
    if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\\')
      g_string_append_c (out, s[i]);
    else
      g_string_append_printf (out, "\\x%02x", (guchar) s[i]);
  if (len > 200)
    g_string_append (out, "...");
  return g_string_free (out, FALSE);
}

/* bounce_transfer_decode of @in (@len bytes), at most @max of them, is
 * @whole (GMime's decode of all of @in) cut to @max; @in is read from a
 * copy of its exact size, not NUL-terminated, for a sanitizer to see a
 * read past its end. */
static void
assert_decode_agrees (GMimeContentEncoding encoding, const char *in, gsize len, const GByteArray *whole, gsize max)
{
  g_autofree char *copy = g_memdup2 (in, len);
  g_autoptr (GByteArray) ours = bounce_transfer_decode (encoding, copy, len, max);
  gsize want = MIN (whole->len, max);

  if (ours->len != want || (want && memcmp (ours->data, whole->data, want) != 0))
    {
      g_autofree char *input = escaped (in, len);
      g_autofree char *got = escaped ((const char *) ours->data, ours->len);
      g_autofree char *expected = escaped ((const char *) whole->data, want);

      g_error ("%s decode of [%s] (%zu bytes), at most %zu: [%s] (%u bytes), GMime [%s] (%zu bytes)",
               g_mime_content_encoding_to_string (encoding), input, len, max, got, ours->len, expected, want);
    }
}

/* As assert_decode_agrees, GMime's decode done here. */
static void
assert_decodes_alike (GMimeContentEncoding encoding, const char *in, gsize len, gsize max)
{
  g_autoptr (GByteArray) whole = gmime_transfer_decode (encoding, in, len);

  assert_decode_agrees (encoding, in, len, whole, max);
}

/* Quoted-printable and base64 decoded as GMime decodes them in one go,
 * malformed input included, and cut at any length asked for: written
 * cases, random ones drawn from the characters that matter to either
 * decoder, and every sample read whole as either encoding. */
static void
test_transfer_decode (void)
{
#define CASE(s)                                                                                                        \
  {                                                                                                                    \
    s, sizeof s - 1                                                                                                    \
  }
  static const struct
  {
    const char *s;
    gsize len;
  } cases[] = {
    /* quoted-printable */
    CASE (""),
    CASE ("plain text\r\n"),
    CASE ("plain text\n"),
    CASE ("a=41b"),
    CASE ("=41"),
    CASE ("=4a=4A=4a"),
    CASE ("caf=e9 caf=E9"),
    CASE ("="),
    CASE ("a="),
    CASE ("=4"),
    CASE ("a=4"),
    CASE ("=\r\n"),
    CASE ("a=\r\nb"),
    CASE ("a=\nb"),
    CASE ("=\n"),
    CASE ("=\n=\n=\n"),
    CASE ("=\r"),
    CASE ("a=\rb"),
    CASE ("a=\r\rb"),
    CASE ("x=\r\r\n"),
    CASE ("=\r=\n"),
    CASE ("=\r=41"),
    CASE ("=="),
    CASE ("==="),
    CASE ("==41"),
    CASE ("=G=41"),
    CASE ("=4G"),
    CASE ("=G4"),
    CASE ("= \r\n"),
    CASE ("=\t\n"),
    CASE ("a= b"),
    CASE ("a=  \r\nb"),
    CASE ("=3D"),
    CASE ("=3d=3D="),
    CASE ("=\r\n\r\n"),
    CASE ("line=20\r\nnext  \r\n"),
    CASE ("soft=\n\nhard"),
    CASE ("t\xe9t\xe9=\xff\xfe=e9\xc3\xa9"),
    CASE ("=\xc3\xa9"),
    CASE ("a\0b=00c=\0\0d"),
    CASE ("=0\0"),
    CASE ("\0\0\0"),
    /* base64 */
    CASE ("QQ=="),
    CASE ("QQ="),
    CASE ("QQ"),
    CASE ("Q"),
    CASE ("Q="),
    CASE ("=QQ=="),
    CASE ("QUI="),
    CASE ("QUI"),
    CASE ("QUJD"),
    CASE ("QUJDRA=="),
    CASE ("QUJD\r\nRA==\r\n"),
    CASE ("QUJD\nREVG\n"),
    CASE ("QUJDREVG\r\nR0hJ\r\n"),
    CASE ("QU=JD"),
    CASE ("QUJD=QUJD"),
    CASE ("QQ==QUJD"),
    CASE ("QUJD=="),
    CASE ("QUJD="),
    CASE ("QUJDQ"),
    CASE ("QUJDQQ"),
    CASE ("QUJDQUI"),
    CASE ("QUJDQQ=x"),
    CASE ("QUJD QUJ D"),
    CASE ("QU*J!D"),
    CASE ("\xff\xfeQUJD\x80"),
    CASE ("QU\xc3\xa9JD"),
    CASE ("QUJ\0D"),
    CASE ("-_-_"),
    CASE ("+/+/"),
    CASE ("////"),
    CASE ("AAAA"),
    CASE ("Q\r\nU\r\nJ\r\nD"),
    CASE ("QU\nJ="),
    CASE ("QU\r\n=\r\n="),
    CASE ("a b c d e f g h"),
    CASE ("SGVsbG8sIHdvcmxkIQ==\r\n"),
    CASE ("SGVsbG8sIHdvcmxk\r\nIQ\r\n"),
  };
#undef CASE
  static const char alphabet[] = "=====0123456789abcdefABCDEF\r\n\r\n\r\n  \t+/QUJDRAGxyz-_*\x80\xc3\xa9\xff";
  static const GMimeContentEncoding encodings[] = { GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE,
                                                    GMIME_CONTENT_ENCODING_BASE64 };
  g_autoptr (GRand) rand = g_rand_new_with_seed (20250611);
  g_autoptr (GPtrArray) files = test_collect_samples ();
  gsize bytes = 0;

  bounce_gmime_init ();
  /* Each written case as either encoding, cut at every length. */
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    for (guint e = 0; e < G_N_ELEMENTS (encodings); e++)
      {
        assert_decodes_alike (encodings[e], cases[i].s, cases[i].len, G_MAXSIZE);
        for (gsize max = 0; max <= cases[i].len + 1; max++)
          assert_decodes_alike (encodings[e], cases[i].s, cases[i].len, max);
      }
  /* Other encodings are copied. */
  assert_decodes_alike (GMIME_CONTENT_ENCODING_8BIT, "a=41\0QQ==", 9, G_MAXSIZE);
  assert_decodes_alike (GMIME_CONTENT_ENCODING_7BIT, "a=41\0QQ==", 9, 3);

  /* Random inputs of the characters either decoder treats apart, and
   * the NUL byte; each whole and cut at a random length. */
  for (guint i = 0; i < 20000; i++)
    {
      char in[300];
      gsize len = g_rand_int_range (rand, 0, sizeof in + 1);

      for (gsize k = 0; k < len; k++)
        in[k] = g_rand_int_range (rand, 0, 40) ? alphabet[g_rand_int_range (rand, 0, sizeof alphabet - 1)]
                                               : (char) g_rand_int_range (rand, 0, 256);
      for (guint e = 0; e < G_N_ELEMENTS (encodings); e++)
        {
          g_autoptr (GByteArray) whole = gmime_transfer_decode (encodings[e], in, len);

          assert_decode_agrees (encodings[e], in, len, whole, G_MAXSIZE);
          assert_decode_agrees (encodings[e], in, len, whole, g_rand_int_range (rand, 0, len + 2));
          if (whole->len)
            assert_decode_agrees (encodings[e], in, len, whole, whole->len - 1);
        }
    }

  /* Every sample, its bytes read as either encoding, whole and cut. */
  for (guint i = 0; i < files->len; i++)
    {
      g_autofree char *data = NULL;
      gsize len;

      if (!g_file_get_contents (g_ptr_array_index (files, i), &data, &len, NULL))
        continue;
      bytes += len;
      for (guint e = 0; e < G_N_ELEMENTS (encodings); e++)
        {
          g_autoptr (GByteArray) whole = gmime_transfer_decode (encodings[e], data, len);
          const gsize caps[] = { whole->len / 2, g_rand_int_range (rand, 0, len + 1) };

          assert_decode_agrees (encodings[e], data, len, whole, G_MAXSIZE);
          for (guint c = 0; c < G_N_ELEMENTS (caps); c++)
            assert_decode_agrees (encodings[e], data, len, whole, caps[c]);
        }
    }
  g_test_message ("%u files (%zu bytes) decoded alike", files->len, bytes);
  g_assert_cmpuint (files->len, >, 0);
}

/* The leaves under @obj, messages' parts too, added to @leaves. */
static void
collect_leaves (GMimeObject *obj, GPtrArray *leaves)
{
  if (GMIME_IS_MULTIPART (obj))
    for (int i = 0; i < g_mime_multipart_get_count (GMIME_MULTIPART (obj)); i++)
      collect_leaves (g_mime_multipart_get_part (GMIME_MULTIPART (obj), i), leaves);
  else if (GMIME_IS_MESSAGE_PART (obj) && g_mime_message_part_get_message (GMIME_MESSAGE_PART (obj)))
    collect_leaves (g_mime_message_get_mime_part (g_mime_message_part_get_message (GMIME_MESSAGE_PART (obj))), leaves);
  else if (GMIME_IS_PART (obj))
    g_ptr_array_add (leaves, obj);
}

/* A part's content, decoded, is what GMime's data wrapper writes, whole
 * and cut, for every part of every sample and corpus message. */
static void
test_part_content (void)
{
  g_autoptr (GPtrArray) files = test_collect_samples ();
  guint parts = 0, decoded = 0;

  for (guint i = 0; i < files->len; i++)
    {
      g_autofree char *data = NULL;
      g_autoptr (GMimeObject) top = NULL;
      g_autoptr (GPtrArray) leaves = g_ptr_array_new ();
      gsize len, start;

      if (!g_file_get_contents (g_ptr_array_index (files, i), &data, &len, NULL))
        continue;
      start = bounce_message_start (data, len);
      top = bounce_parse_part_bytes (data + start, len - start);
      if (top == NULL)
        continue;
      collect_leaves (top, leaves);
      for (guint k = 0; k < leaves->len; k++)
        {
          GMimePart *part = g_ptr_array_index (leaves, k);
          GMimeDataWrapper *content = g_mime_part_get_content (part);
          g_autoptr (GByteArray) expected = g_byte_array_new ();
          g_autoptr (GMimeStream) mem = g_mime_stream_mem_new_with_byte_array (expected);
          g_autoptr (GByteArray) whole = bounce_part_content (part, G_MAXSIZE);
          g_autoptr (GByteArray) cut = NULL;

          g_mime_stream_mem_set_owner (GMIME_STREAM_MEM (mem), FALSE);
          if (content)
            g_mime_data_wrapper_write_to_stream (content, mem);
          cut = bounce_part_content (part, expected->len / 2);
          /* (an empty array has no data at all) */
          if (whole->len != expected->len || (whole->len && memcmp (whole->data, expected->data, whole->len) != 0)
              || cut->len != expected->len / 2 || (cut->len && memcmp (cut->data, expected->data, cut->len) != 0))
            g_error ("%s: part %u: %u bytes, GMime writes %u", (const char *) g_ptr_array_index (files, i), k,
                     whole->len, expected->len);
          parts++;
          if (content
              && (g_mime_data_wrapper_get_encoding (content) == GMIME_CONTENT_ENCODING_BASE64
                  || g_mime_data_wrapper_get_encoding (content) == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE))
            decoded++;
        }
    }
  g_test_message ("%u parts, %u of them base64 or quoted-printable, read alike", parts, decoded);
  g_assert_cmpuint (decoded, >, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/util/status", test_status);
  g_test_add_func ("/util/message-start", test_message_start);
  g_test_add_func ("/util/add-headers-after-from-lines", test_add_headers_after_from_lines);
  g_test_add_func ("/util/content-type-quick", test_content_type_quick);
  g_test_add_func ("/util/header-fields", test_header_fields);
  g_test_add_func ("/util/header-value", test_header_value);
  g_test_add_func ("/util/date-iso", test_date_iso);
  g_test_add_func ("/util/date-parse", test_date_parse);
  g_test_add_func ("/util/reply-code", test_reply_code);
  g_test_add_func ("/util/addr-spec", test_addr_spec);
  g_test_add_func ("/util/risky", test_risky);
  g_test_add_func ("/util/convert", test_convert);
  g_test_add_func ("/util/utf8-valid", test_utf8_valid);
  g_test_add_func ("/util/json-string", test_json_string);
  g_test_add_func ("/util/json-writer", test_json_writer);
  g_test_add_func ("/util/message-get-header", test_message_get_header);
  g_test_add_func ("/util/json-writer-misuse", test_json_writer_misuse);
  g_test_add_func ("/util/first-use-threads", test_first_use_threads);
  g_test_add_func ("/util/collapse-space", test_collapse_space);
  g_test_add_func ("/util/transfer-decode", test_transfer_decode);
  g_test_add_func ("/util/part-content", test_part_content);
  return g_test_run ();
}

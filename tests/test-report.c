/* test-report.c — the fields of a report's own header block that the
 * reader reads come through, however many trace and signature fields
 * surround them: those kept on the report, and those that make a
 * message an automatic reply; and the bytes the parse reads live as long
 * as it does. No corpus needed. */
#include "test-common.h"
#include "bounce-private.h"

#include <string.h>

/* Fields no part of the reader reads, written before and between the
 * others as mail systems write them. */
#define NOISE                                                                                                          \
  "Received: from a.example.net (a.example.net [192.0.2.1])\n"                                                         \
  "\tby b.example.org with ESMTPS id 1x; Mon, 1 Jan 2024 00:00:01 +0000\n"                                             \
  "DKIM-Signature: v=1; a=rsa-sha256; d=example.net; s=s1;\n"                                                          \
  "\th=from:to; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=dGVzdA==\n"                                         \
  "ARC-Seal: i=1; a=rsa-sha256; d=example.org; s=arc; cv=none; b=dGVzdA==\n"                                           \
  "Authentication-Results: b.example.org; spf=pass smtp.mailfrom=example.net\n"

static BounceReport *
read_report (const char *msg, BounceRules *rules)
{
  g_autoptr (GError) error = NULL;
  BounceReport *r = bounce_report_new_from_data (msg, strlen (msg), rules, BOUNCE_PARSE_DEFAULT, &error);

  g_assert_no_error (error);
  g_assert_nonnull (r);
  return r;
}

static void
test_own_fields (void)
{
  static const char msg[] =
      NOISE "From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\n" NOISE "To: ann@example.com\n"
            "Subject: Undelivered Mail Returned to Sender\n" NOISE "Date: Mon, 1 Jan 2024 00:00:02 +0000\n"
            "Message-ID: <dsn-1@mx.example.org>\n" NOISE "Delivered-To: ann+lists@example.com\n"
            "X-Original-To: ann@example.com\n"
            "In-Reply-To: <sent-1@example.com>\n" NOISE "MIME-Version: 1.0\n" NOISE
            "Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n"
            "--b\n\nThe mail could not be delivered.\n"
            "--b\nContent-Type: message/delivery-status\n\n"
            "Reporting-MTA: dns; mx.example.org\n\n"
            "Final-Recipient: rfc822; bob@example.net\nAction: failed\nStatus: 5.1.1\n"
            "--b--\n";
  g_autoptr (BounceRules) rules = test_project_rules ();
  g_autoptr (BounceReport) r = read_report (msg, rules);

  g_assert_cmpint (bounce_report_get_kind (r), ==, BOUNCE_KIND_FAILURE);
  g_assert_cmpuint (bounce_report_get_n_recipients (r), ==, 1);
  g_assert_cmpstr (bounce_report_get_header (r, "From"), ==, "Mail Delivery System <MAILER-DAEMON@mx.example.org>");
  g_assert_cmpstr (bounce_report_get_header (r, "To"), ==, "ann@example.com");
  g_assert_cmpstr (bounce_report_get_header (r, "Subject"), ==, "Undelivered Mail Returned to Sender");
  g_assert_cmpstr (bounce_report_get_header (r, "Date"), ==, "Mon, 1 Jan 2024 00:00:02 +0000");
  g_assert_cmpstr (bounce_report_get_header (r, "Message-ID"), ==, "<dsn-1@mx.example.org>");
  g_assert_cmpstr (bounce_report_get_header (r, "X-Original-To"), ==, "ann@example.com");
  g_assert_cmpstr (bounce_report_get_header (r, "In-Reply-To"), ==, "<sent-1@example.com>");
  g_assert_cmpstr (bounce_report_get_bounce_to (r), ==, "ann+lists@example.com");
}

/* Each header that says a message is an automatic reply makes it one,
 * with the project's rules and with none (the format-free reader). */
static void
test_auto_reply_fields (void)
{
  static const char *const says[] = {
    "Auto-Submitted: auto-replied\n", "X-Autoreply: yes\n", "X-Autorespond: yes\n", "Precedence: auto_reply\n", "",
  };
  g_autoptr (BounceRules) project = test_project_rules ();
  g_autoptr (BounceRules) none = bounce_rules_new ();

  for (guint i = 0; i < 2 * G_N_ELEMENTS (says); i++)
    {
      BounceRules *rules = i % 2 ? none : project;
      g_autofree char *msg =
          g_strdup_printf (NOISE "From: Bob <bob@example.net>\nTo: ann@example.com\n" NOISE
                                 "Subject: Re: minutes\n%s" NOISE "\n"
                                 "Thank you for your message. I am out of the office until Monday.\n",
                           says[i / 2]);
      g_autoptr (BounceReport) r = read_report (msg, rules);

      g_assert_cmpint (bounce_report_get_kind (r), ==, *says[i / 2] ? BOUNCE_KIND_AUTOREPLY : BOUNCE_KIND_NOT_BOUNCE);
    }
}

/* The MIME parse reads the parts from the bytes it is given, not from a
 * copy of them: those of the caller, or the reader's own when it cuts
 * the fields no rule reads or turns bare CRs into line ends. Each must
 * live as long as the parse, and nothing of the report may point into
 * them after: the caller's bytes are overwritten once it is read. (Under
 * AddressSanitizer, a part read from freed bytes fails the run.) */
static void
test_parsed_bytes (void)
{
  static const char *const headers[] = {
    /* the caller's bytes, parsed as they are */
    "From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\nTo: ann@example.com\n",
    /* fields no rule reads, cut from a copy */
    NOISE "From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\n" NOISE "To: ann@example.com\n" NOISE,
  };
  g_autoptr (BounceRules) rules = test_project_rules ();

  for (guint i = 0; i < 2 * G_N_ELEMENTS (headers); i++)
    {
      g_autofree char *msg =
          g_strconcat (headers[i / 2], "Subject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\n",
                       "Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n",
                       "--b\n\nThe mail could not be delivered.\n",
                       "--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.org\n\n",
                       "Final-Recipient: rfc822; bob@example.net\nAction: failed\nStatus: 5.1.1\n",
                       "Diagnostic-Code: smtp; 550 5.1.1 <bob@example.net>: no such user\n",
                       "--b\nContent-Type: message/rfc822\n\n",
                       "From: Ann <ann@example.com>\nTo: bob@example.net\nSubject: the minutes\n",
                       "Message-ID: <sent-1@example.com>\nMIME-Version: 1.0\n",
                       "Content-Type: multipart/mixed; boundary=m\n\n--m\nContent-Type: text/plain\n\nAttached.\n",
                       "--m\nContent-Type: application/zip; name=minutes.zip\nContent-Transfer-Encoding: base64\n",
                       "Content-Disposition: attachment; filename=minutes.zip\n\nUEsDBAoAAAAAAA==\n--m--\n--b--\n",
                       NULL);
      g_autoptr (BounceReport) r = NULL;
      BounceOriginal *o;
      const BounceAttachment *a;

      /* ... and with bare CR line ends, read from a copy with LF ones */
      if (i % 2)
        g_strdelimit (msg, "\n", '\r');
      r = read_report (msg, rules);
      memset (msg, 'x', strlen (msg));
      g_assert_cmpint (bounce_report_get_kind (r), ==, BOUNCE_KIND_FAILURE);
      g_assert_cmpuint (bounce_report_get_n_recipients (r), ==, 1);
      g_assert_cmpstr (bounce_recipient_get_address (bounce_report_get_recipient (r, 0)), ==, "bob@example.net");
      g_assert_cmpstr (bounce_recipient_get_status (bounce_report_get_recipient (r, 0)), ==, "5.1.1");
      g_assert_nonnull (strstr (bounce_recipient_get_diagnostic (bounce_report_get_recipient (r, 0)), "no such user"));
      o = bounce_report_get_original (r);
      g_assert_nonnull (o);
      g_assert_cmpstr (bounce_original_get_message_id (o), ==, "<sent-1@example.com>");
      g_assert_cmpuint (bounce_original_get_n_attachments (o), ==, 1);
      a = bounce_original_get_attachment (o, 0);
      g_assert_cmpstr (a->name, ==, "minutes.zip");
      g_assert_cmpstr (a->content_type, ==, "application/zip");
      g_assert_true (a->risky);
    }
}

/* A later plain-text part with no content at all: no delivery-status
 * fields in it, and nothing read from nowhere (GLib's checks are fatal
 * here). */
static void
test_empty_text_attachment (void)
{
  static const char msg[] = "From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\nTo: ann@example.com\n"
                            "Subject: Undelivered Mail\nMIME-Version: 1.0\n"
                            "Content-Type: multipart/mixed; boundary=b\n\n"
                            "--b\n\nThe mail could not be delivered.\n"
                            "--b\nContent-Type: text/plain\n\n--b--\n";
  g_autoptr (BounceRules) rules = test_project_rules ();
  g_autoptr (GError) error = NULL;
  g_autoptr (BounceReport) r = bounce_report_new_from_data (msg, sizeof msg - 1, rules, BOUNCE_PARSE_NO_TRIAGE, &error);

  g_assert_no_error (error);
  g_assert_nonnull (r);
  g_assert_cmpuint (bounce_report_get_n_recipients (r), ==, 0);
}

/* The format-free reader weighs the type of the report's own body: a
 * multipart/report says the message is a report, a multipart/mixed does
 * not. The body's type is read from the report's header block, where the
 * rest of its fields are. */
static void
test_report_type (void)
{
  static const char *const types[] = { "multipart/report; report-type=delivery-status", "multipart/mixed" };
  g_autoptr (BounceRules) none = bounce_rules_new ();

  for (guint i = 0; i < G_N_ELEMENTS (types); i++)
    {
      g_autofree char *msg =
          g_strdup_printf (NOISE "From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\nTo: ann@example.com\n"
                                 "Subject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\n" NOISE
                                 "Content-Type: %s; boundary=b\n\n"
                                 "--b\nContent-Type: text/plain\n\n"
                                 "Your message to bob@example.net could not be delivered.\n"
                                 "550 5.1.1 <bob@example.net>: no such user\n"
                                 "--b\nContent-Type: text/rfc822-headers\n\n"
                                 "From: Ann <ann@example.com>\nTo: bob@example.net\nMessage-ID: <sent-2@example.com>\n"
                                 "--b--\n",
                           types[i]);
      g_autoptr (BounceReport) r = read_report (msg, none);
      const char *const *signals = bounce_report_get_signals (r);

      g_assert_cmpint (bounce_report_get_kind (r), ==, BOUNCE_KIND_FAILURE);
      g_assert_nonnull (signals);
      g_assert_cmpint (g_strv_contains (signals, "Content-Type multipart/report"), ==, i == 0);
    }
}

/* A report as mail systems write it, its original carried in a part
 * whose header block is @part_fields. */
static char *
report_carrying (const char *part_fields, const char *original)
{
  return g_strconcat ("From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\nTo: ann@example.com\n",
                      "Subject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\n",
                      "Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n",
                      "--b\n\nThe mail could not be delivered.\n",
                      "--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.org\n\n",
                      "Final-Recipient: rfc822; bob@example.net\nAction: failed\nStatus: 5.1.1\n", "--b\n", part_fields,
                      "\n\n", original, "\n--b--\n", NULL);
}

/* The message in a message/rfc822 (message/global, message/news) part is
 * not parsed with the report: the parse reads it as a leaf and the
 * original from its bytes. It comes back the same whatever the part's
 * Content-Type field looks like, a message it attaches is still listed
 * as one, and a report forwarded inside such a part is still read as the
 * report. */
static void
test_carried_message (void)
{
  static const char *const fields[] = {
    "Content-Type: message/rfc822",
    "Content-Type: message/global",
    "Content-Type: message/news",
    "Content-Type: Message/RFC822; name=\"returned.eml\"",
    "Content-Type:\n\tmessage/rfc822",
    "Content-Description: Undelivered Message\nContent-Type: message/rfc822\nContent-Disposition: inline",
    "Content-Type: text/plain\nContent-Type: message/rfc822",
    "Content-Type: message/rfc822\nContent-Transfer-Encoding: 7bit",
    "Content-Type: message/rfc822 (the original)",
  };
  static const char original[] =
      "Received: from c.example.com by a.example.com; Mon, 1 Jan 2024 00:00:00 +0000\n"
      "From: Ann <ann@example.com>\nTo: bob@example.net\nSubject: the minutes\n"
      "Message-ID: <sent-3@example.com>\nMIME-Version: 1.0\n"
      "Content-Type: multipart/mixed; boundary=m\n\n--m\nContent-Type: text/plain\n\nForwarded below.\n"
      "--m\nContent-Type: message/rfc822\n\nFrom: Carl <carl@example.com>\nSubject: notes\n\nThe notes.\n--m--";
  g_autoptr (BounceRules) rules = test_project_rules ();

  for (guint i = 0; i < 2 * G_N_ELEMENTS (fields); i++)
    {
      g_autofree char *msg = report_carrying (fields[i / 2], original);
      g_autoptr (BounceReport) r = NULL;
      g_autofree char *json = NULL;
      BounceOriginal *o;

      /* ... and with CRLF line ends */
      if (i % 2)
        {
          g_auto (GStrv) lines = g_strsplit (msg, "\n", -1);

          g_free (msg);
          msg = g_strjoinv ("\r\n", lines);
        }
      r = read_report (msg, rules);
      g_assert_cmpint (bounce_report_get_kind (r), ==, BOUNCE_KIND_FAILURE);
      o = bounce_report_get_original (r);
      g_assert_nonnull (o);
      g_assert_cmpstr (bounce_original_get_carried_as (o), ==, "message/rfc822");
      g_assert_cmpstr (bounce_original_get_message_id (o), ==, "<sent-3@example.com>");
      g_assert_cmpstr (bounce_original_get_from (o), ==, "Ann <ann@example.com>");
      g_assert_cmpuint (bounce_original_get_n_received (o), ==, 1);
      g_assert_cmpuint (bounce_original_get_n_attachments (o), ==, 1);
      g_assert_cmpstr (bounce_original_get_attachment (o, 0)->content_type, ==, "message/rfc822");
      json = bounce_report_to_json (r);
      g_assert_null (strstr (json, BOUNCE_CARRIED_SUBTYPE));
    }

  /* A report a gateway wraps in a message of its own: the inner report
   * is read, with the rules and with none. */
  for (guint i = 0; i < 2; i++)
    {
      static const char msg[] =
          "From: Mail Gateway <postmaster@gw.example.org>\nTo: ann@example.com\n"
          "Subject: Undelivered Mail Returned to Sender\n"
          "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=f\n\n"
          "--f\nContent-Type: text/plain\n\nThe report of the mail system behind this gateway follows.\n"
          "--f\nContent-Type: message/rfc822\n\n"
          "From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\nTo: ann@example.com\n"
          "Subject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\n"
          "Content-Type: multipart/report; report-type=delivery-status;\n\tboundary=b\n\n"
          "--b\n\nThe mail could not be delivered.\n"
          "--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.org\n\n"
          "Final-Recipient: rfc822; carl@example.net\nAction: failed\nStatus: 5.2.2\n"
          "--b\nContent-Type: text/rfc822-headers\n\nFrom: Ann <ann@example.com>\nMessage-ID: <sent-4@example.com>\n"
          "--b--\n--f--\n";
      g_autoptr (BounceRules) none = bounce_rules_new ();
      g_autoptr (BounceReport) r = read_report (msg, i ? none : rules);

      g_assert_cmpint (bounce_report_get_kind (r), ==, BOUNCE_KIND_FAILURE);
      g_assert_cmpuint (bounce_report_get_n_recipients (r), ==, 1);
      g_assert_cmpstr (bounce_recipient_get_address (bounce_report_get_recipient (r, 0)), ==, "carl@example.net");
      g_assert_cmpstr (bounce_recipient_get_status (bounce_report_get_recipient (r, 0)), ==, "5.2.2");
      g_assert_cmpstr (bounce_original_get_message_id (bounce_report_get_original (r)), ==, "<sent-4@example.com>");
    }
}

/* The shape of the tree under @obj, each message part (or part the
 * parse gives as a leaf for one) "C" and not entered, each leaf "L" and
 * its decoded content added to @leaves; *@carried counts the message
 * parts with a Content-Type field of their own. */
static void
tree_shape (GMimeObject *obj, GString *shape, GString *leaves, guint *carried)
{
  if (GMIME_IS_MULTIPART (obj))
    {
      g_string_append_c (shape, '(');
      for (int i = 0; i < g_mime_multipart_get_count (GMIME_MULTIPART (obj)); i++)
        tree_shape (g_mime_multipart_get_part (GMIME_MULTIPART (obj), i), shape, leaves, carried);
      g_string_append_c (shape, ')');
    }
  else if (GMIME_IS_MESSAGE_PART (obj)
           || g_mime_content_type_is_type (g_mime_object_get_content_type (obj), "message", BOUNCE_CARRIED_SUBTYPE))
    {
      g_string_append_c (shape, 'C');
      if (GMIME_IS_MESSAGE_PART (obj) && g_mime_object_get_header (obj, "Content-Type"))
        ++*carried;
    }
  else if (GMIME_IS_PART (obj))
    {
      g_autoptr (GByteArray) bytes = bounce_part_content (GMIME_PART (obj), BOUNCE_MAX_MESSAGE_BYTES);

      g_string_append_c (shape, 'L');
      g_string_append_len (leaves, (const char *) bytes->data, bytes->len);
      g_string_append_c (leaves, '\0');
    }
}

/* On every sample and corpus message: the message parts the bounded look
 * at the MIME structure finds (outside any other, with a Content-Type
 * field) are those GMime makes, and the parse's input, which gives them
 * as leaves, makes the same tree otherwise, with the same content in
 * each leaf. */
static void
test_carried_parts_as_gmime (void)
{
  g_autoptr (GPtrArray) files = test_collect_samples ();
  guint total = 0;

  for (guint i = 0; i < files->len; i++)
    {
      const char *path = g_ptr_array_index (files, i);
      g_autofree char *data = NULL, *input = NULL;
      g_autoptr (GArray) carried = g_array_new (FALSE, FALSE, sizeof (BounceRange));
      g_autoptr (GString) shape = g_string_new (NULL), leaves = g_string_new (NULL);
      g_autoptr (GString) shape2 = g_string_new (NULL), leaves2 = g_string_new (NULL);
      g_autoptr (GMimeObject) as_sent = NULL, as_given = NULL;
      gsize len, start, n, given;
      guint found = 0, found2 = 0;

      if (!g_file_get_contents (path, &data, &len, NULL))
        continue;
      start = bounce_message_start (data, len);
      n = bounce_mime_bounded_length (data + start, len - start, NULL, carried);
      as_sent = bounce_parse_bounded_part (data + start, n);
      if (as_sent == NULL)
        continue;
      tree_shape (as_sent, shape, leaves, &found);
      if (found != carried->len)
        g_error ("%s: GMime makes %u message parts, the look finds %u", path, found, carried->len);
      for (guint k = 0; k < carried->len; k++)
        {
          const BounceRange *r = &g_array_index (carried, BounceRange, k);

          g_assert_true (g_ascii_strncasecmp (data + start + r->start, "Content-Type:", 13) == 0);
          g_assert_cmpuint (r->end, <=, n);
        }
      given = n;
      input = bounce_parser_input (data + start, &given, NULL, carried);
      as_given = bounce_parse_bounded_part (input ? input : data + start, given);
      /* Left with no field, a block of delivery-status fields alone (the
       * reader refuses such a message before: it has no header). */
      if (as_given == NULL && input && (given == 0 || input[0] == '\n' || input[0] == '\r'))
        continue;
      if (as_given == NULL)
        g_error ("%s: the parse input is no message", path);
      tree_shape (as_given, shape2, leaves2, &found2);
      if (found2 != 0 || !g_string_equal (shape, shape2) || !g_string_equal (leaves, leaves2))
        g_error ("%s: given as leaves, the message parts make another tree: %s, not %s", path, shape2->str, shape->str);
      total += found;
    }
  g_test_message ("%u message parts in %u files", total, files->len);
  g_assert_cmpuint (total, >, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/report/own-fields", test_own_fields);
  g_test_add_func ("/report/auto-reply-fields", test_auto_reply_fields);
  g_test_add_func ("/report/parsed-bytes", test_parsed_bytes);
  g_test_add_func ("/report/empty-text-attachment", test_empty_text_attachment);
  g_test_add_func ("/report/report-type", test_report_type);
  g_test_add_func ("/report/carried-message", test_carried_message);
  g_test_add_func ("/report/carried-parts-as-gmime", test_carried_parts_as_gmime);
  return g_test_run ();
}

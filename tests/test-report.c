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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/report/own-fields", test_own_fields);
  g_test_add_func ("/report/auto-reply-fields", test_auto_reply_fields);
  g_test_add_func ("/report/parsed-bytes", test_parsed_bytes);
  g_test_add_func ("/report/empty-text-attachment", test_empty_text_attachment);
  g_test_add_func ("/report/report-type", test_report_type);
  return g_test_run ();
}

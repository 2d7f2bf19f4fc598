/* test-original.c — recovering the original from what a report returns:
 * a header block in text (plain, indented, or quoted with "> "), a
 * message/rfc822 part, and what is read from it (Message-ID, From,
 * Received hops, DKIM signatures, risky attachments), within its limits.
 * No corpus needed. */
#include "bounce-private.h"
#include "test-common.h"

#define RECEIVED                                                                                                       \
  "Received: from client.example.org (client.example.org [192.0.2.10])\n"                                              \
  "\tby smtp.example.org (Postfix) with ESMTPSA id 4VdQ2;\n"                                                           \
  "\tMon, 08 Apr 2024 09:59:58 +0000\n"
#define HEADERS                                                                                                        \
  RECEIVED                                                                                                             \
  "DKIM-Signature: v=1; a=rsa-sha256; d=example.org; s=mail2024;\n"                                                    \
  "\th=from:to:subject; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=dGVzdA==\n"                                 \
  "From: Bob <bob@example.org>\n"                                                                                      \
  "To: carol@example.net\n"                                                                                            \
  "Subject: the minutes\n"                                                                                             \
  "Message-ID: minutes-7@example.org\n"

static void
check_headers (BounceOriginal *o, const char *carried_as)
{
  const BounceReceived *r;
  const BounceDkim *d;

  g_assert_nonnull (o);
  g_assert_cmpstr (bounce_original_get_carried_as (o), ==, carried_as);
  /* Message-IDs are kept in angle brackets, as the sent-mail index has them. */
  g_assert_cmpstr (bounce_original_get_message_id (o), ==, "<minutes-7@example.org>");
  g_assert_cmpstr (bounce_original_get_from (o), ==, "Bob <bob@example.org>");
  g_assert_cmpstr (bounce_original_get_header (o, "subject"), ==, "the minutes");
  g_assert_null (bounce_original_get_header (o, "Received"));
  g_assert_cmpuint (bounce_original_get_n_received (o), ==, 1);
  r = bounce_original_get_received (o, 0);
  g_assert_cmpstr (r->from_host, ==, "client.example.org");
  g_assert_cmpstr (r->from_ip, ==, "192.0.2.10");
  g_assert_cmpstr (r->by_host, ==, "smtp.example.org");
  g_assert_cmpstr (r->date, ==, "Mon, 08 Apr 2024 09:59:58 +0000");
  g_assert_true (test_is_zero (r->reserved, sizeof r->reserved));
  g_assert_cmpuint (bounce_original_get_n_dkim (o), ==, 1);
  d = bounce_original_get_dkim (o, 0);
  g_assert_cmpstr (d->domain, ==, "example.org");
  g_assert_cmpstr (d->selector, ==, "mail2024");
  g_assert_true (test_is_zero (d->reserved, sizeof d->reserved));
}

static void
test_plain_block (void)
{
  static const char text[] = "\n\n" HEADERS "\nThe minutes of Tuesday.\n";
  BounceOriginal *o = bounce_original_from_headers_text (text, strlen (text), "inline");

  check_headers (o, "inline");
  bounce_original_free (o);
}

/* Quoted with "> " as a reply quotes it. */
static void
test_quoted_block (void)
{
  g_auto (GStrv) lines = g_strsplit (HEADERS, "\n", -1);
  g_autofree char *joined = g_strjoinv ("\n> ", lines);
  g_autofree char *text = g_strconcat ("> ", joined, "\n> The minutes of Tuesday.\nBest regards\n", NULL);
  BounceOriginal *o = bounce_original_from_headers_text (text, strlen (text), "inline");

  check_headers (o, "inline");
  bounce_original_free (o);
}

/* Indented, as many reports set the original's header off from their
 * own text: found where it starts in the report, and read whole. A
 * summary of what was sent, indented the same way but with no
 * Message-ID, is not taken for it. */
static void
test_indented_block (void)
{
  g_auto (GStrv) lines = g_strsplit (HEADERS, "\n", -1);
  g_autofree char *joined = g_strjoinv ("\n    ", lines);
  g_autofree char *block = g_strconcat ("    ", joined, "\n", NULL);
  g_autofree char *text = g_strconcat ("Your message\n\n  To:      carol@example.net\n"
                                       "  Subject: the minutes\n  Sent:    Mon, 08 Apr 2024\n\n"
                                       "did not reach carol@example.net: 550 5.1.1 unknown\n\n",
                                       block, "\n    The minutes of Tuesday.\n", NULL);
  gsize at = bounce_generic_original (text, strlen (text));
  BounceOriginal *o;

  g_assert_cmpuint (at, <, strlen (text));
  g_assert_true (g_str_has_prefix (text + at, "    Received: "));
  o = bounce_original_from_headers_text (text + at, strlen (text + at), "inline");
  check_headers (o, "inline");
  bounce_original_free (o);
}

static void
test_no_headers (void)
{
  static const char *const texts[] = { "", "\n\n  \n", "Just some words of a report.\n" };

  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    g_assert_null (bounce_original_from_headers_text (texts[i], strlen (texts[i]), "inline"));
}

/* A message/rfc822 part, with attachments: the risky one is marked. */
static void
test_message_part (void)
{
  static const char report[] = "From: MAILER-DAEMON@mx.example.net\n"
                               "To: bob@example.org\n"
                               "Subject: Undelivered Mail Returned to Sender\n"
                               "MIME-Version: 1.0\n"
                               "Content-Type: multipart/report; report-type=delivery-status; boundary=\"outer\"\n"
                               "\n"
                               "--outer\n"
                               "Content-Type: text/plain\n"
                               "\n"
                               "Delivery failed.\n"
                               "--outer\n"
                               "Content-Type: message/rfc822\n"
                               "\n" HEADERS "MIME-Version: 1.0\n"
                               "Content-Type: multipart/mixed; boundary=\"inner\"\n"
                               "\n"
                               "--inner\n"
                               "Content-Type: text/plain\n"
                               "\n"
                               "See the files.\n"
                               "--inner\n"
                               "Content-Type: application/octet-stream; name=\"invoice.pdf.exe\"\n"
                               "Content-Disposition: attachment; filename=\"invoice.pdf.exe\"\n"
                               "\n"
                               "TVqQAAMAAAAEAAAA\n"
                               "--inner\n"
                               "Content-Type: text/plain; name=\"notes.txt\"\n"
                               "Content-Disposition: attachment; filename=\"notes.txt\"\n"
                               "\n"
                               "notes\n"
                               "--inner--\n"
                               "--outer--\n";
  g_autoptr (GMimeMessage) msg = bounce_parse_message_bytes (report, strlen (report));
  GMimeObject *part = NULL;
  BounceOriginal *o;
  gboolean risky = FALSE, plain = FALSE;

  g_assert_nonnull (msg);
  part = g_mime_multipart_get_part (GMIME_MULTIPART (g_mime_message_get_mime_part (msg)), 1);
  o = bounce_original_from_part (part);
  check_headers (o, "message/rfc822");
  for (guint i = 0; i < bounce_original_get_n_attachments (o); i++)
    {
      const BounceAttachment *a = bounce_original_get_attachment (o, i);

      g_assert_true (test_is_zero (a->reserved, sizeof a->reserved));
      if (g_strcmp0 (a->name, "invoice.pdf.exe") == 0)
        risky = a->risky;
      else if (g_strcmp0 (a->name, "notes.txt") == 0)
        plain = !a->risky;
    }
  g_assert_true (risky);
  g_assert_true (plain);
  bounce_original_free (o);
}

/* Only BOUNCE_MAX_RECEIVED Received headers are kept. */
static void
test_received_limit (void)
{
  g_autoptr (GString) text = g_string_new (NULL);
  BounceOriginal *o;

  for (guint i = 0; i < BOUNCE_MAX_RECEIVED + 10; i++)
    g_string_append_printf (text,
                            "Received: from h%u.example.net by h%u.example.net; Mon, 08 Apr 2024 09:00:00 +0000\n", i,
                            i + 1);
  g_string_append (text, "From: bob@example.org\nMessage-ID: <many-hops@example.org>\n\nbody\n");
  o = bounce_original_from_headers_text (text->str, text->len, "inline");
  g_assert_nonnull (o);
  g_assert_cmpuint (bounce_original_get_n_received (o), ==, BOUNCE_MAX_RECEIVED);
  g_assert_cmpstr (bounce_original_get_received (o, 0)->from_host, ==, "h0.example.net");
  g_assert_cmpstr (bounce_original_get_message_id (o), ==, "<many-hops@example.org>");
  bounce_original_free (o);
}

static void
test_risky_names (void)
{
  static const struct
  {
    const char *name, *type;
    gboolean risky;
  } cases[] = {
    { "setup.exe", NULL, TRUE },
    { "document.txt.scr", NULL, TRUE },
    { "x.exe.", NULL, TRUE },
    { "x.exe ", NULL, TRUE },
    { "Archive.ZIP", NULL, TRUE },
    { "photo.jpg", "image/jpeg", FALSE },
    { "report.pdf", "application/pdf", FALSE },
    { "exe", NULL, FALSE },
    { NULL, NULL, FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    g_assert_cmpint (bounce_filename_is_risky (cases[i].name, cases[i].type), ==, cases[i].risky);
}

/* A header block read without GMime gives what GMime's message gives:
 * the same fields (not the Content-* ones), values decoded the same way,
 * the same attachments; and blocks GMime would read otherwise (a name
 * with a blank, a line with no colon, an attachment's Content-Type) are
 * left to GMime. */
static void
check_same (BounceOriginal *a, BounceOriginal *b)
{
  if (a == NULL || b == NULL)
    {
      g_assert_true (a == b);
      return;
    }
  g_assert_cmpstr (a->message_id, ==, b->message_id);
  g_assert_cmpstr (a->from, ==, b->from);
  g_assert_cmpuint (a->headers->len, ==, b->headers->len);
  for (guint i = 0; i < a->headers->len; i++)
    g_assert_cmpstr (g_ptr_array_index (a->headers, i), ==, g_ptr_array_index (b->headers, i));
  g_assert_cmpuint (a->received_text->len, ==, b->received_text->len);
  for (guint i = 0; i + 1 < a->received_text->len; i++)
    g_assert_cmpstr (g_ptr_array_index (a->received_text, i), ==, g_ptr_array_index (b->received_text, i));
  g_assert_cmpuint (a->dkim->len, ==, b->dkim->len);
  g_assert_cmpuint (a->attachments->len, ==, b->attachments->len);
  for (guint i = 0; i < a->attachments->len; i++)
    {
      g_assert_cmpstr (g_array_index (a->attachments, BounceAttachment, i).name, ==,
                       g_array_index (b->attachments, BounceAttachment, i).name);
      g_assert_cmpstr (g_array_index (a->attachments, BounceAttachment, i).content_type, ==,
                       g_array_index (b->attachments, BounceAttachment, i).content_type);
    }
}

static void
test_read_as_gmime (void)
{
  static const char *const blocks[] = {
    HEADERS "\nbody\n",
    HEADERS,
    "From: a@example.com\r\nSubject: folded\r\n  twice\r\n\r\nbody\r\n",
    "Subject: =?utf-8?q?caf=C3=A9?= =?iso-8859-1?q?caf=E9?=\nFrom: \"Jos\xe9\" <j@example.com>\n",
    "From: a@example.com\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
    "Content-Transfer-Encoding: 8bit\ncontent-foo: x\nX-Empty:\nTo: b@example.net\n\nhi\n",
    "From: a@example.com\nContent-Type: text/plain; name=notes.txt\n\nhi\n",
    "From: a@example.com\nContent-Type: application/pdf\n\n%PDF\n",
    "From: a@example.com\nContent-Disposition: attachment; filename=a.exe\n\nMZ\n",
    "From: a@example.com\nContent-Type: text/plain\nContent-Type: application/zip; name=a.zip\n\nx\n",
    "From: a@example.com\nContent-Type: multipart/mixed; boundary=b\n\n--b\n"
    "Content-Type: application/zip; name=a.zip\n\nPK\n--b--\n",
    "From: a@example.com\nX Bad: 1\nno colon here\nSubject : spaced\nTo: b@example.net\n",
    "From a@example.com Mon Apr  8 09:59:58 2024\nSubject: after a From line\n",
    "From: a@example.com\nX-Cr: a\rb\nSubject: s\n",
    "X-Pre: 1\n>From: quoted\nX-\x01: ctl\n:empty name\n",
    "Subject: only\n   \n\tmore\n",
    "\n",
  };

  for (guint i = 0; i < G_N_ELEMENTS (blocks); i++)
    {
      gsize len = strlen (blocks[i]);
      BounceOriginal *a = bounce_original_from_headers_text (blocks[i], len, "text/rfc822-headers");
      g_autoptr (GMimeMessage) m = bounce_parse_message_bytes (blocks[i], len);
      BounceOriginal *b = m ? bounce_original_from_message (m, "text/rfc822-headers") : NULL;

      if (b && b->headers->len == 0 && b->received->len == 0)
        g_clear_pointer (&b, bounce_original_free);
      check_same (a, b);
      bounce_original_free (a);
      bounce_original_free (b);
    }
}

/* Every sample and corpus message, read as a returned original, gives
 * what GMime's message gives: its fields, and the attachments of a body
 * parsed apart from the header block. */
static void
test_messages_as_gmime (void)
{
  g_autoptr (GPtrArray) files = test_collect_samples ();
  guint attached = 0;

  for (guint i = 0; i < files->len; i++)
    {
      g_autofree char *data = NULL;
      g_autoptr (GMimeMessage) m = NULL;
      BounceOriginal *a, *b;
      gsize len, start;

      if (!g_file_get_contents (g_ptr_array_index (files, i), &data, &len, NULL))
        continue;
      start = bounce_message_start (data, len);
      a = bounce_original_from_headers_text (data + start, len - start, "message/rfc822");
      /* what the reader hands GMime when it does not read the block itself */
      m = data[start] == '>' || data[start] == ' ' || data[start] == '\t'
              ? NULL
              : bounce_parse_message_bytes (data + start, len - start);
      if (m == NULL)
        {
          bounce_original_free (a);
          continue;
        }
      b = bounce_original_from_message (m, "message/rfc822");
      if (b->headers->len == 0 && b->received->len == 0)
        g_clear_pointer (&b, bounce_original_free);
      check_same (a, b);
      attached += a ? a->attachments->len : 0;
      bounce_original_free (a);
      bounce_original_free (b);
    }
  g_test_message ("%u files, %u attachments", files->len, attached);
  g_assert_cmpuint (attached, >, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  bounce_gmime_init ();
  g_test_add_func ("/original/plain-block", test_plain_block);
  g_test_add_func ("/original/quoted-block", test_quoted_block);
  g_test_add_func ("/original/indented-block", test_indented_block);
  g_test_add_func ("/original/no-headers", test_no_headers);
  g_test_add_func ("/original/read-as-gmime", test_read_as_gmime);
  g_test_add_func ("/original/messages-as-gmime", test_messages_as_gmime);
  g_test_add_func ("/original/message-part", test_message_part);
  g_test_add_func ("/original/received-limit", test_received_limit);
  g_test_add_func ("/original/risky-names", test_risky_names);
  return g_test_run ();
}

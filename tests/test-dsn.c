/* test-dsn.c — the delivery-status field parser on the shapes real reports
 * take: clean, folded, commented, without blank lines, indented, several
 * recipients, RFC 6533 addresses. */
#include "bounce-private.h"

typedef struct
{
  const char *name;
  const char *body;
  const char *reporting_mta;
  guint n;
  const char *address[3];
  const char *action[3];
  const char *status[3];
  const char *reply_code[3];
  const char *original[3];
} DsnCase;

static const DsnCase cases[] = {
  { "clean",
    "Reporting-MTA: dns; mx.example.org\n"
    "Arrival-Date: Mon, 2 Mar 2026 10:00:00 +0000\n\n"
    "Final-Recipient: rfc822; alice@example.com\n"
    "Action: failed\nStatus: 5.1.1\n"
    "Diagnostic-Code: smtp; 550 5.1.1 <alice@example.com>: unknown user\n",
    "mx.example.org",
    1,
    { "alice@example.com" },
    { "failed" },
    { "5.1.1" },
    { "550" } },
  { "no-blank-line-between-groups",
    "Reporting-MTA: dns; mx.example.org\n"
    "Final-Recipient: rfc822; bob@example.com\n"
    "Action: failed\nStatus: 5.2.2\n",
    "mx.example.org",
    1,
    { "bob@example.com" },
    { "failed" },
    { "5.2.2" },
    { NULL } },
  { "two-recipients-no-blank",
    "Reporting-MTA: dns; mx.example.org\n\n"
    "Final-Recipient: rfc822; a@example.com\nAction: failed\nStatus: 5.1.1\n"
    "Final-Recipient: rfc822; b@example.com\nAction: delayed\nStatus: 4.4.7\n",
    "mx.example.org",
    2,
    { "a@example.com", "b@example.com" },
    { "failed", "delayed" },
    { "5.1.1", "4.4.7" },
    { NULL, NULL } },
  { "folded-and-comments",
    "Reporting-MTA: dns;\n mx.example.org (the relay)\n\n"
    "Original-Recipient: rfc822;Carol@Example.COM\n"
    "Final-Recipient: rfc822; <carol@example.com> (as rewritten)\n"
    "Action: failed (permanent)\n"
    "Status: 5.7.1 (delivery not authorized)\n"
    "Diagnostic-Code: smtp; 554-5.7.1 rejected\n"
    "    by policy\n",
    "mx.example.org",
    1,
    { "carol@example.com" },
    { "failed" },
    { "5.7.1" },
    { "554" },
    { "Carol@Example.COM" } },
  { "status-only-in-diagnostic",
    "Reporting-MTA: dns; mx.example.org\n\n"
    "Final-Recipient: rfc822; dave@example.com\nAction: failed\n"
    "Diagnostic-Code: smtp; 552 5.2.2 mailbox full\n",
    "mx.example.org",
    1,
    { "dave@example.com" },
    { "failed" },
    { "5.2.2" },
    { "552" } },
  { "indented-fields-crlf",
    "   Reporting-MTA: dns; mx.example.org\r\n\r\n"
    "   Final-Recipient: RFC822; erin@example.com\r\n"
    "   Action: failed\r\n   Status: 5.0.0\r\n",
    "mx.example.org",
    1,
    { "erin@example.com" },
    { "failed" },
    { "5.0.0" },
    { NULL } },
  { "utf8-address",
    "Reporting-MTA: dns; mx.example.org\n\n"
    "Original-Recipient: utf-8; j\\x{00F6}rg@example.com\n"
    "Final-Recipient: utf-8; jörg@example.com\n"
    "Action: failed\nStatus: 5.1.1\n",
    "mx.example.org",
    1,
    { "jörg@example.com" },
    { "failed" },
    { "5.1.1" },
    { NULL },
    { "jörg@example.com" } },
  { "x-address-type",
    "Reporting-MTA: x-local-hostname; gateway\n\n"
    "Final-Recipient: x-ms-x400; frank@example.com\nAction: failed\nStatus: 5.0.0\n",
    "gateway",
    1,
    { "frank@example.com" },
    { "failed" },
    { "5.0.0" },
    { NULL } },
  { "only-original-recipient",
    "Reporting-MTA: dns; mx.example.org\n\n"
    "Original-Recipient: rfc822; gina@example.com\nAction: failed\nStatus: 5.1.1\n",
    "mx.example.org",
    1,
    { "gina@example.com" },
    { "failed" },
    { "5.1.1" },
    { NULL },
    { "gina@example.com" } },
  { "final-at-bare-host",
    "Reporting-MTA: dns; mx.example.org\n\n"
    "Original-Recipient: rfc822; hugo@example.com\n"
    "Final-Recipient: rfc822; @gw.example.com:hugo@mailstore\nAction: failed\nStatus: 5.2.0\n",
    "mx.example.org",
    1,
    { "hugo@example.com" },
    { "failed" },
    { "5.2.0" },
    { NULL },
    { "hugo@example.com" } },
  { "no-recipients", "Reporting-MTA: dns; mx.example.org\n\n", "mx.example.org", 0 },
  { "empty", "", NULL, 0 },
};

static void
test_case (gconstpointer data)
{
  const DsnCase *c = data;
  g_autoptr (BounceDsn) dsn = bounce_dsn_parse (c->body, strlen (c->body));

  g_assert_cmpstr (dsn->reporting_mta, ==, c->reporting_mta);
  g_assert_cmpuint (dsn->recipients->len, ==, c->n);
  for (guint i = 0; i < c->n; i++)
    {
      BounceRecipient *r = g_ptr_array_index (dsn->recipients, i);

      g_assert_cmpstr (r->address, ==, c->address[i]);
      g_assert_cmpstr (r->action, ==, c->action[i]);
      g_assert_cmpstr (r->status, ==, c->status[i]);
      g_assert_cmpstr (r->reply_code, ==, c->reply_code[i]);
      if (c->original[i])
        g_assert_cmpstr (r->original_recipient, ==, c->original[i]);
    }
}

static void
test_recipient_limit (void)
{
  GString *s = g_string_new ("Reporting-MTA: dns; mx.example.org\n\n");
  g_autoptr (BounceDsn) dsn = NULL;

  for (int i = 0; i < BOUNCE_MAX_RECIPIENTS + 50; i++)
    g_string_append_printf (s, "Final-Recipient: rfc822; u%d@example.com\nAction: failed\n\n", i);
  dsn = bounce_dsn_parse (s->str, s->len);
  g_assert_cmpuint (dsn->recipients->len, ==, BOUNCE_MAX_RECIPIENTS);
  g_string_free (s, TRUE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/dsn/%s", cases[i].name);

      g_test_add_data_func (path, &cases[i], test_case);
    }
  g_test_add_func ("/dsn/recipient-limit", test_recipient_limit);
  return g_test_run ();
}

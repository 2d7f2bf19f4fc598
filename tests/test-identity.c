/* test-identity.c — who the owner is: address globs, relay host globs,
 * IP addresses and networks (CIDR, IPv4 and IPv6), the domains that sign
 * all their mail, the BATV key, and the patterns a configuration must
 * refuse. No corpus needed. */
#include "bounce-private.h"

static void
test_addresses (void)
{
  g_autoptr (BounceIdentity) id = bounce_identity_new ();

  g_assert_false (bounce_identity_has_addresses (id));
  g_assert_true (bounce_identity_add_address (id, "Bob@Example.org", NULL));
  g_assert_true (bounce_identity_add_address (id, "*@lists.example.net", NULL));
  g_assert_true (bounce_identity_add_address (id, "?ill@example.com", NULL));
  g_assert_true (bounce_identity_has_addresses (id));

  g_assert_true (bounce_identity_is_owner_address (id, "bob@example.org"));
  g_assert_true (bounce_identity_is_owner_address (id, "BOB@EXAMPLE.ORG"));
  g_assert_false (bounce_identity_is_owner_address (id, "bobby@example.org"));
  g_assert_false (bounce_identity_is_owner_address (id, "bob@example.org.example.net"));
  g_assert_true (bounce_identity_is_owner_address (id, "anyone@lists.example.net"));
  g_assert_false (bounce_identity_is_owner_address (id, "anyone@example.net"));
  g_assert_true (bounce_identity_is_owner_address (id, "jill@example.com"));
  g_assert_true (bounce_identity_is_owner_address (id, "bill@example.com"));
  g_assert_false (bounce_identity_is_owner_address (id, "ill@example.com"));
  g_assert_false (bounce_identity_is_owner_address (id, NULL));
}

static void
test_bad_patterns (void)
{
  static const char *const addresses[] = { "", "no-at-sign.example.org", "a b@example.org", "<bob@example.org>",
                                           "a@example.org,b@example.org" };
  static const char *const relays[] = {
    "", "bob@example.org", "mx.example.org/24", "192.0.2.0/33", "2001:db8::/129", "two words"
  };
  static const char *const domains[] = { "", "*.example.org", "bob@example.org", "a b" };
  g_autoptr (BounceIdentity) id = bounce_identity_new ();

  for (guint i = 0; i < G_N_ELEMENTS (addresses); i++)
    {
      g_autoptr (GError) error = NULL;

      g_assert_false (bounce_identity_add_address (id, addresses[i], &error));
      g_assert_error (error, BOUNCE_ERROR, BOUNCE_ERROR_CONFIG);
    }
  for (guint i = 0; i < G_N_ELEMENTS (relays); i++)
    {
      g_autoptr (GError) error = NULL;

      g_assert_false (bounce_identity_add_relay (id, relays[i], &error));
      g_assert_error (error, BOUNCE_ERROR, BOUNCE_ERROR_CONFIG);
    }
  for (guint i = 0; i < G_N_ELEMENTS (domains); i++)
    {
      g_autoptr (GError) error = NULL;

      g_assert_false (bounce_identity_add_dkim_domain (id, domains[i], &error));
      g_assert_error (error, BOUNCE_ERROR, BOUNCE_ERROR_CONFIG);
    }
  g_assert_false (bounce_identity_has_addresses (id));
  g_assert_false (bounce_identity_has_relays (id));
  g_assert_false (bounce_identity_has_dkim_domains (id));
}

static void
test_relay_names (void)
{
  g_autoptr (BounceIdentity) id = bounce_identity_new ();

  g_assert_true (bounce_identity_add_relay (id, "*.Out.Example.org", NULL));
  g_assert_true (bounce_identity_add_relay (id, "smtp.example.net", NULL));
  g_assert_true (bounce_identity_has_relays (id));

  g_assert_cmpstr (bounce_identity_is_relay (id, "mx1.out.example.org", NULL), ==, "*.out.example.org");
  /* A fully qualified name's final dot, and any case. */
  g_assert_cmpstr (bounce_identity_is_relay (id, "MX1.OUT.EXAMPLE.ORG.", NULL), ==, "*.out.example.org");
  g_assert_null (bounce_identity_is_relay (id, "out.example.org", NULL));
  g_assert_null (bounce_identity_is_relay (id, "mx1.out.example.org.example.com", NULL));
  g_assert_cmpstr (bounce_identity_is_relay (id, "smtp.example.net", NULL), ==, "smtp.example.net");
  g_assert_null (bounce_identity_is_relay (id, "smtp2.example.net", NULL));
  g_assert_null (bounce_identity_is_relay (id, "", ""));
  g_assert_null (bounce_identity_is_relay (id, NULL, NULL));
}

static void
test_relay_networks (void)
{
  g_autoptr (BounceIdentity) id = bounce_identity_new ();

  g_assert_true (bounce_identity_add_relay (id, "192.0.2.0/24", NULL));
  g_assert_true (bounce_identity_add_relay (id, "198.51.100.7", NULL));
  g_assert_true (bounce_identity_add_relay (id, "2001:db8::/32", NULL));

  g_assert_cmpstr (bounce_identity_is_relay (id, NULL, "192.0.2.1"), ==, "192.0.2.1");
  g_assert_cmpstr (bounce_identity_is_relay (id, NULL, "192.0.2.255"), ==, "192.0.2.255");
  g_assert_null (bounce_identity_is_relay (id, NULL, "192.0.3.1"));
  g_assert_cmpstr (bounce_identity_is_relay (id, NULL, "198.51.100.7"), ==, "198.51.100.7");
  g_assert_null (bounce_identity_is_relay (id, NULL, "198.51.100.8"));
  g_assert_cmpstr (bounce_identity_is_relay (id, NULL, "2001:db8:ffff::25"), ==, "2001:db8:ffff::25");
  g_assert_null (bounce_identity_is_relay (id, NULL, "2001:db9::25"));
  /* A name is not an address, and an address is not read as a name. */
  g_assert_null (bounce_identity_is_relay (id, NULL, "mx.example.org"));
  g_assert_null (bounce_identity_is_relay (id, "192.0.2.1", NULL));
  /* The name is tried first, then the address. */
  g_assert_cmpstr (bounce_identity_is_relay (id, "mx.example.com", "192.0.2.9"), ==, "192.0.2.9");
}

static void
test_dkim_domains (void)
{
  g_autoptr (BounceIdentity) id = bounce_identity_new ();

  g_assert_true (bounce_identity_add_dkim_domain (id, "Example.org", NULL));
  g_assert_true (bounce_identity_has_dkim_domains (id));
  g_assert_cmpstr (bounce_identity_signs (id, "example.org"), ==, "example.org");
  g_assert_cmpstr (bounce_identity_signs (id, "Mail.Example.ORG"), ==, "example.org");
  g_assert_null (bounce_identity_signs (id, "badexample.org"));
  g_assert_null (bounce_identity_signs (id, "example.org.example.net"));
  g_assert_null (bounce_identity_signs (id, "org"));
  g_assert_null (bounce_identity_signs (id, NULL));
}

static void
test_sends_under (void)
{
  g_autoptr (BounceIdentity) id = bounce_identity_new ();

  g_assert_true (bounce_identity_add_address (id, "*@example.org", NULL));
  g_assert_true (bounce_identity_add_relay (id, "*.out.example.net", NULL));
  g_assert_true (bounce_identity_add_relay (id, "*", NULL));
  g_assert_cmpstr (bounce_identity_sends_under (id, "mail.example.org"), ==, "*@example.org");
  g_assert_cmpstr (bounce_identity_sends_under (id, "example.net"), ==, "*.out.example.net");
  g_assert_null (bounce_identity_sends_under (id, "example.com"));
  g_assert_null (bounce_identity_sends_under (id, NULL));
}

static void
test_batv_key_and_folders (void)
{
  g_autoptr (BounceIdentity) id = bounce_identity_new ();
  g_autoptr (GBytes) key = g_bytes_new_static ("s3cret\r\n\n", 9);
  const char *const *folders;
  gsize len;
  const char *data;

  g_assert_null (bounce_identity_get_batv_key (id));
  bounce_identity_set_batv_key (id, key);
  data = g_bytes_get_data (bounce_identity_get_batv_key (id), &len);
  g_assert_cmpmem (data, len, "s3cret", 6);
  bounce_identity_set_batv_key (id, NULL);
  g_assert_null (bounce_identity_get_batv_key (id));

  g_assert_null (bounce_identity_get_sent_folders (id)[0]);
  bounce_identity_add_sent_folder (id, "/home/bob/Maildir/.Sent");
  bounce_identity_add_sent_folder (id, "/home/bob/mail/sent-2023");
  folders = bounce_identity_get_sent_folders (id);
  g_assert_cmpstr (folders[0], ==, "/home/bob/Maildir/.Sent");
  g_assert_cmpstr (folders[1], ==, "/home/bob/mail/sent-2023");
  g_assert_null (folders[2]);
  g_assert_false (bounce_identity_get_complete (id));
  bounce_identity_set_complete (id, TRUE);
  g_assert_true (bounce_identity_get_complete (id));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/identity/addresses", test_addresses);
  g_test_add_func ("/identity/bad-patterns", test_bad_patterns);
  g_test_add_func ("/identity/relay-names", test_relay_names);
  g_test_add_func ("/identity/relay-networks", test_relay_networks);
  g_test_add_func ("/identity/dkim-domains", test_dkim_domains);
  g_test_add_func ("/identity/sends-under", test_sends_under);
  g_test_add_func ("/identity/batv-key-and-folders", test_batv_key_and_folders);
  return g_test_run ();
}

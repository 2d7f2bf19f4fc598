/* identity.c — who the mailbox owner is: their addresses, the relays their
 * mail leaves through, the domains that sign all of it with DKIM, their
 * BATV key, and where their sent mail is kept.
 *
 * Addresses and relay host names are glob patterns (`*`, `?`), matched
 * without regard to case; relays may also be IP addresses or networks in
 * CIDR notation. The caller fills an identity from its configuration,
 * the BATV key included (as bytes): the library reads no file here.
 */
#include "bounce-private.h"

#include <gio/gio.h>
#include <string.h>

struct _BounceIdentity
{
  gint ref;
  GPtrArray *addresses;    /* lower-case glob patterns */
  GPtrArray *relay_hosts;  /* lower-case glob patterns */
  GPtrArray *relay_nets;   /* GInetAddressMask */
  GPtrArray *dkim_domains; /* lower-case */
  GPtrArray *sent_folders;
  GBytes *batv_key;
  gboolean complete;
};

/**
 * bounce_identity_new:
 *
 * Returns: (transfer full): an identity that knows nobody.
 */
BounceIdentity *
bounce_identity_new (void)
{
  BounceIdentity *id = g_new0 (BounceIdentity, 1);

  id->ref = 1;
  id->addresses = g_ptr_array_new_with_free_func (g_free);
  id->relay_hosts = g_ptr_array_new_with_free_func (g_free);
  id->relay_nets = g_ptr_array_new_with_free_func (g_object_unref);
  id->dkim_domains = g_ptr_array_new_with_free_func (g_free);
  id->sent_folders = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (id->sent_folders, NULL);
  return id;
}

/* bounce_identity_ref: Returns: (transfer full) @id, with one more
 * reference; several threads may hold one. */
BounceIdentity *
bounce_identity_ref (BounceIdentity *id)
{
  g_atomic_int_inc (&id->ref);
  return id;
}

/* bounce_identity_unref: drops a reference to @id (nullable); the last
 * frees it. */
void
bounce_identity_unref (BounceIdentity *id)
{
  if (id == NULL || !g_atomic_int_dec_and_test (&id->ref))
    return;
  g_ptr_array_unref (id->addresses);
  g_ptr_array_unref (id->relay_hosts);
  g_ptr_array_unref (id->relay_nets);
  g_ptr_array_unref (id->dkim_domains);
  g_ptr_array_unref (id->sent_folders);
  g_clear_pointer (&id->batv_key, g_bytes_unref);
  g_free (id);
}

static gboolean
valid_glob (const char *p)
{
  if (*p == '\0' || strlen (p) > 255 || !g_utf8_validate (p, -1, NULL))
    return FALSE;
  for (; *p; p++)
    if (g_ascii_isspace (*p) || *p == '<' || *p == '>' || *p == ',' || *p == ';')
      return FALSE;
  return TRUE;
}

/**
 * bounce_identity_add_address:
 * @pattern: an address or a glob such as `*@example.net`
 * @error: BOUNCE_ERROR_CONFIG when @pattern cannot be an address
 *
 * Returns: TRUE when added.
 */
gboolean
bounce_identity_add_address (BounceIdentity *id, const char *pattern, GError **error)
{
  if (!valid_glob (pattern) || !strchr (pattern, '@'))
    {
      g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_CONFIG,
                   "'%s' is not an address or address pattern (such as *@example.org)", pattern);
      return FALSE;
    }
  g_ptr_array_add (id->addresses, g_ascii_strdown (pattern, -1));
  return TRUE;
}

/* Whether the prefix length after the '/' of @pattern, if any, is a
 * number a network of its family can have (GLib warns of longer ones
 * instead of failing). */
static gboolean
prefix_fits (const char *pattern)
{
  const char *slash = strchr (pattern, '/');
  guint64 bits;

  if (slash == NULL)
    return TRUE;
  if (!g_ascii_isdigit (slash[1]) || strlen (slash + 1) > 3
      || !g_ascii_string_to_unsigned (slash + 1, 10, 0, strchr (pattern, ':') ? 128 : 32, &bits, NULL))
    return FALSE;
  return TRUE;
}

/**
 * bounce_identity_add_relay:
 * @pattern: a host name glob (`*.out.example.org`), an IP address, or a
 *   network (`192.0.2.0/24`, `2001:db8::/32`)
 * @error: BOUNCE_ERROR_CONFIG when @pattern is none of these
 *
 * Returns: TRUE when added.
 */
gboolean
bounce_identity_add_relay (BounceIdentity *id, const char *pattern, GError **error)
{
  GInetAddressMask *mask;
  gboolean ip_like = TRUE;

  for (const char *p = pattern; *p; p++)
    if (!(g_ascii_isxdigit (*p) || *p == '.' || *p == ':' || *p == '/'))
      ip_like = FALSE;
  if (ip_like && *pattern && (strchr (pattern, ':') || strchr (pattern, '/') || g_hostname_is_ip_address (pattern)))
    {
      mask = prefix_fits (pattern) ? g_inet_address_mask_new_from_string (pattern, NULL) : NULL;
      if (mask == NULL)
        {
          g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_CONFIG, "'%s' is not an IP address or network", pattern);
          return FALSE;
        }
      g_ptr_array_add (id->relay_nets, mask);
      return TRUE;
    }
  if (!valid_glob (pattern) || strchr (pattern, '@') || strchr (pattern, '/'))
    {
      g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_CONFIG, "'%s' is not a host name pattern, IP address or network",
                   pattern);
      return FALSE;
    }
  g_ptr_array_add (id->relay_hosts, g_ascii_strdown (pattern, -1));
  return TRUE;
}

/**
 * bounce_identity_add_dkim_domain:
 * @domain: a domain all of whose mail the owner sends DKIM-signed
 * @error: BOUNCE_ERROR_CONFIG when @domain is not a domain name
 */
gboolean
bounce_identity_add_dkim_domain (BounceIdentity *id, const char *domain, GError **error)
{
  if (!valid_glob (domain) || strchr (domain, '@') || strchr (domain, '*'))
    {
      g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_CONFIG, "'%s' is not a domain name", domain);
      return FALSE;
    }
  g_ptr_array_add (id->dkim_domains, g_ascii_strdown (domain, -1));
  return TRUE;
}

/** bounce_identity_set_batv_key: the secret BATV tags are made with. */
void
bounce_identity_set_batv_key (BounceIdentity *id, GBytes *key)
{
  g_clear_pointer (&id->batv_key, g_bytes_unref);
  if (key)
    {
      /* A key file's trailing newline is not part of the key. */
      gsize len;
      const char *data = g_bytes_get_data (key, &len);

      while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
        len--;
      id->batv_key = g_bytes_new (data, len);
    }
}

/** bounce_identity_add_sent_folder: a Maildir or mbox of the owner's sent mail. */
void
bounce_identity_add_sent_folder (BounceIdentity *id, const char *path)
{
  g_ptr_array_insert (id->sent_folders, id->sent_folders->len - 1, g_strdup (path));
}

/** bounce_identity_get_sent_folders: Returns: (transfer none) the sent folders, NULL-terminated. */
const char *const *
bounce_identity_get_sent_folders (BounceIdentity *id)
{
  return (const char *const *) id->sent_folders->pdata;
}

/** bounce_identity_set_complete: every message the owner sends is in the sent folders. */
void
bounce_identity_set_complete (BounceIdentity *id, gboolean complete)
{
  id->complete = complete;
}

/* bounce_identity_get_complete: Returns: whether every message the owner
 * sends is in the sent folders (bounce_identity_set_complete()). */
gboolean
bounce_identity_get_complete (BounceIdentity *id)
{
  return id->complete;
}

/* bounce_identity_has_*: what is configured. */
gboolean
bounce_identity_has_addresses (BounceIdentity *id)
{
  return id->addresses->len > 0;
}

/* bounce_identity_has_relays: Returns: whether a relay host or network
 * is configured. */
gboolean
bounce_identity_has_relays (BounceIdentity *id)
{
  return id->relay_hosts->len + id->relay_nets->len > 0;
}

/* bounce_identity_has_dkim_domains: Returns: whether a domain that
 * signs all the owner's mail is configured. */
gboolean
bounce_identity_has_dkim_domains (BounceIdentity *id)
{
  return id->dkim_domains->len > 0;
}

/* bounce_identity_get_batv_key: Returns: (transfer none) (nullable) the
 * BATV key, without a key file's final newline; borrowed until the key
 * is set again or @id is freed (bounce_identity_ref() keeps it). */
GBytes *
bounce_identity_get_batv_key (BounceIdentity *id)
{
  return id->batv_key;
}

/** bounce_identity_is_owner_address: whether @address (an addr-spec) is one
 * of the owner's. */
gboolean
bounce_identity_is_owner_address (BounceIdentity *id, const char *address)
{
  g_autofree char *a = NULL;

  if (address == NULL)
    return FALSE;
  a = g_ascii_strdown (address, -1);
  for (guint i = 0; i < id->addresses->len; i++)
    if (g_pattern_match_simple (g_ptr_array_index (id->addresses, i), a))
      return TRUE;
  return FALSE;
}

/** bounce_identity_is_relay: whether a host (name and/or IP) is one of the
 * owner's relays. Returns: the pattern that matched, or NULL. */
const char *
bounce_identity_is_relay (BounceIdentity *id, const char *host, const char *ip)
{
  if (host && *host)
    {
      g_autofree char *h = g_ascii_strdown (host, -1);
      gsize n = strlen (h);

      if (n > 0 && h[n - 1] == '.')
        h[n - 1] = '\0';
      for (guint i = 0; i < id->relay_hosts->len; i++)
        if (g_pattern_match_simple (g_ptr_array_index (id->relay_hosts, i), h))
          return g_ptr_array_index (id->relay_hosts, i);
    }
  if (ip && *ip)
    {
      g_autoptr (GInetAddress) addr = g_inet_address_new_from_string (ip);

      if (addr)
        for (guint i = 0; i < id->relay_nets->len; i++)
          {
            GInetAddressMask *m = g_ptr_array_index (id->relay_nets, i);

            if (g_inet_address_mask_matches (m, addr))
              return ip;
          }
    }
  return NULL;
}

/* The organisation domain of a host pattern or an address pattern's
 * domain with its leading wildcard labels dropped ("*.out.example.org",
 * "*@example.org"), or NULL when a wildcard stays in it. */
static char *
pattern_org_domain (const char *pattern)
{
  const char *at = strrchr (pattern, '@');
  const char *d = at ? at + 1 : pattern;

  while (g_str_has_prefix (d, "*."))
    d += 2;
  if (strpbrk (d, "*?"))
    return NULL;
  return bounce_org_domain (d);
}

/* bounce_identity_sends_under: whether @domain (a Message-ID's, say) is
 * in the organisation domain of one of the owner's relays or addresses.
 * Returns: (nullable) the relay or address pattern it is under. */
const char *
bounce_identity_sends_under (BounceIdentity *id, const char *domain)
{
  g_autofree char *org = domain ? bounce_org_domain (domain) : NULL;

  if (org == NULL)
    return NULL;
  for (guint k = 0; k < 2; k++)
    {
      GPtrArray *list = k == 0 ? id->relay_hosts : id->addresses;

      for (guint i = 0; i < list->len; i++)
        {
          g_autofree char *o = pattern_org_domain (g_ptr_array_index (list, i));

          if (o && strcmp (o, org) == 0)
            return g_ptr_array_index (list, i);
        }
    }
  return NULL;
}

/** bounce_identity_signs: whether @domain is (or is below) a domain the
 * owner signs all mail of. Returns: the configured domain, or NULL. */
const char *
bounce_identity_signs (BounceIdentity *id, const char *domain)
{
  g_autofree char *d = NULL;

  if (domain == NULL)
    return NULL;
  d = g_ascii_strdown (domain, -1);
  for (guint i = 0; i < id->dkim_domains->len; i++)
    {
      const char *s = g_ptr_array_index (id->dkim_domains, i);
      gsize ls = strlen (s), ld = strlen (d);

      if (strcmp (d, s) == 0 || (ld > ls && d[ld - ls - 1] == '.' && strcmp (d + ld - ls, s) == 0))
        return s;
    }
  return NULL;
}

/* batv.c — Bounce Address Tag Validation (draft-levine-smtp-batv).
 *
 * A sender that tags its envelope sender as "prvs=KDDDSSSSSS=user@domain"
 * knows a bounce to an address it never tagged, or tagged with another
 * key, for backscatter. This file makes and checks such tags with the
 * owner's key: bounce_batv_sign() for the mail going out,
 * bounce_batv_verify() and bounce_batv_check() (the judge's) for bounces
 * coming back. A tag is valid for 60 days after the day it names.
 */
#include "bounce-private.h"

#include <string.h>

/* bounce_batv_tag: the 10-character tag "KDDDSSSSSS" for @mailbox with key
 * number @k and expiry day @day (days since 1970, mod 1000). */
char *
bounce_batv_tag (GBytes *key, const char *mailbox, int k, int day)
{
  g_autofree char *src = g_strdup_printf ("%d%03d%s", k % 10, day % 1000, mailbox);
  g_autofree char *lower = g_ascii_strdown (src, -1);
  g_autoptr (GHmac) h = g_hmac_new (G_CHECKSUM_SHA1, g_bytes_get_data (key, NULL), g_bytes_get_size (key));
  guint8 digest[20];
  gsize len = sizeof digest;

  g_hmac_update (h, (const guchar *) lower, -1);
  g_hmac_get_digest (h, digest, &len);
  return g_strdup_printf ("%d%03d%02x%02x%02x", k % 10, day % 1000, digest[0], digest[1], digest[2]);
}

static gboolean
is_tag (const char *t, gsize n)
{
  if (n != 10)
    return FALSE;
  for (gsize i = 0; i < 4; i++)
    if (!g_ascii_isdigit (t[i]))
      return FALSE;
  for (gsize i = 4; i < 10; i++)
    if (!g_ascii_isxdigit (t[i]))
      return FALSE;
  return TRUE;
}

/* bounce_batv_check: check a "prvs=" address; @today is days since 1970
 * when the bounce came; @mailbox_out, when not NULL, gets the address
 * without its tag (for a tagged one). */
BounceBatv
bounce_batv_check (GBytes *key, const char *address, gint64 today, char **mailbox_out)
{
  const char *at = strrchr (address, '@');
  g_autofree char *local = NULL;
  g_auto (GStrv) parts = NULL;
  const char *tag = NULL, *user = NULL;
  g_autofree char *mailbox = NULL, *want = NULL;
  int day, diff;

  if (at == NULL || g_ascii_strncasecmp (address, "prvs=", 5) != 0)
    return BOUNCE_BATV_NONE;
  local = g_strndup (address + 5, at - address - 5);
  parts = g_strsplit (local, "=", 2);
  if (g_strv_length (parts) != 2)
    return BOUNCE_BATV_INVALID;
  /* prvs=TAG=user (the draft) or prvs=user=TAG (older signers) */
  if (is_tag (parts[0], strlen (parts[0])))
    tag = parts[0], user = parts[1];
  else if (is_tag (parts[1], strlen (parts[1])))
    tag = parts[1], user = parts[0];
  else
    return BOUNCE_BATV_INVALID;
  mailbox = g_strconcat (user, at, NULL);
  day = (tag[1] - '0') * 100 + (tag[2] - '0') * 10 + (tag[3] - '0');
  want = bounce_batv_tag (key, mailbox, tag[0] - '0', day);
  if (mailbox_out)
    *mailbox_out = g_strdup (mailbox);
  if (g_ascii_strcasecmp (want, tag) != 0)
    return BOUNCE_BATV_INVALID;
  diff = (int) ((day - today % 1000 + 1000) % 1000);
  return diff <= 60 ? BOUNCE_BATV_VALID : BOUNCE_BATV_EXPIRED;
}

/**
 * bounce_batv_sign:
 * @key: the BATV secret (bounce_identity_get_batv_key())
 * @address: an envelope sender, local-part@domain; one that already
 *   carries a "prvs=" tag is signed anew from its plain address
 * @now: the time of sending, Unix time
 * @days: how many days the tag stays valid (1 to 60, the verifier's window)
 *
 * Tags @address as draft-levine-smtp-batv's "prvs" scheme does:
 * "prvs=KDDDSSSSSS=local-part@domain", K the key number (0), DDD the day
 * the tag expires (days since 1970, modulo 1000), SSSSSS the first three
 * bytes of the HMAC-SHA1 of "KDDD" and the address, in hex. The same code
 * checks tags in bounce_batv_verify() and in the judgement.
 *
 * Returns: (transfer full) (nullable): the tagged address, or NULL when
 *   @address has no '@' or @days is out of range
 */
char *
bounce_batv_sign (GBytes *key, const char *address, gint64 now, guint days)
{
  g_autofree char *plain = NULL;
  g_autofree char *tag = NULL;
  const char *at;
  int expires;

  g_return_val_if_fail (key != NULL && address != NULL, NULL);
  if (days < 1 || days > 60)
    return NULL;
  if (bounce_batv_check (key, address, now / 86400, &plain) == BOUNCE_BATV_NONE)
    plain = g_strdup (address);
  at = plain ? strrchr (plain, '@') : NULL;
  if (at == NULL || at == plain || at[1] == '\0')
    return NULL;
  expires = (int) ((now / 86400 + days) % 1000);
  tag = bounce_batv_tag (key, plain, 0, expires);
  return g_strconcat ("prvs=", tag, "=", plain, NULL);
}

/**
 * bounce_batv_verify:
 * @key: the BATV secret
 * @address: a recipient (of a bounce), local-part@domain
 * @now: when the bounce came, Unix time
 * @plain: (out) (optional) (transfer full): the address without its tag,
 *   for a tagged address (valid or not); NULL otherwise
 *
 * Returns: BOUNCE_BATV_NONE for an address without a "prvs=" tag,
 *   BOUNCE_BATV_VALID for a tag made with @key that has not expired,
 *   BOUNCE_BATV_EXPIRED for one whose day has passed, BOUNCE_BATV_INVALID
 *   for one @key did not make
 */
BounceBatv
bounce_batv_verify (GBytes *key, const char *address, gint64 now, char **plain)
{
  g_autofree char *mailbox = NULL;
  BounceBatv r;

  g_return_val_if_fail (key != NULL && address != NULL, BOUNCE_BATV_NONE);
  r = bounce_batv_check (key, address, now / 86400, &mailbox);
  if (plain)
    *plain = r == BOUNCE_BATV_NONE ? NULL : g_steal_pointer (&mailbox);
  return r;
}

/* profile.c — how the owner sends, read from their sent mail: the hops
 * their messages take first (the submission server, and whether the
 * client logged in to it), the shapes of their Message-IDs, their mail
 * programs, the DKIM domains that sign them and their time zones. The
 * sent-mail index keeps these per message source (sentindex.c); the judge
 * compares a bounced original with them (judge.c).
 *
 * A hop is one Received header. It is a *submission* hop when the
 * message entered the mail system there from its author: an
 * authenticated SMTP session (RFC 3848's ESMTPA, ESMTPSA, LMTPA, ...,
 * sendmail's "authenticated", Postfix's "Authenticated sender"), a local
 * injection (no "from" clause: Postfix pickup, sendmail's Submit, qmail's
 * "invoked by uid", Exim's "with local", Gmail's "by 2002:... with SMTP"),
 * a webmail or MAPI client (Exchange's "with mapi", "with HTTP"), or a
 * client on a private or loopback address. Bots and worms deliver
 * straight from a public address to the recipient's server, with none.
 *
 * Several ways of sending are kept side by side, never averaged: each
 * message adds one "style" (its hop, Message-ID shape and mail program)
 * and the judge looks for one style that fits the original whole.
 */
#include "bounce-private.h"

#include <gio/gio.h>
#include <string.h>

void
bounce_hop_clear (BounceHop *hop)
{
  g_clear_pointer (&hop->by_host, g_free);
  g_clear_pointer (&hop->from_host, g_free);
  g_clear_pointer (&hop->from_ip, g_free);
  g_clear_pointer (&hop->from_name, g_free);
  g_clear_pointer (&hop->with, g_free);
}

/* The word after @key ("from", "by", "with") in a collapsed Received
 * value, where @key stands as a word of its own. */
static char *
hop_word (const char *text, const char *key)
{
  gsize klen = strlen (key);

  for (const char *p = text; (p = g_strstr_len (p, -1, key)) != NULL; p += klen)
    {
      const char *start, *end;

      if ((p != text && p[-1] != ' ' && p[-1] != ';') || p[klen] != ' ')
        continue;
      start = p + klen + 1;
      end = start;
      while (*end && *end != ' ' && *end != ';' && *end != '(' && *end != ')')
        end++;
      if (end > start)
        return bounce_utf8 (start, end - start);
    }
  return NULL;
}

/* The first IP literal in parentheses or brackets. */
static char *
hop_ip (const char *text)
{
  for (const char *p = text; *p; p++)
    if (*p == '[' || *p == '(')
      {
        const char *start = p + 1, *end;
        char close = *p == '[' ? ']' : ')';
        g_autofree char *cand = NULL;

        if (g_ascii_strncasecmp (start, "IPv6:", 5) == 0)
          start += 5;
        for (end = start; *end && *end != close && *end != ' ' && end - start < 64; end++)
          ;
        if (*end != close || end == start)
          continue;
        cand = g_strndup (start, end - start);
        /* "[fe80::1%5]": an interface suffix. */
        if (strchr (cand, '%'))
          *strchr (cand, '%') = '\0';
        if (g_hostname_is_ip_address (cand))
          return g_steal_pointer (&cand);
      }
  return NULL;
}

/**
 * bounce_ip_is_private:
 * Whether @ip is a loopback, link-local or private address (RFC 1918,
 * RFC 4193): a client on the sender's own network.
 */
gboolean
bounce_ip_is_private (const char *ip)
{
  g_autoptr (GInetAddress) a = ip ? g_inet_address_new_from_string (ip) : NULL;
  const guint8 *b;

  if (a == NULL)
    return FALSE;
  if (g_inet_address_get_is_loopback (a) || g_inet_address_get_is_link_local (a)
      || g_inet_address_get_is_site_local (a))
    return TRUE;
  b = g_inet_address_to_bytes (a);
  if (g_inet_address_get_family (a) == G_SOCKET_FAMILY_IPV4)
    return b[0] == 100 && (b[1] & 0xc0) == 64; /* carrier-grade NAT, RFC 6598 */
  return (b[0] & 0xfe) == 0xfc;                /* unique local, RFC 4193 */
}

/* The client's name as the server found it. Postfix and sendmail write
 * "from HELO (NAME [IP])", NAME "unknown" when reverse DNS failed, and
 * sendmail "from HELO ([IP])" when it found none; Exim (@exim: the header
 * is one, "(Exim 4.96)") writes "from NAME ([IP] helo=HELO)", or "from
 * NAME ([IP])" when the two agree. The name after "from" alone is only
 * what the client said. */
static char *
found_name (const char *from_part, const char *from_word, gboolean exim)
{
  const char *open = strchr (from_part, '(');
  const char *p, *end;

  if (open == NULL)
    return NULL;
  p = open + 1;
  while (*p == ' ')
    p++;
  if (*p == '[')
    {
      /* Exim: the name before the parentheses is the one it found. */
      return exim && from_word && !g_hostname_is_ip_address (from_word) && from_word[0] != '[' ? g_strdup (from_word)
                                                                                               : NULL;
    }
  for (end = p; *end && *end != ' ' && *end != '[' && *end != ')'; end++)
    ;
  if (end == p || *end != ' ' || end[1] != '[')
    return NULL;
  if (end - p == 7 && strncmp (p, "unknown", 7) == 0)
    return NULL;
  return g_strndup (p, end - p);
}

static gboolean
is_auth_protocol (const char *with)
{
  static const char *const names[] = { "esmtpa",    "esmtpsa",    "lmtpa",     "lmtpsa",
                                       "utf8smtpa", "utf8smtpsa", "utf8lmtpa", "utf8lmtpsa" };

  for (guint i = 0; with && i < G_N_ELEMENTS (names); i++)
    if (g_ascii_strcasecmp (with, names[i]) == 0)
      return TRUE;
  return FALSE;
}

/**
 * bounce_hop_parse:
 * @received: the value of one Received header
 * @hop: (out caller-allocates): what it says; clear with bounce_hop_clear()
 *
 * Returns: FALSE when the header names no receiving host (but for
 *   qmail's local injection, whose by_host is NULL).
 */
gboolean
bounce_hop_parse (const char *received, BounceHop *hop)
{
  g_autofree char *v = bounce_collapse_space (received);
  g_autofree char *lower = NULL;
  const char *semi;
  gsize n;

  memset (hop, 0, sizeof *hop);
  if (v == NULL)
    return FALSE;
  /* The date after the last ';' says nothing of the path. */
  semi = strrchr (v, ';');
  if (semi)
    v[semi - v] = '\0';
  lower = g_ascii_strdown (v, -1);
  /* qmail's "(qmail 4711 invoked by uid 1000)": a local injection, whose
   * "by" names no host. */
  if (strstr (lower, "(qmail ") && (strstr (lower, "invoked by uid") || strstr (lower, "invoked by alias"))
      && !strstr (lower, ") by ") && !g_str_has_prefix (lower, "by "))
    {
      hop->submission = BOUNCE_SUBMISSION_LOCAL;
      return TRUE;
    }
  hop->by_host = hop_word (lower, "by");
  if (hop->by_host == NULL)
    return FALSE;
  n = strlen (hop->by_host);
  if (n > 0 && hop->by_host[n - 1] == '.')
    hop->by_host[n - 1] = '\0';
  hop->from_host = hop_word (lower, "from");
  hop->with = hop_word (lower, "with");
  {
    /* The client's address is the first literal after "from", before "by". */
    const char *by = strstr (lower, " by ");
    g_autofree char *from_part = hop->from_host && by ? g_strndup (lower, by - lower) : NULL;

    hop->from_ip = from_part ? hop_ip (from_part) : NULL;
    hop->from_name = from_part ? found_name (from_part, hop->from_host, strstr (lower, "(exim ") != NULL) : NULL;
  }
  if (is_auth_protocol (hop->with) || strstr (lower, "(authenticated") || strstr (lower, "authenticated sender:")
      || strstr (lower, "authenticated bits=") || strstr (lower, "(auth=") || strstr (lower, " auth="))
    {
      hop->authenticated = TRUE;
      hop->submission = BOUNCE_SUBMISSION_AUTHENTICATED;
    }
  else if (g_strcmp0 (hop->with, "mapi") == 0 || g_strcmp0 (hop->with, "http") == 0
           || g_strcmp0 (hop->with, "https") == 0 || g_strcmp0 (hop->with, "httprest") == 0
           || g_strcmp0 (hop->with, "webmail") == 0)
    hop->submission = BOUNCE_SUBMISSION_WEBMAIL;
  else if (hop->from_host == NULL || strstr (lower, "invoked by uid") || strstr (lower, "from userid")
           || g_strcmp0 (hop->with, "local") == 0 || g_str_has_prefix (hop->with ? hop->with : "", "local-"))
    hop->submission = BOUNCE_SUBMISSION_LOCAL;
  else if (hop->from_ip && bounce_ip_is_private (hop->from_ip))
    hop->submission = BOUNCE_SUBMISSION_PRIVATE;
  else if (hop->from_ip == NULL && hop->from_host
           && (strcmp (hop->from_host, "localhost") == 0 || g_str_has_prefix (hop->from_host, "127.")))
    hop->submission = BOUNCE_SUBMISSION_LOCAL;
  return TRUE;
}

/**
 * bounce_org_domain:
 * The domain that names the organisation running @host: its last two
 * labels, or three where the second-level label is a short one under a
 * country code ("mail.example.co.uk" -> "example.co.uk").
 *
 * Returns: (transfer full) (nullable): NULL for an address or a bare name
 */
char *
bounce_org_domain (const char *host)
{
  g_auto (GStrv) labels = NULL;
  guint n, keep;

  if (host == NULL || !strchr (host, '.') || g_hostname_is_ip_address (host))
    return NULL;
  labels = g_strsplit (host, ".", -1);
  n = g_strv_length (labels);
  while (n > 0 && *labels[n - 1] == '\0')
    n--;
  if (n < 2)
    return NULL;
  keep = 2;
  if (n >= 3 && strlen (labels[n - 1]) == 2 && strlen (labels[n - 2]) <= 3)
    keep = 3;
  if (keep > n)
    keep = n;
  {
    g_autoptr (GString) out = g_string_new (NULL);

    for (guint i = n - keep; i < n; i++)
      g_string_append_printf (out, "%s%s", i > n - keep ? "." : "", labels[i]);
    return g_ascii_strdown (out->str, out->len);
  }
}

/* A /24 (IPv4) or /48 (IPv6) network, written as text: "192.0.2.0/24". */
static char *
network_of (const char *ip)
{
  g_autoptr (GInetAddress) a = ip ? g_inet_address_new_from_string (ip) : NULL;
  guint8 bytes[16] = { 0 };
  gsize len;
  g_autoptr (GInetAddress) net = NULL;
  g_autofree char *s = NULL;

  if (a == NULL)
    return NULL;
  len = g_inet_address_get_native_size (a);
  memcpy (bytes, g_inet_address_to_bytes (a), len);
  if (len == 4)
    bytes[3] = 0;
  else
    memset (bytes + 6, 0, 10);
  net = g_inet_address_new_from_bytes (bytes, g_inet_address_get_family (a));
  s = g_inet_address_to_string (net);
  return g_strdup_printf ("%s/%d", s, len == 4 ? 24 : 48);
}

/**
 * bounce_hop_key:
 * What a hop is known by in the profile. A submission hop: "s:" and the
 * organisation of the server that took the message in ("s:example.org"),
 * so that every server of the owner's provider counts. Another hop:
 * "n:" and the network (or organisation) it came from ("n:192.0.2.0/24"):
 * the owner's own server or network sending straight on.
 *
 * Returns: (transfer full) (nullable): NULL when the hop names no
 *   organisation
 */
char *
bounce_hop_key (const BounceHop *hop)
{
  g_autofree char *by = bounce_org_domain (hop->by_host);
  g_autofree char *from = NULL;

  if (hop->submission != BOUNCE_SUBMISSION_NONE)
    {
      /* A host known by its address only (Gmail's "by 2002:a05:...").
       * Anything else without a domain names nothing. */
      if (hop->by_host == NULL)
        return g_strdup ("s:[local]");
      if (by == NULL)
        return strchr (hop->by_host, ':') || g_hostname_is_ip_address (hop->by_host) ? g_strdup ("s:[address]") : NULL;
      return g_strconcat ("s:", by, NULL);
    }
  from = hop->from_ip ? network_of (hop->from_ip) : bounce_org_domain (hop->from_host);
  if (from == NULL)
    return NULL;
  return g_strconcat ("n:", from, NULL);
}

static char
token_class (const char *t, gsize n)
{
  gboolean digit = FALSE, lower_hex = FALSE, upper_hex = FALSE, lower = FALSE, upper = FALSE;

  for (gsize i = 0; i < n; i++)
    {
      char c = t[i];

      if (g_ascii_isdigit (c))
        digit = TRUE;
      else if (c >= 'a' && c <= 'f')
        lower_hex = TRUE;
      else if (c >= 'A' && c <= 'F')
        upper_hex = TRUE;
      else if (g_ascii_islower (c))
        lower = TRUE;
      else if (g_ascii_isupper (c))
        upper = TRUE;
      else
        return 'o';
    }
  if (!lower_hex && !upper_hex && !lower && !upper)
    return digit ? 'd' : 'o';
  if (!lower && !upper && lower_hex != upper_hex)
    return lower_hex ? 'x' : 'X';
  if (!lower_hex && !lower)
    return 'A'; /* capitals and digits */
  if (!upper_hex && !upper)
    return 'a'; /* small letters and digits */
  return 'm';
}

/**
 * bounce_message_id_shape:
 * @message_id: with or without angle brackets
 *
 * The shape of a Message-ID, which tells mail programs apart: its local
 * part cut at punctuation into words, each word written as its class (d
 * digits, x or X hexadecimal, a small letters, A capitals, m mixed
 * case), long words marked "+" (over 12 characters), then "@" and the
 * domain: "<7a2e3d4c-5b6f-4071-8c8b-9d0e1f2a3b42@mail.example.org>" is
 * "x-x-x-x-x+@mail.example.org". A word of digits alone takes the class
 * of the hexadecimal words beside it, so that a UUID whose word happens
 * to have no letter keeps its shape.
 *
 * Returns: (transfer full) (nullable): NULL without an "@"
 */
char *
bounce_message_id_shape (const char *message_id)
{
  const char *start, *at, *p;
  GString *out;
  char hex = 0;
  g_autofree char *domain = NULL;

  if (message_id == NULL)
    return NULL;
  start = message_id;
  while (*start == '<' || *start == ' ')
    start++;
  at = strrchr (start, '@');
  if (at == NULL || at == start)
    return NULL;
  /* First pass: which hexadecimal case the ID uses. */
  for (p = start; p < at && hex == 0;)
    {
      const char *w = p;
      char c;

      while (p < at && g_ascii_isalnum (*p))
        p++;
      c = token_class (w, p - w);
      if (p > w && (c == 'x' || c == 'X'))
        hex = c;
      if (p == w)
        p++;
    }
  out = g_string_new (NULL);
  for (p = start; p < at && out->len < 64;)
    {
      if (g_ascii_isalnum (*p))
        {
          const char *w = p;
          char c;

          while (p < at && g_ascii_isalnum (*p))
            p++;
          c = token_class (w, p - w);
          if (c == 'd' && hex)
            c = hex;
          g_string_append_c (out, c);
          if (p - w > 12)
            g_string_append_c (out, '+');
        }
      else
        {
          if (!g_ascii_isspace (*p))
            g_string_append_c (out, *p);
          p++;
        }
    }
  domain = bounce_message_id_domain (message_id);
  g_string_append_c (out, '@');
  if (domain)
    {
      char *d = g_ascii_strdown (domain, -1);

      g_string_append (out, d);
      g_free (d);
    }
  return g_string_free (out, FALSE);
}

/**
 * bounce_date_zone:
 * The time zone of a Date header value: "+0200", "-0500"; NULL when it
 * has none or says -0000 (unknown).
 */
char *
bounce_date_zone (const char *date)
{
  g_autofree char *v = bounce_collapse_space (date);
  const char *p;

  if (v == NULL)
    return NULL;
  for (p = v + strlen (v); p > v; p--)
    if ((p[-1] == '+' || p[-1] == '-') && g_ascii_isdigit (p[0]) && strlen (p) >= 4 && g_ascii_isdigit (p[1])
        && g_ascii_isdigit (p[2]) && g_ascii_isdigit (p[3]) && (p[4] == '\0' || p[4] == ' '))
      {
        if (p[-1] == '-' && strncmp (p, "0000", 4) == 0)
          return NULL;
        return g_strdup_printf ("%c%.4s", p[-1], p);
      }
  if (strstr (v, " GMT") || strstr (v, " UT"))
    return g_strdup ("+0000");
  return NULL;
}

/**
 * bounce_sending_style:
 * One way of sending, as the profile keeps it: "HOP|SHAPE|AGENT", with
 * "-" for what is unknown (a Sent folder written by the client itself
 * holds no Received header).
 */
char *
bounce_sending_style (const char *hop_key, const char *shape, const char *agent)
{
  return g_strdup_printf ("%s|%s|%s", hop_key ? hop_key : "-", shape ? shape : "-", agent ? agent : "-");
}

/* The domain of a Message-ID: "<abc@mail.example.org>" -> "mail.example.org". */
char *
bounce_message_id_domain (const char *message_id)
{
  const char *at = message_id ? strrchr (message_id, '@') : NULL;
  const char *end;

  if (at == NULL)
    return NULL;
  end = strchr (at, '>');
  return bounce_utf8 (at + 1, end ? end - at - 1 : -1);
}

/* A User-Agent without its version numbers, so that an upgrade of the
 * owner's mail program is not a stranger: "Thunderbird/115.3" -> "thunderbird". */
char *
bounce_user_agent_family (const char *ua)
{
  GString *out;

  if (ua == NULL)
    return NULL;
  out = g_string_new (NULL);
  for (const char *p = ua; *p && out->len < 64; p++)
    {
      if (g_ascii_isdigit (*p) || *p == '(' || *p == '/' || *p == ';' || *p == '[')
        break;
      g_string_append_c (out, g_ascii_tolower (*p));
    }
  return bounce_strip (g_string_free (out, FALSE));
}

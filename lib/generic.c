/* generic.c — read a report that no format rule describes.
 *
 * The format rules describe the reports of the mail systems they name;
 * this reader needs none. It finds delivery-status fields left in the
 * text by a broken MIME structure, the addresses of an X-Failed-Recipients
 * header, lines that hold an address beside an SMTP reply or status code,
 * and, in a report from a mail system, lines that hold an address beside
 * words of failure; it finds a returned header block in the text; failing
 * all that, RFC 3834 headers make an auto-reply.
 *
 * Limits: at most BOUNCE_MAX_RECIPIENTS recipients, a diagnostic of 1024
 * bytes, the report text as capped by the walk.
 */
#include "bounce-private.h"

#include <string.h>

/* Addresses of an X-Failed-Recipients header. */
static void
failed_recipients_header (GPtrArray *r, GMimeMessage *msg)
{
  const char *v = g_mime_object_get_header (GMIME_OBJECT (msg), "X-Failed-Recipients");
  g_auto (GStrv) parts = NULL;

  if (v == NULL)
    return;
  parts = g_strsplit_set (v, ",;", 1000);
  for (guint i = 0; parts[i]; i++)
    {
      g_autofree char *a = bounce_addr_spec (parts[i]);

      if (a && strchr (a, '@') && bounce_recipients_find (r, a) == NULL
          && r->len < BOUNCE_MAX_RECIPIENTS)
        {
          BounceRecipient *x = bounce_recipient_new ();

          x->address = g_steal_pointer (&a);
          x->action = g_strdup ("failed");
          g_ptr_array_add (r, x);
        }
    }
}

/* The generic fallback for a report no rule names: each line holding an
 * address and, on it or the lines after, an SMTP reply or status code. */
static void
generic_recipients (GPtrArray *r, const char *text, gsize len, gsize stop)
{
  static GRegex *line_re;
  static gsize once;
  g_autoptr (GMatchInfo) mi = NULL;

  if (g_once_init_enter (&once))
    {
      line_re = g_regex_new ("^[ \\t>]*(?:<|\"|RCPT TO:<?|To:\\s*<?|Recipient:\\s*<?)?"
                             "([^\\s<>\"()@,;:]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,})>?[\"]?"
                             "[:;,]?(.*)$",
                             G_REGEX_MULTILINE | G_REGEX_CASELESS | G_REGEX_OPTIMIZE, 0, NULL);
      g_once_init_leave (&once, 1);
    }
  if (stop > len)
    stop = len;
  g_regex_match_full (line_re, text, stop, 0, 0, &mi, NULL);
  while (g_match_info_matches (mi) && r->len < BOUNCE_MAX_RECIPIENTS)
    {
      int s, e;
      g_autofree char *addr = g_match_info_fetch (mi, 1);
      g_autofree char *rest = g_match_info_fetch (mi, 2);
      g_autofree char *next = NULL;
      char code[4], status[16];
      const char *after;
      const char *nl2;

      g_match_info_fetch_pos (mi, 0, &s, &e);
      /* The line itself and up to three after it, stopping at a blank
       * line or at the next line that starts with an address. */
      after = text + e;
      nl2 = after;
      for (int k = 0; k < 3 && nl2 && nl2 < text + stop; k++)
        {
          const char *line = nl2 + 1, *q = line, *end;

          if (line >= text + stop)
            break;
          end = memchr (line, '\n', text + stop - line);
          if (end == NULL)
            end = text + stop;
          while (q < end && (*q == ' ' || *q == '\t' || *q == '>'))
            q++;
          if (q == end || *q == '<' || memchr (q, '@', MIN ((gsize) (end - q), strcspn (q, " \t\n:"))))
            break;
          nl2 = end < text + stop ? end : NULL;
        }
      next = g_strndup (after, (nl2 ? nl2 : text + stop) - after);
      {
        g_autofree char *diag = g_strconcat (rest, " ", next, NULL);
        g_autofree char *c = bounce_collapse_space (diag);

        if (c && (bounce_find_reply_code (c, code) || bounce_find_status (c, status))
            && bounce_recipients_find (r, addr) == NULL)
          {
            BounceRecipient *x = bounce_recipient_new ();

            x->address = g_ascii_strdown (addr, -1);
            x->action = g_strdup ("failed");
            x->diagnostic = g_steal_pointer (&c);
            bounce_truncate_utf8 (x->diagnostic, 1024);
            g_ptr_array_add (r, x);
          }
      }
      if (!g_match_info_next (mi, NULL))
        break;
    }
}

/* The last resort for a report from a mail system that no rule names and
 * that gives no codes: lines that hold an address and words of failure
 * ("Unable to find user: <a@example.com>"). Only for messages from a
 * mailer daemon or postmaster. */
static void
daemon_recipients (GPtrArray *r, GMimeMessage *msg, const char *text, gsize len, gsize stop)
{
  static GRegex *from_re, *line_re;
  static gsize once;
  const char *from = g_mime_object_get_header (GMIME_OBJECT (msg), "From");
  g_autoptr (GMatchInfo) mi = NULL;

  if (g_once_init_enter (&once))
    {
      from_re = g_regex_new ("mailer-?daemon|postmaster|mail delivery (?:sub)?system", G_REGEX_CASELESS | G_REGEX_OPTIMIZE, 0, NULL);
      line_re = g_regex_new ("^(?=[^\\n]*\\b(?:unknown|no such|not found|unable to|does ?n[o']t exist|invalid|"
                             "rejected|refused|unavailable|disabled|over ?quota|is full|undeliverable|"
                             "could not be delivered|failed)\\b)[^\\n]*?<?([^\\s<>\"()@,;:]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,})>?",
                             G_REGEX_CASELESS | G_REGEX_MULTILINE | G_REGEX_OPTIMIZE, 0, NULL);
      g_once_init_leave (&once, 1);
    }
  if (from == NULL || !g_utf8_validate (from, -1, NULL) || !g_regex_match (from_re, from, 0, NULL))
    return;
  g_regex_match_full (line_re, text, MIN (stop, len), 0, 0, &mi, NULL);
  while (g_match_info_matches (mi) && r->len < BOUNCE_MAX_RECIPIENTS)
    {
      g_autofree char *addr = g_match_info_fetch (mi, 1);
      int s0, e0;

      g_match_info_fetch_pos (mi, 0, &s0, &e0);
      if (bounce_recipients_find (r, addr) == NULL)
        {
          const char *nl = memchr (text + s0, '\n', len - s0);
          g_autofree char *raw = g_strndup (text + s0, (nl ? nl : text + len) - (text + s0));
          BounceRecipient *x = bounce_recipient_new ();

          x->address = g_ascii_strdown (addr, -1);
          x->action = g_strdup ("failed");
          x->diagnostic = bounce_collapse_space (raw);
          g_ptr_array_add (r, x);
        }
      if (!g_match_info_next (mi, NULL))
        break;
    }
}

/* bounce_generic_original: where an inline original starts, without a rule: the first line of a
 * block of header lines that holds a Message-ID or a From and a Subject.
 * Returns G_MAXSIZE when there is none. */
gsize
bounce_generic_original (const char *text, gsize len)
{
  static GRegex *re;
  static gsize once;
  g_autoptr (GMatchInfo) mi = NULL;
  int s, e;
  gsize start;

  if (g_once_init_enter (&once))
    {
      re = g_regex_new ("^[ \\t]*(Message-ID|From|Subject|Received|Return-Path|Date|To):[ \\t]*\\S",
                        G_REGEX_MULTILINE | G_REGEX_CASELESS | G_REGEX_OPTIMIZE, 0, NULL);
      g_once_init_leave (&once, 1);
    }
  if (!g_regex_match_full (re, text, len, 0, 0, &mi, NULL))
    return G_MAXSIZE;
  while (g_match_info_matches (mi))
    {
      int count = 0;
      gboolean has_id = FALSE;
      const char *p;

      g_match_info_fetch_pos (mi, 0, &s, &e);
      /* Count the header-like lines from here. */
      p = text + s;
      while (p < text + len)
        {
          const char *nl = memchr (p, '\n', text + len - p);
          gsize n = nl ? (gsize) (nl - p) : (gsize) (text + len - p);
          gsize i = 0;

          while (i < n && (p[i] == ' ' || p[i] == '\t'))
            i++;
          if (i == n)
            break;
          if (i == 0 || count == 0)
            {
              gsize j = i;

              while (j < n && (g_ascii_isalnum (p[j]) || p[j] == '-'))
                j++;
              if (j == i || j >= n || p[j] != ':')
                {
                  if (i == 0)
                    break;
                }
              else
                {
                  count++;
                  if (g_ascii_strncasecmp (p + i, "Message-ID:", 11) == 0)
                    has_id = TRUE;
                }
            }
          if (!nl)
            break;
          p = nl + 1;
        }
      if (has_id || count >= 3)
        {
          start = s;
          return start;
        }
      if (!g_match_info_next (mi, NULL))
        break;
    }
  return G_MAXSIZE;
}

static gboolean
header_says (GMimeMessage *msg, const char *name, const char *word)
{
  const char *v = g_mime_object_get_header (GMIME_OBJECT (msg), name);

  return v && strstr (v, word) != NULL;
}

static gboolean
is_auto_reply (GMimeMessage *msg)
{
  const char *as = g_mime_object_get_header (GMIME_OBJECT (msg), "Auto-Submitted");

  return (as && g_ascii_strncasecmp (g_strchug ((char *) as), "auto-replied", 12) == 0)
         || g_mime_object_get_header (GMIME_OBJECT (msg), "X-Autoreply")
         || g_mime_object_get_header (GMIME_OBJECT (msg), "X-Autorespond")
         || header_says (msg, "Precedence", "auto_reply");
}

/* The start of delivery-status fields in the report text, or NULL: a
 * Reporting-MTA or Final-Recipient line with an Action line after it. */
static const char *
dsn_fields_in_text (const char *text, gsize len)
{
  static GRegex *re;
  static gsize once;
  g_autoptr (GMatchInfo) mi = NULL;
  int s, e;

  if (g_once_init_enter (&once))
    {
      re = g_regex_new ("^(Reporting-MTA|Final-Recipient):[^\n]*\n(?:[^\n]*\n){0,12}?Action:",
                        G_REGEX_MULTILINE | G_REGEX_CASELESS | G_REGEX_OPTIMIZE, 0, NULL);
      g_once_init_leave (&once, 1);
    }
  if (!g_regex_match_full (re, text, len, 0, 0, &mi, NULL))
    return NULL;
  g_match_info_fetch_pos (mi, 0, &s, &e);
  return text + s;
}

/* bounce_generic_dsn: the delivery-status fields left in the report text
 * (a boundary that matches no part leaves them there), or NULL when they
 * name no recipient. Returns: (transfer full) (nullable) */
BounceDsn *
bounce_generic_dsn (const char *text, gsize len)
{
  const char *fields = dsn_fields_in_text (text, len);
  g_autoptr (BounceDsn) dsn = NULL;

  if (fields == NULL)
    return NULL;
  dsn = bounce_dsn_parse (fields, text + len - fields);
  return dsn->recipients->len > 0 ? g_steal_pointer (&dsn) : NULL;
}

/* bounce_generic_read: what the reader makes of @g's report after the
 * MIME structure and the format rules were read: the recipients they did
 * not name, and, when neither knew the report, its kind, format and where
 * its inline original starts. */
void
bounce_generic_read (BounceGeneric *g)
{
  GPtrArray *r = g->recipients;

  if (g->rule)
    {
      if (r->len == 0 && (g->kind == BOUNCE_KIND_FAILURE || g->kind == BOUNCE_KIND_DELAY))
        failed_recipients_header (r, g->message);
    }
  else if (g->format == NULL)
    {
      /* No rule knows it: addresses next to error codes make a failure;
       * failing that, RFC 3834 headers make an auto-reply. */
      failed_recipients_header (r, g->message);
      g->inline_at = bounce_generic_original (g->text, g->text_len);
      generic_recipients (r, g->text, g->text_len, g->inline_at);
      if (r->len == 0)
        daemon_recipients (r, g->message, g->text, g->text_len, g->inline_at);
      if (r->len > 0)
        {
          g->kind = BOUNCE_KIND_FAILURE;
          g->format = "generic";
        }
      else if (is_auto_reply (g->message))
        {
          g->kind = BOUNCE_KIND_AUTOREPLY;
          g->format = "rfc3834";
        }
    }
  if (g->kind == BOUNCE_KIND_FAILURE && g_strcmp0 (g->format, "rfc3464") == 0 && r->len == 0)
    {
      /* Recipients only in the human-readable part. */
      failed_recipients_header (r, g->message);
      if (r->len == 0)
        generic_recipients (r, g->text, g->text_len, G_MAXSIZE);
    }
}

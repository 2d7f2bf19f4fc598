/* generic-diagnostic.c — the diagnostic of a failed recipient in a
 * report no rule describes.
 *
 * A recipient found beside its answer takes the line it is on and the
 * lines after it up to a blank line; when those hold no reply or status
 * code, the next paragraph too, if it holds one and names no other
 * address. A recipient named apart from its answer (an
 * X-Failed-Recipients header, a list above the servers' answers, a
 * delivery-status part that says only "5.0.0") takes the paragraph where
 * the text names it, or, when it failed alone, the first lines of the
 * text that hold a code; failing both, the first paragraph in which a
 * reason rule names a cause (the answer in words, apart from the list of
 * recipients).
 *
 * Limits: a diagnostic is cut at BOUNCE_MAX_DIAGNOSTIC_BYTES when the
 * recipients are finished (recipients.c), which the report warns of.
 */
#include "generic-private.h"

#include <string.h>

#define REASON_PARAGRAPHS 40        /* paragraphs of the text weighed for a reason */
#define REASON_PARAGRAPH_BYTES 1024 /* a longer one is no answer */

/* The line around @s and the lines after it up to a blank line (at most
 * three), collapsed. */
static char *
lines_at (const char *text, gsize len, gsize s, gsize *end)
{
  gsize a = s, b = s;

  while (a > 0 && text[a - 1] != '\n')
    a--;
  for (int k = 0; k < 4 && b < len; k++)
    {
      const char *nl = memchr (text + b, '\n', len - b);

      b = nl ? (gsize) (nl - text) : len;
      if (k < 3 && b + 1 < len && text[b + 1] != '\n')
        b++;
      else
        break;
    }
  *end = b;
  {
    g_autofree char *raw = g_strndup (text + a, b - a);

    return bounce_collapse_space (raw);
  }
}

/* The diagnostic of the address at @s: its line and the lines after it up
 * to a blank line; when they hold no code, the paragraph after them too
 * if it holds one and names no other address ("Delivery failed for
 * a@example.net.\n\nLast error: 550 ..."). */
char *
bounce_generic_paragraph_at (const char *text, gsize len, gsize s, gsize e)
{
  gsize b, b2;
  char *c = lines_at (text, len, s, &b);
  char code[4], status[16];

  if (c && !bounce_find_reply_code (c, code) && !bounce_find_status (c, status) && b + 2 < len && text[b] == '\n'
      && text[b + 1] == '\n')
    {
      g_autofree char *next = lines_at (text, len, b + 2, &b2);

      if (next && (bounce_find_reply_code (next, code) || bounce_find_status (next, status))
          && memchr (text + b + 2, '@', b2 - (b + 2)) == NULL)
        {
          char *both = g_strconcat (c, " ", next, NULL);

          g_free (c);
          c = both;
        }
    }
  return c;
}

/* The diagnostic of a recipient found without one beside it: the first
 * lines of the text (up to @n) that hold a code - the address itself may
 * be broken across lines there, or stand apart from the server's answer.
 * Returns: (transfer full) (nullable) */
char *
bounce_generic_first_code_paragraph (BounceGeneric *g, gsize n)
{
  g_autoptr (GMatchInfo) code = NULL;
  int cs, ce;

  if (!g_regex_match_full (bounce_pattern_re (bounce_generic_phrases ()->code, n), g->text, n, 0, 0, &code, NULL))
    return NULL;
  g_match_info_fetch_pos (code, 0, &cs, &ce);
  return bounce_generic_paragraph_at (g->text, n, cs, ce);
}

/* Where the text names @a (lower case) as a whole address, or NULL. */
static const char *
address_in_text (const char *text, gsize n, const char *a)
{
  gsize alen = strlen (a);

  for (const char *p = text; alen > 0 && p + alen <= text + n; p++)
    {
      p = memchr (p, '@', text + n - p);
      if (p == NULL)
        return NULL;
      {
        const char *at = strchr (a, '@');
        const char *s = p - (at - a);

        if (s >= text && s + alen <= text + n && g_ascii_strncasecmp (s, a, alen) == 0
            && (s == text || strchr (" \t\n<\"'(:;,[", s[-1]))
            && (s + alen == text + n || !(g_ascii_isalnum (s[alen]) || s[alen] == '.' || s[alen] == '-')
                || (s[alen] == '.' && (s + alen + 1 == text + n || g_ascii_isspace (s[alen + 1])))))
          return s;
      }
    }
  return NULL;
}

/* The start of the first line of the text that names @a other than as
 * the original's recipient ("To: a@example.net" quoted above the answer)
 * or in a delivery-status field left in the text, or NULL. */
static const char *
answer_line (const char *text, gsize n, const char *a)
{
  static const char *const quoted[] = { "To:", "Cc:", "Bcc:", "Final-Recipient:", "Original-Recipient:" };

  for (const char *p = text, *s; (s = address_in_text (p, text + n - p, a)) != NULL; p = s + strlen (a))
    {
      const char *line = s, *q;
      gboolean header = FALSE;

      while (line > text && line[-1] != '\n')
        line--;
      for (q = line; q < s && (*q == ' ' || *q == '\t' || *q == '>'); q++)
        ;
      for (guint i = 0; i < G_N_ELEMENTS (quoted); i++)
        header |= g_ascii_strncasecmp (q, quoted[i], strlen (quoted[i])) == 0;
      if (!header)
        return line;
    }
  return NULL;
}

/* Whether the line at @line (up to @end) names one of @r's addresses
 * other than @self. */
static gboolean
names_other (const char *line, const char *end, GPtrArray *r, const BounceRecipient *self)
{
  for (guint i = 0; i < r->len; i++)
    {
      const BounceRecipient *x = g_ptr_array_index (r, i);

      if (x != self && address_in_text (line, end - line, x->address))
        return TRUE;
    }
  return FALSE;
}

/* Whether @text holds an SMTP reply code or an RFC 3463 status. */
static gboolean
holds_code (const char *text)
{
  char code[4], status[16];

  return text && (bounce_find_reply_code (text, code) || bounce_find_status (text, status));
}

/* Whether @text says something after @address: a word of two letters
 * or more ("a@example.net: Envelope expired"; a sentence that leads to
 * the address, "Did not reach the following recipient: a@example.net",
 * is the report's, not the server's answer). */
static gboolean
says_after (const char *text, const char *address)
{
  const char *at = address_in_text (text, strlen (text), address);

  if (at == NULL)
    return FALSE;
  for (const char *p = at + strlen (address); *p;)
    {
      gsize w = 0;

      while (g_ascii_isalpha (p[w]))
        w++;
      if (w >= 2)
        return TRUE;
      p += w ? w : 1;
    }
  return FALSE;
}

/* Give @x the diagnostic @c (transfer full): in place of one that holds
 * no code, or after it when it says something @c does not. */
static void
diagnostic_take (BounceRecipient *x, char *c)
{
  if (x->diagnostic && strstr (c, x->diagnostic) == NULL)
    {
      char *both = g_strconcat (x->diagnostic, " ", c, NULL);

      g_free (c);
      c = both;
    }
  g_free (x->diagnostic);
  x->diagnostic = c;
}

/* Whether the paragraph of @text from @a to @b is blank. */
static gboolean
blank (const char *text, gsize a, gsize b)
{
  for (; a < b; a++)
    if (!g_ascii_isspace (text[a]))
      return FALSE;
  return TRUE;
}

/* Whether the paragraph @p (@len bytes) is a group of delivery-status
 * fields left in the text: the report's own words, not an answer. */
static gboolean
dsn_fields (const char *p, gsize len)
{
  static const char *const names[] = { "Final-Recipient:", "Original-Recipient:", "Reporting-MTA:" };

  for (const char *line = p; line && line < p + len;)
    {
      const char *nl = memchr (line, '\n', p + len - line);

      for (guint i = 0; i < G_N_ELEMENTS (names); i++)
        if ((gsize) (p + len - line) >= strlen (names[i])
            && g_ascii_strncasecmp (line, names[i], strlen (names[i])) == 0)
          return TRUE;
      line = nl ? nl + 1 : NULL;
    }
  return FALSE;
}

/* The answer of a report that names its recipients apart from the
 * reason they failed and gives no code ("Delivery to the following
 * recipient failed permanently: a@example.net ... Technical details:
 * Storage quota exceeded"): the first paragraph of the text (up to @n)
 * in which a reason rule of @g names a cause and that names no recipient
 * of @g but @self. Returns: (transfer full) (nullable) */
static char *
reason_paragraph (BounceGeneric *g, gsize n, const BounceRecipient *self)
{
  gsize a = 0;

  for (int k = 0; k < REASON_PARAGRAPHS && a < n; k++)
    {
      gsize b = a;

      /* the lines from @a up to a blank one */
      while (b < n)
        {
          const char *nl = memchr (g->text + b, '\n', n - b);
          gsize e = nl ? (gsize) (nl - g->text) : n;

          if (blank (g->text, b, e))
            break;
          b = e < n ? e + 1 : n;
        }
      if (b > a && b - a <= REASON_PARAGRAPH_BYTES && !dsn_fields (g->text + a, b - a)
          && !names_other (g->text + a, g->text + b, g->recipients, self))
        {
          g_autofree char *raw = g_strndup (g->text + a, b - a);
          g_autofree char *c = bounce_collapse_space (raw);

          if (c && bounce_rules_reason (g->rules, c, NULL))
            return g_steal_pointer (&c);
        }
      /* past the blank lines */
      while (b < n)
        {
          const char *nl = memchr (g->text + b, '\n', n - b);
          gsize e = nl ? (gsize) (nl - g->text) : n;

          if (!blank (g->text, b, e))
            break;
          b = e < n ? e + 1 : n;
        }
      a = b;
    }
  return NULL;
}

/* A recipient named with no server's answer beside it (an
 * X-Failed-Recipients header, a list of addresses above the answers, a
 * sentence of failure that names it, a delivery-status part whose Status
 * says only that it failed) gets the answer from the text: the
 * paragraph where the text names it, up to a blank line or a line that
 * names another of the recipients (at most twelve lines), when that holds
 * a code; failing that, when it is the only recipient, the first lines of
 * the text that hold one; failing that, the first paragraph that gives a
 * reason in words. */
void
bounce_generic_recipient_diagnostics (BounceGeneric *g, gsize stop)
{
  GPtrArray *r = g->recipients;
  gsize n = MIN (stop, g->text_len);

  if (g->text == NULL || !g_utf8_validate (g->text, n, NULL))
    return;
  for (guint i = 0; i < r->len; i++)
    {
      BounceRecipient *x = g_ptr_array_index (r, i);
      const char *s, *end;
      char *c;

      /* A status that names a cause is an answer; "5.0.0" with no
       * diagnostic beside it says only that it failed. */
      if ((x->status && (x->diagnostic || !g_str_has_suffix (x->status, ".0.0"))) || x->address == NULL
          || holds_code (x->diagnostic))
        continue;
      if ((s = answer_line (g->text, n, x->address)) != NULL)
        {
          end = memchr (s, '\n', g->text + n - s);
          end = end ? end : g->text + n;
          for (int k = 0; k < 11 && end < g->text + n; k++)
            {
              const char *line = end + 1, *next = memchr (line, '\n', g->text + n - line);

              next = next ? next : g->text + n;
              if (line == next || names_other (line, next, r, x))
                break;
              end = next;
            }
          {
            g_autofree char *raw = g_strndup (s, end - s);

            c = bounce_collapse_space (raw);
            if (holds_code (c))
              {
                diagnostic_take (x, c);
                continue;
              }
            /* No code, but words after the address ("a@example.net:
             * Envelope expired", the address and "retry timeout exceeded"
             * under it): the answer in words. */
            if (x->diagnostic == NULL && says_after (c, x->address))
              x->diagnostic = g_steal_pointer (&c);
            g_free (c);
          }
        }
      if (r->len == 1 && (c = bounce_generic_first_code_paragraph (g, n)) != NULL)
        diagnostic_take (x, c);
      else if (x->diagnostic == NULL && g->rules && (c = reason_paragraph (g, n, x)) != NULL)
        x->diagnostic = c;
    }
}

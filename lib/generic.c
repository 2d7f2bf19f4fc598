/* generic.c — read a report that no format rule describes.
 *
 * The format rules describe the reports of the mail systems they name;
 * this reader needs none. It finds delivery-status fields left in the
 * text by a broken MIME structure, the addresses of an X-Failed-Recipients
 * header, lines that hold an address beside an SMTP reply or status code,
 * and, in a report from a mail system, lines that hold an address beside
 * words of failure; it finds a returned header block in the text; failing
 * all that, RFC 3834 headers make an auto-reply. Whether such a message
 * is a report at all, generic-evidence.c weighs; generic-diagnostic.c
 * finds the server's answer for each recipient.
 *
 * Limits: at most BOUNCE_MAX_RECIPIENTS recipients, a diagnostic of
 * BOUNCE_MAX_DIAGNOSTIC_BYTES, the report text as capped by the walk.
 */
#include "generic-private.h"

#include <string.h>

#define MAX_ADDRESSES_LOOKED 200 /* addresses of the text weighed as recipients */

static gboolean message_id_like (const char *line, gsize line_len, const char *addr);

/* Add to @r a failed recipient: @address and @diagnostic (nullable),
 * both (transfer full). Returns: (transfer none) the recipient. */
static BounceRecipient *
failed_add (GPtrArray *r, char *address, char *diagnostic)
{
  BounceRecipient *x = bounce_recipient_new ();

  x->address = address;
  x->action = g_strdup ("failed");
  x->diagnostic = diagnostic;
  g_ptr_array_add (r, x);
  return x;
}

/* Addresses of an X-Failed-Recipients header. */
static void
failed_recipients_header (GPtrArray *r, GMimeObject *msg)
{
  const char *v = g_mime_object_get_header (msg, "X-Failed-Recipients");
  g_auto (GStrv) parts = NULL;

  if (v == NULL)
    return;
  parts = g_strsplit_set (v, ",;", 1000);
  for (guint i = 0; parts[i]; i++)
    {
      g_autofree char *a = bounce_addr_spec (parts[i]);

      if (a && strchr (a, '@') && bounce_recipients_find (r, a) == NULL && r->len < BOUNCE_MAX_RECIPIENTS)
        failed_add (r, g_steal_pointer (&a), NULL);
    }
}

/* "a@example.com, b@example.net": when the rest of a recipient's line
 * (@rest, after the separator the line's pattern took) lists further
 * addresses and nothing else, they failed with the
 * same answer (@diagnostic). */
static void
listed_after (GPtrArray *r, const char *rest, const char *diagnostic)
{
  g_auto (GStrv) words = NULL;
  g_autoptr (GPtrArray) listed = g_ptr_array_new_with_free_func (g_free);

  if (strchr (rest, '@') == NULL)
    return;
  words = g_strsplit_set (rest, ",; \t\r", -1);
  for (guint i = 0; words[i]; i++)
    if (words[i][0])
      {
        /* the address, at most in angle brackets */
        char *a = bounce_addr_spec (words[i]);

        if (a == NULL || strchr (a, '@') == NULL || strlen (a) + 2 < strlen (words[i]))
          {
            g_free (a);
            return;
          }
        g_ptr_array_add (listed, a);
      }
  for (guint i = 0; i < listed->len && r->len < BOUNCE_MAX_RECIPIENTS; i++)
    if (bounce_recipients_find (r, g_ptr_array_index (listed, i)) == NULL)
      failed_add (r, g_ascii_strdown (g_ptr_array_index (listed, i), -1), g_strdup (diagnostic));
}

/* The generic fallback for a report no rule names: each line holding an
 * address and, on it or the lines after, an SMTP reply or status code. */
static void
generic_recipients (GPtrArray *r, const char *text, gsize len, gsize stop)
{
  static BouncePattern *line_re;
  static gsize once;
  g_autoptr (GMatchInfo) mi = NULL;

  if (g_once_init_enter (&once))
    {
      line_re = bounce_pattern_new ("^[ \\t>]*(?:<|\"|RCPT TO:<?|To:\\s*<?|Recipient:\\s*<?)?"
                                    "([^\\s<>\"()@,;:]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,})>?[\"]?"
                                    "[:;,]?(.*)$",
                                    G_REGEX_MULTILINE | G_REGEX_CASELESS);
      g_once_init_leave (&once, 1);
    }
  if (stop > len)
    stop = len;
  g_regex_match_full (bounce_pattern_re (line_re, stop), text, stop, 0, 0, &mi, NULL);
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
            BounceRecipient *x = failed_add (r, g_ascii_strdown (addr, -1), g_steal_pointer (&c));

            listed_after (r, rest, x->diagnostic);
          }
      }
      if (!g_match_info_next (mi, NULL))
        break;
    }
}

/* bounce_generic_finds_coded: whether the reader finds, in @text (@len
 * bytes) before @stop, a line with an address and a reply or status code
 * beside it, as it does in a report no rule describes. */
gboolean
bounce_generic_finds_coded (const char *text, gsize len, gsize stop)
{
  g_autoptr (GPtrArray) r = g_ptr_array_new_with_free_func ((GDestroyNotify) bounce_recipient_free);

  generic_recipients (r, text, len, stop);
  return r->len > 0;
}

/* The last resort for a report from a mail system that no rule names and
 * that gives no codes: lines that hold an address and words of failure
 * ("Unable to find user: <a@example.com>"). Only for messages from a
 * mailer daemon or postmaster. */
static void
daemon_recipients (GPtrArray *r, GMimeObject *msg, const char *text, gsize len, gsize stop)
{
  static BouncePattern *from_re, *line_re;
  static gsize once;
  g_autofree char *from = bounce_header_text (msg, "From");
  g_autoptr (GMatchInfo) mi = NULL;

  if (g_once_init_enter (&once))
    {
      from_re = bounce_pattern_new ("mailer-?daemon|postmaster|mail delivery (?:sub)?system", G_REGEX_CASELESS);
      line_re =
          bounce_pattern_new ("^(?=[^\\n]*(?<![.@])\\b(?:unknown|no such|not found|unable to|does ?n[o']t "
                              "exist|invalid|"
                              "rejected|refused|unavailable|disabled|over ?quota|is full|undeliverable|"
                              "could not be "
                              "delivered|failed)\\b)[^\\n]*?<?([^\\s<>\"()@,;:]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,})>?",
                              G_REGEX_CASELESS | G_REGEX_MULTILINE);
      g_once_init_leave (&once, 1);
    }
  if (from == NULL || !g_utf8_validate (from, -1, NULL)
      || !g_regex_match (bounce_pattern_re (from_re, -1), from, 0, NULL))
    return;
  g_regex_match_full (bounce_pattern_re (line_re, MIN (stop, len)), text, MIN (stop, len), 0, 0, &mi, NULL);
  while (g_match_info_matches (mi) && r->len < BOUNCE_MAX_RECIPIENTS)
    {
      g_autofree char *addr = g_match_info_fetch (mi, 1);
      int s0, e0;

      g_match_info_fetch_pos (mi, 0, &s0, &e0);
      if (bounce_recipients_find (r, addr) == NULL && !message_id_like (text + s0, strcspn (text + s0, "\n"), addr))
        failed_add (r, g_ascii_strdown (addr, -1), bounce_generic_paragraph_at (text, MIN (stop, len), s0, e0));
      if (!g_match_info_next (mi, NULL))
        break;
    }
}

/* The indentation of the line of @n bytes at @p inside its "> "
 * quoting; *@content (nullable): where the rest of the line starts. */
static gsize
line_indent (const char *p, gsize n, gsize *content)
{
  gsize i = 0, base;

  while (i < n && p[i] == '>')
    i += i + 1 < n && p[i + 1] == ' ' ? 2 : 1;
  base = i;
  while (i < n && (p[i] == ' ' || p[i] == '\t'))
    i++;
  if (content)
    *content = i;
  return i - base;
}

/* The length of the line at @p, without its '\n'. */
static gsize
line_len (const char *p, const char *end)
{
  const char *nl = memchr (p, '\n', end - p);

  return nl ? (gsize) (nl - p) : (gsize) (end - p);
}

/* Whether the @n bytes at @text are header fields and their
 * continuation lines only, with no blank line. */
static gboolean
fields_only (const char *text, gsize n)
{
  const char *p = text, *end = text + n;

  if (n == 0)
    return FALSE;
  while (p < end)
    {
      gsize l = line_len (p, end), j = 0;

      if (l == 0)
        return FALSE;
      if (p[0] != ' ' && p[0] != '\t')
        {
          while (j < l && (g_ascii_isalnum (p[j]) || p[j] == '-'))
            j++;
          if (j == 0 || j >= l || p[j] != ':')
            return FALSE;
        }
      else if (p == text)
        return FALSE;
      p += l + 1;
    }
  return TRUE;
}

/* bounce_generic_original: where an inline original starts, without a rule: the first line of a
 * block of header lines that holds a Message-ID or a From and a Subject
 * (0 when only header fields stand above it).
 * Returns G_MAXSIZE when there is none. */
gsize
bounce_generic_original (const char *text, gsize len)
{
  static BouncePattern *re;
  static gsize once;
  g_autoptr (GMatchInfo) mi = NULL;
  int s, e;
  gsize start;
  /* The lines of the last block read that did not qualify, and its
   * indentation: a later field line of that block, as indented as its
   * first, starts a block that is the rest of it, which cannot qualify
   * either. Not reading it again keeps a long block of "To:" lines
   * linear, not quadratic. */
  gsize failed_end = 0, failed_indent = G_MAXSIZE;

  if (g_once_init_enter (&once))
    {
      re = bounce_pattern_new ("^(?:>[ \\t]?)*[ \\t]*(Message-ID|From|Subject|Received|Return-Path|Date|To):[ \\t]*\\S",
                               G_REGEX_MULTILINE | G_REGEX_CASELESS);
      g_once_init_leave (&once, 1);
    }
  if (!g_regex_match_full (bounce_pattern_re (re, len), text, len, 0, 0, &mi, NULL))
    return G_MAXSIZE;
  while (g_match_info_matches (mi))
    {
      int count = 0;
      gboolean has_id = FALSE;
      const char *p;
      gsize indent0 = G_MAXSIZE; /* the first line's: the block's own */

      g_match_info_fetch_pos (mi, 0, &s, &e);
      if ((gsize) s < failed_end && line_indent (text + s, line_len (text + s, text + len), NULL) == failed_indent)
        {
          if (!g_match_info_next (mi, NULL))
            break;
          continue;
        }
      /* Count the header-like lines from here. */
      p = text + s;
      while (p < text + len)
        {
          gsize n = line_len (p, text + len), i;
          const char *nl = p + n < text + len ? p + n : NULL;
          gsize indent = line_indent (p, n, &i);

          if (i == n)
            break;
          if (indent0 == G_MAXSIZE)
            indent0 = indent;
          /* A line as indented as the first is a field; one indented
           * more continues the field before it; one indented less is
           * past the block. */
          if (indent < indent0)
            break;
          if (indent == indent0)
            {
              gsize j = i;

              while (j < n && (g_ascii_isalnum (p[j]) || p[j] == '-'))
                j++;
              if (j == i || j >= n || p[j] != ':')
                break;
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
      /* An indented block without a Message-ID is more often the report's
       * own summary of what was sent ("  To: ...  Subject: ...  Sent: ..."). */
      if (has_id || (count >= 3 && indent0 == 0))
        {
          start = s;
          /* Fields this pattern does not name ("X-Spam-Score:",
           * "ARC-Seal:") above it, from the first line of the text on,
           * are the start of the same block: a header block returned as
           * a text of its own. */
          if (fields_only (text, start))
            start = 0;
          return start;
        }
      failed_end = p - text;
      failed_indent = indent0;
      if (!g_match_info_next (mi, NULL))
        break;
    }
  return G_MAXSIZE;
}

/* The start of delivery-status fields in the report text, or NULL: a
 * Reporting-MTA or Final-Recipient line with an Action line after it. */
static const char *
dsn_fields_in_text (const char *text, gsize len)
{
  static BouncePattern *re;
  static gsize once;
  g_autoptr (GMatchInfo) mi = NULL;
  int s, e;

  if (g_once_init_enter (&once))
    {
      re = bounce_pattern_new ("^(Reporting-MTA|Final-Recipient):[^\n]*\n(?:[^\n]*\n){0,12}?Action:",
                               G_REGEX_MULTILINE | G_REGEX_CASELESS);
      g_once_init_leave (&once, 1);
    }
  if (!g_regex_match_full (bounce_pattern_re (re, len), text, len, 0, 0, &mi, NULL))
    return NULL;
  g_match_info_fetch_pos (mi, 0, &s, &e);
  return text + s;
}

/* Every address in a header value (an address list), lower case. */
static void
add_addresses (GPtrArray *out, const char *value)
{
  g_autoptr (GMatchInfo) mi = NULL;

  if (value == NULL || !g_utf8_validate (value, -1, NULL))
    return;
  g_regex_match (bounce_pattern_re (bounce_generic_phrases ()->address, -1), value, 0, &mi);
  while (g_match_info_matches (mi))
    {
      g_autofree char *a = g_match_info_fetch (mi, 0);

      g_ptr_array_add (out, g_ascii_strdown (a, -1));
      g_match_info_next (mi, NULL);
    }
}

static gboolean
holds_address (GPtrArray *list, const char *a)
{
  for (guint i = 0; i < list->len; i++)
    if (g_ascii_strcasecmp (g_ptr_array_index (list, i), a) == 0)
      return TRUE;
  return FALSE;
}

/* ---- a report no rule describes: its recipients ------------------------
 *
 * The failed recipients of a report the evidence makes one (see
 * generic-evidence.c) are the addresses of the text (before the
 * returned original) that stand next to an error phrase, an SMTP code,
 * "RCPT TO" or a word for "recipient", less those that cannot be one: the
 * report's own From, To and Sender, the original's From, Sender, Reply-To
 * and Return-Path, mail system addresses and Message-ID look-alikes. When
 * none stands next to such words and the original's To and Cc hold one
 * address, that address is the recipient. */

/* Whether @a is a mail system's own address. */
static gboolean
system_address (const char *a)
{
  static const char *const locals[] = { "postmaster@",    "mailer-daemon@", "mailerdaemon@",
                                        "mailer_daemon@", "mail-daemon@",   "root@",
                                        "daemon@",        "mdaemon@",       "double-bounce@" };

  for (guint i = 0; i < G_N_ELEMENTS (locals); i++)
    if (g_ascii_strncasecmp (a, locals[i], strlen (locals[i])) == 0)
      return TRUE;
  return FALSE;
}

/* Whether the address at @at on @line looks like a Message-ID: on a
 * Message-ID, In-Reply-To or References line, or a local part of a dozen
 * digits and a dot or dollar. */
static gboolean
message_id_like (const char *line, gsize line_len, const char *addr)
{
  gsize digits = 0, dots = 0;

  for (gsize i = 0; i + 10 < line_len; i++)
    if (g_ascii_strncasecmp (line + i, "message-id", 10) == 0 || g_ascii_strncasecmp (line + i, "in-reply-to", 11) == 0
        || g_ascii_strncasecmp (line + i, "references", 10) == 0)
      return TRUE;
  for (const char *q = addr; *q && *q != '@'; q++)
    if (g_ascii_isdigit (*q))
      digits++;
    else if (*q == '.' || *q == '$')
      dots++;
  /* A time stamp and a queue id; a mobile number is one run. */
  return digits >= 12 && dots > 0;
}

/* The addresses that cannot be a failed recipient: the report's own and
 * the original's senders. */
static GPtrArray *
not_recipients (BounceGeneric *g, BounceOriginal *o)
{
  static const char *const own[] = {
    "From", "To", "Sender", "Reply-To", "Return-Path", "Delivered-To", "X-Original-To"
  };
  static const char *const theirs[] = { "From", "Sender", "Reply-To", "Return-Path" };
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < G_N_ELEMENTS (own); i++)
    add_addresses (out, g_mime_object_get_header (g->message, own[i]));
  if (o && o->message_id)
    add_addresses (out, o->message_id);
  for (guint i = 0; o && i + 1 < o->headers->len; i += 2)
    for (guint k = 0; k < G_N_ELEMENTS (theirs); k++)
      if (g_ascii_strcasecmp (g_ptr_array_index (o->headers, i), theirs[k]) == 0)
        add_addresses (out, g_ptr_array_index (o->headers, i + 1));
  return out;
}

/* The failed recipients of a report no rule describes (see above). */
static void
text_recipients (BounceGeneric *g, gsize stop, BounceOriginal *o)
{
  const BounceGenericPhrases *p = bounce_generic_phrases ();
  g_autoptr (GPtrArray) skip = not_recipients (g, o);
  g_autoptr (GPtrArray) seen = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GMatchInfo) mi = NULL;
  GPtrArray *r = g->recipients;
  gsize n = MIN (stop, g->text_len);
  guint looked = 0;

  if (!g_utf8_validate (g->text, n, NULL))
    return;
  g_regex_match_full (bounce_pattern_re (p->address, n), g->text, n, 0, 0, &mi, NULL);
  while (g_match_info_matches (mi) && looked++ < MAX_ADDRESSES_LOOKED && r->len < BOUNCE_MAX_RECIPIENTS)
    {
      g_autofree char *raw = g_match_info_fetch (mi, 0);
      g_autofree char *a = g_ascii_strdown (raw, -1);
      int s, e;
      gsize ls, le, ws, we;

      g_match_info_fetch_pos (mi, 0, &s, &e);
      for (ls = s; ls > 0 && g->text[ls - 1] != '\n'; ls--)
        ;
      for (le = e; le < n && g->text[le] != '\n'; le++)
        ;
      if (!holds_address (skip, a) && !system_address (a) && !message_id_like (g->text + ls, le - ls, a))
        {
          /* The line, the one before and the one after. */
          for (ws = ls > 0 ? ls - 1 : 0; ws > 0 && g->text[ws - 1] != '\n'; ws--)
            ;
          for (we = le < n ? le + 1 : n; we < n && g->text[we] != '\n'; we++)
            ;
          if (!holds_address (seen, a))
            g_ptr_array_add (seen, g_strdup (a));
          if ((bounce_generic_says (p->near, g->text + ls, le - ls)
               || bounce_generic_says (p->code, g->text + ws, we - ws)
               || bounce_generic_says_phrase (p->failure, g->text + ws, we - ws))
              && bounce_recipients_find (r, a) == NULL)
            failed_add (r, g_steal_pointer (&a), bounce_generic_paragraph_at (g->text, n, s, e));
        }
      if (!g_match_info_next (mi, NULL))
        break;
    }
  if (r->len == 0 && seen->len == 1)
    failed_add (r, g_strdup (g_ptr_array_index (seen, 0)), bounce_generic_first_code_paragraph (g, n));
  if (r->len == 0)
    {
      /* "Undeliverable: a@example.com": the one address of the Subject. */
      g_autofree char *subject = bounce_header_text (g->message, "Subject");
      g_autoptr (GMatchInfo) sm = NULL;
      g_autofree char *a = NULL;

      if (subject && g_utf8_validate (subject, -1, NULL)
          && g_regex_match (bounce_pattern_re (p->address, -1), subject, 0, &sm))
        {
          g_autofree char *raw = g_match_info_fetch (sm, 0);

          a = g_ascii_strdown (raw, -1);
          if (g_match_info_next (sm, NULL) || holds_address (skip, a) || system_address (a))
            g_clear_pointer (&a, g_free);
        }
      if (a)
        failed_add (r, g_steal_pointer (&a), bounce_generic_first_code_paragraph (g, n));
    }
  if (r->len == 0 && o)
    {
      /* The original's one recipient. */
      g_autoptr (GPtrArray) to = g_ptr_array_new_with_free_func (g_free);

      for (guint i = 0; i + 1 < o->headers->len; i += 2)
        if (g_ascii_strcasecmp (g_ptr_array_index (o->headers, i), "To") == 0
            || g_ascii_strcasecmp (g_ptr_array_index (o->headers, i), "Cc") == 0)
          add_addresses (to, g_ptr_array_index (o->headers, i + 1));
      if (to->len == 1)
        failed_add (r, g_strdup (g_ptr_array_index (to, 0)), bounce_generic_first_code_paragraph (g, n));
    }
}

/* The original the report returns: the part that carries it, read once
 * into @g->original, or the header lines of an inline copy at @stop,
 * which the caller frees (@inline_original). Returns: (transfer none) (nullable) */
static BounceOriginal *
report_original (BounceGeneric *g, gsize stop, BounceOriginal **inline_original)
{
  if (g->orig_part)
    {
      if (g->original == NULL)
        g->original = bounce_original_from_part (g->orig_part);
      return g->original;
    }
  if (stop < g->text_len)
    return *inline_original = bounce_original_from_headers_text (g->text + stop, g->text_len - stop, "inline");
  return NULL;
}

/* Read a report no rule describes: weigh the evidence, then find its
 * recipients. Returns the kind. */
static BounceKind
read_unknown (BounceGeneric *g, gsize stop, Found found)
{
  BounceOriginal *inline_original = NULL, *o = NULL;
  BounceKind kind;

  o = report_original (g, stop, &inline_original);
  kind = bounce_generic_weigh (g, stop, o != NULL, found);
  if (kind == BOUNCE_KIND_NOT_BOUNCE)
    g_ptr_array_set_size (g->recipients, 0);
  else if (g->recipients->len > 0)
    {
      /* Found beside their codes: a failure unless it says it is a delay
       * or a scanner's notice. */
      if (kind != BOUNCE_KIND_DELAY && kind != BOUNCE_KIND_VIRUS_NOTICE)
        kind = BOUNCE_KIND_FAILURE;
    }
  else if (kind != BOUNCE_KIND_NOT_BOUNCE)
    text_recipients (g, stop, o);
  for (guint i = 0; kind == BOUNCE_KIND_DELAY && i < g->recipients->len; i++)
    {
      BounceRecipient *x = g_ptr_array_index (g->recipients, i);

      g_free (x->action);
      x->action = g_strdup ("delayed");
    }
  g_clear_pointer (&inline_original, bounce_original_free);
  return kind;
}

/* bounce_generic_dsn: the delivery-status fields left in the report text
 * (a boundary that matches no part leaves them there), or NULL when they
 * name no recipient. Returns: (transfer full) (nullable) */
BounceDsn *
bounce_generic_dsn (const char *text, gsize len)
{
  const char *fields;
  g_autoptr (BounceDsn) dsn = NULL;

  /* An empty part's content has no bytes at all. */
  if (text == NULL || len == 0)
    return NULL;
  fields = dsn_fields_in_text (text, len);
  if (fields == NULL)
    return NULL;
  dsn = bounce_dsn_parse (fields, text + len - fields);
  return dsn->recipients->len > 0 ? g_steal_pointer (&dsn) : NULL;
}

/* The recipients of a report a format rule took for a failure or a delay
 * but named none of (another server's report that reads like the rule's,
 * a version of it the rule does not know): the reader looks for them as in
 * a report no rule describes. */
static void
unnamed_recipients (BounceGeneric *g)
{
  GPtrArray *r = g->recipients;
  gsize at = g->inline_at != G_MAXSIZE ? g->inline_at : bounce_generic_original (g->text, g->text_len);
  BounceOriginal *inline_original = NULL, *o = NULL;

  failed_recipients_header (r, g->message);
  if (r->len == 0)
    generic_recipients (r, g->text, g->text_len, at);
  if (r->len == 0)
    daemon_recipients (r, g->message, g->text, g->text_len, at);
  if (r->len == 0)
    {
      o = report_original (g, at, &inline_original);
      text_recipients (g, at, o);
      g_clear_pointer (&inline_original, bounce_original_free);
    }
  for (guint i = 0; g->kind == BOUNCE_KIND_DELAY && i < r->len; i++)
    {
      BounceRecipient *x = g_ptr_array_index (r, i);

      g_free (x->action);
      x->action = g_strdup ("delayed");
    }
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
        unnamed_recipients (g);
      /* A canned "could not be delivered" from a mail system is a
       * failure, whatever auto-reply convention it follows. */
      if (g->kind == BOUNCE_KIND_AUTOREPLY && g->format && r->len == 0)
        {
          gsize at = bounce_generic_original (g->text, g->text_len);
          BounceKind k = read_unknown (g, at, FOUND_NONE);

          if (k == BOUNCE_KIND_FAILURE)
            {
              g->kind = k;
              g->format = "generic";
              g->inline_at = at;
            }
          else
            g_ptr_array_set_size (r, 0);
        }
    }
  else if (g->format == NULL)
    {
      /* No rule knows it: addresses next to error codes make a failure;
       * failing that, RFC 3834 headers make an auto-reply. */
      Found found = FOUND_NONE;
      g_autofree char *challenge = NULL;
      guint listed;

      failed_recipients_header (r, g->message);
      listed = r->len;
      g->inline_at = bounce_generic_original (g->text, g->text_len);
      generic_recipients (r, g->text, g->text_len, g->inline_at);
      if (r->len > listed)
        found = FOUND_CODED;
      else if (r->len == 0)
        {
          daemon_recipients (r, g->message, g->text, g->text_len, g->inline_at);
          found = r->len > 0 ? FOUND_DAEMON : FOUND_NONE;
        }
      if ((g->kind = read_unknown (g, g->inline_at, found)) != BOUNCE_KIND_NOT_BOUNCE)
        g->format = "generic";
      else if ((challenge = bounce_generic_challenge (g)) != NULL)
        {
          g->kind = BOUNCE_KIND_CHALLENGE;
          g->format = "generic";
          bounce_generic_signal_add (g, "a request to confirm in the Subject, and a challenge's words in the text",
                                     challenge);
        }
      else if (bounce_generic_is_auto_reply (g->message))
        {
          g->kind = BOUNCE_KIND_AUTOREPLY;
          g->format = "rfc3834";
          bounce_generic_signal_add (g, "an automatic reply's header (RFC 3834)", NULL);
        }
    }
  if (g->kind == BOUNCE_KIND_FAILURE && g_strcmp0 (g->format, "rfc3464") == 0 && r->len == 0)
    {
      /* Recipients only in the human-readable part. */
      failed_recipients_header (r, g->message);
      if (r->len == 0)
        generic_recipients (r, g->text, g->text_len, G_MAXSIZE);
    }
  if (g->kind == BOUNCE_KIND_FAILURE || g->kind == BOUNCE_KIND_DELAY)
    bounce_generic_recipient_diagnostics (g, g->inline_at);
}

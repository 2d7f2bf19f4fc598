/* report.c — read one message and make a BounceReport of it.
 *
 * The flow: triage the header block (most mail stops there); parse the
 * MIME structure; find the delivery-status, disposition-notification or
 * feedback-report part, the report text (the first text part outside any
 * attached message) and the part carrying the original; apply the first
 * format rule that recognises the message; fill in what the text says
 * (reply codes, status codes, reasons); recover the original.
 *
 * Diagnostics: a message that cannot be parsed at all is an error
 * (BOUNCE_ERROR_PARSE); one over a limit is cut to the limit and parsed,
 * with a warning on the report.
 */
#include "bounce-private.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct _BounceReport
{
  gint ref;
  BounceKind kind;
  char *format;
  char *reporting_mta;
  char *received_from_mta;
  char *arrival_date;
  char *envelope_id;
  char *bounce_to;
  char *rule_name;       /* the format rule that recognised it */
  GPtrArray *headers;    /* alternating name, value of the report itself */
  GPtrArray *recipients; /* BounceRecipient */
  BounceOriginal *original;
  GPtrArray *warnings;   /* char *, NULL-terminated */
};

static const char *const kind_names[] = {
  [BOUNCE_KIND_NOT_BOUNCE] = "not-bounce",
  [BOUNCE_KIND_FAILURE] = "failure",
  [BOUNCE_KIND_DELAY] = "delay",
  [BOUNCE_KIND_DELIVERED] = "delivered",
  [BOUNCE_KIND_VIRUS_NOTICE] = "virus-notice",
  [BOUNCE_KIND_CHALLENGE] = "challenge",
  [BOUNCE_KIND_AUTOREPLY] = "autoreply",
  [BOUNCE_KIND_FEEDBACK] = "feedback",
  [BOUNCE_KIND_MDN] = "mdn",
};

/** bounce_kind_to_string: Returns: (transfer none) the kind's JSON name. */
const char *
bounce_kind_to_string (BounceKind kind)
{
  g_return_val_if_fail ((guint) kind < G_N_ELEMENTS (kind_names), NULL);
  return kind_names[kind];
}

/** bounce_kind_from_string: Returns: TRUE and sets @kind when @name is a
 * kind's JSON name. */
gboolean
bounce_kind_from_string (const char *name, BounceKind *kind)
{
  for (guint i = 0; i < G_N_ELEMENTS (kind_names); i++)
    if (g_strcmp0 (name, kind_names[i]) == 0)
      {
        *kind = i;
        return TRUE;
      }
  return FALSE;
}

static BounceReport *
report_new (void)
{
  BounceReport *r = g_new0 (BounceReport, 1);

  r->ref = 1;
  r->headers = g_ptr_array_new_with_free_func (g_free);
  r->recipients = g_ptr_array_new_with_free_func ((GDestroyNotify) bounce_recipient_free);
  r->warnings = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (r->warnings, NULL);
  return r;
}

BounceReport *
bounce_report_ref (BounceReport *report)
{
  g_atomic_int_inc (&report->ref);
  return report;
}

void
bounce_report_unref (BounceReport *report)
{
  if (report == NULL || !g_atomic_int_dec_and_test (&report->ref))
    return;
  g_free (report->format);
  g_free (report->reporting_mta);
  g_free (report->received_from_mta);
  g_free (report->arrival_date);
  g_free (report->envelope_id);
  g_free (report->bounce_to);
  g_free (report->rule_name);
  g_ptr_array_unref (report->headers);
  g_ptr_array_unref (report->recipients);
  g_clear_pointer (&report->original, bounce_original_free);
  g_ptr_array_unref (report->warnings);
  g_free (report);
}

static void G_GNUC_PRINTF (2, 3)
warn (BounceReport *r, const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  g_ptr_array_insert (r->warnings, r->warnings->len - 1, g_strdup_vprintf (fmt, ap));
  va_end (ap);
}

/* ---- walking the MIME tree ------------------------------------------- */

typedef struct
{
  BounceReport *report;
  GMimeObject *status_part;   /* delivery-status or global-delivery-status */
  gboolean global;
  GMimeObject *mdn_part;
  GMimeObject *feedback_part;
  GMimeObject *orig_part;
  GMimeObject *text_part;
  GMimeObject *html_part;
  GMimeObject *text_attachment; /* a later text part: may hold headers */
  GMimeMessage *report_message; /* the message whose report we read */
  const char *prologue;         /* the first non-empty multipart prologue */
  guint parts;
  gboolean limited;
} Walk;

static gboolean
type_is (GMimeObject *obj, const char *type, const char *subtype)
{
  GMimeContentType *ct = g_mime_object_get_content_type (obj);

  return ct && g_mime_content_type_is_type (ct, type, subtype);
}

static gboolean
carries_original (GMimeObject *obj)
{
  return type_is (obj, "message", "rfc822") || type_is (obj, "message", "global")
         || type_is (obj, "text", "rfc822-headers")
         || type_is (obj, "message", "global-headers")
         || type_is (obj, "text", "rfc822-header")
         || type_is (obj, "message", "rfc822-headers")
         || type_is (obj, "message", "partial");
}

static gboolean
is_attachment (GMimeObject *obj)
{
  GMimeContentDisposition *cd = g_mime_object_get_content_disposition (obj);

  return cd && g_mime_content_disposition_is_attachment (cd)
         && GMIME_IS_PART (obj) && g_mime_part_get_filename (GMIME_PART (obj));
}

static gboolean
is_report_message (GMimeMessage *m)
{
  GMimeObject *body = m ? g_mime_message_get_mime_part (m) : NULL;

  return body && type_is (body, "multipart", "report");
}

static void
walk (Walk *w, GMimeObject *obj, int depth)
{
  if (obj == NULL)
    return;
  if (depth > BOUNCE_MAX_MIME_DEPTH || ++w->parts > BOUNCE_MAX_MIME_PARTS)
    {
      w->limited = TRUE;
      return;
    }
  if (GMIME_IS_MULTIPART (obj))
    {
      GMimeMultipart *mp = GMIME_MULTIPART (obj);
      int n = g_mime_multipart_get_count (mp);
      const char *pro = g_mime_multipart_get_prologue (mp);

      /* A boundary that matches no part leaves the text in the prologue. */
      if (w->prologue == NULL && pro && n == 0)
        {
          const char *p = pro;

          while (g_ascii_isspace (*p))
            p++;
          if (*p)
            w->prologue = pro;
        }
      for (int i = 0; i < n && !w->limited; i++)
        walk (w, g_mime_multipart_get_part (mp, i), depth + 1);
      return;
    }
  if (GMIME_IS_MESSAGE_PART (obj))
    {
      GMimeMessage *inner = g_mime_message_part_get_message (GMIME_MESSAGE_PART (obj));

      /* A report forwarded (or wrapped by a gateway) inside a message:
       * read the inner report when the outer message has none. */
      if (w->status_part == NULL && w->mdn_part == NULL && w->feedback_part == NULL
          && w->orig_part == NULL && is_report_message (inner))
        {
          w->report_message = inner;
          w->text_part = w->html_part = NULL;
          walk (w, g_mime_message_get_mime_part (inner), depth + 1);
          return;
        }
      if (w->orig_part == NULL)
        w->orig_part = obj;
      return;
    }
  /* a leaf */
  if (type_is (obj, "message", "delivery-status")
      || type_is (obj, "message", "global-delivery-status"))
    {
      if (w->status_part == NULL)
        {
          w->status_part = obj;
          w->global = type_is (obj, "message", "global-delivery-status");
        }
    }
  else if (type_is (obj, "message", "disposition-notification")
           || type_is (obj, "message", "global-disposition-notification"))
    {
      if (w->mdn_part == NULL)
        w->mdn_part = obj;
    }
  else if (type_is (obj, "message", "feedback-report"))
    {
      if (w->feedback_part == NULL)
        w->feedback_part = obj;
    }
  else if (carries_original (obj))
    {
      if (w->orig_part == NULL)
        w->orig_part = obj;
    }
  else if (type_is (obj, "text", "plain") && !is_attachment (obj) && w->text_part == NULL)
    w->text_part = obj;
  else if (type_is (obj, "text", "plain"))
    {
      if (w->text_attachment == NULL)
        w->text_attachment = obj;
    }
  else if (type_is (obj, "text", "html") && !is_attachment (obj))
    {
      if (w->html_part == NULL)
        w->html_part = obj;
    }
}

/* bounce_part_content: the decoded content of a leaf part, at most @max
 * bytes. Returns: (transfer full) */
GByteArray *
bounce_part_content (GMimePart *part, gsize max)
{
  GMimeDataWrapper *content = g_mime_part_get_content (part);
  g_autoptr (GMimeStream) mem = NULL;
  GByteArray *bytes = g_byte_array_new ();

  if (content == NULL)
    return bytes;
  mem = g_mime_stream_mem_new_with_byte_array (bytes);
  g_mime_stream_mem_set_owner (GMIME_STREAM_MEM (mem), FALSE);
  g_mime_data_wrapper_write_to_stream (content, mem);
  if (bytes->len > max)
    g_byte_array_set_size (bytes, max);
  return bytes;
}

/* CRLF and lone CR to LF, in place; returns the new length. */
static gsize
normalise_newlines (char *s, gsize len)
{
  gsize o = 0;

  for (gsize i = 0; i < len; i++)
    {
      if (s[i] == '\r')
        {
          s[o++] = '\n';
          if (i + 1 < len && s[i + 1] == '\n')
            i++;
        }
      else if (s[i] == '\0')
        s[o++] = ' ';
      else
        s[o++] = s[i];
    }
  s[o] = '\0';
  return o;
}

/* Remove tags and decode the common entities of an HTML text. */
static char *
html_to_text (const char *html)
{
  GString *out = g_string_new (NULL);
  const char *p = html;

  while (*p)
    {
      if (*p == '<')
        {
          gboolean block = g_ascii_strncasecmp (p, "<br", 3) == 0
                           || g_ascii_strncasecmp (p, "<p", 2) == 0
                           || g_ascii_strncasecmp (p, "</p", 3) == 0
                           || g_ascii_strncasecmp (p, "<div", 4) == 0
                           || g_ascii_strncasecmp (p, "</div", 5) == 0
                           || g_ascii_strncasecmp (p, "<tr", 3) == 0
                           || g_ascii_strncasecmp (p, "<li", 3) == 0;
          const char *gt = strchr (p, '>');

          if (gt == NULL)
            break;
          if (block)
            g_string_append_c (out, '\n');
          p = gt + 1;
          continue;
        }
      if (*p == '&')
        {
          static const struct
          {
            const char *ent, *text;
          } ents[] = { { "&lt;", "<" }, { "&gt;", ">" }, { "&amp;", "&" },
                       { "&nbsp;", " " }, { "&quot;", "\"" }, { "&#39;", "'" } };
          gboolean done = FALSE;

          for (guint i = 0; i < G_N_ELEMENTS (ents) && !done; i++)
            if (g_ascii_strncasecmp (p, ents[i].ent, strlen (ents[i].ent)) == 0)
              {
                g_string_append (out, ents[i].text);
                p += strlen (ents[i].ent);
                done = TRUE;
              }
          if (done)
            continue;
        }
      g_string_append_c (out, *p++);
    }
  return g_string_free (out, FALSE);
}

/* @n bytes of text in @charset (NULL: none named) as UTF-8; NUL bytes
 * become spaces (in @bytes too). Returns: (transfer full) */
static char *
text_to_utf8 (char *bytes, gsize n, const char *charset, gsize *len)
{
  char *out = NULL;

  *len = 0;
  for (gsize i = 0; i < n; i++)
    if (bytes[i] == '\0')
      bytes[i] = ' ';
  if (charset && g_ascii_strcasecmp (charset, "utf-8") != 0
      && g_ascii_strcasecmp (charset, "us-ascii") != 0)
    {
      const char *name = g_mime_charset_iconv_name (charset);
      gsize written = 0;

      out = bounce_convert_to_utf8 (bytes, n, charset, &written);
      /* Bytes the charset does not have: convert what can be. */
      if (out == NULL)
        out = g_convert_with_fallback (bytes, n, "UTF-8", name ? name : charset, "?", NULL, &written, NULL);
      if (out)
        *len = written;
    }
  if (out == NULL)
    {
      out = g_utf8_make_valid (bytes, n);
      *len = strlen (out);
    }
  return out;
}

/* The decoded text of a text part, converted to UTF-8 from its charset;
 * NUL bytes survive (as spaces, later). Returns: (transfer full) */
static char *
text_of (GMimeObject *part, gsize *len)
{
  g_autoptr (GByteArray) bytes = bounce_part_content (GMIME_PART (part), BOUNCE_MAX_TEXT_BYTES * 2);

  *len = 0;
  if (bytes->len == 0)
    return g_strdup ("");
  return text_to_utf8 ((char *) bytes->data, bytes->len,
                       g_mime_object_get_content_type_parameter (part, "charset"), len);
}

/* The text the parse reads, from the decoded text of the part: capped,
 * LF line ends. */
static gsize
finish_text (char *text, gsize len)
{
  len = strlen (text);
  if (len > BOUNCE_MAX_TEXT_BYTES)
    {
      len = BOUNCE_MAX_TEXT_BYTES;
      while (len > 0 && (text[len] & 0xc0) == 0x80)
        len--;
      text[len] = '\0';
    }
  return normalise_newlines (text, len);
}

/* The report text: the text part decoded to UTF-8, LF line ends, capped. */
static char *
report_text (Walk *w, gsize *len)
{
  char *text = NULL;

  *len = 0;
  if (w->text_part && GMIME_IS_PART (w->text_part))
    text = text_of (w->text_part, len);
  if ((text == NULL || *len == 0) && w->html_part && GMIME_IS_PART (w->html_part))
    {
      g_autofree char *html = text_of (w->html_part, len);

      g_free (text);
      text = html_to_text (html);
    }
  if ((text == NULL || *text == '\0') && w->prologue)
    {
      g_free (text);
      text = bounce_utf8 (w->prologue, MIN (strlen (w->prologue), BOUNCE_MAX_TEXT_BYTES));
    }
  if (text == NULL)
    text = g_strdup ("");
  *len = finish_text (text, *len);
  return text;
}

/* ---- filling in ------------------------------------------------------- */

static BounceRecipient *
find_recipient (BounceReport *r, const char *address)
{
  for (guint i = 0; i < r->recipients->len; i++)
    {
      BounceRecipient *x = g_ptr_array_index (r->recipients, i);

      if (g_ascii_strcasecmp (x->address, address) == 0)
        return x;
    }
  return NULL;
}

/* The five actions of RFC 3464; "deliverable" (an address verification
 * report) is delivered; other words real servers use ("expired",
 * "bounced", "undeliverable") mean failed. */
static void
normalise_action (BounceRecipient *x)
{
  static const char *const actions[] = { "failed", "delayed", "delivered", "relayed", "expanded" };
  const char *a = x->action;

  if (a == NULL)
    return;
  if (strcmp (a, "deliverable") == 0) /* an address verification report */
    a = "delivered";
  for (guint i = 0; i < G_N_ELEMENTS (actions); i++)
    if (g_str_has_prefix (a, actions[i]) || (i == 1 && g_str_has_prefix (a, "delay")))
      {
        if (strcmp (x->action, actions[i]) != 0)
          {
            g_free (x->action);
            x->action = g_strdup (actions[i]);
          }
        return;
      }
  g_free (x->action);
  x->action = g_strdup ("failed");
}

static gboolean
is_generic_status (const char *status)
{
  return status == NULL || g_str_has_suffix (status, ".0.0");
}

/* Merge what a format rule found into the recipients a DSN gave: the DSN
 * names the recipients when it names any; the text fills in the gaps. */
static void
merge_recipients (BounceReport *r, GPtrArray *found)
{
  gboolean add_new = r->recipients->len == 0;

  for (guint i = 0; i < found->len; i++)
    {
      BounceRecipient *f = g_ptr_array_index (found, i);
      BounceRecipient *x = find_recipient (r, f->address);

      if (x == NULL)
        {
          if (add_new && r->recipients->len < BOUNCE_MAX_RECIPIENTS)
            g_ptr_array_add (r->recipients, g_ptr_array_steal_index (found, i--));
          continue;
        }
      if (x->diagnostic == NULL)
        x->diagnostic = g_steal_pointer (&f->diagnostic);
      if (x->status == NULL || (is_generic_status (x->status) && f->status
                                && f->status[0] == x->status[0]))
        {
          g_free (x->status);
          x->status = g_steal_pointer (&f->status);
        }
      if (x->reply_code == NULL)
        x->reply_code = g_steal_pointer (&f->reply_code);
    }
}


/* The SMTP command named in @text ("in reply to end of DATA command",
 * "after RCPT TO", a ">>> DATA" transcript line), or NULL. */
static char *
command_in (const char *text, gsize len)
{
  static GRegex *re;
  static gsize once;
  g_autoptr (GMatchInfo) mi = NULL;
  g_autofree char *found = NULL;
  g_autofree char *word = NULL;

  if (g_once_init_enter (&once))
    {
      re = g_regex_new ("(?:in reply to (?:end of )?|after (?:end of )?|^>>> )"
                        "(DATA|RCPT(?: TO)?|MAIL(?: FROM)?|HELO|EHLO|STARTTLS|AUTH)\\b",
                        G_REGEX_CASELESS | G_REGEX_MULTILINE | G_REGEX_OPTIMIZE, 0, NULL);
      g_once_init_leave (&once, 1);
    }
  if (text == NULL || !g_regex_match_full (re, text, len, 0, 0, &mi, NULL))
    return NULL;
  found = g_match_info_fetch (mi, 1);
  word = g_ascii_strup (found, -1);
  if (g_str_has_prefix (word, "RCPT"))
    return g_strdup ("RCPT");
  if (g_str_has_prefix (word, "MAIL"))
    return g_strdup ("MAIL");
  if (strcmp (word, "EHLO") == 0)
    return g_strdup ("HELO");
  return g_steal_pointer (&word);
}

/* The command a recipient's error answered: from its diagnostic, from the
 * paragraph of the report text that names it, or from the last ">>>" line
 * of a session transcript before the first "<<<" line that names it. */
static char *
recipient_command (BounceRecipient *x, const char *text, gsize len)
{
  const char *at, *p;
  char *cmd = command_in (x->diagnostic, x->diagnostic ? strlen (x->diagnostic) : 0);

  guint looked = 0;

  if (cmd || text == NULL || x->address == NULL)
    return cmd;
  /* A few mentions of the address, a few dozen lines back: enough for any
   * real report, bounded for a hostile one. */
  for (p = text; looked++ < 8 && (at = g_strstr_len (p, text + len - p, x->address)) != NULL; p = at + 1)
    {
      const char *line = at, *end;

      while (line > text && line[-1] != '\n')
        line--;
      if (g_str_has_prefix (line, "<<<"))
        {
          /* back to the command this answer was for */
          const char *q = line;
          int back = 0;

          while (q > text && back++ < 40)
            {
              const char *prev = q - 1;

              while (prev > text && prev[-1] != '\n')
                prev--;
              if (g_str_has_prefix (prev, ">>> "))
                {
                  /* With pipelining, RCPT replies come after DATA was
                   * sent; "503 Need RCPT" or "no valid recipients" in
                   * answer to DATA says so. */
                  const char *gap = strstr (line, "\n\n");
                  gsize span = gap ? (gsize) (gap - line) : strlen (line);
                  g_autofree char *rest = g_strndup (line, span);

                  if (strstr (rest, "\n<<< 503") || g_strrstr (rest, "no valid recipients"))
                    return g_strdup ("RCPT");
                  return command_in (prev, q - prev);
                }
              q = prev;
            }
          continue;
        }
      /* the paragraph from this line to the next blank line (at most 4 KiB) */
      end = g_strstr_len (at, MIN ((gsize) (text + len - at), 4096), "\n\n");
      if (end == NULL)
        end = at + MIN ((gsize) (text + len - at), 4096);
      if ((cmd = command_in (line, end - line)) != NULL)
        return cmd;
    }
  return NULL;
}

static void
finish_recipients (BounceReport *r, BounceRules *rules, const BounceFormatRule *rule,
                   const char *text, gsize text_len)
{
  for (guint i = 0; i < r->recipients->len; i++)
    {
      BounceRecipient *x = g_ptr_array_index (r->recipients, i);
      const char *reason;
      char code[4], status[16];

      if (x->diagnostic && !g_utf8_validate (x->diagnostic, -1, NULL))
        {
          /* Regular expressions read UTF-8 only. */
          char *valid = g_utf8_make_valid (x->diagnostic, -1);

          g_free (x->diagnostic);
          x->diagnostic = valid;
        }
      if (x->diagnostic)
        {
          if (x->reply_code == NULL && bounce_find_reply_code (x->diagnostic, code))
            x->reply_code = g_strdup (code);
          /* A DSN's "5.0.0" says less than the diagnostic's own code. */
          if (is_generic_status (x->status) && bounce_find_status (x->diagnostic, status)
              && (x->status == NULL || status[0] == x->status[0]))
            {
              g_free (x->status);
              x->status = g_strdup (status);
            }
        }
      if (x->status == NULL && rule && bounce_format_rule_default_status (rule))
        x->status = g_strdup (bounce_format_rule_default_status (rule));
      if (x->status == NULL && x->reply_code)
        x->status = g_strdup_printf ("%c.0.0", x->reply_code[0]);
      if (x->action == NULL)
        x->action = g_strdup ("failed");
      normalise_action (x);
      if (x->status)
        x->permanent = x->status[0] == '5' ? 1 : x->status[0] == '4' ? 0 : -1;
      else if (x->reply_code)
        x->permanent = x->reply_code[0] == '5' ? 1 : 0;
      if (g_strcmp0 (x->action, "delayed") == 0)
        x->permanent = 0;
      else if (x->permanent < 0 && g_strcmp0 (x->action, "failed") == 0)
        x->permanent = 1;

      x->command = recipient_command (x, text, text_len);
      reason = bounce_rules_reason (rules, x->diagnostic, x->status);
      /* A recipient refused only after DATA was accepted at RCPT TO: what
       * refused it looked at the content. */
      if (g_strcmp0 (reason, "userunknown") == 0 && g_strcmp0 (x->command, "DATA") == 0)
        reason = "filtered";
      if (reason == NULL && rule)
        reason = bounce_format_rule_default_reason (rule);
      if (reason == NULL)
        {
          if (g_strcmp0 (x->action, "delivered") == 0
              || g_strcmp0 (x->action, "relayed") == 0
              || g_strcmp0 (x->action, "expanded") == 0)
            reason = "delivered";
          else if (g_strcmp0 (x->action, "delayed") == 0)
            reason = "expired";
          else
            reason = x->diagnostic ? "onhold" : "undefined";
        }
      x->reason = g_strdup (reason);
    }
}

static BounceKind
kind_from_actions (BounceReport *r)
{
  gboolean failed = FALSE, delayed = FALSE, delivered = FALSE;

  for (guint i = 0; i < r->recipients->len; i++)
    {
      BounceRecipient *x = g_ptr_array_index (r->recipients, i);
      const char *a;

      normalise_action (x);
      a = x->action;

      if (a == NULL || g_str_has_prefix (a, "fail"))
        failed = TRUE;
      else if (g_str_has_prefix (a, "delay"))
        delayed = TRUE;
      else if (g_str_has_prefix (a, "deliver") || g_str_has_prefix (a, "relay")
               || g_str_has_prefix (a, "expand"))
        delivered = TRUE;
      else
        failed = TRUE;
    }
  if (failed || r->recipients->len == 0)
    return BOUNCE_KIND_FAILURE;
  if (delayed)
    return BOUNCE_KIND_DELAY;
  return delivered ? BOUNCE_KIND_DELIVERED : BOUNCE_KIND_FAILURE;
}

static void
keep_header (BounceReport *r, GMimeMessage *msg, const char *name)
{
  const char *v = g_mime_object_get_header (GMIME_OBJECT (msg), name);

  if (v)
    {
      g_ptr_array_add (r->headers, g_strdup (name));
      g_ptr_array_add (r->headers, bounce_collapse_space (v) ?: g_strdup (""));
    }
}

/* Addresses of an X-Failed-Recipients header. */
static void
failed_recipients_header (BounceReport *r, GMimeMessage *msg)
{
  const char *v = g_mime_object_get_header (GMIME_OBJECT (msg), "X-Failed-Recipients");
  g_auto (GStrv) parts = NULL;

  if (v == NULL)
    return;
  parts = g_strsplit_set (v, ",;", 1000);
  for (guint i = 0; parts[i]; i++)
    {
      g_autofree char *a = bounce_addr_spec (parts[i]);

      if (a && strchr (a, '@') && find_recipient (r, a) == NULL
          && r->recipients->len < BOUNCE_MAX_RECIPIENTS)
        {
          BounceRecipient *x = bounce_recipient_new ();

          x->address = g_steal_pointer (&a);
          x->action = g_strdup ("failed");
          g_ptr_array_add (r->recipients, x);
        }
    }
}

/* The generic fallback for a report no rule names: each line holding an
 * address and, on it or the lines after, an SMTP reply or status code. */
static void
generic_recipients (BounceReport *r, const char *text, gsize len, gsize stop)
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
  while (g_match_info_matches (mi) && r->recipients->len < BOUNCE_MAX_RECIPIENTS)
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
            && find_recipient (r, addr) == NULL)
          {
            BounceRecipient *x = bounce_recipient_new ();

            x->address = g_ascii_strdown (addr, -1);
            x->action = g_strdup ("failed");
            x->diagnostic = g_steal_pointer (&c);
            bounce_truncate_utf8 (x->diagnostic, 1024);
            g_ptr_array_add (r->recipients, x);
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
daemon_recipients (BounceReport *r, GMimeMessage *msg, const char *text, gsize len, gsize stop)
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
  while (g_match_info_matches (mi) && r->recipients->len < BOUNCE_MAX_RECIPIENTS)
    {
      g_autofree char *addr = g_match_info_fetch (mi, 1);
      int s0, e0;

      g_match_info_fetch_pos (mi, 0, &s0, &e0);
      if (find_recipient (r, addr) == NULL)
        {
          const char *nl = memchr (text + s0, '\n', len - s0);
          g_autofree char *raw = g_strndup (text + s0, (nl ? nl : text + len) - (text + s0));
          BounceRecipient *x = bounce_recipient_new ();

          x->address = g_ascii_strdown (addr, -1);
          x->action = g_strdup ("failed");
          x->diagnostic = bounce_collapse_space (raw);
          g_ptr_array_add (r->recipients, x);
        }
      if (!g_match_info_next (mi, NULL))
        break;
    }
}

/* Where an inline original starts, without a rule: the first line of a
 * block of header lines that holds a Message-ID or a From and a Subject.
 * Returns G_MAXSIZE when there is none. */
static gsize
find_inline_original (const char *text, gsize len)
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

/* ---- the parse -------------------------------------------------------- */

static void
parse_message (BounceReport *r, GMimeMessage *msg, BounceRules *rules)
{
  Walk w = { 0 };
  g_autofree char *text = NULL;
  gsize text_len = 0, inline_at = G_MAXSIZE;
  const BounceFormatRule *rule;
  BounceRuleInput in;
  g_autoptr (GPtrArray) found = g_ptr_array_new_with_free_func ((GDestroyNotify) bounce_recipient_free);
  BounceKind kind = BOUNCE_KIND_NOT_BOUNCE;
  const char *format = NULL;

  w.report = r;
  w.report_message = msg;
  walk (&w, g_mime_message_get_mime_part (msg), 0);
  if (w.limited)
    warn (r, "the MIME structure is deeper or larger than %d levels / %d parts; the rest was not read",
          BOUNCE_MAX_MIME_DEPTH, BOUNCE_MAX_MIME_PARTS);
  text = report_text (&w, &text_len);

  if (w.status_part && GMIME_IS_PART (w.status_part))
    {
      g_autoptr (GByteArray) body = bounce_part_content (GMIME_PART (w.status_part), BOUNCE_MAX_DSN_BYTES);
      g_autoptr (BounceDsn) dsn = bounce_dsn_parse ((const char *) body->data, body->len);

      r->reporting_mta = g_steal_pointer (&dsn->reporting_mta);
      r->received_from_mta = g_steal_pointer (&dsn->received_from_mta);
      r->arrival_date = g_steal_pointer (&dsn->arrival_date);
      r->envelope_id = g_steal_pointer (&dsn->envelope_id);
      while (dsn->recipients->len)
        g_ptr_array_add (r->recipients, g_ptr_array_steal_index (dsn->recipients, 0));
      format = w.global ? "rfc6533" : "rfc3464";
      kind = BOUNCE_KIND_FAILURE;
    }
  else if (w.mdn_part)
    {
      kind = BOUNCE_KIND_MDN;
      format = "rfc8098";
    }
  else if (w.feedback_part)
    {
      kind = BOUNCE_KIND_FEEDBACK;
      format = "arf";
    }

  if (format == NULL)
    {
      /* A broken MIME structure (a boundary that does not match) leaves the
       * delivery-status fields in the text. */
      const char *fields = dsn_fields_in_text (text, text_len);

      if (fields)
        {
          g_autoptr (BounceDsn) dsn = bounce_dsn_parse (fields, text + text_len - fields);

          if (dsn->recipients->len > 0)
            {
              r->reporting_mta = g_steal_pointer (&dsn->reporting_mta);
              r->arrival_date = g_steal_pointer (&dsn->arrival_date);
              while (dsn->recipients->len)
                g_ptr_array_add (r->recipients, g_ptr_array_steal_index (dsn->recipients, 0));
              format = "rfc3464";
              kind = BOUNCE_KIND_FAILURE;
            }
        }
    }

  in.message = msg;
  in.text = text;
  in.text_len = text_len;
  rule = bounce_rules_match (rules, &in);
  if (rule)
    {
      BounceKind rk = bounce_format_rule_kind (rule);

      r->rule_name = g_strdup (bounce_format_rule_name (rule));
      bounce_format_rule_extract (rule, text, text_len, found, &inline_at);
      if (format == NULL || rk == BOUNCE_KIND_NOT_BOUNCE || rk == BOUNCE_KIND_VIRUS_NOTICE
          || rk == BOUNCE_KIND_CHALLENGE || rk == BOUNCE_KIND_AUTOREPLY)
        {
          kind = rk;
          format = bounce_format_rule_name (rule);
        }
      if (kind != BOUNCE_KIND_NOT_BOUNCE)
        merge_recipients (r, found);
      if (r->recipients->len == 0 && (kind == BOUNCE_KIND_FAILURE || kind == BOUNCE_KIND_DELAY))
        failed_recipients_header (r, msg);
    }
  else if (format == NULL)
    {
      /* No rule knows it: addresses next to error codes make a failure;
       * failing that, RFC 3834 headers make an auto-reply. */
      failed_recipients_header (r, msg);
      inline_at = find_inline_original (text, text_len);
      generic_recipients (r, text, text_len, inline_at);
      if (r->recipients->len == 0)
        daemon_recipients (r, msg, text, text_len, inline_at);
      if (r->recipients->len > 0)
        {
          kind = BOUNCE_KIND_FAILURE;
          format = "generic";
        }
      else if (is_auto_reply (msg))
        {
          kind = BOUNCE_KIND_AUTOREPLY;
          format = "rfc3834";
        }
    }
  if (kind == BOUNCE_KIND_FAILURE && g_strcmp0 (format, "rfc3464") == 0
      && r->recipients->len == 0)
    {
      /* Recipients only in the human-readable part. */
      failed_recipients_header (r, msg);
      if (r->recipients->len == 0)
        generic_recipients (r, text, text_len, G_MAXSIZE);
    }
  if ((kind == BOUNCE_KIND_FAILURE || kind == BOUNCE_KIND_DELAY)
      && (g_strcmp0 (format, "rfc3464") == 0 || g_strcmp0 (format, "rfc6533") == 0))
    kind = kind_from_actions (r);
  r->kind = kind;
  r->format = g_strdup (format);
  if (kind == BOUNCE_KIND_NOT_BOUNCE)
    {
      g_ptr_array_set_size (r->recipients, 0);
      return;
    }
  finish_recipients (r, rules, rule, text, text_len);

  /* The original: an attached part first, then text after a marker, then
   * a header block found in the text. */
  if (w.orig_part)
    r->original = bounce_original_from_part (w.orig_part);
  if (r->original == NULL && w.text_attachment && GMIME_IS_PART (w.text_attachment))
    {
      /* Some servers return the headers as a text attachment. */
      gsize alen = 0;
      g_autofree char *att = text_of (w.text_attachment, &alen);

      if (find_inline_original (att, alen) == 0)
        r->original = bounce_original_from_headers_text (att, alen, "text/rfc822-headers");
    }
  if (r->original == NULL && inline_at < text_len)
    r->original = bounce_original_from_headers_text (text + inline_at, text_len - inline_at, "inline");
  if (r->original == NULL && kind != BOUNCE_KIND_AUTOREPLY && kind != BOUNCE_KIND_MDN)
    {
      gsize at = find_inline_original (text, text_len);

      if (at < text_len)
        r->original = bounce_original_from_headers_text (text + at, text_len - at, "inline");
    }
}

/* ---- a second look at plain messages -----------------------------------
 *
 * Ordinary mail often has a word of reports in its Subject ("error",
 * "delivery", "fail"), and the triage lets it through. When that Subject
 * is all there is, and the message is one plain-text part whose bytes are
 * its text, the full parse can be foreseen without GMime: it finds no
 * report part, no automatic sender or headers (the triage saw none), and
 * it calls the message a report only through what the text and the
 * Subject and From hold. That is ruled out when none of these is there:
 * the words of any rule that could make it a report, delivery-status
 * field names, or an address with a digit on its line or the three after
 * it (the generic reading of a failure needs a code there). Every check
 * errs towards the full parse. */

/* Whether a Content-Type value says plain text, read by GMime's own
 * parser as the full parse reads it; *@charset: the charset it names, or
 * NULL. */
static gboolean
plain_text_type (const char *v, char **charset)
{
  g_autoptr (GMimeParserOptions) opts = (bounce_gmime_init (), bounce_parser_options ());
  GMimeContentType *ct = g_mime_content_type_parse (opts, v);
  gboolean plain = ct && g_mime_content_type_is_type (ct, "text", "plain") && *charset == NULL;

  /* A second Content-Type is left to GMime. */
  if (plain)
    *charset = g_strdup (g_mime_content_type_get_parameter (ct, "charset"));
  g_clear_object (&ct);
  return plain;
}

/* Whether @hay (@n bytes) holds the name of a delivery-status field that
 * starts a group of them, ASCII letters compared without regard to
 * case. */
static gboolean
holds_dsn_field (const char *hay, gsize n)
{
  for (gsize i = 0; i < n; i++)
    {
      guchar c = hay[i] | 0x20;

      if ((c == 'r' && n - i >= 13 && g_ascii_strncasecmp (hay + i, "reporting-mta", 13) == 0)
          || (c == 'f' && n - i >= 15 && g_ascii_strncasecmp (hay + i, "final-recipient", 15) == 0))
        return TRUE;
    }
  return FALSE;
}

/* Whether a line of @body holds an '@' and it or one of the three lines
 * after it a digit. */
static gboolean
address_near_digits (const char *body, gsize n)
{
  const char *p = body, *end = body + n;
  int left = 0; /* lines, this one included, where a digit counts */

  while (p < end)
    {
      const char *nl = memchr (p, '\n', end - p);
      const char *eol = nl ? nl : end;
      gboolean digit = FALSE;

      if (memchr (p, '@', eol - p))
        left = 4;
      for (const char *q = p; q < eol && left > 0 && !digit; q++)
        digit = g_ascii_isdigit (*q);
      if (digit)
        return TRUE;
      if (left > 0)
        left--;
      p = eol + 1;
    }
  return FALSE;
}

/* The forms a header value may take once GMime has read it: unfolded,
 * trimmed, runs of white space made one. NULL when it cannot be foreseen
 * (encoded words, bytes that are not UTF-8). */
static GPtrArray *
value_forms (const char *v, gsize len)
{
  GPtrArray *forms;
  char *trimmed, *collapsed, *o;

  if (strlen (v) != len || strstr (v, "=?") != NULL || !g_utf8_validate (v, len, NULL))
    return NULL;
  forms = g_ptr_array_new_with_free_func (g_free);
  trimmed = g_strstrip (g_strdup (v));
  collapsed = o = g_strdup (trimmed);
  for (const char *q = trimmed; *q; q++)
    if (!((*q == ' ' || *q == '\t') && o > collapsed && (o[-1] == ' ' || o[-1] == '\t')))
      *o++ = *q == '\t' ? ' ' : *q;
  *o = '\0';
  g_ptr_array_add (forms, g_strdup (v));
  g_ptr_array_add (forms, trimmed);
  g_ptr_array_add (forms, collapsed);
  return forms;
}

static void
forms_free (gpointer data)
{
  if (data)
    g_ptr_array_unref (data);
}

/* bounce_second_look: whether the message @data, which the triage let
 * through on its Subject alone, is surely no report (see above). @hend:
 * where its header block ends. */
gboolean
bounce_second_look (const char *data, gsize length, gsize hend, BounceRules *rules)
{
  g_autoptr (GHashTable) headers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, forms_free);
  const char *p = data, *end = data + hend, *body = data + hend;
  gsize body_len = length - hend;
  g_autofree char *text = NULL, *charset = NULL;
  BounceLook look = { NULL };
  GPtrArray *forms;

  while (p < end)
    {
      const char *line = p, *colon, *vend = p;
      g_autoptr (GString) value = NULL;
      g_autofree char *name = NULL;
      GPtrArray *had = NULL;
      gboolean known;
      gsize nlen;

      if (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n'))
        break;
      for (;;)
        {
          const char *nl = memchr (vend, '\n', end - vend);

          vend = nl ? nl + 1 : end;
          if (nl == NULL || vend >= end || (*vend != ' ' && *vend != '\t'))
            break;
        }
      p = vend;
      colon = memchr (line, ':', vend - line);
      for (nlen = colon ? (gsize) (colon - line) : 0; nlen > 0 && (line[nlen - 1] == ' ' || line[nlen - 1] == '\t'); nlen--)
        ;
      /* A line GMime may not read as a header: it might end the header
       * block there, and read the rest as text. */
      if (nlen == 0)
        return FALSE;
      for (gsize k = 0; k < nlen; k++)
        if ((guchar) line[k] <= ' ' || (guchar) line[k] >= 127)
          return FALSE;
      name = g_ascii_strdown (line, nlen);
      if (strcmp (name, "from") != 0 && strcmp (name, "subject") != 0
          && !g_str_has_prefix (name, "content-") && !bounce_rules_reads_header (rules, name))
        continue;
      /* The value unfolded: line ends removed. */
      value = g_string_sized_new (vend - colon);
      for (const char *q = colon + 1; q < vend; q++)
        if (*q != '\r' && *q != '\n')
          g_string_append_c (value, *q);
      if (strcmp (name, "content-type") == 0)
        {
          if (strlen (value->str) != value->len || !plain_text_type (value->str, &charset))
            return FALSE;
        }
      else if (strcmp (name, "content-transfer-encoding") == 0)
        {
          g_autofree char *v = g_strstrip (g_ascii_strdown (value->str, value->len));

          if (strcmp (v, "7bit") != 0 && strcmp (v, "8bit") != 0 && strcmp (v, "binary") != 0)
            return FALSE;
        }
      else if (strcmp (name, "content-disposition") == 0)
        return FALSE; /* maybe an attachment, not the text */
      /* Every form of every header of that name; NULL once one is not
       * known. */
      forms = value_forms (value->str, value->len);
      known = g_hash_table_lookup_extended (headers, name, NULL, (gpointer *) &had);
      if (known && had && forms)
        {
          for (guint k = 0; k < forms->len; k++)
            g_ptr_array_add (had, g_strdup (g_ptr_array_index (forms, k)));
          g_ptr_array_unref (forms);
        }
      else if (known)
        {
          forms_free (forms);
          g_hash_table_insert (headers, g_steal_pointer (&name), NULL);
        }
      else
        g_hash_table_insert (headers, g_steal_pointer (&name), forms);
    }
  if (holds_dsn_field (body, body_len) || address_near_digits (body, body_len))
    return FALSE;

  /* The header forms as lists the rules can read. */
  {
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init (&it, headers);
    while (g_hash_table_iter_next (&it, NULL, &value))
      if (value)
        g_ptr_array_add (value, NULL);
  }
  look.headers = headers;
  forms = g_hash_table_lookup (headers, "from");
  look.from = g_hash_table_contains (headers, "from") ? (forms ? (const char *const *) forms->pdata : NULL)
                                                       : (const char *const[]) { NULL };
  forms = g_hash_table_lookup (headers, "subject");
  look.subject = forms ? (const char *const *) forms->pdata : NULL;

  /* The text as the parse reads it: GMime hands out the bytes of such a
   * body as they are. */
  {
    gsize n = MIN (body_len, (gsize) BOUNCE_MAX_TEXT_BYTES * 2), len;
    g_autofree char *bytes = g_malloc (n + 1);

    memcpy (bytes, body, n);
    bytes[n] = '\0';
    text = text_to_utf8 (bytes, n, charset, &len);
    look.text = text;
    look.text_len = n ? finish_text (text, len) : 0;
  }
  return !bounce_rules_may_report (rules, &look);
}

/**
 * bounce_report_new_from_data:
 * @data: a whole message (an mbox "From " line before it is accepted)
 * @length: its length in bytes
 * @rules: the rules to recognise non-standard reports with
 * @flags: BounceParseFlags
 * @error: BOUNCE_ERROR_PARSE when @data is not a message at all
 *
 * Reads one message. A message that is not a report of any kind gives a
 * report of kind BOUNCE_KIND_NOT_BOUNCE, not an error.
 *
 * Returns: (transfer full) (nullable): the report, or NULL on error.
 */
BounceReport *
bounce_report_new_from_data (const char *data, gsize length, BounceRules *rules,
                             BounceParseFlags flags, GError **error)
{
  g_autoptr (BounceReport) r = report_new ();
  g_autoptr (GMimeMessage) msg = NULL;
  gsize probe, hend = 0;
  BounceTriage triage;

  if (length >= 5 && memcmp (data, "From ", 5) == 0)
    {
      const char *nl = memchr (data, '\n', length);

      if (nl == NULL)
        length = 0;
      else
        {
          length -= nl + 1 - data;
          data = nl + 1;
        }
    }
  /* The triage reads the header block once; a candidate's is measured
   * on its own. */
  probe = MIN (length, (gsize) BOUNCE_MAX_HEADER_BYTES + 2);
  triage = (flags & BOUNCE_PARSE_NO_TRIAGE) ? BOUNCE_TRIAGE_YES : bounce_triage (data, probe, &hend);
  if (triage == BOUNCE_TRIAGE_YES)
    hend = bounce_header_block_end (data, probe);
  if (length == 0 || hend == 0)
    {
      g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_PARSE, "empty message or no header");
      return NULL;
    }
  if (hend > BOUNCE_MAX_HEADER_BYTES || (hend == probe && length > probe))
    {
      /* No mail system writes such a header block: refuse it whole rather
       * than hand it to the MIME parser. */
      g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_LIMIT,
                   "the header block is larger than %d KiB", BOUNCE_MAX_HEADER_BYTES / 1024);
      return NULL;
    }
  if (length > BOUNCE_MAX_MESSAGE_BYTES)
    {
      warn (r, "the message is larger than %d bytes; only the start was read",
            BOUNCE_MAX_MESSAGE_BYTES);
      length = BOUNCE_MAX_MESSAGE_BYTES;
    }
  if (triage == BOUNCE_TRIAGE_NO
      || (triage == BOUNCE_TRIAGE_SUBJECT && rules && bounce_second_look (data, length, hend, rules)))
    {
      r->kind = BOUNCE_KIND_NOT_BOUNCE;
      return g_steal_pointer (&r);
    }
  msg = bounce_parse_message_bytes (data, length);
  if (msg == NULL)
    {
      g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_PARSE, "not a mail message");
      return NULL;
    }
  keep_header (r, msg, "From");
  keep_header (r, msg, "To");
  keep_header (r, msg, "Subject");
  keep_header (r, msg, "Date");
  keep_header (r, msg, "Message-ID");
  keep_header (r, msg, "Delivered-To");
  keep_header (r, msg, "X-Original-To");
  keep_header (r, msg, "In-Reply-To");
  parse_message (r, msg, rules);
  return g_steal_pointer (&r);
}

/**
 * bounce_report_new_from_file:
 * @path: a file holding one message
 * @rules: the rules
 * @flags: BounceParseFlags
 * @error: BOUNCE_ERROR_IO when the file cannot be read, else as
 *   bounce_report_new_from_data()
 *
 * Returns: (transfer full) (nullable): the report, or NULL on error.
 */
BounceReport *
bounce_report_new_from_file (const char *path, BounceRules *rules,
                             BounceParseFlags flags, GError **error)
{
  g_autoptr (GMappedFile) map = NULL;
  g_autoptr (GError) err = NULL;

  map = g_mapped_file_new (path, FALSE, &err);
  if (map == NULL)
    {
      g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_IO, "%s", err->message);
      return NULL;
    }
  return bounce_report_new_from_data (g_mapped_file_get_contents (map),
                                      g_mapped_file_get_length (map), rules, flags, error);
}

/* ---- accessors -------------------------------------------------------- */

BounceKind
bounce_report_get_kind (BounceReport *report)
{
  return report->kind;
}

/** bounce_report_get_format: Returns: (nullable) how the report was
 * recognised: "rfc3464", "rfc6533", "rfc8098", "arf", "rfc3834",
 * "generic" or a rule's name. */
const char *
bounce_report_get_format (BounceReport *report)
{
  return report->format;
}

/** bounce_report_get_rule_name: Returns: (nullable) the name of the format
 * rule that recognised the message, even where the format is a standard
 * one and the rule only filled in gaps; NULL when no rule applied. */
const char *
bounce_report_get_rule_name (BounceReport *report)
{
  return report->rule_name;
}

/** Returns: (nullable) */
const char *
bounce_report_get_reporting_mta (BounceReport *report)
{
  return report->reporting_mta;
}

/** Returns: (nullable) */
const char *
bounce_report_get_received_from_mta (BounceReport *report)
{
  return report->received_from_mta;
}

/** Returns: (nullable) */
const char *
bounce_report_get_arrival_date (BounceReport *report)
{
  return report->arrival_date;
}

/** Returns: (nullable) the Original-Envelope-Id. */
const char *
bounce_report_get_envelope_id (BounceReport *report)
{
  return report->envelope_id;
}

/**
 * bounce_report_get_header:
 * @name: From, To, Subject, Date, Message-ID, Delivered-To or X-Original-To
 *
 * Returns: (nullable) (transfer none): a header of the report itself.
 */
const char *
bounce_report_get_header (BounceReport *report, const char *name)
{
  for (guint i = 0; i + 1 < report->headers->len; i += 2)
    if (g_ascii_strcasecmp (g_ptr_array_index (report->headers, i), name) == 0)
      return g_ptr_array_index (report->headers, i + 1);
  return NULL;
}

/** bounce_report_get_bounce_to: Returns: (nullable) the address the report
 * was delivered to (Delivered-To, X-Original-To, else To). */
const char *
bounce_report_get_bounce_to (BounceReport *report)
{
  if (report->bounce_to == NULL)
    {
      const char *v = bounce_report_get_header (report, "Delivered-To");

      if (v == NULL)
        v = bounce_report_get_header (report, "X-Original-To");
      if (v == NULL)
        v = bounce_report_get_header (report, "To");
      report->bounce_to = bounce_addr_spec (v);
    }
  return report->bounce_to;
}

guint
bounce_report_get_n_recipients (BounceReport *report)
{
  return report->recipients->len;
}

/** Returns: (transfer none) the @index-th recipient. */
BounceRecipient *
bounce_report_get_recipient (BounceReport *report, guint index)
{
  g_return_val_if_fail (index < report->recipients->len, NULL);
  return g_ptr_array_index (report->recipients, index);
}

/** Returns: (nullable) (transfer none) the returned original, or NULL
 * when none came back. */
BounceOriginal *
bounce_report_get_original (BounceReport *report)
{
  return report->original;
}

/** Returns: (transfer none) the limits this message exceeded, as
 * sentences; an empty list when none. */
const char *const *
bounce_report_get_warnings (BounceReport *report)
{
  return (const char *const *) report->warnings->pdata;
}

#define RCPT_GETTER(field) \
  const char *bounce_recipient_get_##field (BounceRecipient *rcpt) \
  { \
    return rcpt->field; \
  }

RCPT_GETTER (address)
RCPT_GETTER (original_recipient)
RCPT_GETTER (action)
RCPT_GETTER (status)
RCPT_GETTER (reply_code)
RCPT_GETTER (diagnostic)
RCPT_GETTER (remote_mta)
RCPT_GETTER (reason)

/** bounce_recipient_get_permanent: Returns: 1 for a permanent failure, 0
 * for a temporary one, -1 when the report does not say. */
int
bounce_recipient_get_permanent (BounceRecipient *rcpt)
{
  return rcpt->permanent;
}

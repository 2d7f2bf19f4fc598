/* mimewalk.c — walk a report's MIME tree and extract its text.
 *
 * The walk notes the parts a report is read from: the delivery-status,
 * disposition-notification or feedback-report part, the part carrying the
 * original, the report text (the first text part outside any attached
 * message, else the HTML part, else a multipart prologue) and a later text
 * part that may hold returned headers. A report forwarded inside a message
 * is read in place of an outer message that has none.
 *
 * Limits: BOUNCE_MAX_MIME_DEPTH levels and BOUNCE_MAX_MIME_PARTS parts are
 * walked (the walk says when it stopped); BOUNCE_MAX_TEXT_BYTES of text are
 * kept, cut at a character boundary.
 */
#include "bounce-private.h"

#include <string.h>

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
         || type_is (obj, "text", "rfc822-headers") || type_is (obj, "message", "global-headers")
         || type_is (obj, "text", "rfc822-header") || type_is (obj, "message", "rfc822-headers")
         || type_is (obj, "message", "partial");
}

/* A message sent as a file: an attachment named *.eml, whatever type its
 * sender gave it (application/octet-stream, mostly). */
static gboolean
is_message_file (GMimeObject *obj)
{
  const char *name = GMIME_IS_PART (obj) ? g_mime_part_get_filename (GMIME_PART (obj)) : NULL;
  gsize n = name ? strlen (name) : 0;

  return n > 4 && g_ascii_strcasecmp (name + n - 4, ".eml") == 0 && !type_is (obj, "text", "*");
}

static gboolean
is_attachment (GMimeObject *obj)
{
  GMimeContentDisposition *cd = g_mime_object_get_content_disposition (obj);

  return cd && g_mime_content_disposition_is_attachment (cd) && GMIME_IS_PART (obj)
         && g_mime_part_get_filename (GMIME_PART (obj));
}

static gboolean
is_report_message (GMimeMessage *m)
{
  GMimeObject *body = m ? g_mime_message_get_mime_part (m) : NULL;

  return body && type_is (body, "multipart", "report");
}

/* Whether @hay (@n bytes) holds @needle (lower case ASCII), ASCII letters
 * compared without regard to case. */
static gboolean
holds_word (const char *hay, gsize n, const char *needle)
{
  gsize k = strlen (needle);

  for (gsize i = 0; i + k <= n; i++)
    if (g_ascii_tolower (hay[i]) == needle[0] && g_ascii_strncasecmp (hay + i, needle, k) == 0)
      return TRUE;
  return FALSE;
}

/* The message in a part the parse was given as a leaf
 * (BOUNCE_CARRIED_SUBTYPE), parsed into @w->carried_report (from
 * @w->carried_bytes, which the parse reads from as long as it lives) when
 * it may be a report: when its header block names "report" (a
 * multipart/report has it in its Content-Type). */
static void
parse_carried (BounceWalk *w, GMimePart *part)
{
  g_autoptr (GByteArray) bytes = bounce_part_content (part, BOUNCE_MAX_MESSAGE_BYTES);
  const char *data = (const char *) bytes->data;

  if (bytes->len == 0 || !holds_word (data, bounce_header_block_end (data, bytes->len), "report"))
    return;
  w->carried_report = bounce_parse_message_bytes (data, bytes->len);
  w->carried_bytes = g_steal_pointer (&bytes);
}

static void
walk (BounceWalk *w, GMimeObject *obj, int depth)
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
  if (GMIME_IS_MESSAGE_PART (obj) || type_is (obj, "message", BOUNCE_CARRIED_SUBTYPE))
    {
      GMimeMessage *inner = NULL;

      /* A report forwarded (or wrapped by a gateway) inside a message:
       * read the inner report when the outer message has none. */
      if (w->status_part == NULL && w->mdn_part == NULL && w->feedback_part == NULL && w->orig_part == NULL)
        {
          if (GMIME_IS_MESSAGE_PART (obj))
            inner = g_mime_message_part_get_message (GMIME_MESSAGE_PART (obj));
          else if (w->carried_bytes == NULL)
            {
              parse_carried (w, GMIME_PART (obj));
              inner = w->carried_report;
            }
        }
      if (is_report_message (inner))
        {
          w->report_message = GMIME_OBJECT (inner);
          w->text_part = w->html_part = NULL;
          walk (w, g_mime_message_get_mime_part (inner), depth + 1);
          return;
        }
      if (w->orig_part == NULL)
        w->orig_part = obj;
      return;
    }
  /* a leaf */
  if (type_is (obj, "message", "delivery-status") || type_is (obj, "message", "global-delivery-status"))
    {
      if (w->status_part == NULL)
        {
          w->status_part = obj;
          w->global = type_is (obj, "message", "global-delivery-status");
        }
      else
        for (guint i = 0; i < G_N_ELEMENTS (w->more_status); i++)
          if (w->more_status[i] == NULL)
            {
              w->more_status[i] = obj;
              break;
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
  else if (carries_original (obj) || is_message_file (obj))
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
 * bytes: what g_mime_data_wrapper_write_to_stream() writes, with base64
 * and quoted-printable decoded here (bounce_transfer_decode()).
 * Returns: (transfer full) */
GByteArray *
bounce_part_content (GMimePart *part, gsize max)
{
  GMimeDataWrapper *content = g_mime_part_get_content (part);
  GMimeContentEncoding encoding;
  g_autoptr (GMimeStream) mem = NULL;
  g_autoptr (GByteArray) encoded = NULL;
  GByteArray *bytes = g_byte_array_new ();

  if (content == NULL)
    return bytes;
  encoding = g_mime_data_wrapper_get_encoding (content);
  mem = g_mime_stream_mem_new_with_byte_array (bytes);
  g_mime_stream_mem_set_owner (GMIME_STREAM_MEM (mem), FALSE);
  if (encoding == GMIME_CONTENT_ENCODING_BASE64 || encoding == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE)
    {
      GMimeStream *raw = g_mime_data_wrapper_get_stream (content);

      g_mime_stream_reset (raw);
      g_mime_stream_write_to_stream (raw, mem);
      encoded = bytes;
      return bounce_transfer_decode (encoding, (const char *) encoded->data, encoded->len, max);
    }
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

  /* Most texts have neither. */
  if (memchr (s, '\r', len) == NULL && memchr (s, '\0', len) == NULL)
    {
      s[len] = '\0';
      return len;
    }

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
          gboolean block = g_ascii_strncasecmp (p, "<br", 3) == 0 || g_ascii_strncasecmp (p, "<p", 2) == 0
                           || g_ascii_strncasecmp (p, "</p", 3) == 0 || g_ascii_strncasecmp (p, "<div", 4) == 0
                           || g_ascii_strncasecmp (p, "</div", 5) == 0 || g_ascii_strncasecmp (p, "<tr", 3) == 0
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
          } ents[] = { { "&lt;", "<" },   { "&gt;", ">" },    { "&amp;", "&" },
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
char *
bounce_text_to_utf8 (char *bytes, gsize n, const char *charset, gsize *len)
{
  char *out = NULL;

  *len = 0;
  for (char *z = bytes; (z = memchr (z, '\0', bytes + n - z)) != NULL; z++)
    *z = ' ';
  if (charset && g_ascii_strcasecmp (charset, "utf-8") != 0 && g_ascii_strcasecmp (charset, "us-ascii") != 0)
    {
      const char *name = bounce_charset_iconv_name (charset);
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
      out = bounce_utf8_valid (bytes, n) ? g_strndup (bytes, n) : g_utf8_make_valid (bytes, n);
      *len = strlen (out);
    }
  return out;
}

/* The decoded text of a text part, converted to UTF-8 from its charset;
 * NUL bytes survive (as spaces, later). Returns: (transfer full) */
char *
bounce_text_of (GMimeObject *part, gsize *len)
{
  g_autoptr (GByteArray) bytes = bounce_part_content (GMIME_PART (part), BOUNCE_MAX_TEXT_BYTES * 2);

  *len = 0;
  if (bytes->len == 0)
    return g_strdup ("");
  return bounce_text_to_utf8 ((char *) bytes->data, bytes->len,
                              g_mime_object_get_content_type_parameter (part, "charset"), len);
}

/* The text the parse reads, from the decoded text of the part: capped,
 * LF line ends; *@cut (nullable) says whether the cap cut it. */
gsize
bounce_finish_text (char *text, gsize len, gboolean *cut)
{
  len = strlen (text);
  if (cut)
    *cut = len > BOUNCE_MAX_TEXT_BYTES;
  if (len > BOUNCE_MAX_TEXT_BYTES)
    {
      len = BOUNCE_MAX_TEXT_BYTES;
      while (len > 0 && (text[len] & 0xc0) == 0x80)
        len--;
      text[len] = '\0';
    }
  return normalise_newlines (text, len);
}

/* bounce_report_text_from: the report text, from the parts a walk noted
 * (@text_part, @html_part, nullable) and the prologue of a multipart that
 * has no parts, which @text_of decodes: the text part's text, else the
 * HTML part's without its tags, else the prologue; LF line ends, capped
 * (*@cut: whether the cap cut it). Returns: (transfer full) */
char *
bounce_report_text_from (BounceTextOf text_of, gconstpointer text_part, gconstpointer html_part, const char *prologue,
                         gsize *len, gboolean *cut)
{
  char *text = NULL;

  *len = 0;
  if (text_part)
    text = text_of (text_part, len);
  if ((text == NULL || *len == 0) && html_part)
    {
      g_autofree char *html = text_of (html_part, len);

      g_free (text);
      text = html_to_text (html);
    }
  if ((text == NULL || *text == '\0') && prologue)
    {
      g_free (text);
      text = bounce_utf8 (prologue, MIN (strlen (prologue), BOUNCE_MAX_TEXT_BYTES + 1));
    }
  if (text == NULL)
    text = g_strdup ("");
  *len = bounce_finish_text (text, *len, cut);
  return text;
}

static char *
part_text_of (gconstpointer part, gsize *len)
{
  return bounce_text_of ((GMimeObject *) part, len);
}

/* The report text of the parts @w noted. */
char *
bounce_report_text (BounceWalk *w, gsize *len)
{
  return bounce_report_text_from (part_text_of, w->text_part && GMIME_IS_PART (w->text_part) ? w->text_part : NULL,
                                  w->html_part && GMIME_IS_PART (w->html_part) ? w->html_part : NULL, w->prologue, len,
                                  &w->text_cut);
}

/* bounce_walk: note in @w the parts of the tree under @obj; clear @w
 * with bounce_walk_clear(). */
void
bounce_walk (BounceWalk *w, GMimeObject *obj)
{
  walk (w, obj, 0);
}

/* bounce_walk_clear: let go of what the walk of @w holds. */
void
bounce_walk_clear (BounceWalk *w)
{
  g_clear_object (&w->carried_report);
  g_clear_pointer (&w->carried_bytes, g_byte_array_unref);
}

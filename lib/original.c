/* original.c — recover the headers (and attachment list) of the message
 * that bounced.
 *
 * The original comes back as a message/rfc822 (or message/global) part,
 * possibly transfer-encoded so that GMime hands it back as a leaf part; as
 * a text/rfc822-headers (message/global-headers) part, which GMime leaves
 * unparsed; or as text after a marker line in the report text ("inline").
 * Each is parsed into the same BounceOriginal.
 *
 * Limits: BOUNCE_MAX_RECEIVED Received headers, BOUNCE_MAX_ORIGINAL_FIELDS
 * other header fields, BOUNCE_MAX_ATTACHMENTS attachments, BOUNCE_MAX_MIME_DEPTH nesting are kept; more are ignored,
 * and the original says so (cut_received, cut_fields, cut_attachments) for the report's warnings.
 */
#include "bounce-private.h"

#include <string.h>

void
bounce_original_free (BounceOriginal *o)
{
  if (o == NULL)
    return;
  g_free (o->carried_as);
  g_ptr_array_unref (o->headers);
  g_free (o->message_id);
  g_free (o->from);
  g_array_unref (o->received);
  g_ptr_array_unref (o->received_text);
  g_array_unref (o->dkim);
  g_array_unref (o->attachments);
  g_free (o);
}

static void
clear_received (gpointer p)
{
  BounceReceived *r = p;

  g_free (r->from_host);
  g_free (r->from_ip);
  g_free (r->by_host);
  g_free (r->date);
}

static void
clear_dkim (gpointer p)
{
  BounceDkim *d = p;

  g_free (d->domain);
  g_free (d->selector);
}

static void
clear_attachment (gpointer p)
{
  BounceAttachment *a = p;

  g_free (a->name);
  g_free (a->content_type);
}

static BounceOriginal *
original_new (const char *carried_as)
{
  BounceOriginal *o = g_new0 (BounceOriginal, 1);

  o->carried_as = g_strdup (carried_as);
  o->headers = g_ptr_array_new_with_free_func (g_free);
  o->received = g_array_new (FALSE, TRUE, sizeof (BounceReceived));
  g_array_set_clear_func (o->received, clear_received);
  o->received_text = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (o->received_text, NULL);
  o->dkim = g_array_new (FALSE, TRUE, sizeof (BounceDkim));
  g_array_set_clear_func (o->dkim, clear_dkim);
  o->attachments = g_array_new (FALSE, TRUE, sizeof (BounceAttachment));
  g_array_set_clear_func (o->attachments, clear_attachment);
  return o;
}

/* A word after @key in a Received header: "from HOST", "by HOST". */
static char *
received_word (const char *text, const char *key)
{
  const char *p = text;
  size_t klen = strlen (key);

  while ((p = strstr (p, key)) != NULL)
    {
      const char *start, *end;

      if ((p == text || g_ascii_isspace (p[-1]) || p[-1] == ';') && g_ascii_isspace (p[klen]))
        {
          start = p + klen;
          while (g_ascii_isspace (*start))
            start++;
          end = start;
          while (*end && !g_ascii_isspace (*end) && *end != ';' && *end != '(' && *end != ')')
            end++;
          if (end > start)
            return bounce_utf8 (start, end - start);
        }
      p += klen;
    }
  return NULL;
}

static gboolean
looks_like_ip (const char *s, gsize n)
{
  gsize digits = 0, dots = 0, colons = 0;

  for (gsize i = 0; i < n; i++)
    {
      if (g_ascii_isdigit (s[i]))
        digits++;
      else if (s[i] == '.')
        dots++;
      else if (s[i] == ':')
        colons++;
      else if (!g_ascii_isxdigit (s[i]) && !(i < 5 && g_ascii_strncasecmp (s, "IPv6:", 5) == 0))
        return FALSE;
    }
  return (dots == 3 && digits >= 4) || colons >= 2;
}

/* The first IP literal in a Received header: "[192.0.2.1]" or "(192.0.2.1)". */
static char *
received_ip (const char *text)
{
  const char *p;

  for (p = text; *p; p++)
    {
      if (*p == '[' || *p == '(')
        {
          const char *start = p + 1, *end;
          char close = *p == '[' ? ']' : ')';

          if (g_ascii_strncasecmp (start, "IPv6:", 5) == 0)
            start += 5;
          end = start;
          while (*end && *end != close && *end != ' ' && end - start < 64)
            end++;
          if (*end == close && looks_like_ip (start, end - start))
            return g_strndup (start, end - start);
        }
    }
  return NULL;
}

static void
add_received (BounceOriginal *o, const char *value)
{
  BounceReceived r = { 0 };
  g_autofree char *v = bounce_collapse_space (value);
  const char *semi;

  if (v == NULL)
    return;
  if (o->received->len >= BOUNCE_MAX_RECEIVED)
    {
      o->cut_received = TRUE;
      return;
    }
  r.from_host = received_word (v, "from");
  r.by_host = received_word (v, "by");
  r.from_ip = received_ip (v);
  semi = strrchr (v, ';');
  if (semi)
    r.date = bounce_strip (g_strdup (semi + 1));
  g_array_append_val (o->received, r);
  /* The whole text too, for the judge's reading of the path (profile.c). */
  g_ptr_array_insert (o->received_text, o->received_text->len - 1, g_steal_pointer (&v));
}

/* A DKIM-Signature tag value: "d=example.org; s=sel; ..." */
static char *
dkim_tag (const char *value, const char *tag)
{
  g_auto (GStrv) tags = g_strsplit (value, ";", 64);

  for (guint i = 0; tags[i]; i++)
    {
      char *t = g_strstrip (tags[i]);

      if (g_ascii_strncasecmp (t, tag, strlen (tag)) == 0)
        {
          char *v = t + strlen (tag);

          while (g_ascii_isspace (*v))
            v++;
          if (*v == '=')
            {
              g_autofree char *c = bounce_collapse_space (v + 1);

              if (c)
                {
                  char *nospace = g_strdelimit (g_strdup (c), " ", '\0');

                  return bounce_strip (nospace);
                }
            }
        }
    }
  return NULL;
}

static void
add_dkim (BounceOriginal *o, const char *value)
{
  BounceDkim d = { 0 };

  d.domain = dkim_tag (value, "d");
  if (d.domain == NULL)
    return;
  g_strstrip (d.domain);
  d.selector = dkim_tag (value, "s");
  g_array_append_val (o->dkim, d);
}

/* Record one header of the original. */
static void
add_header (BounceOriginal *o, const char *name, const char *value)
{
  char *v;

  if (name == NULL || value == NULL)
    return;
  if (o->headers->len >= 2 * BOUNCE_MAX_ORIGINAL_FIELDS)
    {
      o->cut_fields = TRUE;
      return;
    }
  if (g_ascii_strcasecmp (name, "Received") == 0)
    {
      add_received (o, value);
      return;
    }
  if (g_ascii_strcasecmp (name, "DKIM-Signature") == 0)
    {
      add_dkim (o, value);
      return;
    }
  v = bounce_collapse_space (value);
  if (v == NULL)
    return;
  if (g_ascii_strcasecmp (name, "Message-ID") == 0 && o->message_id == NULL)
    {
      const char *lt = strchr (v, '<');
      const char *gt = lt ? strchr (lt, '>') : NULL;

      /* Always in angle brackets, as the sent-mail index keeps them. */
      if (lt && gt)
        o->message_id = bounce_utf8 (lt, gt - lt + 1);
      else if (!strchr (v, ' '))
        o->message_id = g_strdup_printf ("<%s>", v);
    }
  if (g_ascii_strcasecmp (name, "From") == 0 && o->from == NULL)
    o->from = bounce_utf8 (v, -1);
  g_ptr_array_add (o->headers, bounce_utf8 (name, -1));
  g_ptr_array_add (o->headers, bounce_utf8 (v, -1));
  g_free (v);
}

static const char *const risky_extensions[] = {
  "exe", "com", "scr", "pif", "bat", "cmd", "cpl",  "vbs",  "vbe",  "js",  "jse", "wsf", "wsh", "hta",
  "msi", "msp", "jar", "lnk", "reg", "ps1", "dll",  "zip",  "rar",  "7z",  "cab", "arj", "lzh", "ace",
  "iso", "img", "gz",  "tgz", "bz2", "xz",  "docm", "xlsm", "pptm", "chm", "scf", "shs", "url", NULL,
};

/**
 * bounce_filename_is_risky:
 * @name: (nullable): an attachment's file name
 * @content_type: (nullable): its MIME type
 *
 * Whether an attachment is an executable, a script or an archive — the
 * kinds that worms travel in. A name such as "document.txt.scr" counts by
 * its last extension, taken as Windows takes it: trailing dots and spaces
 * are dropped, so "x.exe." and "x.exe " are executables too.
 */
gboolean
bounce_filename_is_risky (const char *name, const char *content_type)
{
  if (name)
    {
      gsize len = strlen (name);
      const char *dot;

      while (len > 0 && (name[len - 1] == '.' || name[len - 1] == ' '))
        len--;
      dot = g_strrstr_len (name, len, ".");
      if (dot)
        for (guint i = 0; risky_extensions[i]; i++)
          if ((gsize) (name + len - dot - 1) == strlen (risky_extensions[i])
              && g_ascii_strncasecmp (dot + 1, risky_extensions[i], name + len - dot - 1) == 0)
            return TRUE;
    }
  if (content_type)
    {
      static const char *const types[] = {
        "application/x-msdownload",
        "application/x-msdos-program",
        "application/x-executable",
        "application/x-dosexec",
        "application/zip",
        "application/x-zip-compressed",
        "application/x-rar",
        "application/vnd.rar",
        "application/x-7z-compressed",
        "application/java-archive",
        "application/hta",
        "application/x-sh",
        "application/javascript",
        "text/javascript",
        "text/vbscript",
        NULL,
      };

      for (guint i = 0; types[i]; i++)
        if (g_ascii_strncasecmp (content_type, types[i], strlen (types[i])) == 0)
          return TRUE;
    }
  return FALSE;
}

static void
list_attachments (BounceOriginal *o, GMimeObject *obj, int depth)
{
  if (obj == NULL || depth > BOUNCE_MAX_MIME_DEPTH || o->cut_attachments)
    return;
  if (GMIME_IS_MULTIPART (obj))
    {
      GMimeMultipart *mp = GMIME_MULTIPART (obj);
      int n = g_mime_multipart_get_count (mp);

      for (int i = 0; i < n && i < BOUNCE_MAX_MIME_PARTS; i++)
        list_attachments (o, g_mime_multipart_get_part (mp, i), depth + 1);
      return;
    }
  if (GMIME_IS_MESSAGE_PART (obj) || GMIME_IS_PART (obj))
    {
      GMimeContentType *ct = g_mime_object_get_content_type (obj);
      g_autofree char *type = ct ? g_mime_content_type_get_mime_type (ct) : g_strdup ("application/octet-stream");
      const char *name = NULL;
      BounceAttachment a = { 0 };

      if (GMIME_IS_PART (obj))
        name = g_mime_part_get_filename (GMIME_PART (obj));
      if (name == NULL && !GMIME_IS_MESSAGE_PART (obj)
          && (g_mime_object_get_content_disposition (obj) == NULL
              || !g_mime_content_disposition_is_attachment (g_mime_object_get_content_disposition (obj))))
        return; /* a body part, not an attachment */
      if (o->attachments->len >= BOUNCE_MAX_ATTACHMENTS)
        {
          o->cut_attachments = TRUE;
          return;
        }
      a.name = bounce_utf8 (name, -1);
      a.content_type = bounce_utf8 (type, -1);
      a.risky = bounce_filename_is_risky (name, type);
      g_array_append_val (o->attachments, a);
    }
}

static void
add_header_list (BounceOriginal *o, GMimeHeaderList *list)
{
  int n = list ? g_mime_header_list_get_count (list) : 0;

  for (int i = 0; i < n; i++)
    {
      GMimeHeader *h = g_mime_header_list_get_header_at (list, i);
      g_autofree char *value = bounce_header_value (h);

      add_header (o, g_mime_header_get_name (h), value);
    }
}

/* bounce_original_from_message: the original as a parsed message.
 * Returns: (transfer full) */
BounceOriginal *
bounce_original_from_message (GMimeMessage *msg, const char *carried_as)
{
  BounceOriginal *o = original_new (carried_as);

  add_header_list (o, g_mime_object_get_header_list (GMIME_OBJECT (msg)));
  list_attachments (o, g_mime_message_get_mime_part (msg), 0);
  return o;
}

/* Remove a common indentation (some formats indent the returned message)
 * and stop at the end of the header block. */
static char *
header_block (const char *text, gsize len)
{
  GString *out = g_string_sized_new (MIN (len, 65536));
  const char *p = text, *end = text + len;
  gsize indent = G_MAXSIZE;
  gboolean started = FALSE;

  /* The indentation of the first non-blank line. */
  for (const char *q = p; q < end; q++)
    {
      if (*q == '\n')
        continue;
      indent = 0;
      while (q + indent < end && (q[indent] == ' ' || q[indent] == '\t'))
        indent++;
      break;
    }
  if (indent == G_MAXSIZE)
    indent = 0;
  while (p < end)
    {
      const char *nl = memchr (p, '\n', end - p);
      gsize n = nl ? (gsize) (nl - p) : (gsize) (end - p);
      const char *l = p;
      gsize ln = n;
      gsize strip = 0;

      p += n + (nl ? 1 : 0);
      if (ln && l[ln - 1] == '\r')
        ln--;
      while (strip < indent && strip < ln && (l[strip] == ' ' || l[strip] == '\t'))
        strip++;
      l += strip;
      ln -= strip;
      if (ln == 0 || (ln > 0 && strspn (l, " \t") == ln))
        {
          if (started)
            break;
          continue;
        }
      started = TRUE;
      g_string_append_len (out, l, ln);
      g_string_append_c (out, '\n');
      if (out->len > BOUNCE_MAX_HEADER_BYTES)
        break;
    }
  g_string_append_c (out, '\n');
  return g_string_free (out, FALSE);
}

/* The lines of @text quoted with ">" (up to the first that is not), one
 * level of quoting taken off. Returns: (transfer full) */
static char *
unquote (const char *text, gsize len)
{
  GString *out = g_string_sized_new (MIN (len, 65536));
  const char *p = text, *end = text + len;

  while (p < end && *p == '>' && out->len <= BOUNCE_MAX_HEADER_BYTES)
    {
      const char *nl = memchr (p, '\n', end - p);
      const char *e = nl ? nl : end;

      p += p + 1 < e && p[1] == ' ' ? 2 : 1;
      g_string_append_len (out, p, e - p);
      g_string_append_c (out, '\n');
      p = nl ? nl + 1 : end;
    }
  return g_string_free (out, FALSE);
}

/* Whether a Content-Type value read by GMime makes a leaf part with no
 * file name: a text type with no "name" parameter. */
static gboolean
plain_text_type (const char *raw)
{
  g_autofree char *v = bounce_header_unfold_plain (raw);
  g_autofree char *lower = v ? g_ascii_strdown (v, -1) : NULL;

  return lower && g_str_has_prefix (lower, "text/") && strstr (lower, "name") == NULL;
}

/* The original from the header block at the start of @text, read here
 * rather than parsed by GMime into a message, when GMime would read it
 * the same way: each field a "Name: value" line (a name of printable
 * ASCII right before the colon, no NUL and no bare CR in the block). The
 * fields are those GMime keeps in a message's own header list (not the
 * Content-* ones), their values as GMime decodes them. A body that may
 * hold attachments (a Content-Disposition, a Content-Type other than
 * text with no name, or two) is parsed as GMime would give it as the
 * message's part: with the Content-* fields alone. Returns FALSE when the
 * block is not such; else TRUE, with *@out the original (NULL when it
 * has no header). */
static gboolean
original_from_plain_block (const char *text, gsize len, const char *carried_as, BounceOriginal **out)
{
  g_autoptr (GMimeParserOptions) opts = NULL;
  BounceOriginal *o = original_new (carried_as);
  g_autoptr (GString) mime = NULL; /* the Content-* fields */
  BounceHeaderField f;
  gsize pos = 0, hend = bounce_header_block_end (text, len);
  guint n_types = 0;
  gboolean attachments = FALSE;

  *out = NULL;
  if (memchr (text, '\0', hend))
    goto not_plain;
  for (const char *cr = memchr (text, '\r', hend); cr; cr = memchr (cr + 1, '\r', hend - (cr + 1 - text)))
    if (cr + 1 >= text + hend || cr[1] != '\n')
      goto not_plain;
  while (bounce_header_next (text, hend, &pos, &f))
    {
      g_autofree char *name = NULL, *raw = NULL, *value = NULL;

      if (f.value == NULL || f.name_len == 0 || f.line + f.name_len + 1 != f.value)
        goto not_plain;
      for (gsize i = 0; i < f.name_len; i++)
        if ((guchar) f.line[i] <= 0x20 || (guchar) f.line[i] >= 0x7f)
          goto not_plain;
      name = g_strndup (f.line, f.name_len);
      raw = g_strndup (f.value, f.value_len);
      if (f.name_len >= 8 && g_ascii_strncasecmp (name, "Content-", 8) == 0)
        {
          /* GMime keeps it with the body part */
          if (mime == NULL)
            mime = g_string_new (NULL);
          g_string_append_len (mime, f.line, f.len);
          if (g_ascii_strcasecmp (name, "Content-Type") == 0)
            attachments |= n_types++ > 0 || !plain_text_type (raw);
          else if (g_ascii_strcasecmp (name, "Content-Disposition") == 0)
            attachments = TRUE;
          continue;
        }
      value = bounce_header_unfold_plain (raw);
      if (value == NULL)
        {
          g_autofree char *unfolded = g_mime_utils_header_unfold (raw);

          if (opts == NULL)
            opts = bounce_parser_options ();
          value = g_mime_utils_header_decode_text (opts, unfolded);
        }
      add_header (o, name, value);
    }
  if (attachments)
    {
      g_autoptr (GMimeObject) body = NULL;

      /* the fields, a blank line, the body */
      if (mime->len > 0 && mime->str[mime->len - 1] != '\n')
        g_string_append_c (mime, '\n');
      g_string_append_c (mime, '\n');
      g_string_append_len (mime, text + hend, len - hend);
      body = bounce_parse_part_bytes (mime->str, mime->len);
      list_attachments (o, body, 0);
    }
  if (o->headers->len == 0 && o->received->len == 0)
    bounce_original_free (o);
  else
    *out = o;
  return TRUE;

not_plain:
  bounce_original_free (o);
  return FALSE;
}

/* bounce_original_from_headers_text: the original from a header block in
 * text (text/rfc822-headers, or text after a marker); a body after the
 * block is parsed too, for attachments. Returns: (transfer full) (nullable)
 * NULL when the text holds no header of a message. */
BounceOriginal *
bounce_original_from_headers_text (const char *text, gsize len, const char *carried_as)
{
  g_autofree char *block = NULL;
  g_autoptr (GMimeMessage) msg = NULL;
  BounceOriginal *o;
  gsize skip = 0;

  /* Skip leading blank lines, not the indent of the first header line:
   * that says the block is indented. */
  for (gsize e = 0; e <= len; e++)
    if (e == len || text[e] == '\n')
      skip = e == len ? len : e + 1;
    else if (text[e] != ' ' && text[e] != '\t' && text[e] != '\r')
      break;
  text += skip;
  len -= skip;
  if (len == 0)
    return NULL;
  /* Most inline originals are not indented: parse them whole so that the
   * attachments of the body are seen. Indented ones are dedented, quoted
   * ones ("> From: ...") unquoted. */
  if (text[0] == '>')
    {
      block = unquote (text, len);
      text = block;
      len = strlen (block);
    }
  else if (text[0] == ' ' || text[0] == '\t')
    {
      block = header_block (text, len);
      text = block;
      len = strlen (block);
    }
  if (original_from_plain_block (text, len, carried_as, &o))
    return o;
  msg = bounce_parse_message_bytes (text, len);
  if (msg == NULL)
    return NULL;
  o = bounce_original_from_message (msg, carried_as);
  if (o->headers->len == 0 && o->received->len == 0)
    {
      bounce_original_free (o);
      return NULL;
    }
  return o;
}

/* bounce_original_from_part: the original from the part of a report that
 * carries it (message/rfc822, message/global, text/rfc822-headers,
 * message/global-headers, or such a type left as a leaf part because it
 * was transfer-encoded). Returns: (transfer full) (nullable) */
BounceOriginal *
bounce_original_from_part (GMimeObject *part)
{
  GMimeContentType *ct = g_mime_object_get_content_type (part);
  gboolean headers_only = ct
                          && (g_mime_content_type_is_type (ct, "text", "rfc822-headers")
                              || g_mime_content_type_is_type (ct, "message", "global-headers")
                              || g_mime_content_type_is_type (ct, "text", "rfc822-header"));
  const char *carried = headers_only ? "text/rfc822-headers" : "message/rfc822";

  if (GMIME_IS_MESSAGE_PART (part))
    {
      GMimeMessage *msg = g_mime_message_part_get_message (GMIME_MESSAGE_PART (part));
      BounceOriginal *o;
      g_autofree char *raw = NULL;

      if (msg == NULL)
        return NULL;
      o = bounce_original_from_message (msg, carried);
      if (o->headers->len > 0 || o->received->len > 0)
        return o;
      /* A blank line before the headers leaves GMime an empty header
       * block: read the part again without it. */
      bounce_original_free (o);
      raw = g_mime_object_to_string (GMIME_OBJECT (msg), NULL);
      return raw ? bounce_original_from_headers_text (raw, strlen (raw), carried) : NULL;
    }
  if (GMIME_IS_PART (part))
    {
      g_autoptr (GByteArray) bytes = bounce_part_content (GMIME_PART (part), BOUNCE_MAX_MESSAGE_BYTES);

      return bytes->len ? bounce_original_from_headers_text ((const char *) bytes->data, bytes->len, carried) : NULL;
    }
  return NULL;
}

/* ---- accessors -------------------------------------------------------- */

/**
 * bounce_original_get_header:
 * @orig: the original
 * @name: a header name, any case
 *
 * Returns: (nullable) (transfer none): the first value of that header, or
 *   NULL. Received and DKIM-Signature are not kept as text: see
 *   bounce_original_get_received() and bounce_original_get_dkim().
 */
const char *
bounce_original_get_header (BounceOriginal *orig, const char *name)
{
  for (guint i = 0; i + 1 < orig->headers->len; i += 2)
    if (g_ascii_strcasecmp (g_ptr_array_index (orig->headers, i), name) == 0)
      return g_ptr_array_index (orig->headers, i + 1);
  return NULL;
}

/* bounce_original_get_n_fields: how many header fields came back,
 * Received and DKIM-Signature fields too. */
guint
bounce_original_get_n_fields (BounceOriginal *orig)
{
  return orig->headers->len / 2 + orig->received_text->len + orig->dkim->len;
}

/** bounce_original_get_message_id: Returns: (nullable) the Message-ID with its angle brackets. */
const char *
bounce_original_get_message_id (BounceOriginal *orig)
{
  return orig->message_id;
}

/** bounce_original_get_from: Returns: (nullable) the From header as written. */
const char *
bounce_original_get_from (BounceOriginal *orig)
{
  return orig->from;
}

/** bounce_original_get_carried_as: Returns: how the original came back:
 * "message/rfc822", "text/rfc822-headers" or "inline". */
const char *
bounce_original_get_carried_as (BounceOriginal *orig)
{
  return orig->carried_as;
}

/* bounce_original_get_n_received: Returns: how many Received headers of
 * the original were kept (at most BOUNCE_MAX_RECEIVED). */
guint
bounce_original_get_n_received (BounceOriginal *orig)
{
  return orig->received->len;
}

/* bounce_original_get_received_text: (transfer none) each Received
 * header's value, in the order of bounce_original_get_received(). */
const char *const *
bounce_original_get_received_text (BounceOriginal *orig)
{
  return (const char *const *) orig->received_text->pdata;
}

/** bounce_original_get_received: Returns: (transfer none) the @index-th
 * Received header, topmost (newest) first. */
const BounceReceived *
bounce_original_get_received (BounceOriginal *orig, guint index)
{
  g_return_val_if_fail (index < orig->received->len, NULL);
  return &g_array_index (orig->received, BounceReceived, index);
}

/* bounce_original_get_n_dkim: Returns: how many DKIM signatures the
 * original carries. */
guint
bounce_original_get_n_dkim (BounceOriginal *orig)
{
  return orig->dkim->len;
}

/** bounce_original_get_dkim: Returns: (transfer none) the @index-th signature. */
const BounceDkim *
bounce_original_get_dkim (BounceOriginal *orig, guint index)
{
  g_return_val_if_fail (index < orig->dkim->len, NULL);
  return &g_array_index (orig->dkim, BounceDkim, index);
}

/* bounce_original_get_n_attachments: Returns: how many attachments of
 * the original are listed (at most BOUNCE_MAX_ATTACHMENTS). */
guint
bounce_original_get_n_attachments (BounceOriginal *orig)
{
  return orig->attachments->len;
}

/** bounce_original_get_attachment: Returns: (transfer none) the @index-th attachment. */
const BounceAttachment *
bounce_original_get_attachment (BounceOriginal *orig, guint index)
{
  g_return_val_if_fail (index < orig->attachments->len, NULL);
  return &g_array_index (orig->attachments, BounceAttachment, index);
}

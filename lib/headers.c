/* headers.c — where a message's header block starts and ends.
 *
 * Mail arrives with things before its first header line that are not
 * part of it: an mbox "From " line, a UTF-8 byte order mark, blank or
 * white-space-only lines a careless program wrote. A reader that took the
 * first blank line for the end of the header block would see no header at
 * all; bounce_message_start says where the message itself begins (after
 * bounce_mbox_from_end, the end of the mbox "From " lines),
 * bounce_header_next (inline, in bounce-private.h) reads the header
 * block one unfolded field at a time (as GMime reads it), and
 * bounce_header_block_end says where it ends.
 *
 * Limits: at most BOUNCE_MAX_LEADING_LINES blank lines are skipped; what
 * follows more of them is not taken for a message.
 */
#include "bounce-private.h"

#include <string.h>

#define BOUNCE_MAX_LEADING_LINES 64

/* bounce_mbox_from_end: where what follows the mbox "From " lines at the
 * start of @data begins: lines that begin with "From ", or with ">From "
 * (a message that kept its own "From " line when it was stored in an
 * mbox, escaped by the program that stored it), as GMime's message
 * parser passes over them. 0 when @data does not start with one; after
 * the last one's end @eol ('\n', or '\r' in a message with bare CR line
 * ends); @len when a line has no end. */
gsize
bounce_mbox_from_end (const char *data, gsize len, char eol)
{
  gsize p = 0;

  while ((len - p >= 5 && memcmp (data + p, "From ", 5) == 0) || (len - p >= 6 && memcmp (data + p, ">From ", 6) == 0))
    {
      const char *nl = memchr (data + p, eol, len - p);

      if (nl == NULL)
        return len;
      p = nl + 1 - data;
    }
  return p;
}

/* bounce_message_start: the offset of the first header line of the
 * message @data (@len bytes): after mbox "From " lines, a UTF-8 byte
 * order mark, and blank or white-space-only lines before the header.
 * Returns @len when the data holds nothing but these. */
gsize
bounce_message_start (const char *data, gsize len)
{
  gsize p = bounce_mbox_from_end (data, len, '\n');

  if (len - p >= 3 && memcmp (data + p, "\xef\xbb\xbf", 3) == 0)
    p += 3;
  for (int lines = 0; lines < BOUNCE_MAX_LEADING_LINES && p < len; lines++)
    {
      gsize q = p;

      while (q < len && (data[q] == ' ' || data[q] == '\t' || data[q] == '\r'))
        q++;
      if (q >= len)
        return len;
      if (data[q] != '\n')
        break;
      p = q + 1;
    }
  return p;
}

/* bounce_header_block_end: the offset where the body starts (after the
 * blank line ending the header block), or @len when there is none. */
gsize
bounce_header_block_end (const char *data, gsize len)
{
  BounceHeaderField field;
  gsize pos = 0;

  while (bounce_header_next (data, len, &pos, &field))
    ;
  return pos;
}

/**
 * bounce_message_get_header:
 * @data: a message (an mbox "From " line, a byte order mark or blank
 *   lines before its header block are passed over)
 * @length: its length
 * @name: a field name
 *
 * Reads the header block of @data as the library's parser does: names
 * compared without case, blanks before the colon dropped.
 *
 * Returns: (transfer full) (nullable): the value of the first @name
 * field, unfolded (its line ends taken out) and without the blanks at
 * either end, as the message wrote it (no encoded words decoded); NULL
 * when the header block has no such field
 */
char *
bounce_message_get_header (const char *data, gsize length, const char *name)
{
  gsize pos = bounce_message_start (data, length), nlen = strlen (name);
  BounceHeaderField field;

  while (bounce_header_next (data, length, &pos, &field))
    if (field.value && field.name_len == nlen && g_ascii_strncasecmp (field.line, name, nlen) == 0)
      {
        GString *v = g_string_sized_new (field.value_len);

        for (gsize i = 0; i < field.value_len; i++)
          if (field.value[i] != '\r' && field.value[i] != '\n')
            g_string_append_c (v, field.value[i]);
        return g_strstrip (g_string_free (v, FALSE));
      }
  return NULL;
}

/* Whether @c may be part of a token (RFC 2045): a type, a subtype, a
 * parameter's name or unquoted value. */
static gboolean
is_token (char c)
{
  return c > ' ' && c < 127 && strchr ("()<>@,;:\\\"/[]?=", c) == NULL;
}

/* Past blanks and line ends (a value may still be folded). */
static const char *
skip_blanks (const char *p)
{
  while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
    p++;
  return p;
}

/* bounce_content_type_media: the type and subtype of the Content-Type
 * value @v (folded or not) in @qt (its parameters cleared), when it
 * starts as most mail writes it: blanks, a token, "/", a token. Returns
 * where what follows them starts, after blanks, or NULL when @v starts
 * otherwise (GMime is left to read it). */
const char *
bounce_content_type_media (const char *v, BounceQuickType *qt)
{
  const char *p = skip_blanks (v), *t;

  memset (qt, 0, sizeof *qt);
  for (t = p; is_token (*p); p++)
    ;
  if (p == t || *p != '/')
    return NULL;
  qt->type = t;
  qt->type_len = p - t;
  for (t = ++p; is_token (*p); p++)
    ;
  if (p == t)
    return NULL;
  qt->subtype = t;
  qt->subtype_len = p - t;
  return skip_blanks (p);
}

/* bounce_content_type_quick: the type, subtype, and boundary, charset and
 * name parameters of the Content-Type value @v (folded or not), read
 * without GMime's parser (and the objects it makes) when the value has
 * the form most mail writes: the media type as
 * bounce_content_type_media() reads it, then any number of
 * "; name=value" with blanks (or line ends) only around the ";", each
 * value a token or a quoted string. FALSE, for GMime to read, for
 * anything else: a comment, a backslash in a quoted string, a name in RFC
 * 2231's forms ("name*"), an encoded word ("=?"), a byte outside
 * printable ASCII, one of the three parameters given twice, a ";" with
 * nothing after it. What it reads is what g_mime_content_type_parse()
 * reads (tests/test-util.c compares the two over the samples' values). */
gboolean
bounce_content_type_quick (const char *v, BounceQuickType *qt)
{
  const char *p = bounce_content_type_media (v, qt);

  if (p == NULL)
    return FALSE;
  while (*p == ';')
    {
      const char *name = p = skip_blanks (p + 1), *value;
      gsize name_len, value_len;
      const char **slot = NULL;
      gsize *slot_len = NULL;

      for (; is_token (*p) && *p != '*'; p++)
        ;
      name_len = p - name;
      if (name_len == 0 || *p != '=')
        return FALSE;
      if (*++p == '"')
        {
          for (value = ++p; *p != '"'; p++)
            if (*p == '\\' || (guchar) *p < ' ' || (guchar) *p >= 127)
              return FALSE;
          value_len = p++ - value;
        }
      else
        {
          for (value = p; is_token (*p); p++)
            ;
          value_len = p - value;
          if (value_len == 0)
            return FALSE;
        }
      if (g_strstr_len (value, value_len, "=?"))
        return FALSE;
      if (name_len == 8 && g_ascii_strncasecmp (name, "boundary", 8) == 0)
        slot = &qt->boundary, slot_len = &qt->boundary_len;
      else if (name_len == 7 && g_ascii_strncasecmp (name, "charset", 7) == 0)
        slot = &qt->charset, slot_len = &qt->charset_len;
      else if (name_len == 4 && g_ascii_strncasecmp (name, "name", 4) == 0)
        slot = &qt->name, slot_len = &qt->name_len;
      if (slot && *slot)
        return FALSE;
      if (slot)
        *slot = value, *slot_len = value_len;
      p = skip_blanks (p);
    }
  return *p == '\0';
}

/* tag.c — put header fields on a message: backscatter's own
 * X-Backscatter headers, or a Message-ID an outgoing message lacks.
 *
 * The fields go at the top of the header block (after mbox "From "
 * lines, escaped or not: bounce_mbox_from_end), in the message's own
 * line ending. When they are the X-Backscatter ones, those that came with
 * the message are removed first: a sender could forge them to get mail
 * filed or hidden, and only the headers this program writes may say what
 * it found. Only the message's own header block is looked at (up to the
 * blank line that ends it); every other byte is kept as it was, a missing
 * final newline included.
 */
#include "bounce-private.h"

#include <string.h>

/* Does the name of the header field starting at @line (up to @end) begin
 * with @prefix? "Name :" with space before the colon counts as "Name:". */
static gboolean
is_named (const char *line, const char *end, const char *prefix)
{
  const char *colon = memchr (line, ':', end - line);
  const char *name_end = colon;
  gsize n = strlen (prefix);

  if (colon == NULL)
    return FALSE;
  while (name_end > line && (name_end[-1] == ' ' || name_end[-1] == '\t'))
    name_end--;
  return (gsize) (name_end - line) >= n && g_ascii_strncasecmp (line, prefix, n) == 0
         && memchr (line, ' ', name_end - line) == NULL;
}

/* The line ending of @data's first line: "\r\n", "\r" (a bare CR, as old
 * Macintosh programs wrote) or "\n". */
static const char *
newline_of (const char *data, gsize length)
{
  for (gsize i = 0; i < length; i++)
    if (data[i] == '\n')
      return "\n";
    else if (data[i] == '\r')
      return i + 1 < length && data[i + 1] == '\n' ? "\r\n" : "\r";
  return "\n";
}

/* Where the header block starting at @p ends (after its blank line), in
 * a message whose lines end with @eol; @end when it does not end. */
static const char *
block_end_of (const char *p, const char *end, char eol)
{
  if (eol == '\n')
    return p + bounce_header_block_end (p, end - p);
  while (p < end)
    {
      const char *cr = memchr (p, eol, end - p);

      if (cr == NULL)
        return end;
      if (cr == p)
        return cr + 1;
      p = cr + 1;
    }
  return end;
}

/**
 * bounce_message_add_headers:
 * @data: a whole message (mbox "From " lines first are allowed)
 * @length: its length
 * @headers: the header lines to add, each ending in a newline (as
 *   bounce_judgement_to_headers() writes them)
 * @replace: (nullable): fields whose name begins with this (without case;
 *   "X-Backscatter") are taken out of the header block; NULL: none is
 * @out_length: (out): the length of the result
 *
 * The message with the fields @replace names taken out of its header
 * block and @headers put at the top of it, written in the message's own
 * line ending (LF, CRLF or a bare CR, as its first line ends); an mbox
 * "From " line alone comes back as it is. A message that already carries
 * exactly these headers, and no others @replace names, comes back the
 * same.
 *
 * Returns: (transfer full): the new message
 */
char *
bounce_message_add_headers (const char *data, gsize length, const char *headers, const char *replace, gsize *out_length)
{
  const char *p = data, *end = data + length, *block_end;
  const char *newline = newline_of (data, length);
  char eol = newline[0] == '\r' && newline[1] == '\0' ? '\r' : '\n';
  GString *out;

  p += bounce_mbox_from_end (data, length, eol);
  if (p > data && p[-1] != eol)
    {
      /* A "From " line alone: no message to put headers on. */
      *out_length = length;
      return g_strndup (data, length);
    }
  out = g_string_sized_new (length + 2 * strlen (headers));
  g_string_append_len (out, data, p - data);
  /* the headers, each line ended as the message's are */
  for (const char *h = headers; *h;)
    {
      gsize n = strcspn (h, "\r\n");

      g_string_append_len (out, h, n);
      g_string_append (out, newline);
      h += n;
      if (*h == '\r')
        h++;
      if (*h == '\n')
        h++;
    }
  block_end = block_end_of (p, end, eol);
  while (p < block_end)
    {
      const char *field_end = p;

      /* One field: its line and the continuation lines that follow. */
      do
        {
          const char *nl = memchr (field_end, eol, block_end - field_end);

          field_end = nl ? nl + 1 : block_end;
        }
      while (field_end < block_end && (*field_end == ' ' || *field_end == '\t'));
      if (replace == NULL || !is_named (p, field_end, replace))
        g_string_append_len (out, p, field_end - p);
      p = field_end;
    }
  g_string_append_len (out, p, end - p);
  *out_length = out->len;
  return g_string_free (out, FALSE);
}

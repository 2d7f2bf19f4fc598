/* tag.c — put backscatter's own X-Backscatter headers on a message.
 *
 * The headers go at the top of the header block (after an mbox "From "
 * line), in the message's own line ending. Headers named X-Backscatter*
 * that came with the message are removed first: a sender could forge
 * them to get mail filed or hidden, and only the headers this program
 * writes may say what it found. Only the message's own header block is
 * looked at (up to the blank line that ends it); every other byte is
 * kept as it was, a missing final newline included.
 */
#include "bounce-private.h"

#include <string.h>

/* Is the header field starting at @line (up to @end) an X-Backscatter*
 * one? "Name :" with space before the colon counts as "Name:". */
static gboolean
is_ours (const char *line, const char *end)
{
  static const char prefix[] = "X-Backscatter";
  const char *colon = memchr (line, ':', end - line);
  const char *name_end = colon;

  if (colon == NULL)
    return FALSE;
  while (name_end > line && (name_end[-1] == ' ' || name_end[-1] == '\t'))
    name_end--;
  return (gsize) (name_end - line) >= sizeof prefix - 1
         && g_ascii_strncasecmp (line, prefix, sizeof prefix - 1) == 0
         && memchr (line, ' ', name_end - line) == NULL;
}

/**
 * bounce_message_add_headers:
 * @data: a whole message (an mbox "From " line first is allowed)
 * @length: its length
 * @headers: the header lines to add, each with its line ending (from
 *   bounce_judgement_to_headers())
 * @out_length: (out): the length of the result
 *
 * The message with every X-Backscatter* field of its header block taken
 * out and @headers put at the top of it (an mbox "From " line alone comes
 * back as it is). A message that already carries
 * exactly these headers, and no others of the kind, comes back the same.
 *
 * Returns: (transfer full): the new message
 */
char *
bounce_message_add_headers (const char *data, gsize length, const char *headers, gsize *out_length)
{
  const char *p = data, *end = data + length, *block_end;
  GString *out = g_string_sized_new (length + strlen (headers));

  if (length >= 5 && memcmp (data, "From ", 5) == 0)
    {
      const char *nl = memchr (data, '\n', length);

      if (nl == NULL)
        {
          /* A "From " line alone: no message to put headers on. */
          *out_length = length;
          return g_strndup (data, length);
        }
      p = nl + 1;
    }
  g_string_append_len (out, data, p - data);
  g_string_append (out, headers);
  block_end = data + bounce_header_block_end (p, end - p) + (p - data);
  while (p < block_end)
    {
      const char *field_end = p;

      /* One field: its line and the continuation lines that follow. */
      do
        {
          const char *nl = memchr (field_end, '\n', block_end - field_end);

          field_end = nl ? nl + 1 : block_end;
        }
      while (field_end < block_end && (*field_end == ' ' || *field_end == '\t'));
      if (!is_ours (p, field_end))
        g_string_append_len (out, p, field_end - p);
      p = field_end;
    }
  g_string_append_len (out, p, end - p);
  *out_length = out->len;
  return g_string_free (out, FALSE);
}

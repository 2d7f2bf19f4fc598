/* defang.c — take the risky attachments (executables, scripts, archives:
 * the returned worm) out of a bounce, leaving a short text part in the
 * place of each that says what was removed and where the untouched
 * message was kept. Everything else of the message is kept as GMime
 * writes it back.
 *
 * Limits: BOUNCE_MAX_MIME_DEPTH levels are searched.
 */
#include "bounce-private.h"

#include <string.h>

static GMimeObject *
replacement (GMimeObject *old, const char *note)
{
  GMimeTextPart *t = g_mime_text_part_new_with_subtype ("plain");
  const char *name = GMIME_IS_PART (old) ? g_mime_part_get_filename (GMIME_PART (old)) : NULL;
  GMimeContentType *ct = g_mime_object_get_content_type (old);
  g_autofree char *type = ct ? g_mime_content_type_get_mime_type (ct) : g_strdup ("application/octet-stream");
  g_autofree char *text = g_strdup_printf ("backscatter removed the attachment %s (%s) from this message:\n"
                                           "it is the kind of file worms travel in.\n%s\n",
                                           name ? name : "(no name)", type, note);

  g_mime_text_part_set_text (t, text);
  g_mime_text_part_set_charset (t, "utf-8");
  return GMIME_OBJECT (t);
}

static guint
defang_object (GMimeObject *obj, const char *note, int depth)
{
  guint removed = 0;

  if (obj == NULL || depth > BOUNCE_MAX_MIME_DEPTH)
    return 0;
  if (GMIME_IS_MESSAGE_PART (obj))
    {
      GMimeMessage *m = g_mime_message_part_get_message (GMIME_MESSAGE_PART (obj));

      return m ? defang_object (g_mime_message_get_mime_part (m), note, depth + 1) : 0;
    }
  if (!GMIME_IS_MULTIPART (obj))
    return 0;
  for (int i = 0; i < g_mime_multipart_get_count (GMIME_MULTIPART (obj)); i++)
    {
      GMimeObject *child = g_mime_multipart_get_part (GMIME_MULTIPART (obj), i);

      if (GMIME_IS_PART (child))
        {
          GMimeContentType *ct = g_mime_object_get_content_type (child);
          g_autofree char *type = ct ? g_mime_content_type_get_mime_type (ct) : NULL;

          if (bounce_filename_is_risky (g_mime_part_get_filename (GMIME_PART (child)), type))
            {
              g_autoptr (GMimeObject) rep = replacement (child, note);
              GMimeObject *old = g_mime_multipart_replace (GMIME_MULTIPART (obj), i, rep);

              g_clear_object (&old);
              removed++;
              continue;
            }
        }
      removed += defang_object (child, note, depth + 1);
    }
  return removed;
}

/**
 * bounce_defang:
 * @data: a whole message
 * @length: its length
 * @note: a sentence for the replacement parts (where the original is kept)
 * @out_length: (out): the length of the result
 * @removed: (out): how many attachments were removed
 * @error: BOUNCE_ERROR_PARSE
 *
 * Returns: (transfer full) (nullable): the message without its risky
 *   attachments; when there were none, a copy of @data and @removed 0.
 */
char *
bounce_defang (const char *data, gsize length, const char *note, gsize *out_length, guint *removed, GError **error)
{
  g_autoptr (GMimeMessage) msg = NULL;
  g_autoptr (GMimeStream) out = NULL;
  GByteArray *bytes;
  gsize skip = 0;

  *removed = 0;
  skip = bounce_mbox_from_end (data, length, '\n');
  if (bounce_mime_bounded_length (data + skip, length - skip, NULL, NULL) < length - skip)
    {
      /* Only part of it would be read: it is not rewritten. */
      g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_LIMIT, "the message has more MIME parts or levels than are read");
      return NULL;
    }
  msg = bounce_parse_bounded_message (data + skip, length - skip);
  if (msg == NULL)
    {
      g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_PARSE, "not a mail message");
      return NULL;
    }
  *removed = defang_object (g_mime_message_get_mime_part (msg), note, 0);
  if (*removed == 0)
    {
      *out_length = length;
      return g_memdup2 (data, length);
    }
  out = g_mime_stream_mem_new ();
  if (skip)
    g_mime_stream_write (out, data, skip);
  {
    /* GMime writes LF line ends; a CRLF message stays CRLF. */
    const char *nl = memchr (data + skip, '\n', length - skip);
    GMimeFormatOptions *options = g_mime_format_options_new ();

    if (nl && nl > data + skip && nl[-1] == '\r')
      g_mime_format_options_set_newline_format (options, GMIME_NEWLINE_FORMAT_DOS);
    g_mime_object_write_to_stream (GMIME_OBJECT (msg), options, out);
    g_mime_format_options_free (options);
  }
  bytes = g_mime_stream_mem_get_byte_array (GMIME_STREAM_MEM (out));
  *out_length = bytes->len;
  return g_memdup2 (bytes->data, bytes->len);
}

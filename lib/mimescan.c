/* mimescan.c — a bounded look at a message's MIME structure before GMime
 * builds it.
 *
 * GMime builds the whole tree of a message before anyone can count its
 * parts: ten megabytes of empty parts cost gigabytes, and three hundred
 * thousand nested multiparts many seconds, long before the walkers' limits
 * apply. This scan reads the bytes once, in the way GMime's parser splits
 * them (header blocks, the boundaries of every enclosing multipart, the
 * message inside a message/rfc822 part, message/rfc822 as the default in
 * a multipart/digest), and finds where the message goes past
 * BOUNCE_MAX_MIME_PARTS entities or BOUNCE_MAX_MIME_DEPTH levels. The
 * parser is then given the bytes before that point only.
 *
 * Limits: time linear in the message (each boundary line is compared with
 * at most BOUNCE_MAX_MIME_DEPTH + 1 boundaries), memory constant but for
 * one Content-Type value of at most BOUNCE_MAX_FIELD_BYTES at a time.
 */
#include "config.h"
#include "bounce-private.h"

#include <string.h>

typedef struct
{
  char *boundary; /* without the leading "--" */
  gsize len;
  int depth;       /* of the multipart */
  gboolean digest; /* parts default to message/rfc822 */
} Level;

typedef enum
{
  LEAF,
  MULTIPART,
  DIGEST, /* a multipart/digest */
  MESSAGE,
} Shape;

static gboolean
blank_line (const char *p, const char *e)
{
  return (e - p == 1 && p[0] == '\n') || (e - p == 2 && p[0] == '\r' && p[1] == '\n') || p == e;
}

/* Whether @s (@len bytes) is @word, without regard to case. */
static gboolean
word_is (const char *s, gsize len, const char *word)
{
  return len == strlen (word) && g_ascii_strncasecmp (s, word, len) == 0;
}

/* The shape of the Content-Type value @v, and a multipart's boundary
 * (transfer full), when bounce_content_type_quick() reads the value: as
 * GMime's reading of it gives them below. FALSE, and nothing set, when it
 * does not. */
static gboolean
plain_type_shape (const char *v, Shape *shape, char **boundary)
{
  BounceQuickType qt;

  if (!bounce_content_type_quick (v, &qt))
    return FALSE;
  if (word_is (qt.type, qt.type_len, "multipart") && qt.boundary_len > 0)
    {
      *boundary = g_strndup (qt.boundary, qt.boundary_len);
      *shape = word_is (qt.subtype, qt.subtype_len, "digest") ? DIGEST : MULTIPART;
    }
  else if (word_is (qt.type, qt.type_len, "message")
           && (word_is (qt.subtype, qt.subtype_len, "rfc822") || word_is (qt.subtype, qt.subtype_len, "global")
               || word_is (qt.subtype, qt.subtype_len, "news")))
    *shape = MESSAGE;
  return TRUE;
}

/* Reads the header block at *@at (moved past it and its blank line): the
 * shape of the entity and, for a multipart, its boundary (transfer full);
 * [*@field, *@field_end), the Content-Type field read (its first line to
 * the end of its last), NULL when there is none. */
static Shape
read_headers (const char **at, const char *end, gboolean digest, char **boundary, const char **field,
              const char **field_end)
{
  g_autoptr (GString) ct = NULL, cte = NULL;
  GString *into = NULL;
  const char *p = *at, *ct_start = NULL, *ct_end = NULL;
  Shape shape = digest ? MESSAGE : LEAF;

  *boundary = NULL;
  while (p < end)
    {
      const char *e = bounce_line_end (p, end);

      if (blank_line (p, e))
        {
          p = e;
          break;
        }
      if (*p == ' ' || *p == '\t')
        ; /* a continuation: stays with the field before */
      else if (e - p > 13 && g_ascii_strncasecmp (p, "Content-Type:", 13) == 0)
        {
          /* The last one is read; the one before is let go. */
          if (ct)
            g_string_free (ct, TRUE);
          ct_start = p;
          into = ct = g_string_new (NULL), p += 13;
        }
      else if (e - p > 26 && g_ascii_strncasecmp (p, "Content-Transfer-Encoding:", 26) == 0)
        {
          if (cte)
            g_string_free (cte, TRUE);
          into = cte = g_string_new (NULL), p += 26;
        }
      else
        into = NULL;
      if (into && into->len < BOUNCE_MAX_FIELD_BYTES)
        g_string_append_len (into, p, MIN ((gsize) (e - p), BOUNCE_MAX_FIELD_BYTES - into->len));
      if (into == ct && ct)
        ct_end = e;
      p = e;
    }
  *at = p;
  *field = ct_start;
  *field_end = ct_end;
  if (ct)
    {
      shape = LEAF;
      g_strstrip (ct->str);
    }
  /* A type that starts with a letter other than m cannot be multipart/ or
   * message/: a leaf, without GMime's parser (most parts are text/). */
  if (ct && (!g_ascii_isalpha (ct->str[0]) || g_ascii_tolower (ct->str[0]) == 'm')
      && !plain_type_shape (ct->str, &shape, boundary))
    {
      g_autoptr (GMimeParserOptions) opts = bounce_parser_options ();
      g_autoptr (GMimeContentType) type = g_mime_content_type_parse (opts, ct->str);
      const char *b = type ? g_mime_content_type_get_parameter (type, "boundary") : NULL;

      if (type && g_mime_content_type_is_type (type, "multipart", "*") && b && *b)
        {
          *boundary = g_strdup (b);
          shape = g_mime_content_type_is_type (type, "multipart", "digest") ? DIGEST : MULTIPART;
        }
      else if (type && g_mime_content_type_is_type (type, "message", "rfc822"))
        shape = MESSAGE;
      else if (type && g_mime_content_type_is_type (type, "message", "global"))
        shape = MESSAGE;
      else if (type && g_mime_content_type_is_type (type, "message", "news"))
        shape = MESSAGE;
    }
  /* An encoded message part is a leaf to GMime. */
  if (shape == MESSAGE && cte)
    {
      g_strstrip (cte->str);
      if (g_ascii_strcasecmp (cte->str, "base64") == 0 || g_ascii_strcasecmp (cte->str, "quoted-printable") == 0)
        shape = LEAF;
    }
  return shape;
}

/* The level whose boundary the line [@p, @e) is, or -1; *@closing when it
 * ends that multipart. */
static int
boundary_level (const Level *levels, int n, const char *p, const char *e, gboolean *closing)
{
  if (e - p < 2 || p[0] != '-' || p[1] != '-')
    return -1;
  for (int i = n - 1; i >= 0; i--)
    {
      const Level *l = &levels[i];
      const char *q = p + 2 + l->len;

      if ((gsize) (e - p) < 2 + l->len || memcmp (p + 2, l->boundary, l->len) != 0)
        continue;
      *closing = e - q >= 2 && q[0] == '-' && q[1] == '-';
      if (*closing)
        q += 2;
      while (q < e && (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n'))
        q++;
      if (q == e)
        return i;
    }
  return -1;
}

/**
 * bounce_mime_bounded_length:
 * @data: a message (no mbox "From " line)
 * @length: its length
 * @warning: (out) (optional) (transfer full) (nullable): a sentence
 *   saying which limit the message went past, NULL when none
 * @carried: (nullable): receives a BounceRange for each Content-Type field
 *   that makes a part a message part (message/rfc822, message/global,
 *   message/news, not transfer-encoded) outside any other message part,
 *   within the bytes returned, in order
 *
 * Returns: how many bytes of @data hold at most BOUNCE_MAX_MIME_PARTS
 *   entities nested at most BOUNCE_MAX_MIME_DEPTH deep: @length when the
 *   whole message does, else the start of the first entity past a limit.
 */
gsize
bounce_mime_bounded_length (const char *data, gsize length, char **warning, GArray *carried)
{
  Level levels[BOUNCE_MAX_MIME_DEPTH + 2];
  const char *p = data, *end = data + length, *start = data;
  int n = 0, depth = 0, inner = -1; /* inner: the depth of the outermost message part's message */
  guint parts = 1;
  gboolean headers = TRUE, digest = FALSE;
  gsize cut = length;
  const char *why = NULL;

  /* Content-Type values are read with GMime, whose types must be
   * registered once, before any thread uses them. */
  bounce_gmime_init ();
  for (;;)
    {
      if (headers)
        {
          char *boundary = NULL;
          const char *field, *field_end;
          Shape shape;

          if (depth > BOUNCE_MAX_MIME_DEPTH)
            {
              why = "levels of MIME nesting";
              cut = start - data;
              break;
            }
          shape = read_headers (&p, end, digest, &boundary, &field, &field_end);
          headers = FALSE;
          if (shape == MESSAGE)
            {
              if (inner < 0)
                {
                  BounceRange span = { field ? field - data : 0, field ? field_end - data : 0 };

                  inner = depth + 1;
                  if (carried && field)
                    g_array_append_val (carried, span);
                }
              /* The message in the part: its header block is next. */
              start = p;
              depth++;
              parts++;
              headers = TRUE;
              digest = FALSE;
            }
          else if (shape == MULTIPART || shape == DIGEST)
            {
              levels[n].boundary = boundary;
              levels[n].len = strlen (boundary);
              levels[n].depth = depth;
              levels[n].digest = shape == DIGEST;
              n++;
            }
          continue;
        }
      if (p >= end)
        break;
      {
        const char *e = bounce_line_end (p, end);
        gboolean closing = FALSE;
        int i = boundary_level (levels, n, p, e, &closing);

        if (i >= 0)
          {
            while (n > i + 1)
              g_free (levels[--n].boundary);
            if (closing)
              g_free (levels[--n].boundary);
            else
              {
                if (++parts > BOUNCE_MAX_MIME_PARTS)
                  {
                    why = "MIME parts";
                    cut = p - data;
                    break;
                  }
                start = p;
                depth = levels[i].depth + 1;
                if (levels[i].depth < inner)
                  inner = -1; /* out of the message part */
                digest = levels[i].digest;
                headers = TRUE;
              }
          }
        p = e;
      }
    }
  while (n > 0)
    g_free (levels[--n].boundary);
  /* Nothing past the cut is parsed. */
  while (carried && carried->len > 0 && g_array_index (carried, BounceRange, carried->len - 1).end > cut)
    g_array_set_size (carried, carried->len - 1);
  if (warning)
    *warning =
        why ? g_strdup_printf ("the message has more %s than the %d read; only the first %" G_GSIZE_FORMAT
                               " bytes were parsed",
                               why, g_str_equal (why, "MIME parts") ? BOUNCE_MAX_MIME_PARTS : BOUNCE_MAX_MIME_DEPTH,
                               cut)
            : NULL;
  return cut;
}

/* bounce_parse_message_bytes: parse @data as one message, as much of it
 * as is within the MIME part and depth limits (above).
 * Returns: (transfer full) (nullable) */
GMimeMessage *
bounce_parse_message_bytes (const char *data, gsize len)
{
  /* no MIME bombs */
  return bounce_parse_bounded_message (data, bounce_mime_bounded_length (data, len, NULL, NULL));
}

/* bounce_parse_part_bytes: the same, as its top part, as a report is read
 * (bounce_parse_bounded_part()).
 * Returns: (transfer full) (nullable) */
GMimeObject *
bounce_parse_part_bytes (const char *data, gsize len)
{
  return bounce_parse_bounded_part (data, bounce_mime_bounded_length (data, len, NULL, NULL));
}

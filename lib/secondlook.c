/* secondlook.c — a second look, without the MIME parser, at a message the
 * triage let through on a word of its Subject or on a role address's From
 * alone.
 *
 * Ordinary mail often has a word of reports in its Subject ("error",
 * "delivery", "fail"), and shops' and services' notices come from no-reply
 * addresses, lists' digests from their -request address. For such a
 * message the full parse can be foreseen: it finds no automatic headers
 * (the triage saw none), and it calls the message a report only through a
 * report part, delivery-status fields, the rules, or the format-free
 * reader. This look splits the message into its parts as GMime's parser
 * does (the boundaries of every open multipart, the message inside a
 * message/rfc822 part, message/rfc822 as the default in a
 * multipart/digest), decodes the part the parse reads as the report text
 * (the first plain-text part outside an attached message, else the first
 * HTML part; bounce_report_text_from) and rules a report out when none of
 * these is there:
 *
 * - a report's part (delivery-status, disposition-notification,
 *   feedback-report), or an attached message that is a report;
 * - delivery-status field names in the text or in a later plain-text part;
 * - a condition of every rule of a report kind that could hold (the words
 *   its pattern needs, a header it reads, its pattern run on the text);
 * - what the format-free reader needs for a report of its own: a mail
 *   system's From or a null Return-Path; for a challenge, a Subject that
 *   asks to confirm; from a role address, words of failure, delay or a
 *   filter, or an address beside a code (bounce_generic_may_report).
 *
 * Anything GMime might read otherwise than this look (a line in a header
 * block that is not a field, a multipart without its boundaries or
 * parts, more parts or levels than are read, an encoding or a header twice
 * where it matters) sends the message to the full parse: every check errs
 * towards it. tests/test-triage.c checks on every message it has that the
 * text this look reads is the parse's, and that it never rules out a
 * report the parse finds.
 */
#include "bounce-private.h"
#include "generic-private.h"

#include <string.h>

/* Whether @hay (@n bytes) holds the name of a delivery-status field that
 * starts a group of them and its colon, ASCII letters compared without
 * regard to case: anywhere, where the reader looks for them at the start
 * of a line (bounce_generic_dsn). */
static gboolean
holds_dsn_field (const char *hay, gsize n)
{
  for (const char *p = hay, *end = hay + n; (p = memchr (p, ':', end - p)) != NULL; p++)
    {
      gsize at = p - hay;

      if ((at >= 13 && g_ascii_strncasecmp (p - 13, "reporting-mta", 13) == 0)
          || (at >= 15 && g_ascii_strncasecmp (p - 15, "final-recipient", 15) == 0))
        return TRUE;
    }
  return FALSE;
}

/* The text of a header value as the format-free reader reads it
 * (bounce_header_text): encoded words decoded, line ends taken out, the
 * blanks at either end too. Returns: (transfer full) */
static char *
header_text (const char *raw, gsize n)
{
  g_autofree char *copy = g_strndup (raw, n);
  char *text = bounce_header_decode (copy), *o = text;

  for (const char *c = text; *c; c++)
    if (*c != '\r' && *c != '\n')
      *o++ = *c;
  *o = '\0';
  return g_strstrip (text);
}

/* What a From or a Return-Path says of the sender, to the format-free
 * reader (bounce_generic_weigh). */
typedef enum
{
  SENDER_NONE,
  SENDER_ROLE,   /* a role address's From: its weak sender */
  SENDER_SYSTEM, /* a mail system's From, a null Return-Path */
} Sender;

/* What the field @name (in lower case) with the value @raw (@n bytes)
 * says of the sender. */
static Sender
says_report_sender (const char *name, const char *raw, gsize n)
{
  const BounceSenderPatterns *senders;
  g_autofree char *text = NULL;

  if (strcmp (name, "return-path") == 0)
    {
      /* Null ("<>", "< >", blank) or a mail system's; the triage has
       * seen to "<>" and "mailer-daemon" already. Anything but a plain
       * address counts, whatever GMime would make of it. */
      gboolean at = FALSE;

      for (gsize i = 0; i < n; i++)
        if (raw[i] == '@')
          at = TRUE;
        else if (raw[i] == '(' || raw[i] == '"' || raw[i] == '\\' || raw[i] == '\0'
                 || (raw[i] == '=' && i + 1 < n && raw[i + 1] == '?'))
          return SENDER_SYSTEM;
      return at ? SENDER_NONE : SENDER_SYSTEM;
    }
  if (strcmp (name, "from") != 0)
    return SENDER_NONE;
  if (memchr (raw, '\0', n))
    return SENDER_SYSTEM;
  senders = bounce_generic_senders ();
  text = header_text (raw, n);
  return bounce_generic_says (senders->system, text, -1) ? SENDER_SYSTEM
         : bounce_generic_says (senders->role, text, -1) ? SENDER_ROLE
                                                         : SENDER_NONE;
}

/* Whether a Subject may ask to confirm, as the format-free reader's
 * challenge needs (bounce_generic_challenge: the same words). */
static gboolean
asks_to_confirm (const char *raw, gsize n)
{
  g_autofree char *text = NULL;

  if (memchr (raw, '\0', n))
    return TRUE;
  text = header_text (raw, n);
  return bounce_generic_says (bounce_generic_senders ()->confirm, text, -1);
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

/* ---- the parts, split as GMime's parser splits them --------------------- */

/* Levels of nesting this look follows (half the parse's); deeper
 * messages are parsed. */
#define MAX_LEVELS (BOUNCE_MAX_MIME_DEPTH / 2)
/* Longer boundaries (RFC 2046 allows 70 bytes) are left to the parse. */
#define MAX_BOUNDARY 200

/* The fields of a header block that give an entity its shape, unfolded
 * (line ends taken out); NULL when absent. */
typedef struct
{
  GString *type, *encoding, *disposition;
} Fields;

static void
fields_clear (Fields *f)
{
  for (GString **s = &f->type; s <= &f->disposition; s++)
    if (*s)
      g_string_free (g_steal_pointer (s), TRUE);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Fields, fields_clear)

/* A leaf part: its content, as the parse hands it out, and how to decode
 * it. */
typedef struct
{
  const char *at;
  gsize len;
  GMimeContentEncoding encoding;
  char *charset;
} Leaf;

typedef struct
{
  GMimeParserOptions *opts;
  const char *p, *end; /* what is left to read */
  const char *bound[MAX_LEVELS];
  gsize bound_len[MAX_LEVELS];
  int n;          /* multiparts open */
  guint entities; /* read so far */
  gboolean final; /* the boundary last found closes its multipart */
  gboolean lost;  /* something this look does not foresee */
  gboolean text, html;
  gboolean original; /* a part the walk may take for the original */
  Leaf text_part, html_part;
  GPtrArray *later; /* Leaf *: later plain-text parts */
} Split;

static gboolean
lwsp_only (const char *p, const char *e)
{
  for (; p < e; p++)
    if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
      return FALSE;
  return TRUE;
}

/* Moves s->p to the next line that is the boundary of an open multipart
 * (the innermost first, its closing form before the other, as GMime
 * compares them) and returns its level, with s->final; -1 at the end of
 * the message (s->p = s->end). */
static int
next_boundary (Split *s)
{
  const char *p = s->p;

  while (p < s->end)
    {
      const char *e = bounce_line_end (p, s->end);

      if (e - p >= 2 && p[0] == '-' && p[1] == '-')
        for (int i = s->n - 1; i >= 0; i--)
          {
            const char *b = p + 2;
            gsize bl = s->bound_len[i];

            if ((gsize) (e - b) < bl || memcmp (b, s->bound[i], bl) != 0)
              continue;
            if (e - b - bl >= 2 && b[bl] == '-' && b[bl + 1] == '-' && lwsp_only (b + bl + 2, e))
              {
                s->p = p;
                s->final = TRUE;
                return i;
              }
            if (lwsp_only (b + bl, e))
              {
                s->p = p;
                s->final = FALSE;
                return i;
              }
          }
      p = e;
    }
  s->p = s->end;
  return -1;
}

/* Reads the header block at s->p and the blank line that ends it, keeping
 * the fields that give the entity its shape. FALSE for anything GMime
 * might read otherwise: a line that is neither a field ("name:", the name
 * of printable ASCII) nor the continuation of one, the end of the message
 * before the blank line, one of the fields kept twice, a NUL in one. */
static gboolean
read_fields (Split *s, Fields *f)
{
  const char *p = s->p;
  GString *into = NULL;
  gboolean any = FALSE;

  while (p < s->end)
    {
      const char *e = bounce_line_end (p, s->end), *colon;

      if ((e - p == 1 && p[0] == '\n') || (e - p == 2 && p[0] == '\r' && p[1] == '\n'))
        {
          s->p = e;
          return TRUE;
        }
      if (*p == ' ' || *p == '\t')
        {
          if (!any)
            return FALSE;
          colon = p - 1;
        }
      else
        {
          GString **slot = NULL;

          for (colon = p; colon < e && *colon != ':'; colon++)
            if ((guchar) *colon <= ' ' || (guchar) *colon >= 127)
              return FALSE;
          if (colon == e || colon == p)
            return FALSE;
          if (colon - p == 12 && g_ascii_strncasecmp (p, "Content-Type", 12) == 0)
            slot = &f->type;
          else if (colon - p == 25 && g_ascii_strncasecmp (p, "Content-Transfer-Encoding", 25) == 0)
            slot = &f->encoding;
          else if (colon - p == 19 && g_ascii_strncasecmp (p, "Content-Disposition", 19) == 0)
            slot = &f->disposition;
          if (slot && *slot)
            return FALSE;
          into = slot ? (*slot = g_string_new (NULL)) : NULL;
          any = TRUE;
        }
      if (into)
        {
          for (const char *q = colon + 1; q < e; q++)
            if (*q == '\0')
              return FALSE;
            else if (*q != '\r' && *q != '\n')
              g_string_append_c (into, *q);
          if (into->len > BOUNCE_MAX_FIELD_BYTES)
            return FALSE;
        }
      p = e;
    }
  return FALSE;
}

static gboolean
type_is (GMimeContentType *ct, const char *type, const char *subtype)
{
  return g_mime_content_type_is_type (ct, type, subtype);
}

/* Whether a part with the fields @f, whose type has a name parameter
 * when @named, is an attachment to the walk (mimewalk.c): an
 * attachment's disposition and a file name. */
static gboolean
is_attachment (Split *s, gboolean named, const Fields *f)
{
  GMimeContentDisposition *cd;
  gboolean attachment;

  if (f->disposition == NULL)
    return FALSE;
  cd = g_mime_content_disposition_parse (s->opts, f->disposition->str);
  attachment = cd && g_mime_content_disposition_is_attachment (cd)
               && (g_mime_content_disposition_get_parameter (cd, "filename") || named);
  g_clear_object (&cd);
  return attachment;
}

static void
leaf_clear (gpointer data)
{
  Leaf *l = data;

  g_free (l->charset);
  g_free (l);
}

/* Where an entity is: in the message the walk reads, at the top of a
 * message attached to it, or further in. */
typedef enum
{
  NOT_INSIDE,
  ATTACHED,
  WITHIN,
} Inside;

/* A media type and subtype, as GMime's parser reads them. */
typedef struct
{
  char type[32], subtype[96];
} Shape;

/* The type and subtype of the Content-Type value @v in the common form
 * (bounce_content_type_media(), then the parameters or nothing), as
 * g_mime_parse_content_type () reads it; FALSE for any other form, which
 * GMime is left to read. No object is made: an attached message's type
 * is all this look needs of it. */
static gboolean
quick_shape (const char *v, Shape *sh)
{
  BounceQuickType qt;
  const char *rest = bounce_content_type_media (v, &qt);

  if (rest == NULL || (*rest != '\0' && *rest != ';') || qt.type_len >= sizeof sh->type
      || qt.subtype_len >= sizeof sh->subtype)
    return FALSE;
  memcpy (sh->type, qt.type, qt.type_len);
  sh->type[qt.type_len] = '\0';
  memcpy (sh->subtype, qt.subtype, qt.subtype_len);
  sh->subtype[qt.subtype_len] = '\0';
  return TRUE;
}

/* Whether the field value @v (nullable) may name a file *.eml, in any
 * case or encoding of its name. */
static gboolean
says_eml (const GString *v)
{
  for (gsize i = 0; v && i + 3 <= v->len; i++)
    if (g_ascii_strncasecmp (v->str + i, "eml", 3) == 0)
      return TRUE;
  return FALSE;
}

/* g_mime_content_type_is_type () for a shape. */
static gboolean
shape_is (const Shape *sh, const char *type, const char *subtype)
{
  return g_ascii_strcasecmp (sh->type, type) == 0
         && (strcmp (subtype, "*") == 0 || g_ascii_strcasecmp (sh->subtype, subtype) == 0);
}

static int entity (Split *s, Fields *f, gboolean digest, Inside inside, int depth);

/* A multipart with @boundary (NULL: none given), a multipart/digest when
 * @digest, after its header block: its prologue, its parts, its closing
 * boundary, its epilogue. */
static int
multipart (Split *s, const char *boundary, gboolean digest, Inside inside, int depth)
{
  int level = s->n, found;

  if (boundary == NULL || *boundary == '\0' || strlen (boundary) > MAX_BOUNDARY || s->n == MAX_LEVELS)
    {
      s->lost = TRUE;
      return -1;
    }
  s->bound[level] = boundary;
  s->bound_len[level] = strlen (boundary);
  s->n++;
  /* The prologue ends at the first part's boundary: none, a closing one,
   * another multipart's, and the multipart has no part, and the walk
   * would read the prologue. */
  found = next_boundary (s);
  if (found != level || s->final)
    s->lost = TRUE;
  while (!s->lost && found == level && !s->final)
    {
      Fields f = { NULL };

      s->p = bounce_line_end (s->p, s->end);
      if (!read_fields (s, &f))
        s->lost = TRUE;
      else
        found = entity (s, &f, digest, inside, depth + 1);
      fields_clear (&f);
    }
  /* Only a part ended by this multipart's closing boundary is foreseen. */
  if (found != level || !s->final)
    s->lost = TRUE;
  if (s->lost)
    return -1;
  s->p = bounce_line_end (s->p, s->end);
  s->n--;
  return next_boundary (s);
}

/* The entity whose header block @f was just read, at s->p; @digest: its
 * parent is a multipart/digest; @inside: it is in an attached message,
 * whose parts the walk does not read. Returns the level of the boundary
 * that ends it (s->p at that line, s->final), -1 at the end of the
 * message or when s->lost. */
static int
entity (Split *s, Fields *f, gboolean digest, Inside inside, int depth)
{
  g_autoptr (GMimeContentType) ct = NULL;
  g_autofree char *boundary = NULL, *charset = NULL;
  gboolean named = FALSE;
  GMimeContentEncoding encoding = GMIME_CONTENT_ENCODING_DEFAULT;
  const char *start = s->p;
  Shape sh;
  int found;

  /* Well within the parse's limits, which would cut the message short
   * and say so (bounce_mime_bounded_length). */
  if (depth > MAX_LEVELS || ++s->entities > BOUNCE_MAX_MIME_PARTS / 2)
    {
      s->lost = TRUE;
      return -1;
    }
  if (f->type == NULL)
    sh = digest ? (Shape){ "message", "rfc822" } : (Shape){ "text", "plain" };
  else if (!quick_shape (f->type->str, &sh))
    {
      /* A type GMime cannot read is application/octet-stream to the
       * walk, but the parser splits the entity as it would one without
       * a type. */
      ct = g_mime_content_type_parse (s->opts, f->type->str);
      if (ct == NULL || (type_is (ct, "application", "octet-stream") && !strstr (f->type->str, "octet-stream"))
          || strlen (g_mime_content_type_get_media_type (ct)) >= sizeof sh.type
          || strlen (g_mime_content_type_get_media_subtype (ct)) >= sizeof sh.subtype)
        {
          s->lost = TRUE;
          return -1;
        }
      strcpy (sh.type, g_mime_content_type_get_media_type (ct));
      strcpy (sh.subtype, g_mime_content_type_get_media_subtype (ct));
    }
  if (f->encoding)
    encoding = g_mime_content_encoding_from_string (f->encoding->str);
  /* The parameters of a multipart and of a part the walk reads: most
   * types are written plainly enough to be read without GMime's parser,
   * and the objects it makes. */
  if (f->type && (shape_is (&sh, "multipart", "*") || (inside == NOT_INSIDE && shape_is (&sh, "text", "*"))))
    {
      BounceQuickType qt;

      if (ct == NULL && bounce_content_type_quick (f->type->str, &qt))
        {
          boundary = qt.boundary ? g_strndup (qt.boundary, qt.boundary_len) : NULL;
          charset = qt.charset ? g_strndup (qt.charset, qt.charset_len) : NULL;
          named = qt.name != NULL;
        }
      else
        {
          if (ct == NULL)
            ct = g_mime_content_type_parse (s->opts, f->type->str);
          boundary = g_strdup (ct ? g_mime_content_type_get_parameter (ct, "boundary") : NULL);
          charset = g_strdup (ct ? g_mime_content_type_get_parameter (ct, "charset") : NULL);
          named = ct && g_mime_content_type_get_parameter (ct, "name");
        }
    }
  if (shape_is (&sh, "multipart", "*"))
    {
      /* An attached message that is a report is read in place of the
       * message. */
      if (inside == ATTACHED && shape_is (&sh, "multipart", "report"))
        {
          s->lost = TRUE;
          return -1;
        }
      return multipart (s, boundary, shape_is (&sh, "multipart", "digest"), inside == NOT_INSIDE ? NOT_INSIDE : WITHIN,
                        depth);
    }
  if ((shape_is (&sh, "message", "rfc822") || shape_is (&sh, "message", "global") || shape_is (&sh, "message", "news"))
      && encoding != GMIME_CONTENT_ENCODING_BASE64 && encoding != GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE
      && encoding != GMIME_CONTENT_ENCODING_UUENCODE)
    {
      /* An attached message: the walk reads it only when it is a report;
       * else it may be the original. */
      g_auto (Fields) inner = { NULL };

      if (inside == NOT_INSIDE)
        s->original = TRUE;

      if (!read_fields (s, &inner))
        {
          s->lost = TRUE;
          return -1;
        }
      return entity (s, &inner, FALSE, inside == NOT_INSIDE ? ATTACHED : WITHIN, depth + 1);
    }

  /* A leaf: its content runs to the next boundary, the line end before
   * the boundary line not included (two bytes when that line ends in
   * CRLF: GMime looks at the boundary line's end). */
  found = next_boundary (s);
  if (s->lost || inside != NOT_INSIDE)
    return found;
  /* The original returned whole or as headers, or as a file *.eml. */
  if (shape_is (&sh, "message", "*")
      || (shape_is (&sh, "text", "*") && g_ascii_strncasecmp (sh.subtype, "rfc822", 6) == 0)
      || (!shape_is (&sh, "text", "*") && (says_eml (f->type) || says_eml (f->disposition))))
    s->original = TRUE;
  if (shape_is (&sh, "message", "delivery-status") || shape_is (&sh, "message", "global-delivery-status")
      || shape_is (&sh, "message", "disposition-notification")
      || shape_is (&sh, "message", "global-disposition-notification") || shape_is (&sh, "message", "feedback-report"))
    {
      s->lost = TRUE;
      return -1;
    }
  if (shape_is (&sh, "text", "plain") || shape_is (&sh, "text", "html"))
    {
      gboolean html = shape_is (&sh, "text", "html"), attachment = is_attachment (s, named, f);
      Leaf *l;
      gsize len = s->p - start;

      if (html && (attachment || s->html))
        return found;
      if (found >= 0)
        {
          const char *e = bounce_line_end (s->p, s->end);
          gsize cut = e > s->p + 1 && e[-1] == '\n' && e[-2] == '\r' ? 2 : 1;

          if (e == s->end && e[-1] != '\n')
            cut = e[-1] == '\r' ? 2 : 1;
          if (len < 2)
            {
              s->lost = TRUE;
              return -1;
            }
          len -= cut;
        }
      if (encoding == GMIME_CONTENT_ENCODING_UUENCODE)
        {
          s->lost = TRUE;
          return -1;
        }
      if (html)
        l = &s->html_part, s->html = TRUE;
      else if (!attachment && !s->text)
        l = &s->text_part, s->text = TRUE;
      else
        g_ptr_array_add (s->later, (l = g_new0 (Leaf, 1)));
      l->at = start;
      l->len = len;
      l->encoding = encoding;
      l->charset = g_strdup (charset);
    }
  return found;
}

/* The decoded content of @l, at most @max bytes (bounce_part_content).
 * Returns: (transfer full) */
static GByteArray *
leaf_content (const Leaf *l, gsize max)
{
  return bounce_transfer_decode (l->encoding, l->at, l->len, max);
}

/* bounce_text_of () for a leaf. */
static char *
leaf_text_of (gconstpointer part, gsize *len)
{
  const Leaf *l = part;
  g_autoptr (GByteArray) bytes = leaf_content (l, BOUNCE_MAX_TEXT_BYTES * 2);

  *len = 0;
  if (bytes->len == 0)
    return g_strdup ("");
  return bounce_text_to_utf8 ((char *) bytes->data, bytes->len, l->charset, len);
}

/* bounce_second_look_text: the report text the parse would read in the
 * message @data (@length bytes, its header block @hend), as this look
 * foresees it (*@len: its length), or NULL when it does not. *@later:
 * whether a later plain-text part holds delivery-status field names;
 * *@original: whether a part may be taken for the returned original.
 * Returns: (transfer full) (nullable) */
char *
bounce_second_look_text (const char *data, gsize length, gsize hend, gsize *len, gboolean *later, gboolean *original)
{
  g_autoptr (GMimeParserOptions) opts = (bounce_gmime_init (), bounce_parser_options ());
  g_autoptr (GPtrArray) parts = g_ptr_array_new_with_free_func (leaf_clear);
  Split s = { opts, data + hend, data + length };
  g_auto (Fields) top = { NULL };
  g_autofree char *text = NULL;
  BounceHeaderField field;
  gsize pos = 0;
  gboolean cut = FALSE;

  *len = 0;
  *later = FALSE;
  *original = FALSE;
  while (bounce_header_next (data, hend, &pos, &field))
    {
      GString **slot = NULL;

      /* A line GMime may not read as a header: it might end the header
       * block there, and read the rest as text. */
      if (field.name_len == 0)
        return NULL;
      for (gsize k = 0; k < field.name_len; k++)
        if ((guchar) field.line[k] <= ' ' || (guchar) field.line[k] >= 127)
          return NULL;
      /* The fields that shape the message: once each, no NUL. */
      if (field.value == NULL || g_ascii_strncasecmp (field.line, "content-", 8) != 0)
        continue;
      if (field.name_len == 12 && g_ascii_strncasecmp (field.line, "content-type", 12) == 0)
        slot = &top.type;
      else if (field.name_len == 25 && g_ascii_strncasecmp (field.line, "content-transfer-encoding", 25) == 0)
        slot = &top.encoding;
      else if (field.name_len == 19 && g_ascii_strncasecmp (field.line, "content-disposition", 19) == 0)
        slot = &top.disposition;
      if (slot == NULL)
        continue;
      if (*slot || memchr (field.value, '\0', field.value_len))
        return NULL;
      *slot = g_string_sized_new (field.value_len);
      for (const char *q = field.value; q < field.value + field.value_len; q++)
        if (*q != '\r' && *q != '\n')
          g_string_append_c (*slot, *q);
    }

  s.later = parts;
  entity (&s, &top, FALSE, NOT_INSIDE, 0);
  if (!s.lost)
    text = bounce_report_text_from (leaf_text_of, s.text ? &s.text_part : NULL, s.html ? &s.html_part : NULL, NULL, len,
                                    &cut);
  /* A text past the cap makes the parse say so. */
  if (cut)
    s.lost = TRUE;
  for (guint i = 0; !s.lost && i < parts->len; i++)
    {
      g_autoptr (GByteArray) b = leaf_content (g_ptr_array_index (parts, i), BOUNCE_MAX_DSN_BYTES);

      if (holds_dsn_field ((const char *) b->data, b->len))
        *later = TRUE;
    }
  g_free (s.text_part.charset);
  g_free (s.html_part.charset);
  *original = s.original;
  return s.lost ? NULL : g_steal_pointer (&text);
}

/* bounce_second_look_header: the text of the first field @name of the
 * header block @data (@hend bytes), as the rules read it
 * (bounce_rules_match: bounce_header_text, made valid UTF-8), or NULL.
 * Returns: (transfer full) (nullable) */
char *
bounce_second_look_header (const char *data, gsize hend, const char *name)
{
  BounceHeaderField field;
  gsize pos = 0, n = strlen (name);

  while (bounce_header_next (data, hend, &pos, &field))
    if (field.value && field.name_len == n && g_ascii_strncasecmp (field.line, name, n) == 0)
      {
        g_autofree char *text = header_text (field.value, field.value_len);

        return bounce_utf8 (text, -1);
      }
  return NULL;
}

/* bounce_second_look: whether the message @data (@length bytes), which
 * the triage let through on its Subject or a role address's From alone,
 * is surely no report (see above). @hend: where its header block ends. */
gboolean
bounce_second_look (const char *data, gsize length, gsize hend, BounceRules *rules)
{
  g_autoptr (GHashTable) headers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, forms_free);
  gsize pos = 0, text_len = 0;
  BounceHeaderField field;
  g_autofree char *text = NULL;
  /* The From and Subject the rules read: none when there is none. */
  g_autofree char *from = bounce_second_look_header (data, hend, "From");
  g_autofree char *subject = bounce_second_look_header (data, hend, "Subject");
  const char *from_forms[2] = { from, NULL }, *subject_forms[2] = { subject, NULL };
  BounceLook look = { NULL };
  GPtrArray *forms;
  gboolean role = FALSE, later = FALSE, original = FALSE;
  guint subjects = 0;

  /* The text the parse reads, and the parts it reads it from; every line
   * of the header block a field. */
  text = bounce_second_look_text (data, length, hend, &text_len, &later, &original);
  if (text == NULL || later || holds_dsn_field (text, text_len))
    return FALSE;
  while (bounce_header_next (data, hend, &pos, &field))
    {
      const char *line = field.line, *vend = field.line + field.len;
      const char *colon = field.value ? field.value - 1 : NULL;
      g_autoptr (GString) value = NULL;
      g_autofree char *name = NULL;
      GPtrArray *had = NULL;
      gboolean known;
      gsize nlen = field.name_len;
      Sender sender;

      name = g_ascii_strdown (line, nlen);
      /* What the format-free reader needs for a report of its own. */
      sender = says_report_sender (name, colon + 1, vend - colon - 1);
      if (sender == SENDER_SYSTEM)
        return FALSE;
      role = role || sender == SENDER_ROLE;
      if (strcmp (name, "subject") == 0)
        {
          if (asks_to_confirm (colon + 1, vend - colon - 1))
            return FALSE;
          subjects++;
        }
      if (!g_str_has_prefix (name, "content-") && !bounce_rules_reads_header (rules, name))
        continue;
      /* The value unfolded: line ends removed. */
      value = g_string_sized_new (vend - colon);
      for (const char *q = colon + 1; q < vend; q++)
        if (*q != '\r' && *q != '\n')
          g_string_append_c (value, *q);
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

  /* The format-free reader's sender, words and codes. */
  if (subjects > 1 || bounce_generic_may_report (role, original, subject, text, text_len))
    return FALSE;

  /* The header forms as lists the rules can read. */
  {
    GHashTableIter it;
    gpointer v;

    g_hash_table_iter_init (&it, headers);
    while (g_hash_table_iter_next (&it, NULL, &v))
      if (v)
        g_ptr_array_add (v, NULL);
  }
  look.headers = headers;
  look.from = from_forms;
  look.subject = subject_forms;
  look.text = text;
  look.text_len = text_len;
  return !bounce_rules_may_report (rules, &look);
}

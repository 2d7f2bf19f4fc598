/* util.c — small helpers shared by the parsers.
 *
 * GMime initialisation (once, thread-safe), the parser options every parse
 * uses, UTF-8 repair, address and status-code extraction from free text.
 */
#include "bounce-private.h"

#include <string.h>

G_DEFINE_QUARK (bounce - error - quark, bounce_error)

static gpointer
gmime_init_once (gpointer data)
{
  (void) data;
  g_mime_init ();
  return NULL;
}

/* bounce_gmime_init: initialise GMime once per process. */
void
bounce_gmime_init (void)
{
  static GOnce once = G_ONCE_INIT;

  g_once (&once, gmime_init_once, NULL);
}

/* bounce_parser_options: parser options of our own, never the defaults.
 * Returns: (transfer full) */
GMimeParserOptions *
bounce_parser_options (void)
{
  GMimeParserOptions *opts = g_mime_parser_options_new ();

  g_mime_parser_options_set_rfc2047_compliance_mode (opts, GMIME_RFC_COMPLIANCE_LOOSE);
  g_mime_parser_options_set_address_compliance_mode (opts, GMIME_RFC_COMPLIANCE_LOOSE);
  g_mime_parser_options_set_parameter_compliance_mode (opts, GMIME_RFC_COMPLIANCE_LOOSE);
  g_mime_parser_options_set_allow_addresses_without_domain (opts, TRUE);
  return opts;
}

/* bounce_bare_cr_to_lf: a message whose lines end in a bare CR (old Mac
 * mailers, some gateways) as one with LF line ends; NULL when the first
 * BOUNCE_BARE_CR_PROBE bytes hold an LF (the message is read as it is).
 * *@length is kept (and cut to BOUNCE_MAX_MESSAGE_BYTES + 1 for the copy).
 * Returns: (transfer full) (nullable) */
char *
bounce_bare_cr_to_lf (const char *data, gsize *length)
{
  gsize probe = MIN (*length, (gsize) BOUNCE_BARE_CR_PROBE), n;
  char *lf;

  if (probe == 0 || memchr (data, '\n', probe) || !memchr (data, '\r', probe))
    return NULL;
  n = MIN (*length, (gsize) BOUNCE_MAX_MESSAGE_BYTES + 1);
  lf = g_malloc (n + 1);
  for (gsize i = 0; i < n; i++)
    lf[i] = data[i] == '\r' ? '\n' : data[i];
  lf[n] = '\0';
  *length = n;
  return lf;
}

/* The byte array a parsed message's streams read, over bytes the message
 * does not own: let go of without them. */
static void
borrowed_free (gpointer array)
{
  g_byte_array_free (array, FALSE);
}

/* Parses @data (@len bytes) as a message, all of it: @len is within the
 * MIME part and depth limits, as bounce_mime_bounded_length() says (the
 * caller has asked it). As a GMimeMessage when @message, else as its top
 * part (bounce_parse_bounded_part()).
 *
 * The result reads its parts' contents from @data itself, not from a
 * copy (a bounce carrying a 40 MB original would otherwise be held
 * twice): @data must stay as it is until the result is freed.
 * Returns: (transfer full) (nullable) */
static GMimeObject *
parse_bounded (const char *data, gsize len, gboolean message)
{
  g_autoptr (GMimeStream) stream = NULL;
  g_autoptr (GMimeParser) parser = NULL;
  g_autoptr (GMimeParserOptions) opts = bounce_parser_options ();
  /* Neither the stream nor the parts' streams cut from it own the array:
   * the result does, and frees it (not @data) after its parts. */
  GByteArray *array = g_byte_array_new_take ((guint8 *) data, len);
  GMimeObject *obj;

  bounce_gmime_init ();
  stream = g_mime_stream_mem_new_with_byte_array (array);
  g_mime_stream_mem_set_owner (GMIME_STREAM_MEM (stream), FALSE);
  parser = g_mime_parser_new_with_stream (stream);
  g_mime_parser_set_format (parser, GMIME_FORMAT_MESSAGE);
  obj = message ? (GMimeObject *) g_mime_parser_construct_message (parser, opts)
                : g_mime_parser_construct_part (parser, opts);
  if (obj == NULL)
    {
      borrowed_free (array);
      return NULL;
    }
  g_object_set_data_full (G_OBJECT (obj), "backscatter-bytes", array, borrowed_free);
  return obj;
}

/* bounce_parse_bounded_message: @data as one message (parse_bounded()).
 * Returns: (transfer full) (nullable) */
GMimeMessage *
bounce_parse_bounded_message (const char *data, gsize len)
{
  return (GMimeMessage *) parse_bounded (data, len, TRUE);
}

/* bounce_parse_bounded_part: @data as its top MIME part, which holds all
 * of its header block (parse_bounded()). What a report is read from: a
 * GMimeMessage would also read its addresses, its date and its subject
 * into objects of their own, and keep its fields apart from its body's,
 * all of which the reading does without.
 * Returns: (transfer full) (nullable) */
GMimeObject *
bounce_parse_bounded_part (const char *data, gsize len)
{
  return parse_bounded (data, len, FALSE);
}

/* Charset names mailers write that iconv does not know, or that name a
 * smaller set than the text uses (GB2312 labels GBK text; Shift_JIS and
 * EUC-KR label Microsoft's extensions), and what to read them as. */
static const struct
{
  const char *label, *iconv;
} charset_aliases[] = {
  { "big5_tw", "BIG5" },
  { "big5-tw", "BIG5" },
  { "x-x-big5", "BIG5" },
  { "gb2312", "GB18030" },
  { "gb_2312-80", "GB18030" },
  { "gbk", "GB18030" },
  { "x-gbk", "GB18030" },
  { "cp936", "GB18030" },
  { "euc-cn", "GB18030" },
  { "x-euc-cn", "GB18030" },
  { "eucgb2312_cn", "GB18030" },
  { "gb2312_cn", "GB18030" },
  { "csgb2312", "GB18030" },
  { "chinese", "GB18030" },
  { "shift_jis", "CP932" },
  { "shift-jis", "CP932" },
  { "x-sjis", "CP932" },
  { "sjis", "CP932" },
  { "ms_kanji", "CP932" },
  { "windows-31j", "CP932" },
  { "euc-kr", "CP949" },
  { "ks_c_5601-1987", "CP949" },
  { "ks_c_5601", "CP949" },
  { "ksc5601", "CP949" },
  { "x-windows-949", "CP949" },
  { "korean", "CP949" },
  { "iso-8859-8-i", "ISO-8859-8" },
  { "windows-874", "CP874" },
  { "unicode-1-1-utf-7", "UTF-7" },
  { "utf8", "UTF-8" },
};

/* bounce_charset_iconv_name: the iconv name to read text labelled
 * @charset with. Returns: (transfer none) */
const char *
bounce_charset_iconv_name (const char *charset)
{
  for (gsize i = 0; i < G_N_ELEMENTS (charset_aliases); i++)
    if (g_ascii_strcasecmp (charset, charset_aliases[i].label) == 0)
      return charset_aliases[i].iconv;
  bounce_gmime_init ();
  return g_mime_charset_iconv_name (charset);
}

/* Whether GMime's decoder has nothing to do in header value @raw: it is
 * printable ASCII (tabs and line breaks too) with no encoded word, and
 * GMime gives such a value back as it is. Most header values are such,
 * and the decoder costs more than all the rest of reading them. */
static gboolean
header_is_plain (const char *raw)
{
  for (const unsigned char *p = (const unsigned char *) raw; *p; p++)
    if ((*p < 0x20 && *p != '\t' && *p != '\r' && *p != '\n') || *p >= 0x7f || (*p == '=' && p[1] == '?'))
      return FALSE;
  return TRUE;
}

/* bounce_header_unfold_plain: header value @raw (as written after the
 * colon) as GMime gives it, when it is plain (above): unfolded as
 * g_mime_utils_header_unfold() does, without the blanks and line breaks
 * at both ends and with the line breaks taken out.
 * Returns: (transfer full) (nullable): NULL when @raw is not plain. */
char *
bounce_header_unfold_plain (const char *raw)
{
  const char *end;
  char *value, *o;

  if (!header_is_plain (raw))
    return NULL;
  while (*raw == ' ' || *raw == '\t' || *raw == '\r' || *raw == '\n')
    raw++;
  end = raw + strlen (raw);
  while (end > raw && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
    end--;
  o = value = g_malloc (end - raw + 1);
  for (; raw < end; raw++)
    if (*raw != '\r' && *raw != '\n')
      *o++ = *raw;
  *o = '\0';
  return value;
}

typedef struct _Converter Converter;
static Converter *converter_for (const char *charset, gssize len);

/* Opens the converter this thread keeps for the charset of each encoded
 * word of @raw, so that GMime's converter for the word, opened and closed
 * as it decodes it, finds the charset's module loaded (see
 * converter_for()). */
static void
hold_word_charsets (const char *raw)
{
  for (const char *q = raw; (q = strstr (q, "=?")) != NULL;)
    {
      gsize n;

      q += 2;
      n = strcspn (q, "?* \t\r\n");
      if (n > 0 && (q[n] == '?' || q[n] == '*') && !(n == 5 && g_ascii_strncasecmp (q, "utf-8", 5) == 0)
          && !(n == 8 && g_ascii_strncasecmp (q, "us-ascii", 8) == 0))
        converter_for (q, n);
      q += n;
    }
}

/* bounce_header_value: the value of @header as g_mime_header_get_value()
 * gives it (unfolded, without the blanks around it, encoded words
 * decoded), made without GMime's decoder when the value is plain.
 * Returns: (transfer full) (nullable) */
char *
bounce_header_value (GMimeHeader *header)
{
  const char *raw = g_mime_header_get_raw_value (header);
  char *value = raw ? bounce_header_unfold_plain (raw) : NULL;

  if (value)
    return value;
  if (raw)
    hold_word_charsets (raw);
  return g_strdup (g_mime_header_get_value (header));
}

/* bounce_header_decode: the text of header value @raw, its encoded words
 * (RFC 2047) decoded, with their charsets read as
 * bounce_charset_iconv_name () says. Returns: (transfer full) */
char *
bounce_header_decode (const char *raw)
{
  g_autoptr (GMimeParserOptions) opts = NULL;
  g_autoptr (GString) fixed = NULL;
  const char *p = raw, *q;

  if (header_is_plain (raw))
    return g_strdup (raw);
  bounce_gmime_init ();
  opts = bounce_parser_options ();
  hold_word_charsets (raw);

  /* "=?charset?" or "=?charset*lang?": the name GMime is given. */
  while ((q = strstr (p, "=?")) != NULL)
    {
      const char *name = q + 2;
      gsize n = strcspn (name, "?* \t\r\n");

      if (name[n] == '?' || name[n] == '*')
        {
          g_autofree char *label = g_strndup (name, n);
          const char *iconv = NULL;

          for (gsize i = 0; i < G_N_ELEMENTS (charset_aliases) && iconv == NULL; i++)
            if (g_ascii_strcasecmp (label, charset_aliases[i].label) == 0)
              iconv = charset_aliases[i].iconv;
          if (iconv)
            {
              if (fixed == NULL)
                fixed = g_string_new (NULL);
              g_string_append_len (fixed, p, name - p);
              g_string_append (fixed, iconv);
              p = name + n;
              continue;
            }
        }
      if (fixed)
        g_string_append_len (fixed, p, name - p);
      p = name;
    }
  if (fixed)
    {
      g_string_append (fixed, p);
      raw = fixed->str;
    }
  return g_mime_utils_header_decode_text (opts, raw);
}

/* bounce_header_text: @object's header @name decoded as
 * bounce_header_decode () does, or NULL when it has none.
 * Returns: (transfer full) (nullable) */
char *
bounce_header_text (GMimeObject *object, const char *name)
{
  GMimeHeader *h = g_mime_header_list_get_header (g_mime_object_get_header_list (object), name);
  const char *raw = h ? g_mime_header_get_raw_value (h) : NULL;

  char *text, *o;

  if (raw == NULL)
    return NULL;
  /* Unfolded, without the blanks around it, as GMime gives a value. */
  text = bounce_header_decode (raw);
  o = text;
  for (const char *c = text; *c; c++)
    if (*c != '\r' && *c != '\n')
      *o++ = *c;
  *o = '\0';
  return g_strstrip (text);
}

/* bounce_date_iso: @date as ISO 8601 with its offset
 * ("2024-01-01T09:30:00+01:00"), as g_date_time_format() writes it with
 * "%Y-%m-%dT%H:%M:%S%:z", at a fraction of the cost.
 * Returns: (transfer full) */
char *
bounce_date_iso (GDateTime *date)
{
  gint64 offset = g_date_time_get_utc_offset (date) / G_TIME_SPAN_SECOND;
  gint64 abs_offset = offset < 0 ? -offset : offset;

  return g_strdup_printf ("%d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", g_date_time_get_year (date),
                          g_date_time_get_month (date), g_date_time_get_day_of_month (date),
                          g_date_time_get_hour (date), g_date_time_get_minute (date), g_date_time_get_second (date),
                          offset < 0 ? '-' : '+', (int) (abs_offset / 3600), (int) (abs_offset / 60 % 60));
}

/* The usual form of an RFC 5322 date, "[Day,] D Mon YYYY HH:MM[:SS] +hhmm",
 * with at most a comment after it, read without GMime's tokenizer: most
 * dates in reports are written so. Anything else (two-digit years, zone
 * names, odd spacing, out-of-range fields) is left to
 * g_mime_utils_header_decode_date(), so that the two agree. */
typedef struct
{
  int year, month, day, hour, minute, second;
  int offset; /* seconds east of UTC */
} DateFields;

static const char *const month_names[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
static const char *const day_names[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };

static gboolean
read_digits (const char **p, int min, int max, int *out)
{
  int n = 0, v = 0;

  while (g_ascii_isdigit ((*p)[n]) && n < max)
    v = v * 10 + ((*p)[n++] - '0');
  if (n < min || g_ascii_isdigit ((*p)[n]))
    return FALSE;
  *p += n;
  *out = v;
  return TRUE;
}

static gboolean
read_name (const char **p, const char *const *names, guint n_names, int *index)
{
  for (guint i = 0; i < n_names; i++)
    if (strncmp (*p, names[i], 3) == 0)
      {
        *p += 3;
        *index = (int) i;
        return TRUE;
      }
  return FALSE;
}

static gboolean
date_fast (const char *s, DateFields *f)
{
  const char *p = s;
  int day, month, year, hour, minute, second = 0, zone, sign, ignored;

  if (read_name (&p, day_names, G_N_ELEMENTS (day_names), &ignored))
    {
      if (*p++ != ',' || *p++ != ' ')
        return FALSE;
    }
  if (!read_digits (&p, 1, 2, &day) || *p++ != ' ' || !read_name (&p, month_names, 12, &month) || *p++ != ' '
      || !read_digits (&p, 4, 4, &year) || *p++ != ' ' || !read_digits (&p, 2, 2, &hour) || *p++ != ':'
      || !read_digits (&p, 2, 2, &minute))
    return FALSE;
  if (*p == ':' && (p++, !read_digits (&p, 2, 2, &second)))
    return FALSE;
  if (*p++ != ' ' || (*p != '+' && *p != '-'))
    return FALSE;
  sign = *p++ == '-' ? -1 : 1;
  if (!read_digits (&p, 4, 4, &zone))
    return FALSE;
  if (p[0] == ' ' && p[1] == '(')
    {
      const char *close = strchr (p, ')');

      if (close && close[1] == '\0' && !memchr (p + 2, '(', close - p - 2))
        p = close + 1;
    }
  if (*p != '\0' || year < 1970 || day < 1 || day > g_date_get_days_in_month (month + 1, year) || hour > 23
      || minute > 59 || second > 59 || zone / 100 > 23 || zone % 100 > 59)
    return FALSE;
  *f = (DateFields){ year, month + 1, day, hour, minute, second, sign * ((zone / 100) * 3600 + (zone % 100) * 60) };
  return TRUE;
}

/* Days from 1970-01-01 to a date of the proleptic Gregorian calendar. */
static gint64
days_from_civil (int y, int m, int d)
{
  y -= m <= 2;
  {
    gint64 era = (y >= 0 ? y : y - 399) / 400;
    gint64 yoe = y - era * 400;
    gint64 doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    gint64 doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + doe - 719468;
  }
}

/* bounce_date_unix: the instant a Date-like header value names, in seconds
 * since the epoch, as g_mime_utils_header_decode_date() reads it.
 * Returns: FALSE when it is no date */
gboolean
bounce_date_unix (const char *value, gint64 *out)
{
  DateFields f;
  g_autoptr (GDateTime) d = NULL;

  if (value == NULL)
    return FALSE;
  if (date_fast (value, &f))
    {
      *out = days_from_civil (f.year, f.month, f.day) * 86400 + f.hour * 3600 + f.minute * 60 + f.second - f.offset;
      return TRUE;
    }
  d = g_mime_utils_header_decode_date (value);
  if (d)
    *out = g_date_time_to_unix (d);
  return d != NULL;
}

/* bounce_date_to_iso: a Date-like header value in ISO 8601 with its
 * offset, as bounce_date_iso() writes the date GMime reads in it.
 * Returns: (transfer full) (nullable): NULL when it is no date */
char *
bounce_date_to_iso (const char *value)
{
  DateFields f;
  g_autoptr (GDateTime) d = NULL;

  if (value == NULL)
    return NULL;
  if (date_fast (value, &f))
    {
      /* written by hand: printf's machinery costs more than reading the date */
      int abs_offset = f.offset < 0 ? -f.offset : f.offset;
      const int parts[] = { f.month, f.day, f.hour, f.minute, f.second, abs_offset / 3600, abs_offset / 60 % 60 };
      static const char seps[] = "--T::+:";
      char iso[32], *o = iso;

      for (int div = 1000; div > 0; div /= 10)
        *o++ = (char) ('0' + f.year / div % 10);
      for (guint i = 0; i < G_N_ELEMENTS (parts); i++)
        {
          *o++ = i == 5 ? (f.offset < 0 ? '-' : '+') : seps[i];
          *o++ = (char) ('0' + parts[i] / 10);
          *o++ = (char) ('0' + parts[i] % 10);
        }
      return g_strndup (iso, o - iso);
    }
  d = g_mime_utils_header_decode_date (value);
  return d ? bounce_date_iso (d) : NULL;
}

/* Converters to UTF-8 are kept open, a few per thread: opening one
 * (iconv_open) costs more than converting a whole report. An open one
 * also keeps the C library's module for its charset loaded: GMime opens
 * and closes a converter for each encoded word it decodes, and the C
 * library unloads a module no converter holds once two others are let
 * go, so that words in a few charsets by turns would load and unload
 * their modules (dlopen) again and again. */
#define KEEP_CONVERTERS 8

struct _Converter
{
  char *charset; /* as named in the message, lowered */
  iconv_t cd;    /* (iconv_t) -1: no such charset */
};

static void
converters_free (gpointer data)
{
  GArray *kept = data;

  for (guint i = 0; i < kept->len; i++)
    {
      Converter *c = &g_array_index (kept, Converter, i);

      g_free (c->charset);
      if (c->cd != (iconv_t) -1)
        iconv_close (c->cd);
    }
  g_array_unref (kept);
}

static GPrivate converters = G_PRIVATE_INIT (converters_free);

/* The converter to UTF-8 from @charset (@len bytes of a MIME charset
 * name) this thread keeps, opened now if it was not. */
static Converter *
converter_for (const char *charset, gssize len)
{
  GArray *kept = g_private_get (&converters);
  g_autofree char *key = g_ascii_strdown (charset, len);
  Converter fresh;

  if (kept == NULL)
    {
      kept = g_array_new (FALSE, FALSE, sizeof (Converter));
      g_private_set (&converters, kept);
    }
  for (guint i = 0; i < kept->len; i++)
    if (strcmp (g_array_index (kept, Converter, i).charset, key) == 0)
      return &g_array_index (kept, Converter, i);
  {
    const char *name = bounce_charset_iconv_name (key);

    fresh.cd = iconv_open ("UTF-8", name ? name : key);
    fresh.charset = g_steal_pointer (&key);
  }
  if (kept->len == KEEP_CONVERTERS)
    {
      Converter *oldest = &g_array_index (kept, Converter, 0);

      g_free (oldest->charset);
      if (oldest->cd != (iconv_t) -1)
        iconv_close (oldest->cd);
      g_array_remove_index (kept, 0);
    }
  g_array_append_val (kept, fresh);
  return &g_array_index (kept, Converter, kept->len - 1);
}

/* bounce_convert_to_utf8: @len bytes in @charset (a MIME charset name) as
 * UTF-8, their length in *@written. NULL when the charset is unknown or
 * the bytes are not all valid in it. Returns: (transfer full) (nullable) */
char *
bounce_convert_to_utf8 (const char *data, gsize len, const char *charset, gsize *written)
{
  Converter *c = converter_for (charset, -1);
  char *out;

  if (c->cd == (iconv_t) -1)
    return NULL;
  out = g_convert_with_iconv (data, len, (GIConv) c->cd, NULL, written, NULL);
  /* Back to the initial state, whatever happened. */
  iconv (c->cd, NULL, NULL, NULL, NULL);
  return out;
}

/* bounce_utf8_valid: whether @len bytes at @s are valid UTF-8 without a
 * NUL byte, as g_utf8_validate_len() says; runs of ASCII, the usual
 * case, are passed over eight bytes at a time, and each character of
 * more bytes is checked here against the table of well-formed sequences
 * of RFC 3629 (no overlong forms, no surrogates, nothing past U+10FFFF):
 * text in Cyrillic or Greek has a space every few characters, and a call
 * for each run between them cost more than the check. */
gboolean
bounce_utf8_valid (const char *s, gsize len)
{
  const guchar *p = (const guchar *) s, *end = p + len;

  while (p < end)
    {
      guchar c = *p, lo = 0x80, hi = 0xbf;
      gsize n;

      if (c == '\0')
        return FALSE;
      if (c < 0x80)
        {
          for (p++; end - p >= 8; p += 8)
            {
              guint64 w;

              memcpy (&w, p, 8);
              /* a byte with its high bit set, or a NUL byte */
              if ((w | ((w - G_GUINT64_CONSTANT (0x0101010101010101)) & ~w)) & G_GUINT64_CONSTANT (0x8080808080808080))
                break;
            }
          continue;
        }
      /* The lead byte: how many bytes, and the range of the second. */
      if (c < 0xc2 || c > 0xf4)
        return FALSE;
      n = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
      if (c == 0xe0)
        lo = 0xa0;
      else if (c == 0xed)
        hi = 0x9f;
      else if (c == 0xf0)
        lo = 0x90;
      else if (c == 0xf4)
        hi = 0x8f;
      if ((gsize) (end - p) < n || p[1] < lo || p[1] > hi)
        return FALSE;
      for (gsize k = 2; k < n; k++)
        if ((p[k] & 0xc0) != 0x80)
          return FALSE;
      p += n;
    }
  return TRUE;
}

/* bounce_utf8: a valid UTF-8 copy of @s (invalid bytes replaced); NULL for
 * NULL. Returns: (transfer full) (nullable) */
char *
bounce_utf8 (const char *s, gssize len)
{
  if (s == NULL)
    return NULL;
  if (len < 0)
    len = strlen (s);
  if ((gsize) len > BOUNCE_MAX_FIELD_BYTES)
    len = BOUNCE_MAX_FIELD_BYTES;
  /* Most text is valid: copied after the check, which costs less than
   * g_utf8_make_valid()'s. */
  if (bounce_utf8_valid (s, len))
    return g_strndup (s, len);
  return g_utf8_make_valid (s, len);
}

/* bounce_strip: strip white space at both ends in place; frees and returns
 * NULL when nothing is left. */
char *
bounce_strip (char *s)
{
  if (s == NULL)
    return NULL;
  g_strstrip (s);
  if (*s == '\0')
    {
      g_free (s);
      return NULL;
    }
  return s;
}

/* bounce_truncate_utf8: cut @s to at most @max bytes, on a character
 * boundary. Returns: whether it cut anything. */
gboolean
bounce_truncate_utf8 (char *s, gsize max)
{
  gsize n;

  if (s == NULL || (n = strlen (s)) <= max)
    return FALSE;
  while (max > 0 && (s[max] & 0xc0) == 0x80)
    max--;
  s[max] = '\0';
  return TRUE;
}

/* bounce_collapse_space: @s with each run of white space (including line
 * breaks) turned into one space, trimmed. Returns: (transfer full) */
char *
bounce_collapse_space (const char *s)
{
  char *out, *o;
  gboolean space = FALSE;

  if (s == NULL)
    return NULL;
  out = o = g_malloc (strlen (s) + 1);
  for (; *s; s++)
    {
      if (g_ascii_isspace (*s))
        space = TRUE;
      else
        {
          if (space && o > out)
            *o++ = ' ';
          space = FALSE;
          *o++ = *s;
        }
    }
  *o = '\0';
  return bounce_strip (out);
}

static gboolean
is_addr_char (unsigned char c)
{
  return c > 0x20 && c != 0x7f && !strchr ("<>()[]\\,;:\"'`", c);
}

/* bounce_addr_spec: the first mailbox address (local@domain) found in @s,
 * without angle brackets, quotes or trailing dots. A bare value with no
 * '@' is returned trimmed when it has no spaces (a local-only address).
 * Returns: (transfer full) (nullable) */
char *
bounce_addr_spec (const char *s)
{
  const char *at, *p, *start, *end;

  if (s == NULL)
    return NULL;
  /* A quoted local part first, whatever it holds: "sales@eu"@example.net
   * is one address, not sales@eu. */
  for (p = strstr (s, "\"@"); p; p = strstr (p + 1, "\"@"))
    {
      const char *open = p;

      while (open > s && open[-1] != '"')
        open--;
      if (open == s || open == p)
        continue;
      end = p + 2;
      while (*end && (is_addr_char (*end) || (*end & 0x80)))
        end++;
      while (end > p + 2 && (end[-1] == '.' || end[-1] == '\''))
        end--;
      if (end > p + 2)
        return bounce_utf8 (open - 1, end - (open - 1));
    }
  for (at = strchr (s, '@'); at; at = strchr (at + 1, '@'))
    {
      start = at;
      while (start > s && (is_addr_char (start[-1]) || (start[-1] & 0x80)))
        start--;
      end = at + 1;
      while (*end && (is_addr_char (*end) || (*end & 0x80)))
        end++;
      /* A quoted local part: "a b"@example.com */
      if (start == at && at - 1 > s && at[-1] == '"')
        {
          p = at - 2;
          while (p > s && *p != '"')
            p--;
          if (*p == '"')
            start = p;
        }
      while (end > at + 1 && (end[-1] == '.' || end[-1] == '\''))
        end--;
      if (start < at && end > at + 1)
        return bounce_utf8 (start, end - start);
    }
  {
    g_autofree char *t = g_strstrip (g_strdup (s));
    size_t n = strlen (t);

    if (n > 1 && t[0] == '<' && t[n - 1] == '>')
      {
        memmove (t, t + 1, n - 2);
        t[n - 2] = '\0';
      }
    if (*t && !strpbrk (t, " \t\r\n<>") && n < 256)
      return bounce_utf8 (t, -1);
  }
  return NULL;
}

/* bounce_find_status: the first RFC 3463 enhanced status code in @text
 * ("5.1.1", "4.4.7"; class 2, 4 or 5, subject 0-7 up to three digits,
 * detail up to three digits), stored in @out. */
gboolean
bounce_find_status (const char *text, char out[16])
{
  const char *p;

  if (text == NULL)
    return FALSE;
  for (p = text; *p; p++)
    {
      const char *q;
      int n1 = 0, n2 = 0;

      if (!(*p == '2' || *p == '4' || *p == '5') || p[1] != '.')
        continue;
      if (p > text && (g_ascii_isalnum (p[-1]) || p[-1] == '.'))
        continue;
      q = p + 2;
      while (g_ascii_isdigit (q[n1]) && n1 < 4)
        n1++;
      if (n1 == 0 || n1 > 3 || q[n1] != '.')
        continue;
      q += n1 + 1;
      while (g_ascii_isdigit (q[n2]) && n2 < 4)
        n2++;
      if (n2 == 0 || n2 > 3 || g_ascii_isalnum (q[n2]))
        continue;
      if (q[n2] == '.' && g_ascii_isdigit (q[n2 + 1]))
        continue; /* an IP address or version number */
      g_snprintf (out, 16, "%.*s", (int) (q + n2 - p), p);
      return TRUE;
    }
  return FALSE;
}

/* bounce_find_reply_code: the first SMTP reply code (a three-digit number
 * starting with 4 or 5, second digit 0-5, standing alone) in @text. */
gboolean
bounce_find_reply_code (const char *text, char out[4])
{
  const char *p;

  if (text == NULL)
    return FALSE;
  for (p = text; *p; p++)
    {
      if (!(*p == '4' || *p == '5') || !g_ascii_isdigit (p[1]) || !g_ascii_isdigit (p[2]) || p[1] > '5')
        continue;
      /* "host:465" is a port; "ERROR_CODE :421", a label, a blank and
       * a colon before the code, is a reply. */
      if (p > text
          && (g_ascii_isalnum (p[-1]) || p[-1] == '.' || p[-1] == '#' || p[-1] == '-' || p[-1] == '/'
              || (p[-1] == ':' && !(p - 1 > text && p[-2] == ' '))))
        continue;
      /* "550." and "550x" are not codes; a continuation line's "550-"
       * is one when a status or a blank follows. */
      if (g_ascii_isalnum (p[3]) || p[3] == '.' || p[3] == ':' || p[3] == '/' || p[3] == '@')
        continue;
      if (p[3] == '-' && !g_ascii_isdigit (p[4]) && p[4] != ' ')
        continue;
      memcpy (out, p, 3);
      out[3] = '\0';
      return TRUE;
    }
  return FALSE;
}

BounceRecipient *
bounce_recipient_new (void)
{
  BounceRecipient *r = g_new0 (BounceRecipient, 1);

  r->permanent = -1;
  return r;
}

void
bounce_recipient_free (BounceRecipient *r)
{
  if (r == NULL)
    return;
  g_free (r->address);
  g_free (r->original_recipient);
  g_free (r->action);
  g_free (r->status);
  g_free (r->reply_code);
  g_free (r->diagnostic);
  g_free (r->remote_mta);
  g_free (r->reason);
  g_free (r->last_attempt);
  g_free (r->will_retry_until);
  g_free (r->command);
  g_free (r);
}

/* bounce_name_index: the index of @name among the @n @names (an enum's
 * names, in its order), or -1. */
int
bounce_name_index (const char *const *names, guint n, const char *name)
{
  for (guint i = 0; i < n; i++)
    if (g_strcmp0 (name, names[i]) == 0)
      return i;
  return -1;
}

/* bounce_compare_strings: for g_ptr_array_sort() of strings, in byte
 * order. */
int
bounce_compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

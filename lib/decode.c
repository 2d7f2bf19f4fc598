/* decode.c — quoted-printable and base64 transfer encodings decoded.
 *
 * The output is byte for byte GMime's one-shot decode (a state initialised
 * with g_mime_encoding_init_decode, then one g_mime_encoding_flush over the
 * whole input), malformed input included, but read eight bytes or a quartet
 * at a time where it can rather than a byte at a time:
 *
 * quoted-printable: "=" and two hex digits (either case) is the byte they
 * spell; "=\n" and "=\r\n" are soft line breaks, dropped; "=" and any other
 * two bytes are kept as they are, the third not read again even when it is
 * an "=" itself; a "=" or "=X" cut by the end of the input is dropped;
 * everything else is copied.
 *
 * base64: bytes out of the alphabet are skipped; the first "=" ends the
 * stream, after it nothing is read; before it, a quartet of which two
 * characters were read gives one byte, three give two; characters short of
 * a quartet at the end without an "=" give nothing.
 */
#include "bounce-private.h"

#include <string.h>

/* How far past the bytes asked for a decode may write. */
#define DECODE_SLACK 16

/* In the table below, "___" is a byte out of the alphabet (NOT_IN). */
#define NOT_IN 0x80
#define PAD 0x40
#define ___ NOT_IN

/* The value of a base64 character, by byte; PAD for "=". */
static const guint8 b64_value[256] = {
  /* clang-format off */
  ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___,
  ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___,
  ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___,  62, ___, ___, ___,  63,
   52,  53,  54,  55,  56,  57,  58,  59,  60,  61, ___, ___, ___, PAD, ___, ___,
  ___,   0,   1,   2,   3,   4,   5,   6,   7,   8,   9,  10,  11,  12,  13,  14,
   15,  16,  17,  18,  19,  20,  21,  22,  23,  24,  25, ___, ___, ___, ___, ___,
  ___,  26,  27,  28,  29,  30,  31,  32,  33,  34,  35,  36,  37,  38,  39,  40,
   41,  42,  43,  44,  45,  46,  47,  48,  49,  50,  51, ___, ___, ___, ___, ___,
  ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___,
  ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___,
  ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___,
  ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___,
  ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___,
  ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___,
  ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___,
  ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___, ___,
  /* clang-format on */
};
#undef ___

/* The value of a hex digit, by byte, either case, with HEX set; 0 for the
 * rest. */
#define HEX 0x10
static const guint8 hex_value[256] = {
  /* clang-format off */
  ['0'] = HEX | 0,   ['1'] = HEX | 1,   ['2'] = HEX | 2,   ['3'] = HEX | 3,   ['4'] = HEX | 4,
  ['5'] = HEX | 5,   ['6'] = HEX | 6,   ['7'] = HEX | 7,   ['8'] = HEX | 8,   ['9'] = HEX | 9,
  ['A'] = HEX | 10,  ['B'] = HEX | 11,  ['C'] = HEX | 12,  ['D'] = HEX | 13,  ['E'] = HEX | 14,  ['F'] = HEX | 15,
  ['a'] = HEX | 10,  ['b'] = HEX | 11,  ['c'] = HEX | 12,  ['d'] = HEX | 13,  ['e'] = HEX | 14,  ['f'] = HEX | 15,
  /* clang-format on */
};

#define ONES G_GUINT64_CONSTANT (0x0101010101010101)
#define LOW7 G_GUINT64_CONSTANT (0x7f7f7f7f7f7f7f7f)

/* The high bit set in each byte of @w that is an "=", and no other bit. */
static inline guint64
equals_signs (guint64 w)
{
  guint64 x = w ^ (ONES * '=');

  return ~(((x & LOW7) + LOW7) | x | LOW7);
}

/* Quoted-printable @in (@len bytes) decoded into @out, which has room
 * for MIN (@len, @max) + DECODE_SLACK bytes; stops once @max bytes are
 * written (a few more may be). Returns the number written. */
static gsize
qp_decode (const guchar *in, gsize len, guchar *out, gsize max)
{
  const guchar *p = in, *end = in + len;
  guchar *o = out, *stop = out + MIN (len, max);

  while (p < end && o < stop)
    {
      guint hi, lo;

      if (*p != '=')
        {
          /* Eight bytes copied at a time, then those before an "=". */
          guint64 w, signs;
          guint k;

          if (end - p < 8)
            {
              *o++ = *p++;
              continue;
            }
          memcpy (&w, p, sizeof w);
          memcpy (o, &w, sizeof w);
          signs = equals_signs (w);
          if (!signs)
            {
              o += 8;
              p += 8;
              continue;
            }
#if G_BYTE_ORDER == G_LITTLE_ENDIAN && defined(__GNUC__)
          k = __builtin_ctzll (signs) / 8;
#else
          for (k = 0; p[k] != '='; k++)
            ;
#endif
          o += k;
          p += k;
        }
      /* At an "=". */
      if (end - p < 3)
        {
          /* "=\n" spells nothing; "=" and "=X" cut by the end are dropped. */
          break;
        }
      if (p[1] == '\n')
        {
          p += 2;
          continue;
        }
      hi = hex_value[p[1]];
      lo = hex_value[p[2]];
      if (hi & lo & HEX)
        *o++ = (guchar) (hi << 4 | (lo & 0xf)); /* HEX shifted out */
      else if (p[1] != '\r' || p[2] != '\n')
        {
          o[0] = '=';
          o[1] = p[1];
          o[2] = p[2];
          o += 3;
        }
      p += 3;
    }
  return o - out;
}

/* Base64 @in (@len bytes) decoded into @out, which has room for
 * MIN (@len, @max) + DECODE_SLACK bytes; stops once @max bytes are
 * written (a few more may be). Returns the number written. */
static gsize
base64_decode (const guchar *in, gsize len, guchar *out, gsize max)
{
  const guchar *p = in, *end = in + len;
  guchar *o = out, *stop = out + MIN (len, max);
  guint32 saved = 0;
  guint n = 0;

  while (p < end && o < stop)
    {
      guint v;

      /* Whole quartets of the alphabet, at a quartet's start. */
      if (n == 0)
        while (end - p >= 4 && o < stop)
          {
            guint32 a = b64_value[p[0]], b = b64_value[p[1]], c = b64_value[p[2]], d = b64_value[p[3]], q;

            if ((a | b | c | d) & (PAD | NOT_IN))
              break;
            /* Three bytes and one more, written over by the next. */
            q = GUINT32_TO_BE (a << 26 | b << 20 | c << 14 | d << 8);
            memcpy (o, &q, sizeof q);
            o += 3;
            p += 4;
          }
      if (p == end || o >= stop)
        break;
      v = b64_value[*p++];
      if (v & NOT_IN)
        continue;
      if (v == PAD)
        {
          /* The end of the stream: what the quartet read so far spells. */
          if (n >= 2)
            *o++ = (guchar) (saved >> (n == 2 ? 4 : 10));
          if (n == 3)
            *o++ = (guchar) (saved >> 2);
          break;
        }
      saved = saved << 6 | v;
      if (++n == 4)
        {
          o[0] = (guchar) (saved >> 16);
          o[1] = (guchar) (saved >> 8);
          o[2] = (guchar) saved;
          o += 3;
          saved = 0;
          n = 0;
        }
    }
  return o - out;
}

/* bounce_transfer_decode: @in (@len bytes, not necessarily NUL-terminated)
 * decoded from @encoding (base64 or quoted-printable; anything else is
 * copied), at most its first @max bytes: the prefix of GMime's one-shot
 * decode of the whole of @in.
 * Returns: (transfer full) */
GByteArray *
bounce_transfer_decode (GMimeContentEncoding encoding, const char *in, gsize len, gsize max)
{
  GByteArray *bytes = g_byte_array_new ();
  gsize n;

  if (len == 0 || max == 0)
    return bytes;
  g_byte_array_set_size (bytes, MIN (len, max) + DECODE_SLACK);
  if (encoding == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE)
    n = qp_decode ((const guchar *) in, len, bytes->data, max);
  else if (encoding == GMIME_CONTENT_ENCODING_BASE64)
    n = base64_decode ((const guchar *) in, len, bytes->data, max);
  else
    {
      n = MIN (len, max);
      if (n)
        memcpy (bytes->data, in, n);
    }
  g_byte_array_set_size (bytes, MIN (n, max));
  return bytes;
}

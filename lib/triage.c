/* triage.c — decide from the header block alone whether a message can be a
 * report of any kind, so that ordinary mail is never MIME-parsed.
 *
 * A message is a candidate when any of these holds: its Content-Type is a
 * multipart/report; it comes from a mailer daemon, postmaster or other
 * automatic sender (From or an empty Return-Path); it says it was generated
 * automatically (Auto-Submitted other than "no", X-Autoreply and kin,
 * Precedence: auto_reply, X-Failed-Recipients); or its Subject holds one of
 * the words that reports, virus notices, challenges and auto-replies use.
 * The test errs towards "candidate": a wrong "yes" costs one parse, a
 * wrong "no" loses a report. When the Subject alone made it a candidate,
 * the caller may take a second look at the body before it parses
 * (bounce_second_look, below); bounce_worth_parsing makes both calls.
 *
 * The caller says how much of the header block may be read.
 */
#include "bounce-private.h"
#include "generic-private.h"

#include <string.h>

/* @c, an ASCII capital lowered. */
static inline guchar
lower (guchar c)
{
  return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* lower () as a table, for the loops that read a value byte by byte. */
#define LOWER1(c) ((c) >= 'A' && (c) <= 'Z' ? (c) + ('a' - 'A') : (c))
#define LOWER4(c) LOWER1 (c), LOWER1 (c + 1), LOWER1 (c + 2), LOWER1 (c + 3)
#define LOWER16(c) LOWER4 (c), LOWER4 (c + 4), LOWER4 (c + 8), LOWER4 (c + 12)
#define LOWER64(c) LOWER16 (c), LOWER16 (c + 16), LOWER16 (c + 32), LOWER16 (c + 48)
static const guchar lower_table[256] = { LOWER64 (0), LOWER64 (64), LOWER64 (128), LOWER64 (192) };

/* How much of a header value the triage reads: no mail system writes
 * its words further on. */
#define MAX_VALUE 1023

/* Whether @text (@n bytes) has no byte but those of @set. */
static gboolean
only_of (const char *text, gsize n, const char *set)
{
  for (gsize i = 0; i < n; i++)
    if (text[i] == '\0' || strchr (set, text[i]) == NULL)
      return FALSE;
  return TRUE;
}

/* A word sought in header values, and its length. */
typedef struct
{
  const char *s;
  gsize len;
} Word;

#define W(s)                                                                                                           \
  {                                                                                                                    \
    s, sizeof (s) - 1                                                                                                  \
  }

/* A list of words indexed by first byte, so that a value is read once
 * whatever the number of words; a bit per pair of first bytes lets most
 * places be passed over at once. Every word has at least two bytes. */
typedef struct
{
  const Word *words;
  guint16 start[257]; /* words starting with byte c: order[start[c]..start[c+1]) */
  guint16 order[256];
  guint64 pairs[65536 / 64]; /* bit (a << 8 | b): a word starts with a, b,
                              * ASCII letters in either case */
} WordSet;

#define PAIR(a, b) (((guint) (guchar) (a) << 8) | (guchar) (b))

static void
wordset_init (WordSet *set, const Word *words)
{
  guint n = 0, at = 0;

  set->words = words;
  while (words[n].s)
    n++;
  g_assert (n <= G_N_ELEMENTS (set->order));
  for (guint c = 0; c < 256; c++)
    {
      set->start[c] = at;
      for (guint i = 0; i < n; i++)
        if ((guchar) words[i].s[0] == c)
          set->order[at++] = i;
    }
  set->start[256] = at;
  for (guint i = 0; i < n; i++)
    {
      g_assert (words[i].len >= 2);
      /* Each byte as it is and, for a letter, as a capital. */
      for (guint k = 0; k < 4; k++)
        {
          guchar a = words[i].s[0], b = words[i].s[1];
          guint pair = PAIR (k & 1 ? g_ascii_toupper (a) : a, k & 2 ? g_ascii_toupper (b) : b);

          set->pairs[pair / 64] |= G_GUINT64_CONSTANT (1) << (pair % 64);
        }
    }
}

/* Whether @text (@n bytes), ASCII letters compared without regard to
 * case, holds one of the set's words (written in lower case). */
static gboolean
wordset_find (const WordSet *set, const char *text, gsize n)
{
  const guchar *t = (const guchar *) text;

  for (gsize i = 0; i + 1 < n; i++)
    {
      guint pair = PAIR (t[i], t[i + 1]), a, b;

      if (!(set->pairs[pair / 64] & (G_GUINT64_CONSTANT (1) << (pair % 64))))
        continue;
      a = lower_table[t[i]];
      b = lower_table[t[i + 1]];
      for (guint k = set->start[a]; k < set->start[a + 1]; k++)
        {
          const Word *w = &set->words[set->order[k]];
          gsize j = 2;

          if (w->len > n - i || (guchar) w->s[1] != b)
            continue;
          while (j < w->len && lower_table[t[i + j]] == (guchar) w->s[j])
            j++;
          if (j == w->len)
            return TRUE;
        }
    }
  return FALSE;
}

/* Whether @text (@n bytes) holds @needle (in lower case), ASCII letters
 * compared without regard to case. */
static gboolean
contains_ci (const char *text, gsize n, const char *needle)
{
  const guchar *t = (const guchar *) text, *end = t + n;
  gsize m = strlen (needle);

  /* A needle that starts with no letter ("=?") is looked for with
   * memchr: there is one way to write its first byte. */
  if (!g_ascii_isalpha (needle[0]))
    {
      const guchar *q = t;

      while ((gsize) (end - q) >= m && (q = memchr (q, needle[0], end - q - m + 1)) != NULL)
        {
          gsize j = 1;

          while (j < m && lower_table[q[j]] == (guchar) needle[j])
            j++;
          if (j == m)
            return TRUE;
          q++;
        }
      return FALSE;
    }
  for (gsize i = 0; i + m <= n; i++)
    {
      gsize j = 0;

      while (j < m && lower_table[t[i + j]] == (guchar) needle[j])
        j++;
      if (j == m)
        return TRUE;
    }
  return FALSE;
}

/* Words in the From of automatic senders. */
static const Word auto_senders[] = {
  W ("mailer-daemon"),
  W ("mailer_daemon"),
  W ("maildaemon"),
  W ("mailerdaemon"),
  W ("postmaster"),
  W ("post_master"),
  W ("mail delivery"),
  W ("delivery subsystem"),
  W ("delivery system"),
  W ("mail system"),
  W ("mail administrator"),
  W ("mailadmin"),
  W ("mail-admin"),
  W ("system administrator"),
  W ("bounce"),
  W ("devnull"),
  W ("nobody@"),
  W ("noreply"),
  W ("no-reply"),
  W ("do-not-reply"),
  W ("donotreply"),
  W ("virus"),
  W ("antivirus"),
  W ("anti-virus"),
  W ("scanner"),
  W ("mailscanner"),
  W ("mailsweeper"),
  W ("interscan"),
  W ("quarantine"),
  W ("amavis"),
  W ("mailguard"),
  W ("mail guard"),
  W ("autoreply"),
  W ("auto-reply"),
  W ("autoresponder"),
  W ("auto-responder"),
  W ("vacation"),
  W ("out of office"),
  W ("challenge"),
  W ("verify"),
  W ("confirm"),
  W ("tmda"),
  W ("spamarrest"),
  W ("boxbe"),
  W ("bluebottle"),
  W ("mailblocks"),
  W ("root@"),
  W ("mmdf"),
  W ("abuse"),
  W ("feedback"),
  W ("fbl"),
  W ("complaints"),
  W ("mailmaster"),
  W ("mail-router"),
  W ("-admin@"),
  W ("owner-"),
  W ("-owner@"),
  W ("-request@"),
  W ("listserv"),
  W ("majordomo"),
  W ("mailman"),
  { NULL, 0 },
};

/* Words of reports in scripts an encoded subject may use. */
static const Word foreign_subjects[] = {
  W ("配信"),
  W ("不達"),
  W ("エラー"),
  W ("送信"),
  W ("未送信"),
  W ("返送"),
  W ("宛先"),
  W ("不在"),
  W ("自動"),
  W ("通知"),
  W ("退信"),
  W ("投递"),
  W ("失败"),
  W ("系统"),
  W ("退回"),
  W ("無法"),
  W ("傳遞"),
  W ("自动"),
  W ("回复"),
  W ("回覆"),
  W ("失敗"),
  W ("傳送"),
  W ("无法"),
  W ("退件"),
  W ("자동"),
  W ("반송"),
  W ("실패"),
  W ("Недостав"),
  W ("недостав"),
  W ("Не доставлено"),
  W ("не доставлено"),
  W ("Ошибка"),
  W ("ошибка"),
  W ("Автоответ"),
  W ("автоответ"),
  W ("Уведомление"),
  W ("уведомление"),
  W ("Возврат"),
  W ("Отпуск"),
  W ("abwesenheit"),
  W ("unzustellbar"),
  W ("zustellung"),
  W ("nicht zustellbar"),
  W ("non remis"),
  W ("absence"),
  W ("Échec"),
  W ("échec"),
  W ("réponse automatique"),
  W ("risposta automatica"),
  W ("respuesta automática"),
  W ("resposta automática"),
  W ("não entregue"),
  W ("no entregado"),
  { NULL, 0 },
};

/* The envelope senders of reports: empty, or a mail system's. */
static const Word report_envelopes[] = {
  W ("mailer-daemon"), W ("mailer_daemon"), W ("postmaster"), W ("post_master"), W ("<>"), { NULL, 0 },
};

/* Words in the Subject of reports, notices, challenges and auto-replies. */
static const Word report_subjects[] = {
  W ("undeliver"),    W ("undelivered"),   W ("not delivered"), W ("non delivered"), W ("nondeliver"),
  W ("non-deliver"),  W ("delivery"),      W ("deliver"),       W ("failure"),       W ("failed"),
  W ("fail"),         W ("returned"),      W ("return"),        W ("bounce"),        W ("rejected"),
  W ("reject"),       W ("error"),         W ("unable"),        W ("could not"),     W ("couldn't"),
  W ("can't"),        W ("cannot"),        W ("warning"),       W ("delayed"),       W ("delay"),
  W ("notice"),       W ("notification"),  W ("virus"),         W ("infected"),      W ("malware"),
  W ("worm"),         W ("blocked"),       W ("quarantin"),     W ("banned"),        W ("filtered"),
  W ("policy"),       W ("out of office"), W ("out-of-office"), W ("autorepl"),      W ("auto-repl"),
  W ("auto repl"),    W ("automatic"),     W ("automatisch"),   W ("auto:"),         W ("autoresp"),
  W ("vacation"),     W ("away"),          W ("absent"),        W ("absence"),       W ("holiday"),
  W ("abwesen"),      W ("urlaub"),        W ("abwesenheit"),   W ("congé"),         W ("conge"),
  W ("ausencia"),     W ("ausente"),       W ("vacanze"),       W ("assente"),       W ("afwezig"),
  W ("vakantie"),     W ("frånvaro"),      W ("confirm"),       W ("verif"),         W ("challenge"),
  W ("authori"),      W ("approval"),      W ("pending"),       W ("abuse"),         W ("complaint"),
  W ("read:"),        W ("receipt"),       W ("disposition"),   W ("displayed"),     W ("message status"),
  W ("mail system"),  W ("postmaster"),    W ("mailer"),        W ("non remis"),     W ("non-remis"),
  W ("distribuição"), W ("entrega"),       W ("zustell"),       W ("unzustellbar"),  W ("nicht zustellbar"),
  W ("onbestelbaar"), W ("recipient"),     W ("user unknown"),  W ("unknown"),       W ("mailbox"),
  W ("quota"),        W ("expired"),       W ("not member"),    W ("not a member"),  W ("loop"),
  W ("test message"), W ("registration"),  { NULL, 0 },
};

static const Word auto_headers[] = {
  W ("x-failed-recipients"),
  W ("x-autoreply"),
  W ("x-autorespond"),
  W ("x-autoresponder"),
  W ("x-auto-response"),
  W ("x-vacation"),
  W ("x-mailer-daemon"),
  W ("x-amavis-alert"),
  W ("x-virus-notice"),
  W ("x-mailscanner-virus"),
  W ("x-tmda"),
  W ("x-boxbe"),
  W ("x-spamarrest"),
  W ("x-challenge"),
  W ("x-autogenerated"),
  W ("x-ms-exchange-generated-message-source"),
  W ("x-ms-exchange-message-is-ndr"),
  W ("x-postfix-queue-id-bounce"),
  W ("x-dsnsource"),
  W ("x-ses-outgoing"),
  W ("x-mailgun-bounce"),
  W ("x-sendgrid-bounce"),
  W ("feedback-type"),
  W ("x-hmxmroriginalrecipient"),
  W ("x-original-failed-recipients"),
  { NULL, 0 },
};

/* The header fields the triage reads, by what it does with them. */
typedef enum
{
  FIELD_CONTENT_TYPE = 1,
  FIELD_FROM,
  FIELD_ENVELOPE, /* Sender, Return-Path */
  FIELD_SUBJECT,
  FIELD_AUTO_SUBMITTED,
  FIELD_PRECEDENCE,
  FIELD_AUTOMATIC, /* one of auto_headers: its presence is enough */
} Field;

#define MAX_NAME 64 /* longer names are none of these */

typedef struct
{
  WordSet senders, foreign, envelopes, subjects;
  /* The names read, by length: names[by_length[n]..by_length[n + 1]) are
   * n bytes long. Most fields of a header block are passed over after
   * a look at their length and first letter, without copying their
   * name. */
  guint8 by_length[MAX_NAME + 1];
  gboolean first[256]; /* the first bytes of the names read, in either case */
  struct
  {
    const char *s; /* in lower case */
    Field field;
  } names[64];
} Sets;

static gpointer
sets_init (gpointer data)
{
  static Sets sets;
  /* Every name bounce_triage () compares, below. */
  static const struct
  {
    const char *s;
    Field field;
  } read[] = {
    { "content-type", FIELD_CONTENT_TYPE }, { "from", FIELD_FROM },       { "sender", FIELD_ENVELOPE },
    { "return-path", FIELD_ENVELOPE },      { "subject", FIELD_SUBJECT }, { "auto-submitted", FIELD_AUTO_SUBMITTED },
    { "precedence", FIELD_PRECEDENCE },
  };
  guint n = 0;

  wordset_init (&sets.senders, auto_senders);
  wordset_init (&sets.foreign, foreign_subjects);
  wordset_init (&sets.envelopes, report_envelopes);
  wordset_init (&sets.subjects, report_subjects);

  for (guint len = 0; len < MAX_NAME; len++)
    {
      sets.by_length[len] = n;
      for (guint i = 0; i < G_N_ELEMENTS (read); i++)
        if (strlen (read[i].s) == len)
          {
            sets.names[n].s = read[i].s;
            sets.names[n++].field = read[i].field;
          }
      for (guint i = 0; auto_headers[i].s; i++)
        if (auto_headers[i].len == len)
          {
            g_assert (n < G_N_ELEMENTS (sets.names));
            sets.names[n].s = auto_headers[i].s;
            sets.names[n++].field = FIELD_AUTOMATIC;
          }
    }
  sets.by_length[MAX_NAME] = n;
  for (guint k = 0; k < n; k++)
    {
      sets.first[(guchar) sets.names[k].s[0]] = TRUE;
      sets.first[(guchar) g_ascii_toupper (sets.names[k].s[0])] = TRUE;
    }
  return &sets;
}

/* Which of the fields read the name @name (@n bytes) is, ASCII letters
 * compared without regard to case; 0 for none. */
static Field
field_of (const Sets *sets, const char *name, gsize n)
{
  guchar first;

  if (n >= MAX_NAME || sets->by_length[n] == sets->by_length[n + 1])
    return 0;
  first = lower (name[0]);
  for (guint k = sets->by_length[n]; k < sets->by_length[n + 1]; k++)
    {
      const char *s = sets->names[k].s;
      gsize i = 1;

      if ((guchar) s[0] != first)
        continue;
      while (i < n && lower (name[i]) == (guchar) s[i])
        i++;
      if (i == n)
        return sets->names[k].field;
    }
  return 0;
}

/* An encoded subject, decoded: does it hold a report's words? */
static gboolean
subject_words (const Sets *sets, const char *value, gsize n)
{
  g_autofree char *raw = g_strndup (value, n);
  g_autofree char *text = bounce_header_decode (raw);
  gsize tl = text ? strlen (text) : 0;

  return text && (wordset_find (&sets->subjects, text, tl) || wordset_find (&sets->foreign, text, tl));
}

/* bounce_triage: whether the header block of @data (read up to @len
 * bytes) could belong to a report of any kind: NO, or YES as soon as a
 * report's type, sender or headers are seen, or SUBJECT when only the
 * Subject has a report's word. Unless it says YES, the whole block was
 * read, and *@header_end (if not NULL) is set to where it ends, as
 * bounce_header_block_end (@data, @len) would say. */
BounceTriage
bounce_triage (const char *data, gsize len, gsize *header_end)
{
  static GOnce once = G_ONCE_INIT;
  const Sets *sets = g_once (&once, sets_init, NULL);
  BounceTriage seen = BOUNCE_TRIAGE_NO;
  BounceHeaderField field;
  gsize pos = 0;

  /* Each unfolded header up to the blank line that ends the block; the
   * name and value of those whose first byte may start a name read. */
  while (bounce_header_span (data, len, &pos, &field))
    {
      const char *v;
      gsize n;

      if (!sets->first[(guchar) field.line[0]])
        continue;
      bounce_header_name (&field);
      /* The value, read up to MAX_VALUE bytes */
      v = field.value;
      n = MIN (field.value_len, (gsize) MAX_VALUE);
      if (v == NULL)
        continue;
      switch (field_of (sets, field.line, field.name_len))
        {
        case FIELD_CONTENT_TYPE:
          if (contains_ci (v, n, "report"))
            return BOUNCE_TRIAGE_YES;
          break;
        case FIELD_FROM:
          if (wordset_find (&sets->senders, v, n))
            return BOUNCE_TRIAGE_YES;
          break;
        case FIELD_ENVELOPE:
          /* A list's envelope is its own address; a report's, a mail
           * system's or empty ("<>", "< >", nothing). */
          if (wordset_find (&sets->envelopes, v, n) || only_of (v, n, " \t\r\n<>"))
            return BOUNCE_TRIAGE_YES;
          break;
        case FIELD_SUBJECT:
          /* Read on: another header may say more. */
          if (wordset_find (&sets->subjects, v, n)
              || (contains_ci (v, n, "=?") && subject_words (sets, v, field.value_len)))
            seen = BOUNCE_TRIAGE_SUBJECT;
          break;
        case FIELD_AUTO_SUBMITTED:
          {
            gsize i = 0;

            /* "no" alone says a person sent it */
            while (i < n && (v[i] == ' ' || v[i] == '\t'))
              i++;
            if (!(n - i >= 2 && lower (v[i]) == 'n' && lower (v[i + 1]) == 'o'
                  && (n - i == 2 || !g_ascii_isalpha (v[i + 2]))))
              return BOUNCE_TRIAGE_YES;
            break;
          }
        case FIELD_PRECEDENCE:
          if (contains_ci (v, n, "auto"))
            return BOUNCE_TRIAGE_YES;
          break;
        case FIELD_AUTOMATIC:
          return BOUNCE_TRIAGE_YES;
        default:
          break;
        }
    }
  if (header_end)
    *header_end = pos;
  return seen;
}

/* ---- a second look at plain messages -------------------------------------
 *
 * Ordinary mail often has a word of reports in its Subject ("error",
 * "delivery", "fail"), and the triage lets it through. When that Subject
 * is all there is, and the message is one plain-text part whose bytes are
 * its text, the full parse can be foreseen without GMime: it finds no
 * report part, no automatic sender or headers (the triage saw none), and
 * it calls the message a report only through what the text and the
 * Subject and From hold. That is ruled out when none of these is there:
 * the words of any rule that could make it a report, delivery-status
 * field names, what the format-free reader needs to read a report of its
 * own (a mail system's or a role address's From, a null Return-Path; for
 * a challenge, a Subject that asks to confirm), or an address with a
 * digit on its line or the three after it (the generic reading of a
 * failure needs a code there). Every check errs towards the full
 * parse. */

/* Whether a Content-Type value says plain text, read by GMime's own
 * parser as the full parse reads it; *@charset: the charset it names, or
 * NULL. */
static gboolean
plain_text_type (const char *v, char **charset)
{
  g_autoptr (GMimeParserOptions) opts = (bounce_gmime_init (), bounce_parser_options ());
  GMimeContentType *ct = g_mime_content_type_parse (opts, v);
  gboolean plain = ct && g_mime_content_type_is_type (ct, "text", "plain") && *charset == NULL;

  /* A second Content-Type is left to GMime. */
  if (plain)
    *charset = g_strdup (g_mime_content_type_get_parameter (ct, "charset"));
  g_clear_object (&ct);
  return plain;
}

/* Whether @hay (@n bytes) holds the name of a delivery-status field that
 * starts a group of them, ASCII letters compared without regard to
 * case. */
static gboolean
holds_dsn_field (const char *hay, gsize n)
{
  for (gsize i = 0; i < n; i++)
    {
      guchar c = hay[i] | 0x20;

      if ((c == 'r' && n - i >= 13 && g_ascii_strncasecmp (hay + i, "reporting-mta", 13) == 0)
          || (c == 'f' && n - i >= 15 && g_ascii_strncasecmp (hay + i, "final-recipient", 15) == 0))
        return TRUE;
    }
  return FALSE;
}

/* Whether a line of @body holds an '@' and it or one of the three lines
 * after it a digit. */
static gboolean
address_near_digits (const char *body, gsize n)
{
  const char *p = body, *end = body + n;
  int left = 0; /* lines, this one included, where a digit counts */

  while (p < end)
    {
      const char *nl = memchr (p, '\n', end - p);
      const char *eol = nl ? nl : end;
      gboolean digit = FALSE;

      if (memchr (p, '@', eol - p))
        left = 4;
      for (const char *q = p; q < eol && left > 0 && !digit; q++)
        digit = g_ascii_isdigit (*q);
      if (digit)
        return TRUE;
      if (left > 0)
        left--;
      p = eol + 1;
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

/* The names the format-free reader takes for a mail system's From and
 * for a role address's (generic-evidence.c's SENDER_NAMES and
 * WEAK_SENDER_NAMES), compiled here on their own: compiling all of the
 * reader's phrases costs as much as a whole `check` of the message.
 * tests/test-triage.c checks that they are the reader's. */
static const char *const sender_names[] = {
  "mailer-?daemon|post_?master|mail ?delivery|delivery ?(?:sub)?system|"
  "mail ?(?:system|administrator|admin|master|server|gateway)|system ?administrator|"
  "\\bmta\\b|smtp|mailer\\b|maildelivery|administrateur|systemverwalter",
  "no-?reply|do-?not-?reply|bounce|notif|daemon|auto",
};

static gpointer
senders_init (gpointer data)
{
  static GRegex *senders[G_N_ELEMENTS (sender_names)];

  for (guint i = 0; i < G_N_ELEMENTS (sender_names); i++)
    senders[i] = g_regex_new (sender_names[i], G_REGEX_CASELESS | G_REGEX_OPTIMIZE, 0, NULL);
  return senders;
}

/* bounce_triage_sender_names: the patterns above, for the test. */
const char *const *
bounce_triage_sender_names (void)
{
  return sender_names;
}

/* Whether the format-free reader could take the message for a mail
 * system's report (bounce_generic_weigh): only with a mail system's or a
 * role address's From, or a null Return-Path. @name: the field's name in
 * lower case, @raw its value (@n bytes). */
static gboolean
says_report_sender (const char *name, const char *raw, gsize n)
{
  static GOnce once = G_ONCE_INIT;
  GRegex *const *senders;
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
          return TRUE;
      return !at;
    }
  if (strcmp (name, "from") != 0)
    return FALSE;
  if (memchr (raw, '\0', n))
    return TRUE;
  senders = g_once (&once, senders_init, NULL);
  text = header_text (raw, n);
  return bounce_generic_says (senders[0], text, -1) || bounce_generic_says (senders[1], text, -1);
}

/* Whether a Subject may ask to confirm, as the format-free reader's
 * challenge needs (bounce_generic_challenge: the same words). */
static gboolean
asks_to_confirm (const char *raw, gsize n)
{
  static GRegex *confirm;
  static gsize once;
  g_autofree char *text = NULL;

  if (g_once_init_enter (&once))
    {
      confirm = g_regex_new ("confirm|verif|bestätig|conferm|bevestig|potwierd|подтвер|確認|确认|확인",
                             G_REGEX_CASELESS | G_REGEX_OPTIMIZE, 0, NULL);
      g_once_init_leave (&once, 1);
    }
  if (memchr (raw, '\0', n))
    return TRUE;
  text = header_text (raw, n);
  return bounce_generic_says (confirm, text, -1);
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

/* bounce_second_look: whether the message @data, which the triage let
 * through on its Subject alone, is surely no report (see above). @hend:
 * where its header block ends. */
gboolean
bounce_second_look (const char *data, gsize length, gsize hend, BounceRules *rules)
{
  g_autoptr (GHashTable) headers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, forms_free);
  const char *body = data + hend;
  gsize body_len = length - hend, pos = 0;
  BounceHeaderField field;
  g_autofree char *text = NULL, *charset = NULL;
  BounceLook look = { NULL };
  GPtrArray *forms;

  while (bounce_header_next (data, hend, &pos, &field))
    {
      const char *line = field.line, *vend = field.line + field.len;
      const char *colon = field.value ? field.value - 1 : NULL;
      g_autoptr (GString) value = NULL;
      g_autofree char *name = NULL;
      GPtrArray *had = NULL;
      gboolean known;
      gsize nlen = field.name_len;
      /* A line GMime may not read as a header: it might end the header
       * block there, and read the rest as text. */
      if (nlen == 0)
        return FALSE;
      for (gsize k = 0; k < nlen; k++)
        if ((guchar) line[k] <= ' ' || (guchar) line[k] >= 127)
          return FALSE;
      name = g_ascii_strdown (line, nlen);
      /* What the format-free reader needs for a report of its own. */
      if (says_report_sender (name, colon + 1, vend - colon - 1)
          || (strcmp (name, "subject") == 0 && asks_to_confirm (colon + 1, vend - colon - 1)))
        return FALSE;
      if (strcmp (name, "from") != 0 && strcmp (name, "subject") != 0 && !g_str_has_prefix (name, "content-")
          && !bounce_rules_reads_header (rules, name))
        continue;
      /* The value unfolded: line ends removed. */
      value = g_string_sized_new (vend - colon);
      for (const char *q = colon + 1; q < vend; q++)
        if (*q != '\r' && *q != '\n')
          g_string_append_c (value, *q);
      if (strcmp (name, "content-type") == 0)
        {
          if (strlen (value->str) != value->len || !plain_text_type (value->str, &charset))
            return FALSE;
        }
      else if (strcmp (name, "content-transfer-encoding") == 0)
        {
          g_autofree char *v = g_strstrip (g_ascii_strdown (value->str, value->len));

          if (strcmp (v, "7bit") != 0 && strcmp (v, "8bit") != 0 && strcmp (v, "binary") != 0)
            return FALSE;
        }
      else if (strcmp (name, "content-disposition") == 0)
        return FALSE; /* maybe an attachment, not the text */
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
  if (holds_dsn_field (body, body_len) || address_near_digits (body, body_len))
    return FALSE;

  /* The header forms as lists the rules can read. */
  {
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init (&it, headers);
    while (g_hash_table_iter_next (&it, NULL, &value))
      if (value)
        g_ptr_array_add (value, NULL);
  }
  look.headers = headers;
  forms = g_hash_table_lookup (headers, "from");
  look.from = g_hash_table_contains (headers, "from") ? (forms ? (const char *const *) forms->pdata : NULL)
                                                      : (const char *const[]){ NULL };
  forms = g_hash_table_lookup (headers, "subject");
  look.subject = forms ? (const char *const *) forms->pdata : NULL;

  /* The text as the parse reads it: GMime hands out the bytes of such a
   * body as they are. */
  {
    gsize n = MIN (body_len, (gsize) BOUNCE_MAX_TEXT_BYTES * 2), len;
    g_autofree char *bytes = g_malloc (n + 1);

    memcpy (bytes, body, n);
    bytes[n] = '\0';
    text = bounce_text_to_utf8 (bytes, n, charset, &len);
    look.text = text;
    look.text_len = n ? bounce_finish_text (text, len, NULL) : 0;
  }
  return !bounce_rules_may_report (rules, &look);
}

/* bounce_worth_parsing: whether the message @data (@length bytes, as much
 * as the parse would read) may be a report, so that it is worth parsing:
 * the triage of its header block (read up to @probe bytes) and, when only
 * a word of its Subject made it a candidate, the second look. With
 * BOUNCE_PARSE_NO_TRIAGE in @flags every message is worth it. *@hend:
 * where its header block ends, as bounce_header_block_end() says;
 * *@seen: what the triage made of it. */
gboolean
bounce_worth_parsing (const char *data, gsize length, gsize probe, BounceRules *rules, BounceParseFlags flags,
                      gsize *hend, BounceTriage *seen)
{
  BounceTriage triage;

  *hend = 0;
  triage = (flags & BOUNCE_PARSE_NO_TRIAGE) ? BOUNCE_TRIAGE_YES : bounce_triage (data, probe, hend);
  *seen = triage;
  if (triage == BOUNCE_TRIAGE_YES)
    *hend = bounce_header_block_end (data, probe);
  if (triage == BOUNCE_TRIAGE_NO)
    return FALSE;
  /* A header block the parse refuses needs no second look. */
  if (triage == BOUNCE_TRIAGE_SUBJECT && rules && *hend > 0 && *hend <= BOUNCE_MAX_HEADER_BYTES
      && !(*hend == probe && length > probe))
    return !bounce_second_look (data, length, *hend, rules);
  return TRUE;
}

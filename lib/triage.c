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
 * or a role address's From (no-reply, a list's -request address), the
 * caller may take a second look at the whole message before it parses
 * (bounce_second_look, secondlook.c); bounce_worth_parsing makes both
 * calls.
 *
 * The caller says how much of the header block may be read.
 */
#include "bounce-private.h"

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
  W ("listserv"),
  W ("majordomo"),
  W ("mailman"),
  { NULL, 0 },
};

/* Words in the From of role addresses: shops', services' and lists'
 * notices and digests come from them, and a report now and then. Mail
 * from them alone gets the second look. */
static const Word role_senders[] = {
  W ("noreply"), W ("no-reply"), W ("do-not-reply"), W ("donotreply"), W ("-request@"), { NULL, 0 },
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
  WordSet senders, roles, foreign, envelopes, subjects;
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
  wordset_init (&sets.roles, role_senders);
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
 * report's type, sender or headers are seen, else ROLE when the From is a
 * role address's, SUBJECT when only the Subject has a report's word.
 * Unless it says YES, the whole block was
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
          if (wordset_find (&sets->roles, v, n))
            seen = BOUNCE_TRIAGE_ROLE;
          break;
        case FIELD_ENVELOPE:
          /* A list's envelope is its own address; a report's, a mail
           * system's or empty ("<>", "< >", nothing). */
          if (wordset_find (&sets->envelopes, v, n) || only_of (v, n, " \t\r\n<>"))
            return BOUNCE_TRIAGE_YES;
          break;
        case FIELD_SUBJECT:
          /* Read on: another header may say more. */
          if (seen == BOUNCE_TRIAGE_NO
              && (wordset_find (&sets->subjects, v, n)
                  || (contains_ci (v, n, "=?") && subject_words (sets, v, field.value_len))))
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

/* bounce_worth_parsing: whether the message @data (@length bytes, as much
 * as the parse would read) may be a report, so that it is worth parsing:
 * the triage of its header block (read up to @probe bytes) and, when only
 * a word of its Subject or a role address's From made it a candidate,
 * the second look. With
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
  if ((triage == BOUNCE_TRIAGE_SUBJECT || triage == BOUNCE_TRIAGE_ROLE) && rules && *hend > 0
      && *hend <= BOUNCE_MAX_HEADER_BYTES && !(*hend == probe && length > probe))
    return !bounce_second_look (data, length, *hend, rules);
  return TRUE;
}

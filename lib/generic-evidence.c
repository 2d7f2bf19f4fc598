/* generic-evidence.c — whether a report no rule describes is one, and of
 * what kind.
 *
 * A message is read as a failure report without a rule when the evidence
 * adds up and includes both who sent it and what it says: a mail system's
 * From (mailer-daemon, postmaster, "Mail Delivery System", in any
 * spelling), a null or MAILER-DAEMON Return-Path, or a multipart/report
 * type; and a phrase of failure or delay in its Subject or text, in one of
 * the languages below. SMTP reply codes and RFC 3463 codes in the text, a
 * returned original and Auto-Submitted add to it. No single signal is
 * enough: a person's mail that says "delivery failed" or quotes a "550"
 * has no mail system's From and no null Return-Path.
 *
 * Besides failures and delays, a scanner's or filter's words make a virus
 * notice, a request to confirm a challenge, and RFC 3834 headers an
 * automatic reply. What made the reader take a message for a report is
 * noted in the report's signals.
 */
#include "generic-private.h"

#include <string.h>

#define EVIDENCE_TEXT_BYTES (16 * 1024)  /* of the report text, read for phrases and codes */
#define CHALLENGE_TEXT_BYTES (16 * 1024) /* of it, read for a challenge's words */
#define PHRASE_TEXT_BYTES (16 * 1024)    /* of it, at most, read for phrases */

static gboolean
header_says (GMimeObject *msg, const char *name, const char *word)
{
  const char *v = g_mime_object_get_header (msg, name);

  return v && strstr (v, word) != NULL;
}

gboolean
bounce_generic_is_auto_reply (GMimeObject *msg)
{
  const char *as = g_mime_object_get_header (msg, "Auto-Submitted");

  return (as && g_ascii_strncasecmp (g_strchug ((char *) as), "auto-replied", 12) == 0)
         || g_mime_object_get_header (msg, "X-Autoreply") || g_mime_object_get_header (msg, "X-Autorespond")
         || header_says (msg, "Precedence", "auto_reply");
}

/* Points each signal is worth, and what a failure needs. */
enum
{
  EVIDENCE_SENDER = 3,      /* a mail system's From, a null Return-Path */
  EVIDENCE_WEAK_SENDER = 1, /* no-reply, bounce or notification addresses */
  EVIDENCE_REPORT_TYPE = 3, /* multipart/report */
  EVIDENCE_SUBJECT = 2,     /* a phrase of failure or delay in the Subject */
  EVIDENCE_TEXT = 2,        /* the same in the text */
  EVIDENCE_CODE = 1,        /* an SMTP or RFC 3463 code in the text */
  EVIDENCE_ORIGINAL = 1,    /* a returned original */
  EVIDENCE_AUTO = 1,        /* Auto-Submitted other than "no" */
  EVIDENCE_FAILURE = 6,     /* what a failure needs in all */
};

/* Phrases of failure, by language: English, German, French, Spanish,
 * Portuguese, Italian, Dutch, Polish, Russian, Japanese, Chinese
 * (simplified and traditional), Korean; then Swedish, Danish and
 * Norwegian, Finnish, Czech and Slovak, Hungarian, Romanian, Turkish,
 * Greek, Ukrainian, Bulgarian, Croatian and Serbian, Indonesian and Malay,
 * Vietnamese, Catalan. */
#define FAILURE_PHRASES                                                                                                                                                                             \
  "undeliver|could ?n[o']t be delivered|can ?n[o']t be delivered|could not deliver|unable to deliver|"                                                                                              \
  "delivery (?:has |to [^\\n]{0,80} )?failed|delivery failure|failed to deliver|delivery to the following|"                                                                                         \
  "failure notice|returned mail|was not delivered|not been delivered|(?:message|mail) not delivered|"                                                                                               \
  "did not reach|did not receive (?:this|your|the) message|(?:was|were)(?: not|n't) able to deliver|error (?:has "                                                                                  \
  ")?occurred while (?:attempting|trying) to deliver|(?:mail|message) failed|return(?:ed|ing) to sender|host "                                                                                      \
  "unknown|unknown host|"                                                                                                                                                                           \
  "permanent(?:ly)? (?:fatal )?error|fatal error|non-?delivery|mail delivery (?:failed|problem)|"                                                                                                   \
  "rejected|refused|user unknown|unknown user|no such (?:user|mailbox|address)|does ?n[o']t exist|"                                                                                                 \
  "mailbox (?:is )?(?:full|unavailable|not found)|delivery status notification \\(failure\\)|"                                                                                                      \
  "message (?:was )?(?:bounced|blocked|returned)|could not be sent|"                                                                                                                                \
  "unzustellbar|nicht zugestellt|nicht zustellbar|konnte nicht zugestellt|zustellung (?:ist )?fehlgeschlagen|"                                                                                      \
  "unbekannte?r? empf|fehlgeschlagen|"                                                                                                                                                              \
  "non remis|non distribu|pas pu (?:être|etre) (?:remis|distribu|d[ée]livr)|[ée]chec (?:de|lors de) (?:la "                                                                                      \
  ")?(?:remise|livraison|distribution)|"                                                                                                                                                            \
  "impossible de (?:remettre|d[ée]livrer|distribuer)|destinataire inconnu|n'a pas (?:été|pu être) "                                                                                             \
  "(?:remis|distribu|livr|d[ée]livr)|"                                                                                                                                                             \
  "no (?:se )?(?:ha )?(?:podido|pudo) (?:ser )?entreg(?:ar|ado|ada)|no (?:fue |ha sido )?entregad[oa]|"                                                                                             \
  "error (?:permanente )?(?:de|en la) entrega|entrega fallida|imposible entregar|fallo (?:en la|de) entrega|"                                                                                       \
  "n[ãa]o (?:foi )?(?:poss[ií]vel )?entreg|n[ãa]o p[ôo]de ser entregue|falha (?:na|de) entrega|"                                                                                                \
  "non (?:[èe] stato|pu[òo] essere|[èe] stato possibile) (?:recapitat|consegnat)|mancata consegna|"                                                                                              \
  "impossibile (?:recapitare|consegnare)|non recapitabile|"                                                                                                                                         \
  "onbestelbaar|niet (?:worden )?(?:afgeleverd|bezorgd)|kon niet (?:worden )?(?:afgeleverd|bezorgd)|"                                                                                               \
  "nie (?:może|można|mógł|mogła|zostać|został|została) (?:być |zostać )?dostarcz|niedostarcz|błąd dostarcz|"                                                                            \
  "не (?:может быть |удалось |был |была |было )?доставлен|недоставлен|ошибка доставки|невозможно доставить|не " \
  "удалось доставить|"                                                                                                                                                              \
  "配信できません|配送できません|届きませんでした|送信できませんでした|配信に失敗|配送に失敗|配信失敗|配送失敗|不達|"                           \
  "宛先不明|"                                                                                                                                                                                   \
  "エラー通知|メールエラー|"                                                                                                                                                             \
  "无法投递|無法投遞|投递失败|投遞失敗|发送失败|發送失敗|无法发送|無法發送|无法传送|無法傳送|传送失败|傳送失敗|退件|"                             \
  "未能送达|無法送達|无法送达|退信|传递失败|傳遞失敗|"                                                                                                                        \
  "전달되지 않았|전달 실패|전송 실패|배달 실패|배달되지 않았|반송|"                                                                                                       \
  "kunde inte levereras|kunde inte leverera|leveransen misslyckades|kunne ikke "                                                                                                                    \
  "(?:leveres|levere|afleveres)|levering(?:en)? mislykkedes|ikke levert|"                                                                                                                           \
  "ei voitu toimittaa|toimitus epäonnistui|"                                                                                                                                                       \
  "nelze doručit|nebylo možné doručit|nepodařilo doručit|nedoručiteln|nedoručen|nebolo možné doručiť|nepodarilo "                                                                       \
  "doručiť|"                                                                                                                                                                                      \
  "nem sikerült kézbesíteni|kézbesíthetetlen|nem kézbesíthető|"                                                                                                                             \
  "nu a putut fi (?:livrat|trimis)|livrare eșuată|"                                                                                                                                               \
  "teslim edilemedi|iletilemedi|gönderilemedi|"                                                                                                                                                    \
  "δεν (?:ήταν δυνατό να παραδοθεί|παραδόθηκε|ήταν δυνατή η παράδοση)|αποτυχία παράδοσης|"                                    \
  "не вдалося доставити|не доставлено|не може да бъде доставено|не беше доставено|"                                               \
  "nije (?:moguće )?isporučen|nije moguće isporučiti|"                                                                                                                                          \
  "tidak dapat (?:dikirim|disampaikan|dihantar)|gagal (?:dikirim|terkirim|dihantar)|"                                                                                                               \
  "không thể gửi|không gửi được|gửi thất bại|không thể chuyển|"                                                                                                              \
  "no s'ha pogut lliurar"

/* Phrases of delay, in the same languages. */
#define DELAY_PHRASES                                                                                                                              \
  "delayed|delivery delay|not yet been delivered|will (?:continue to |keep )?(?:retry|try)|still (?:trying|being "                                 \
  "retried)|"                                                                                                                                      \
  "could not send (?:message|mail) for (?:the )?past|message still undelivered|delivery status notification "                                      \
  "\\(delay\\)|"                                                                                                                                   \
  "verz[öo]gert|noch nicht zugestellt|retard[ée]|en attente de (?:remise|distribution)|retrasad|"                                                \
  "atrasad|ritardat|vertraagd|opóźnion|задерж|遅延|延迟|延遲|지연|"                                                                \
  "wird (?:weiterhin|erneut) versucht|pas encore (?:été )?(?:remis|distribu|livr)|continuera (?:d'|à )essayer|"                                 \
  "todav[íi]a no (?:ha sido |se ha )?entregad|seguir[áa] intentando|ainda n[ãa]o (?:foi )?entreg|continuar[áa] (?:a "                          \
  "tentar|tentando)|"                                                                                                                              \
  "non (?:[èe] )?ancora (?:stato )?(?:recapitat|consegnat)|continuer[àa] a (?:tentare|provare)|nog niet "                                        \
  "(?:afgeleverd|bezorgd)|"                                                                                                                        \
  "jeszcze nie (?:została |zostało |został )?dostarcz|ещ[её] не (?:был[оа]? )?доставлен|まだ配信されていません|" \
  "尚未投递|尚未投遞|尚未送达|尚未送達|将继续尝试|將繼續嘗試|아직 전달되지 않았"

/* Phrases of a virus scanner or content filter that stopped a message,
 * in the same languages. */
#define CONTENT_PHRASES                                                                                                \
  "virus|malware|malicious|infected|trojan|stopped delivery|dangerous (?:attachment|content)|"                         \
  "(?:attachment|file) (?:type )?(?:is )?not (?:allowed|permitted)|attachment type|banned (?:file|attachment)|"        \
  "schadsoftware|anhangstyp|dateityp|logiciel malveillant|pi[èe]ce jointe (?:interdite|non autoris)|"                 \
  "adjunto no permitido|anexo n[ãa]o permitido|allegato non (?:consentito|ammesso)|bijlage niet toegestaan|"          \
  "niedozwolon[a-z]* załącznik|вредоносн|вирус|ウイルス|ウィルス|病毒|恶意|惡意|바이러스|악성"

/* Phrases of a challenge: confirm that you are a person, in the same
 * languages. */
#define CHALLENGE_PHRASES                                                                                                         \
  "confirm (?:that )?you are (?:a )?(?:real )?(?:person|human)|held until you confirm|"                                           \
  "(?:click|open) (?:on )?(?:the|this) link[^\\n]{0,40}(?:confirm|verif)|please confirm your (?:message|e-?mail)|"                \
  "confirmer (?:l'envoi|votre (?:message|adresse))|qui ont confirm|bestätigen sie (?:ihre|bitte)|"                               \
  "confirme (?:su|seu) (?:mensaje|mensagem|correo|e-?mail)|conferm[ai] (?:il tuo|di essere)|bevestig (?:uw|je) |"                 \
  "potwierd[źz] |подтвердите|確認してください|请确认|請確認|확인해 주십시오|확인해주세요|" \
  "confirm[ea] que (?:usted |você |voce )?(?:es|é|e) (?:una persona|uma pessoa|humano)|confirmer que vous "                     \
  "(?:êtes|etes) (?:une personne|humain)|"                                                                                       \
  "bestätigen sie, dass sie ein mensch sind|bevestig dat u een mens bent"

/* Mail systems' From: the names and local parts they use. */
#define SENDER_NAMES                                                                                                   \
  "mailer-?daemon|post_?master|mail ?delivery|delivery ?(?:sub)?system|"                                               \
  "mail ?(?:system|administrator|admin|master|server|gateway)|system ?administrator|"                                  \
  "\\bmta\\b|smtp|mailer\\b|maildelivery|administrateur|systemverwalter"

#define WEAK_SENDER_NAMES "no-?reply|do-?not-?reply|bounce|notif|daemon|auto"

/* A Subject that asks to confirm. */
#define CONFIRM_WORDS "confirm|verif|bestätig|conferm|bevestig|potwierd|подтвер|確認|确认|확인"

/* A phrase pattern whose blanks match any run of white space, a line
 * break too: reports wrap their sentences anywhere. " ?" becomes "\s*".
 * Returns: (transfer full) */
static char *
phrase_source (const char *pattern)
{
  GString *re = g_string_new (NULL);
  gboolean in_class = FALSE;

  for (const char *c = pattern; *c; c++)
    {
      if (*c == '\\' && c[1])
        {
          g_string_append_len (re, c, 2);
          c++;
        }
      else if (in_class)
        {
          in_class = *c != ']';
          g_string_append_c (re, *c);
        }
      else if (*c == '[')
        {
          in_class = TRUE;
          g_string_append_c (re, *c);
          if (c[1] == '^')
            g_string_append_c (re, *++c);
          if (c[1] == ']')
            g_string_append_c (re, *++c);
        }
      else if (*c == ' ' && c[1] == '?')
        {
          g_string_append (re, "\\s*");
          c++;
        }
      else if (*c == ' ')
        g_string_append (re, "\\s+");
      else
        g_string_append_c (re, *c);
    }
  return g_string_free (re, FALSE);
}

/* A phrase pattern, and its top-level alternatives. Over a text the
 * whole pattern (a hundred alternatives in a dozen languages, without
 * regard to case) is tried at nearly every position: 40 ns a byte
 * JIT-compiled, and with the interpreter it is compiled for, tens of
 * thousands of instructions even over a short Subject. Instead, each
 * alternative with words (prefilter.c) is run alone only when the text
 * holds one of them, the alternatives without words together; where the
 * first match of any of them starts, the whole pattern is run anchored,
 * whatever the text's length. No alternative left out can match
 * anywhere, so that is where the whole pattern's first match starts, and
 * it matches there as it would have over the whole text. The parts are
 * compiled when first run, with the JIT when run often
 * (BouncePattern): a run over one message compiles few. The whole and
 * its parts are compiled as the rules' patterns are (PATTERN_FLAGS). */
struct _BouncePhrases
{
  BouncePattern *whole;
  guint n;
  BouncePattern **parts;
  guint **words; /* of each part, in the phrases' prefilter; NULL: run always */
};

static BouncePhrases *
phrases_new (BouncePrefilter *pf, const char *pattern)
{
  g_autofree char *source = phrase_source (pattern);
  g_auto (GStrv) alts = bounce_pattern_split (source);
  g_autoptr (GString) rest = g_string_new (NULL);
  BouncePhrases *ph = g_new0 (BouncePhrases, 1);
  guint n = alts ? g_strv_length (alts) : 0;

  ph->whole = bounce_pattern_new (source, PATTERN_FLAGS);
  ph->parts = g_new0 (BouncePattern *, n + 1);
  ph->words = g_new0 (guint *, n + 1);
  for (guint i = 0; i < n; i++)
    {
      guint *words = bounce_prefilter_add_pattern (pf, alts[i]);

      if (words == NULL)
        {
          g_string_append_printf (rest, "%s%s", rest->len ? "|" : "", alts[i]);
          continue;
        }
      ph->words[ph->n] = words;
      ph->parts[ph->n++] = bounce_pattern_new (alts[i], PATTERN_FLAGS);
    }
  if (n == 0 || rest->len > 0)
    ph->parts[ph->n++] = bounce_pattern_new (n == 0 ? source : rest->str, PATTERN_FLAGS);
  return ph;
}

/* Whether @ph matches @s (@len bytes, valid UTF-8); *@mi: the match, of
 * the whole pattern. @words: the phrases' words in @s, or in a text that
 * starts with it (the more words, the more parts are run; none is
 * missed), or NULL: @s is scanned for them here. */
static gboolean
phrases_match (const BouncePhrases *ph, const char *s, gsize len, const guint64 *words, GMatchInfo **mi)
{
  const BounceGenericPhrases *p = bounce_generic_phrases ();
  g_autofree guint64 *seen = NULL;
  gsize first = G_MAXSIZE;

  /* (Without the prefilter, as tests compare, the whole pattern.) */
  if (!bounce_prefilter_get_enabled (p->words))
    return g_regex_match_full (bounce_pattern_re (ph->whole, len), s, len, 0, 0, mi, NULL);
  if (words == NULL)
    {
      words = seen = g_new0 (guint64, bounce_prefilter_seen_len (p->words));
      bounce_prefilter_scan (p->words, s, len, seen);
    }
  for (guint i = 0; i < ph->n; i++)
    {
      g_autoptr (GMatchInfo) part = NULL;
      gint at;

      if (bounce_prefilter_may_match (p->words, ph->words[i], words)
          && g_regex_match_full (bounce_pattern_re (ph->parts[i], len), s, len, 0, 0, &part, NULL)
          && g_match_info_fetch_pos (part, 0, &at, NULL) && (gsize) at < first)
        first = at;
    }
  if (first == G_MAXSIZE)
    return FALSE;
  return g_regex_match_full (bounce_pattern_re (ph->whole, len - first), s, len, first, G_REGEX_MATCH_ANCHORED, mi,
                             NULL);
}

static gpointer
phrases_init (gpointer data)
{
  BounceGenericPhrases *p = g_new0 (BounceGenericPhrases, 1);

  p->words = bounce_prefilter_new ();
  p->failure = phrases_new (p->words, FAILURE_PHRASES);
  p->delay = phrases_new (p->words, DELAY_PHRASES);
  p->content = phrases_new (p->words, CONTENT_PHRASES);
  p->challenge = phrases_new (p->words, CHALLENGE_PHRASES);
  p->sender = bounce_generic_senders ()->system;
  p->weak_sender = bounce_generic_senders ()->role;
  /* An SMTP reply code or an RFC 3463 status standing as a word. */
  p->code = bounce_pattern_new ("(?<![\\w.:/-])(?:[45][0-9][0-9](?:[ -]|$)|[245]\\.[0-9]{1,3}\\.[0-9]{1,3}(?![\\w.]))",
                                G_REGEX_MULTILINE);
  /* Words that say a line's address is the recipient. */
  p->near =
      bounce_pattern_new ("RCPT TO|recipient|addressed to|address(?:ee)?|\\bfor <|\\bto <|"
                          "destinataire|empf[äa]nger|destinatario|destinatário|ontvanger|odbiorc|получател|"
                          "宛先|收件人|收件者|수신자|받는 사람|user|mailbox|account|"
                          "mottagare|modtager|mottaker|vastaanottaja|příjemc|príjemc|címzett|destinatar|alıcı|παραλήπτ|"
                          "одержувач|получател|primatelj|penerima|người nhận|" FAILURE_PHRASES,
                          G_REGEX_CASELESS);
  p->address =
      bounce_pattern_new ("(?:\"[^\"\\n]{1,64}\"|[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+)"
                          "@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+",
                          0);
  return p;
}

static gpointer
senders_init (gpointer data)
{
  static BounceSenderPatterns s;

  s.system = bounce_pattern_new (SENDER_NAMES, G_REGEX_CASELESS);
  s.role = bounce_pattern_new (WEAK_SENDER_NAMES, G_REGEX_CASELESS);
  s.confirm = bounce_pattern_new (CONFIRM_WORDS, G_REGEX_CASELESS);
  return &s;
}

const BounceSenderPatterns *
bounce_generic_senders (void)
{
  static GOnce once = G_ONCE_INIT;

  return g_once (&once, senders_init, NULL);
}

const BounceGenericPhrases *
bounce_generic_phrases (void)
{
  static GOnce once = G_ONCE_INIT;

  return g_once (&once, phrases_init, NULL);
}

gboolean
bounce_generic_says (BouncePattern *p, const char *s, gssize len)
{
  if (s == NULL || !g_utf8_validate (s, len, NULL))
    return FALSE;
  return g_regex_match_full (bounce_pattern_re (p, len), s, len, 0, 0, NULL, NULL);
}

/* Whether a phrase of @ph is in @s (@len bytes, or -1; NULL: none);
 * *@mi: the match. @words: as for phrases_match(). */
static gboolean
phrase_in (const BouncePhrases *ph, const char *s, gssize len, const guint64 *words, GMatchInfo **mi)
{
  if (s == NULL || !g_utf8_validate (s, len, NULL))
    return FALSE;
  return phrases_match (ph, s, len < 0 ? strlen (s) : (gsize) len, words, mi);
}

/* bounce_generic_says_phrase: whether @s (@len bytes, or -1) holds one
 * of the phrases of @ph. */
gboolean
bounce_generic_says_phrase (const BouncePhrases *ph, const char *s, gssize len)
{
  g_autoptr (GMatchInfo) mi = NULL;

  return phrase_in (ph, s, len, NULL, &mi);
}

/* The text of match @mi, its white space collapsed, at most 80 bytes.
 * Returns: (transfer full) (nullable) */
static char *
match_text (GMatchInfo *mi)
{
  g_autofree char *whole = g_match_info_fetch (mi, 0);
  char *m;

  m = bounce_collapse_space (whole ? whole : "");
  if (m)
    bounce_truncate_utf8 (m, 80);
  return m;
}

/* What of @s (@len bytes, or -1) @re matched, or NULL.
 * Returns: (transfer full) (nullable) */
static char *
said (BouncePattern *p, const char *s, gssize len)
{
  g_autoptr (GMatchInfo) mi = NULL;

  if (s == NULL || !g_utf8_validate (s, len, NULL)
      || !g_regex_match_full (bounce_pattern_re (p, len), s, len, 0, 0, &mi, NULL))
    return NULL;
  return match_text (mi);
}

/* What of @s (@len bytes, or -1) a phrase of @ph matched, or NULL.
 * @words: as for phrases_match().
 * Returns: (transfer full) (nullable) */
static char *
said_phrase (const BouncePhrases *ph, const char *s, gssize len, const guint64 *words)
{
  g_autoptr (GMatchInfo) mi = NULL;

  return phrase_in (ph, s, len, words, &mi) ? match_text (mi) : NULL;
}

/* The phrases' words in the start of @g's text that they are looked for
 * in, looked for once. */
static const guint64 *
text_words (BounceGeneric *g)
{
  const BounceGenericPhrases *p = bounce_generic_phrases ();

  G_STATIC_ASSERT (EVIDENCE_TEXT_BYTES <= PHRASE_TEXT_BYTES && CHALLENGE_TEXT_BYTES <= PHRASE_TEXT_BYTES);
  if (g->text_words == NULL)
    {
      g->text_words = g_new0 (guint64, bounce_prefilter_seen_len (p->words));
      bounce_prefilter_scan (p->words, g->text, MIN (g->text_len, (gsize) PHRASE_TEXT_BYTES), g->text_words);
    }
  return g->text_words;
}

/* What a phrase of @ph says in the first @n bytes of @g's text (@n at the
 * first byte of a character), as said_phrase() finds it; the text's start
 * is checked for valid UTF-8 once for all the phrases (a shorter start,
 * cut at a character, is valid when the longest is).
 * Returns: (transfer full) (nullable) */
static char *
said_in_text (const BouncePhrases *ph, BounceGeneric *g, gsize n)
{
  g_autoptr (GMatchInfo) mi = NULL;

  if (g->text_valid == 0)
    {
      gsize m = MIN (g->text_len, (gsize) PHRASE_TEXT_BYTES);

      while (m > 0 && m < g->text_len && (g->text[m] & 0xc0) == 0x80)
        m--;
      g->text_valid = g_utf8_validate (g->text, m, NULL) ? 1 : -1;
    }
  if (g->text_valid < 0)
    return said_phrase (ph, g->text, n, text_words (g));
  return phrases_match (ph, g->text, n, text_words (g), &mi) ? match_text (mi) : NULL;
}

/* Note a signal the reader counted: "what (the text it saw)". */
void
bounce_generic_signal_add (BounceGeneric *g, const char *what, const char *seen)
{
  if (g->signals)
    g_ptr_array_add (g->signals, seen ? g_strdup_printf ("%s (\"%s\")", what, seen) : g_strdup (what));
}

/* What the evidence says: BOUNCE_KIND_FAILURE, BOUNCE_KIND_DELAY or
 * BOUNCE_KIND_NOT_BOUNCE. @stop: where the returned original starts;
 * @original: whether one came back; @found: how the recipients held were
 * found. */
BounceKind
bounce_generic_weigh (BounceGeneric *g, gsize stop, gboolean original, Found found)
{
  const BounceGenericPhrases *p = bounce_generic_phrases ();
  GMimeObject *m = g->message;
  g_autofree char *from = bounce_header_text (m, "From");
  const char *rp = g_mime_object_get_header (m, "Return-Path");
  g_autofree char *subject = bounce_header_text (m, "Subject");
  const char *as = g_mime_object_get_header (m, "Auto-Submitted");
  GMimeContentType *ct = g_mime_object_get_content_type (m);
  gsize n = MIN (stop, g->text_len);
  int score = 0;
  gboolean sender = FALSE, weak = FALSE, failure = FALSE, delay = FALSE, subject_delay = FALSE;
  gboolean subject_failure = FALSE, text_failure = FALSE, content = FALSE;
  gboolean carried = original; /* what only a report carries */
  guint first_signal = g->signals ? g->signals->len : 0;
  char *seen;

  if ((seen = said (p->sender, from, -1)) != NULL)
    {
      sender = TRUE;
      bounce_generic_signal_add (g, "From a mail system", seen);
    }
  else if ((seen = said (p->weak_sender, from, -1)) != NULL)
    {
      weak = TRUE;
      bounce_generic_signal_add (g, "From a role address", seen);
    }
  g_free (seen);
  if (rp)
    {
      g_autofree char *v = g_strstrip (g_strdup (rp));

      if (*v == '\0' || strcmp (v, "<>") == 0 || strcmp (v, "< >") == 0
          || g_ascii_strncasecmp (v, "<mailer-daemon", 14) == 0 || g_ascii_strncasecmp (v, "mailer-daemon", 13) == 0)
        {
          sender = carried = TRUE;
          bounce_generic_signal_add (g, *v == '<' && v[1] == '>' ? "a null Return-Path" : "Return-Path",
                                     *v == '<' && v[1] == '>' ? NULL : v);
        }
    }
  score += sender ? EVIDENCE_SENDER : weak ? EVIDENCE_WEAK_SENDER : 0;
  if (g_mime_object_get_header (m, "X-Failed-Recipients"))
    {
      carried = TRUE;
      score += EVIDENCE_CODE;
      bounce_generic_signal_add (g, "X-Failed-Recipients", NULL);
    }
  if (ct && g_mime_content_type_is_type (ct, "multipart", "report"))
    {
      sender = carried = TRUE;
      score += EVIDENCE_REPORT_TYPE;
      bounce_generic_signal_add (g, "Content-Type multipart/report", NULL);
    }
  /* "Warning: message still undelivered": a delay says so first. */
  if ((seen = said_phrase (p->delay, subject, -1, NULL)) != NULL)
    {
      delay = subject_delay = TRUE;
      score += EVIDENCE_SUBJECT;
      bounce_generic_signal_add (g, "a delay in the Subject", seen);
    }
  else if ((seen = said_phrase (p->failure, subject, -1, NULL)) != NULL)
    {
      failure = subject_failure = TRUE;
      score += EVIDENCE_SUBJECT;
      bounce_generic_signal_add (g, "a failure in the Subject", seen);
    }
  g_free (seen);
  n = MIN (n, (gsize) EVIDENCE_TEXT_BYTES);
  while (n > 0 && (g->text[n] & 0xc0) == 0x80)
    n--;
  if ((seen = said_in_text (p->failure, g, n)) != NULL)
    {
      score += EVIDENCE_TEXT;
      failure = text_failure = TRUE;
      bounce_generic_signal_add (g, "a failure in the text", seen);
      g_free (seen);
    }
  if ((seen = said_in_text (p->delay, g, n)) != NULL)
    {
      if (!failure || !subject_delay)
        score += EVIDENCE_TEXT;
      delay = TRUE;
      bounce_generic_signal_add (g, "a delay in the text", seen);
      g_free (seen);
    }
  if ((seen = said (p->code, g->text, n)) != NULL)
    {
      score += EVIDENCE_CODE;
      carried = TRUE;
      bounce_generic_signal_add (g, "a reply or status code in the text", seen);
      g_free (seen);
    }
  /* A scanner or filter that stopped the message says why; a report
   * titled a failure ("Mail delivery failed") stays one whatever the
   * reason it gives. */
  if ((seen = said_phrase (p->content, subject, -1, NULL)) != NULL)
    {
      /* "Virus found in message": the Subject's word, counted once. */
      content = TRUE;
      if (!subject_failure && !subject_delay)
        score += EVIDENCE_SUBJECT;
      bounce_generic_signal_add (g, "a filter's or scanner's words in the Subject", seen);
      g_free (seen);
    }
  else if (!subject_failure && failure && (seen = said_in_text (p->content, g, n)) != NULL)
    {
      content = TRUE;
      bounce_generic_signal_add (g, "a filter's or scanner's words", seen);
      g_free (seen);
    }
  /* "user@example.com: 550 5.1.1 ...": a line a report writes, not a
   * sentence; failure words beside an address count as a report's only
   * when the Subject says so too (a postmaster's notice to all staff
   * can mention undeliverable mail and an address). */
  if (found == FOUND_CODED)
    {
      score += EVIDENCE_TEXT;
      failure = carried = TRUE;
      bounce_generic_signal_add (g, "an address beside a reply or status code", NULL);
    }
  else if (found == FOUND_DAEMON && (subject_failure || subject_delay))
    {
      carried = TRUE;
      if (!text_failure)
        score += EVIDENCE_TEXT;
      text_failure = failure = TRUE;
      bounce_generic_signal_add (g, "an address on a line of failure words", NULL);
    }
  if (original)
    {
      score += EVIDENCE_ORIGINAL;
      bounce_generic_signal_add (g, "a returned copy of the original", NULL);
    }
  if (as && g_ascii_strncasecmp (g_strchug ((char *) as), "no", 2) != 0)
    {
      score += EVIDENCE_AUTO;
      bounce_generic_signal_add (g, "Auto-Submitted", as);
    }
  /* Who sent it, what it says, and something only a report carries (a
   * From is easily written: spam that pretends to be a bounce has one). */
  if (!(sender || (weak && original)) || !(failure || delay || content) || !carried || score < EVIDENCE_FAILURE)
    {
      if (g->signals)
        g_ptr_array_set_size (g->signals, first_signal);
      return BOUNCE_KIND_NOT_BOUNCE;
    }
  if (content)
    return BOUNCE_KIND_VIRUS_NOTICE;
  if (subject_delay || (delay && !subject_failure && !text_failure))
    return BOUNCE_KIND_DELAY;
  return BOUNCE_KIND_FAILURE;
}

/* bounce_generic_may_report: whether bounce_generic_weigh () could take
 * for a report a message that has none of the strong signs of one (no
 * mail system's From, no null Return-Path, no multipart/report type, no
 * X-Failed-Recipients, no Auto-Submitted), from a role address (@role:
 * its weak sender) or not, whose Subject is @subject and report text
 * @text (@len bytes); @part: whether a part of it may be taken for the
 * original. It needs a sender, a role address at least, and then a
 * returned original (that part, or a copy inline in the text), and words
 * of failure, delay or a filter in the Subject, words of failure or delay
 * in the text before the original, or an address beside a code there.
 * Errs towards TRUE. */
gboolean
bounce_generic_may_report (gboolean role, gboolean part, const char *subject, const char *text, gsize len)
{
  const BounceGenericPhrases *p;
  BounceGeneric g = { 0 };
  gsize stop, n;
  gboolean may;
  char *seen = NULL;

  if (!role)
    return FALSE;
  stop = bounce_generic_original (text, len);
  if (!part && stop >= len)
    return FALSE;
  p = bounce_generic_phrases ();
  n = MIN (MIN (stop, len), (gsize) EVIDENCE_TEXT_BYTES);
  if (subject
      && ((seen = said_phrase (p->delay, subject, -1, NULL)) || (seen = said_phrase (p->failure, subject, -1, NULL))
          || (seen = said_phrase (p->content, subject, -1, NULL))))
    {
      g_free (seen);
      return TRUE;
    }
  while (n > 0 && (text[n] & 0xc0) == 0x80)
    n--;
  g.text = text;
  g.text_len = len;
  may = (seen = said_in_text (p->failure, &g, n)) || (seen = said_in_text (p->delay, &g, n))
        || bounce_generic_finds_coded (text, len, stop);
  g_free (seen);
  g_free (g.text_words);
  return may;
}

/* Whether the message asks its sender to confirm that a person sent it:
 * a request to confirm in its Subject and a challenge's words in its
 * text, which it returns, or NULL. Returns: (transfer full) (nullable) */
char *
bounce_generic_challenge (BounceGeneric *g)
{
  g_autofree char *subject = bounce_header_text (g->message, "Subject");
  gsize n = MIN (g->text_len, (gsize) CHALLENGE_TEXT_BYTES);

  while (n > 0 && n < g->text_len && (g->text[n] & 0xc0) == 0x80)
    n--;
  if (!bounce_generic_says (bounce_generic_senders ()->confirm, subject, -1))
    return NULL;
  return said_in_text (bounce_generic_phrases ()->challenge, g, n);
}

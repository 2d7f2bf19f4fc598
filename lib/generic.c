/* generic.c — read a report that no format rule describes.
 *
 * The format rules describe the reports of the mail systems they name;
 * this reader needs none. It finds delivery-status fields left in the
 * text by a broken MIME structure, the addresses of an X-Failed-Recipients
 * header, lines that hold an address beside an SMTP reply or status code,
 * and, in a report from a mail system, lines that hold an address beside
 * words of failure; it finds a returned header block in the text; failing
 * all that, RFC 3834 headers make an auto-reply.
 *
 * Limits: at most BOUNCE_MAX_RECIPIENTS recipients, a diagnostic of
 * BOUNCE_MAX_DIAGNOSTIC_BYTES, the report text as capped by the walk.
 */
#include "bounce-private.h"

#include <string.h>

static char *paragraph_at (const char *text, gsize len, gsize s, gsize e);
static gboolean message_id_like (const char *line, gsize line_len, const char *addr);

/* Addresses of an X-Failed-Recipients header. */
static void
failed_recipients_header (GPtrArray *r, GMimeMessage *msg)
{
  const char *v = g_mime_object_get_header (GMIME_OBJECT (msg), "X-Failed-Recipients");
  g_auto (GStrv) parts = NULL;

  if (v == NULL)
    return;
  parts = g_strsplit_set (v, ",;", 1000);
  for (guint i = 0; parts[i]; i++)
    {
      g_autofree char *a = bounce_addr_spec (parts[i]);

      if (a && strchr (a, '@') && bounce_recipients_find (r, a) == NULL
          && r->len < BOUNCE_MAX_RECIPIENTS)
        {
          BounceRecipient *x = bounce_recipient_new ();

          x->address = g_steal_pointer (&a);
          x->action = g_strdup ("failed");
          g_ptr_array_add (r, x);
        }
    }
}

/* The generic fallback for a report no rule names: each line holding an
 * address and, on it or the lines after, an SMTP reply or status code. */
static void
generic_recipients (GPtrArray *r, const char *text, gsize len, gsize stop)
{
  static GRegex *line_re;
  static gsize once;
  g_autoptr (GMatchInfo) mi = NULL;

  if (g_once_init_enter (&once))
    {
      line_re = g_regex_new ("^[ \\t>]*(?:<|\"|RCPT TO:<?|To:\\s*<?|Recipient:\\s*<?)?"
                             "([^\\s<>\"()@,;:]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,})>?[\"]?"
                             "[:;,]?(.*)$",
                             G_REGEX_MULTILINE | G_REGEX_CASELESS | G_REGEX_OPTIMIZE, 0, NULL);
      g_once_init_leave (&once, 1);
    }
  if (stop > len)
    stop = len;
  g_regex_match_full (line_re, text, stop, 0, 0, &mi, NULL);
  while (g_match_info_matches (mi) && r->len < BOUNCE_MAX_RECIPIENTS)
    {
      int s, e;
      g_autofree char *addr = g_match_info_fetch (mi, 1);
      g_autofree char *rest = g_match_info_fetch (mi, 2);
      g_autofree char *next = NULL;
      char code[4], status[16];
      const char *after;
      const char *nl2;

      g_match_info_fetch_pos (mi, 0, &s, &e);
      /* The line itself and up to three after it, stopping at a blank
       * line or at the next line that starts with an address. */
      after = text + e;
      nl2 = after;
      for (int k = 0; k < 3 && nl2 && nl2 < text + stop; k++)
        {
          const char *line = nl2 + 1, *q = line, *end;

          if (line >= text + stop)
            break;
          end = memchr (line, '\n', text + stop - line);
          if (end == NULL)
            end = text + stop;
          while (q < end && (*q == ' ' || *q == '\t' || *q == '>'))
            q++;
          if (q == end || *q == '<' || memchr (q, '@', MIN ((gsize) (end - q), strcspn (q, " \t\n:"))))
            break;
          nl2 = end < text + stop ? end : NULL;
        }
      next = g_strndup (after, (nl2 ? nl2 : text + stop) - after);
      {
        g_autofree char *diag = g_strconcat (rest, " ", next, NULL);
        g_autofree char *c = bounce_collapse_space (diag);

        if (c && (bounce_find_reply_code (c, code) || bounce_find_status (c, status))
            && bounce_recipients_find (r, addr) == NULL)
          {
            BounceRecipient *x = bounce_recipient_new ();

            x->address = g_ascii_strdown (addr, -1);
            x->action = g_strdup ("failed");
            x->diagnostic = g_steal_pointer (&c);
            g_ptr_array_add (r, x);
          }
      }
      if (!g_match_info_next (mi, NULL))
        break;
    }
}

/* The last resort for a report from a mail system that no rule names and
 * that gives no codes: lines that hold an address and words of failure
 * ("Unable to find user: <a@example.com>"). Only for messages from a
 * mailer daemon or postmaster. */
static void
daemon_recipients (GPtrArray *r, GMimeMessage *msg, const char *text, gsize len, gsize stop)
{
  static GRegex *from_re, *line_re;
  static gsize once;
  g_autofree char *from = bounce_header_text (GMIME_OBJECT (msg), "From");
  g_autoptr (GMatchInfo) mi = NULL;

  if (g_once_init_enter (&once))
    {
      from_re = g_regex_new ("mailer-?daemon|postmaster|mail delivery (?:sub)?system", G_REGEX_CASELESS | G_REGEX_OPTIMIZE, 0, NULL);
      line_re = g_regex_new ("^(?=[^\\n]*(?<![.@])\\b(?:unknown|no such|not found|unable to|does ?n[o']t exist|invalid|"
                             "rejected|refused|unavailable|disabled|over ?quota|is full|undeliverable|"
                             "could not be delivered|failed)\\b)[^\\n]*?<?([^\\s<>\"()@,;:]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,})>?",
                             G_REGEX_CASELESS | G_REGEX_MULTILINE | G_REGEX_OPTIMIZE, 0, NULL);
      g_once_init_leave (&once, 1);
    }
  if (from == NULL || !g_utf8_validate (from, -1, NULL) || !g_regex_match (from_re, from, 0, NULL))
    return;
  g_regex_match_full (line_re, text, MIN (stop, len), 0, 0, &mi, NULL);
  while (g_match_info_matches (mi) && r->len < BOUNCE_MAX_RECIPIENTS)
    {
      g_autofree char *addr = g_match_info_fetch (mi, 1);
      int s0, e0;

      g_match_info_fetch_pos (mi, 0, &s0, &e0);
      if (bounce_recipients_find (r, addr) == NULL
          && !message_id_like (text + s0, strcspn (text + s0, "\n"), addr))
        {
          BounceRecipient *x = bounce_recipient_new ();

          x->address = g_ascii_strdown (addr, -1);
          x->action = g_strdup ("failed");
          x->diagnostic = paragraph_at (text, MIN (stop, len), s0, e0);
          g_ptr_array_add (r, x);
        }
      if (!g_match_info_next (mi, NULL))
        break;
    }
}

/* bounce_generic_original: where an inline original starts, without a rule: the first line of a
 * block of header lines that holds a Message-ID or a From and a Subject.
 * Returns G_MAXSIZE when there is none. */
gsize
bounce_generic_original (const char *text, gsize len)
{
  static GRegex *re;
  static gsize once;
  g_autoptr (GMatchInfo) mi = NULL;
  int s, e;
  gsize start;

  if (g_once_init_enter (&once))
    {
      re = g_regex_new ("^(?:>[ \\t]?)*[ \\t]*(Message-ID|From|Subject|Received|Return-Path|Date|To):[ \\t]*\\S",
                        G_REGEX_MULTILINE | G_REGEX_CASELESS | G_REGEX_OPTIMIZE, 0, NULL);
      g_once_init_leave (&once, 1);
    }
  if (!g_regex_match_full (re, text, len, 0, 0, &mi, NULL))
    return G_MAXSIZE;
  while (g_match_info_matches (mi))
    {
      int count = 0;
      gboolean has_id = FALSE;
      const char *p;

      g_match_info_fetch_pos (mi, 0, &s, &e);
      /* Count the header-like lines from here. */
      p = text + s;
      while (p < text + len)
        {
          const char *nl = memchr (p, '\n', text + len - p);
          gsize n = nl ? (gsize) (nl - p) : (gsize) (text + len - p);
          gsize i = 0, base;

          /* "> " quoting, then the indentation inside it */
          while (i < n && p[i] == '>')
            i += i + 1 < n && p[i + 1] == ' ' ? 2 : 1;
          base = i;
          while (i < n && (p[i] == ' ' || p[i] == '\t'))
            i++;
          if (i == n)
            break;
          if (i == base || count == 0)
            {
              gsize j = i;

              while (j < n && (g_ascii_isalnum (p[j]) || p[j] == '-'))
                j++;
              if (j == i || j >= n || p[j] != ':')
                {
                  if (i == base)
                    break;
                }
              else
                {
                  count++;
                  if (g_ascii_strncasecmp (p + i, "Message-ID:", 11) == 0)
                    has_id = TRUE;
                }
            }
          if (!nl)
            break;
          p = nl + 1;
        }
      if (has_id || count >= 3)
        {
          start = s;
          return start;
        }
      if (!g_match_info_next (mi, NULL))
        break;
    }
  return G_MAXSIZE;
}

static gboolean
header_says (GMimeMessage *msg, const char *name, const char *word)
{
  const char *v = g_mime_object_get_header (GMIME_OBJECT (msg), name);

  return v && strstr (v, word) != NULL;
}

static gboolean
is_auto_reply (GMimeMessage *msg)
{
  const char *as = g_mime_object_get_header (GMIME_OBJECT (msg), "Auto-Submitted");

  return (as && g_ascii_strncasecmp (g_strchug ((char *) as), "auto-replied", 12) == 0)
         || g_mime_object_get_header (GMIME_OBJECT (msg), "X-Autoreply")
         || g_mime_object_get_header (GMIME_OBJECT (msg), "X-Autorespond")
         || header_says (msg, "Precedence", "auto_reply");
}

/* The start of delivery-status fields in the report text, or NULL: a
 * Reporting-MTA or Final-Recipient line with an Action line after it. */
static const char *
dsn_fields_in_text (const char *text, gsize len)
{
  static GRegex *re;
  static gsize once;
  g_autoptr (GMatchInfo) mi = NULL;
  int s, e;

  if (g_once_init_enter (&once))
    {
      re = g_regex_new ("^(Reporting-MTA|Final-Recipient):[^\n]*\n(?:[^\n]*\n){0,12}?Action:",
                        G_REGEX_MULTILINE | G_REGEX_CASELESS | G_REGEX_OPTIMIZE, 0, NULL);
      g_once_init_leave (&once, 1);
    }
  if (!g_regex_match_full (re, text, len, 0, 0, &mi, NULL))
    return NULL;
  g_match_info_fetch_pos (mi, 0, &s, &e);
  return text + s;
}

/* ---- a report no rule describes: weighing the evidence ------------------
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
 * The failed recipients are then the addresses of the text (before the
 * returned original) that stand next to an error phrase, an SMTP code,
 * "RCPT TO" or a word for "recipient", less those that cannot be one: the
 * report's own From, To and Sender, the original's From, Sender, Reply-To
 * and Return-Path, mail system addresses and Message-ID look-alikes. When
 * none stands next to such words and the original's To and Cc hold one
 * address, that address is the recipient. */

/* Points each signal is worth, and what a failure needs. */
enum
{
  EVIDENCE_SENDER = 3,        /* a mail system's From, a null Return-Path */
  EVIDENCE_WEAK_SENDER = 1,   /* no-reply, bounce or notification addresses */
  EVIDENCE_REPORT_TYPE = 3,   /* multipart/report */
  EVIDENCE_SUBJECT = 2,       /* a phrase of failure or delay in the Subject */
  EVIDENCE_TEXT = 2,          /* the same in the text */
  EVIDENCE_CODE = 1,          /* an SMTP or RFC 3463 code in the text */
  EVIDENCE_ORIGINAL = 1,      /* a returned original */
  EVIDENCE_AUTO = 1,          /* Auto-Submitted other than "no" */
  EVIDENCE_FAILURE = 6,       /* what a failure needs in all */
};

/* Phrases of failure, by language: English, German, French, Spanish,
 * Portuguese, Italian, Dutch, Polish, Russian, Japanese, Chinese
 * (simplified and traditional), Korean. */
#define FAILURE_PHRASES \
  "undeliver|could ?n[o']t be delivered|can ?n[o']t be delivered|could not deliver|unable to deliver|" \
  "delivery (?:has |to [^\\n]{0,80} )?failed|delivery failure|failed to deliver|delivery to the following|" \
  "failure notice|returned mail|was not delivered|not been delivered|(?:message|mail) not delivered|" \
  "did not reach|error (?:has )?occurred while (?:attempting|trying) to deliver|(?:mail|message) failed|return(?:ed|ing) to sender|host unknown|unknown host|" \
  "permanent(?:ly)? (?:fatal )?error|fatal error|non-?delivery|mail delivery (?:failed|problem)|" \
  "rejected|refused|user unknown|unknown user|no such (?:user|mailbox|address)|does ?n[o']t exist|" \
  "mailbox (?:is )?(?:full|unavailable|not found)|delivery status notification \\(failure\\)|" \
  "message (?:was )?(?:bounced|blocked|returned)|could not be sent|" \
  "unzustellbar|nicht zugestellt|nicht zustellbar|konnte nicht zugestellt|zustellung (?:ist )?fehlgeschlagen|" \
  "unbekannte?r? empf|fehlgeschlagen|" \
  "non remis|non distribu|pas pu (?:être|etre) (?:remis|distribu|d[ée]livr)|[ée]chec (?:de|lors de) (?:la )?(?:remise|livraison|distribution)|" \
  "impossible de (?:remettre|d[ée]livrer|distribuer)|destinataire inconnu|" \
  "no (?:se )?(?:ha )?(?:podido|pudo) (?:ser )?entreg(?:ar|ado|ada)|no (?:fue |ha sido )?entregad[oa]|" \
  "error (?:permanente )?(?:de|en la) entrega|entrega fallida|imposible entregar|fallo (?:en la|de) entrega|" \
  "n[ãa]o (?:foi )?(?:poss[ií]vel )?entreg|n[ãa]o p[ôo]de ser entregue|falha (?:na|de) entrega|" \
  "non (?:[èe] stato|pu[òo] essere|[èe] stato possibile) (?:recapitat|consegnat)|mancata consegna|" \
  "impossibile (?:recapitare|consegnare)|non recapitabile|" \
  "onbestelbaar|niet (?:worden )?(?:afgeleverd|bezorgd)|kon niet (?:worden )?(?:afgeleverd|bezorgd)|" \
  "nie (?:może|można|mógł|mogła|zostać|został|została) (?:być |zostać )?dostarcz|niedostarcz|błąd dostarcz|" \
  "не (?:может быть |удалось |был |была |было )?доставлен|недоставлен|ошибка доставки|невозможно доставить|не удалось доставить|" \
  "配信できません|配送できません|届きませんでした|送信できませんでした|配信に失敗|配送に失敗|配信失敗|配送失敗|不達|宛先不明|" \
  "エラー通知|メールエラー|" \
  "无法投递|無法投遞|投递失败|投遞失敗|发送失败|發送失敗|无法发送|無法發送|无法传送|無法傳送|传送失败|傳送失敗|退件|未能送达|無法送達|无法送达|退信|传递失败|傳遞失敗|" \
  "전달되지 않았|전달 실패|전송 실패|배달 실패|배달되지 않았|반송"

/* Phrases of delay, in the same languages. */
#define DELAY_PHRASES \
  "delayed|delivery delay|not yet been delivered|will (?:continue to |keep )?(?:retry|try)|still (?:trying|being retried)|" \
  "could not send message for the past|message still undelivered|" \
  "verz[öo]gert|noch nicht zugestellt|retard[ée]|en attente de (?:remise|distribution)|retrasad|" \
  "atrasad|ritardat|vertraagd|opóźnion|задерж|遅延|延迟|延遲|지연"

/* Phrases of a virus scanner or content filter that stopped a message,
 * in the same languages. */
#define CONTENT_PHRASES \
  "virus|malware|malicious|infected|trojan|stopped delivery|dangerous (?:attachment|content)|" \
  "(?:attachment|file) (?:type )?(?:is )?not (?:allowed|permitted)|attachment type|banned (?:file|attachment)|" \
  "schadsoftware|anhangstyp|dateityp|logiciel malveillant|pi[èe]ce jointe (?:interdite|non autoris)|" \
  "adjunto no permitido|anexo n[ãa]o permitido|allegato non (?:consentito|ammesso)|bijlage niet toegestaan|" \
  "niedozwolon[a-z]* załącznik|вредоносн|вирус|ウイルス|ウィルス|病毒|恶意|惡意|바이러스|악성"

/* Phrases of a challenge: confirm that you are a person, in the same
 * languages. */
#define CHALLENGE_PHRASES \
  "confirm (?:that )?you are (?:a )?(?:real )?(?:person|human)|held until you confirm|" \
  "(?:click|open) (?:on )?(?:the|this) link[^\\n]{0,40}(?:confirm|verif)|please confirm your (?:message|e-?mail)|" \
  "confirmer (?:l'envoi|votre (?:message|adresse))|qui ont confirm|bestätigen sie (?:ihre|bitte)|" \
  "confirme (?:su|seu) (?:mensaje|mensagem|correo|e-?mail)|conferm[ai] (?:il tuo|di essere)|bevestig (?:uw|je) |" \
  "potwierd[źz] |подтвердите|確認してください|请确认|請確認|확인해 주십시오|확인해주세요"

/* Mail systems' From: the names and local parts they use. */
#define SENDER_NAMES \
  "mailer-?daemon|post_?master|mail ?delivery|delivery ?(?:sub)?system|" \
  "mail ?(?:system|administrator|admin|master|server|gateway)|system ?administrator|" \
  "\\bmta\\b|smtp|mailer\\b|maildelivery|administrateur|systemverwalter"

#define WEAK_SENDER_NAMES "no-?reply|do-?not-?reply|bounce|notif|daemon|auto"

typedef struct
{
  GRegex *failure, *delay, *content, *challenge, *sender, *weak_sender, *code, *near, *address;
} Phrases;

/* A phrase pattern whose blanks match any run of white space, a line
 * break too: reports wrap their sentences anywhere. " ?" becomes "\s*". */
static GRegex *
phrase_regex (const char *pattern, GRegexCompileFlags flags)
{
  g_autoptr (GString) re = g_string_new (NULL);
  gboolean in_class = FALSE;
  GRegex *compiled;

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
  compiled = g_regex_new (re->str, flags, 0, NULL);
  g_assert (compiled != NULL);
  return compiled;
}

static gpointer
phrases_init (gpointer data)
{
  Phrases *p = g_new0 (Phrases, 1);
  GRegexCompileFlags f = G_REGEX_CASELESS | G_REGEX_OPTIMIZE;

  p->failure = phrase_regex (FAILURE_PHRASES, f);
  p->delay = phrase_regex (DELAY_PHRASES, f);
  p->content = phrase_regex (CONTENT_PHRASES, f);
  p->challenge = phrase_regex (CHALLENGE_PHRASES, f);
  p->sender = g_regex_new (SENDER_NAMES, f, 0, NULL);
  p->weak_sender = g_regex_new (WEAK_SENDER_NAMES, f, 0, NULL);
  /* An SMTP reply code or an RFC 3463 status standing as a word. */
  p->code = g_regex_new ("(?<![\\w.:/-])(?:[45][0-9][0-9](?:[ -]|$)|[245]\\.[0-9]{1,3}\\.[0-9]{1,3}(?![\\w.]))",
                         G_REGEX_MULTILINE | G_REGEX_OPTIMIZE, 0, NULL);
  /* Words that say a line's address is the recipient. */
  p->near = g_regex_new ("RCPT TO|recipient|addressed to|address(?:ee)?|\\bfor <|\\bto <|"
                         "destinataire|empf[äa]nger|destinatario|destinatário|ontvanger|odbiorc|получател|"
                         "宛先|收件人|收件者|수신자|받는 사람|user|mailbox|account|"
                         FAILURE_PHRASES,
                         f, 0, NULL);
  p->address = g_regex_new ("(?:\"[^\"\\n]{1,64}\"|[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+)"
                            "@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+",
                            G_REGEX_OPTIMIZE, 0, NULL);
  return p;
}

static const Phrases *
phrases (void)
{
  static GOnce once = G_ONCE_INIT;

  return g_once (&once, phrases_init, NULL);
}

static gboolean
says (GRegex *re, const char *s, gssize len)
{
  if (s == NULL || !g_utf8_validate (s, len, NULL))
    return FALSE;
  return g_regex_match_full (re, s, len, 0, 0, NULL, NULL);
}

/* What of @s (@len bytes, or -1) @re matched, or NULL.
 * Returns: (transfer full) (nullable) */
static char *
said (GRegex *re, const char *s, gssize len)
{
  g_autoptr (GMatchInfo) mi = NULL;
  g_autofree char *whole = NULL;
  char *m;

  if (s == NULL || !g_utf8_validate (s, len, NULL) || !g_regex_match_full (re, s, len, 0, 0, &mi, NULL))
    return NULL;
  whole = g_match_info_fetch (mi, 0);
  m = bounce_collapse_space (whole ? whole : "");
  if (m)
    bounce_truncate_utf8 (m, 80);
  return m;
}

/* Note a signal the reader counted: "what (the text it saw)". */
static void
signal_add (BounceGeneric *g, const char *what, const char *seen)
{
  if (g->signals)
    g_ptr_array_add (g->signals, seen ? g_strdup_printf ("%s (\"%s\")", what, seen) : g_strdup (what));
}

/* Every address in a header value (an address list), lower case. */
static void
add_addresses (GPtrArray *out, const char *value)
{
  g_autoptr (GMatchInfo) mi = NULL;

  if (value == NULL || !g_utf8_validate (value, -1, NULL))
    return;
  g_regex_match (phrases ()->address, value, 0, &mi);
  while (g_match_info_matches (mi))
    {
      g_autofree char *a = g_match_info_fetch (mi, 0);

      g_ptr_array_add (out, g_ascii_strdown (a, -1));
      g_match_info_next (mi, NULL);
    }
}

static gboolean
holds_address (GPtrArray *list, const char *a)
{
  for (guint i = 0; i < list->len; i++)
    if (g_ascii_strcasecmp (g_ptr_array_index (list, i), a) == 0)
      return TRUE;
  return FALSE;
}

/* How the recipients the reader holds were found before it weighed the
 * evidence. */
typedef enum
{
  FOUND_NONE,
  FOUND_CODED,  /* each beside a reply or status code */
  FOUND_DAEMON, /* on a line of failure words, in mail from a mail system */
} Found;

/* What the evidence says: BOUNCE_KIND_FAILURE, BOUNCE_KIND_DELAY or
 * BOUNCE_KIND_NOT_BOUNCE. @stop: where the returned original starts;
 * @original: whether one came back; @found: how the recipients held were
 * found. */
static BounceKind
weigh (BounceGeneric *g, gsize stop, gboolean original, Found found)
{
  const Phrases *p = phrases ();
  GMimeObject *m = GMIME_OBJECT (g->message);
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
      signal_add (g, "From a mail system", seen);
    }
  else if ((seen = said (p->weak_sender, from, -1)) != NULL)
    {
      weak = TRUE;
      signal_add (g, "From a role address", seen);
    }
  g_free (seen);
  if (rp)
    {
      g_autofree char *v = g_strstrip (g_strdup (rp));

      if (*v == '\0' || strcmp (v, "<>") == 0 || strcmp (v, "< >") == 0
          || g_ascii_strncasecmp (v, "<mailer-daemon", 14) == 0
          || g_ascii_strncasecmp (v, "mailer-daemon", 13) == 0)
        {
          sender = carried = TRUE;
          signal_add (g, *v == '<' && v[1] == '>' ? "a null Return-Path" : "Return-Path", *v == '<' && v[1] == '>' ? NULL : v);
        }
    }
  score += sender ? EVIDENCE_SENDER : weak ? EVIDENCE_WEAK_SENDER : 0;
  if (g_mime_object_get_header (m, "X-Failed-Recipients"))
    {
      carried = TRUE;
      score += EVIDENCE_CODE;
      signal_add (g, "X-Failed-Recipients", NULL);
    }
  if (ct && g_mime_content_type_is_type (ct, "multipart", "report"))
    {
      sender = carried = TRUE;
      score += EVIDENCE_REPORT_TYPE;
      signal_add (g, "Content-Type multipart/report", NULL);
    }
  /* "Warning: message still undelivered": a delay says so first. */
  if ((seen = said (p->delay, subject, -1)) != NULL)
    {
      delay = subject_delay = TRUE;
      score += EVIDENCE_SUBJECT;
      signal_add (g, "a delay in the Subject", seen);
    }
  else if ((seen = said (p->failure, subject, -1)) != NULL)
    {
      failure = subject_failure = TRUE;
      score += EVIDENCE_SUBJECT;
      signal_add (g, "a failure in the Subject", seen);
    }
  g_free (seen);
  n = MIN (n, (gsize) 64 * 1024);
  while (n > 0 && (g->text[n] & 0xc0) == 0x80)
    n--;
  if ((seen = said (p->failure, g->text, n)) != NULL)
    {
      score += EVIDENCE_TEXT;
      failure = text_failure = TRUE;
      signal_add (g, "a failure in the text", seen);
      g_free (seen);
    }
  if ((seen = said (p->delay, g->text, n)) != NULL)
    {
      if (!failure || !subject_delay)
        score += EVIDENCE_TEXT;
      delay = TRUE;
      signal_add (g, "a delay in the text", seen);
      g_free (seen);
    }
  if ((seen = said (p->code, g->text, n)) != NULL)
    {
      score += EVIDENCE_CODE;
      carried = TRUE;
      signal_add (g, "a reply or status code in the text", seen);
      g_free (seen);
    }
  /* A scanner or filter that stopped the message says why; a report
   * titled a failure ("Mail delivery failed") stays one whatever the
   * reason it gives. */
  if ((seen = said (p->content, subject, -1)) != NULL
      || (!subject_failure && failure && (seen = said (p->content, g->text, n)) != NULL))
    {
      content = TRUE;
      if (!failure && !delay)
        score += EVIDENCE_SUBJECT;
      signal_add (g, "a filter's or scanner's words", seen);
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
      signal_add (g, "an address beside a reply or status code", NULL);
    }
  else if (found == FOUND_DAEMON && (subject_failure || subject_delay))
    {
      carried = TRUE;
      if (!text_failure)
        score += EVIDENCE_TEXT;
      text_failure = failure = TRUE;
      signal_add (g, "an address on a line of failure words", NULL);
    }
  if (original)
    {
      score += EVIDENCE_ORIGINAL;
      signal_add (g, "a returned copy of the original", NULL);
    }
  if (as && g_ascii_strncasecmp (g_strchug ((char *) as), "no", 2) != 0)
    {
      score += EVIDENCE_AUTO;
      signal_add (g, "Auto-Submitted", as);
    }
  /* Who sent it, what it says, and something only a report carries (a
   * From is easily written: spam that pretends to be a bounce has one). */
  if (!(sender || (weak && original)) || !(failure || delay || content) || !carried
      || score < EVIDENCE_FAILURE)
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

/* Whether @a is a mail system's own address. */
static gboolean
system_address (const char *a)
{
  static const char *const locals[] = { "postmaster@", "mailer-daemon@", "mailerdaemon@",
                                        "mailer_daemon@", "mail-daemon@", "root@", "daemon@",
                                        "mdaemon@", "double-bounce@" };

  for (guint i = 0; i < G_N_ELEMENTS (locals); i++)
    if (g_ascii_strncasecmp (a, locals[i], strlen (locals[i])) == 0)
      return TRUE;
  return FALSE;
}

/* Whether the address at @at on @line looks like a Message-ID: on a
 * Message-ID, In-Reply-To or References line, or a local part of a dozen
 * digits and a dot or dollar. */
static gboolean
message_id_like (const char *line, gsize line_len, const char *addr)
{
  gsize digits = 0, dots = 0;

  for (gsize i = 0; i + 10 < line_len; i++)
    if (g_ascii_strncasecmp (line + i, "message-id", 10) == 0
        || g_ascii_strncasecmp (line + i, "in-reply-to", 11) == 0
        || g_ascii_strncasecmp (line + i, "references", 10) == 0)
      return TRUE;
  for (const char *q = addr; *q && *q != '@'; q++)
    if (g_ascii_isdigit (*q))
      digits++;
    else if (*q == '.' || *q == '$')
      dots++;
  /* A time stamp and a queue id; a mobile number is one run. */
  return digits >= 12 && dots > 0;
}

/* The addresses that cannot be a failed recipient: the report's own and
 * the original's senders. */
static GPtrArray *
not_recipients (BounceGeneric *g, BounceOriginal *o)
{
  static const char *const own[] = { "From", "To", "Sender", "Reply-To", "Return-Path",
                                     "Delivered-To", "X-Original-To" };
  static const char *const theirs[] = { "From", "Sender", "Reply-To", "Return-Path" };
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < G_N_ELEMENTS (own); i++)
    add_addresses (out, g_mime_object_get_header (GMIME_OBJECT (g->message), own[i]));
  if (o && o->message_id)
    add_addresses (out, o->message_id);
  for (guint i = 0; o && i + 1 < o->headers->len; i += 2)
    for (guint k = 0; k < G_N_ELEMENTS (theirs); k++)
      if (g_ascii_strcasecmp (g_ptr_array_index (o->headers, i), theirs[k]) == 0)
        add_addresses (out, g_ptr_array_index (o->headers, i + 1));
  return out;
}

/* The line around @s and the lines after it up to a blank line (at most
 * three), collapsed. */
static char *
lines_at (const char *text, gsize len, gsize s, gsize *end)
{
  gsize a = s, b = s;

  while (a > 0 && text[a - 1] != '\n')
    a--;
  for (int k = 0; k < 4 && b < len; k++)
    {
      const char *nl = memchr (text + b, '\n', len - b);

      b = nl ? (gsize) (nl - text) : len;
      if (k < 3 && b + 1 < len && text[b + 1] != '\n')
        b++;
      else
        break;
    }
  *end = b;
  {
    g_autofree char *raw = g_strndup (text + a, b - a);

    return bounce_collapse_space (raw);
  }
}

/* The diagnostic of the address at @s: its line and the lines after it up
 * to a blank line; when they hold no code, the paragraph after them too
 * if it holds one and names no other address ("Delivery failed for
 * a@example.net.\n\nLast error: 550 ..."). */
static char *
paragraph_at (const char *text, gsize len, gsize s, gsize e)
{
  gsize b, b2;
  char *c = lines_at (text, len, s, &b);
  char code[4], status[16];

  if (c && !bounce_find_reply_code (c, code) && !bounce_find_status (c, status)
      && b + 2 < len && text[b] == '\n' && text[b + 1] == '\n')
    {
      g_autofree char *next = lines_at (text, len, b + 2, &b2);

      if (next && (bounce_find_reply_code (next, code) || bounce_find_status (next, status))
          && memchr (text + b + 2, '@', b2 - (b + 2)) == NULL)
        {
          char *both = g_strconcat (c, " ", next, NULL);

          g_free (c);
          c = both;
        }
    }
  if (c)
    bounce_truncate_utf8 (c, BOUNCE_MAX_DIAGNOSTIC_BYTES);
  return c;
}

/* The diagnostic of a recipient found without one beside it: the first
 * lines of the text (up to @n) that hold a code - the address itself may
 * be broken across lines there, or stand apart from the server's answer.
 * Returns: (transfer full) (nullable) */
static char *
first_code_paragraph (BounceGeneric *g, gsize n)
{
  g_autoptr (GMatchInfo) code = NULL;
  int cs, ce;

  if (!g_regex_match_full (phrases ()->code, g->text, n, 0, 0, &code, NULL))
    return NULL;
  g_match_info_fetch_pos (code, 0, &cs, &ce);
  return paragraph_at (g->text, n, cs, ce);
}

/* Where the text names @a (lower case) as a whole address, or NULL. */
static const char *
address_in_text (const char *text, gsize n, const char *a)
{
  gsize alen = strlen (a);

  for (const char *p = text; alen > 0 && p + alen <= text + n; p++)
    {
      p = memchr (p, '@', text + n - p);
      if (p == NULL)
        return NULL;
      {
        const char *at = strchr (a, '@');
        const char *s = p - (at - a);

        if (s >= text && s + alen <= text + n && g_ascii_strncasecmp (s, a, alen) == 0
            && (s == text || strchr (" \t\n<\"'(:;,[", s[-1]))
            && (s + alen == text + n || !(g_ascii_isalnum (s[alen]) || s[alen] == '.' || s[alen] == '-')
                || (s[alen] == '.' && (s + alen + 1 == text + n || g_ascii_isspace (s[alen + 1])))))
          return s;
      }
    }
  return NULL;
}

/* Whether the line at @line (up to @end) names one of @r's addresses
 * other than @self. */
static gboolean
names_other (const char *line, const char *end, GPtrArray *r, const BounceRecipient *self)
{
  for (guint i = 0; i < r->len; i++)
    {
      const BounceRecipient *x = g_ptr_array_index (r, i);

      if (x != self && address_in_text (line, end - line, x->address))
        return TRUE;
    }
  return FALSE;
}

/* A recipient named with no diagnostic beside it (an X-Failed-Recipients
 * header, a list of addresses above the servers' answers) gets one from
 * the text: the paragraph where the text names it, up to a blank line or
 * a line that names another of the recipients (at most twelve lines),
 * when that holds a code; failing that, when it is the only recipient,
 * the first lines of the text that hold one. */
static void
recipient_diagnostics (BounceGeneric *g, gsize stop)
{
  GPtrArray *r = g->recipients;
  gsize n = MIN (stop, g->text_len);

  if (g->text == NULL || !g_utf8_validate (g->text, n, NULL))
    return;
  for (guint i = 0; i < r->len; i++)
    {
      BounceRecipient *x = g_ptr_array_index (r, i);
      const char *s, *end;
      char code[4], status[16];

      if (x->diagnostic || x->status || x->address == NULL)
        continue;
      if ((s = address_in_text (g->text, n, x->address)) != NULL)
        {
          while (s > g->text && s[-1] != '\n')
            s--;
          end = memchr (s, '\n', g->text + n - s);
          end = end ? end : g->text + n;
          for (int k = 0; k < 11 && end < g->text + n; k++)
            {
              const char *line = end + 1, *next = memchr (line, '\n', g->text + n - line);

              next = next ? next : g->text + n;
              if (line == next || names_other (line, next, r, x))
                break;
              end = next;
            }
          {
            g_autofree char *raw = g_strndup (s, end - s);
            g_autofree char *c = bounce_collapse_space (raw);

            if (c && (bounce_find_reply_code (c, code) || bounce_find_status (c, status)))
              {
                bounce_truncate_utf8 (c, BOUNCE_MAX_DIAGNOSTIC_BYTES);
                x->diagnostic = g_steal_pointer (&c);
                continue;
              }
          }
        }
      if (r->len == 1)
        x->diagnostic = first_code_paragraph (g, n);
    }
}

/* The failed recipients of a report no rule describes (see above). */
static void
text_recipients (BounceGeneric *g, gsize stop, BounceOriginal *o)
{
  const Phrases *p = phrases ();
  g_autoptr (GPtrArray) skip = not_recipients (g, o);
  g_autoptr (GPtrArray) seen = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GMatchInfo) mi = NULL;
  GPtrArray *r = g->recipients;
  gsize n = MIN (stop, g->text_len);
  guint looked = 0;

  if (!g_utf8_validate (g->text, n, NULL))
    return;
  g_regex_match_full (p->address, g->text, n, 0, 0, &mi, NULL);
  while (g_match_info_matches (mi) && looked++ < 200 && r->len < BOUNCE_MAX_RECIPIENTS)
    {
      g_autofree char *raw = g_match_info_fetch (mi, 0);
      g_autofree char *a = g_ascii_strdown (raw, -1);
      int s, e;
      gsize ls, le, ws, we;

      g_match_info_fetch_pos (mi, 0, &s, &e);
      for (ls = s; ls > 0 && g->text[ls - 1] != '\n'; ls--)
        ;
      for (le = e; le < n && g->text[le] != '\n'; le++)
        ;
      if (!holds_address (skip, a) && !system_address (a)
          && !message_id_like (g->text + ls, le - ls, a))
        {
          /* The line, the one before and the one after. */
          for (ws = ls > 0 ? ls - 1 : 0; ws > 0 && g->text[ws - 1] != '\n'; ws--)
            ;
          for (we = le < n ? le + 1 : n; we < n && g->text[we] != '\n'; we++)
            ;
          if (!holds_address (seen, a))
            g_ptr_array_add (seen, g_strdup (a));
          if ((says (p->near, g->text + ls, le - ls) || says (p->code, g->text + ws, we - ws)
               || says (p->failure, g->text + ws, we - ws))
              && bounce_recipients_find (r, a) == NULL)
            {
              BounceRecipient *x = bounce_recipient_new ();

              x->address = g_steal_pointer (&a);
              x->action = g_strdup ("failed");
              x->diagnostic = paragraph_at (g->text, n, s, e);
              g_ptr_array_add (r, x);
            }
        }
      if (!g_match_info_next (mi, NULL))
        break;
    }
  if (r->len == 0 && seen->len == 1)
    {
      BounceRecipient *x = bounce_recipient_new ();

      x->address = g_strdup (g_ptr_array_index (seen, 0));
      x->action = g_strdup ("failed");
      x->diagnostic = first_code_paragraph (g, n);
      g_ptr_array_add (r, x);
    }
  if (r->len == 0 && o)
    {
      /* The original's one recipient. */
      g_autoptr (GPtrArray) to = g_ptr_array_new_with_free_func (g_free);

      for (guint i = 0; i + 1 < o->headers->len; i += 2)
        if (g_ascii_strcasecmp (g_ptr_array_index (o->headers, i), "To") == 0
            || g_ascii_strcasecmp (g_ptr_array_index (o->headers, i), "Cc") == 0)
          add_addresses (to, g_ptr_array_index (o->headers, i + 1));
      if (to->len == 1)
        {
          BounceRecipient *x = bounce_recipient_new ();

          x->address = g_strdup (g_ptr_array_index (to, 0));
          x->action = g_strdup ("failed");
          x->diagnostic = first_code_paragraph (g, n);
          g_ptr_array_add (r, x);
        }
    }
}

/* Whether the message asks its sender to confirm that a person sent it:
 * a request to confirm in its Subject and a challenge's words in its
 * text, which it returns, or NULL. Returns: (transfer full) (nullable) */
static char *
is_challenge (BounceGeneric *g)
{
  g_autofree char *subject = bounce_header_text (GMIME_OBJECT (g->message), "Subject");
  gsize n = MIN (g->text_len, (gsize) 16 * 1024);
  static GRegex *confirm;
  static gsize once;

  if (g_once_init_enter (&once))
    {
      confirm = g_regex_new ("confirm|verif|bestätig|conferm|bevestig|potwierd|подтвер|確認|确认|확인",
                             G_REGEX_CASELESS | G_REGEX_OPTIMIZE, 0, NULL);
      g_once_init_leave (&once, 1);
    }
  while (n > 0 && n < g->text_len && (g->text[n] & 0xc0) == 0x80)
    n--;
  if (!says (confirm, subject, -1))
    return NULL;
  return said (phrases ()->challenge, g->text, n);
}

/* Read a report no rule describes: weigh the evidence, then find its
 * recipients. Returns the kind. */
static BounceKind
read_unknown (BounceGeneric *g, gsize stop, Found found)
{
  BounceOriginal *inline_original = NULL, *o = NULL;
  BounceKind kind;

  if (g->orig_part)
    {
      if (g->original == NULL)
        g->original = bounce_original_from_part (g->orig_part);
      o = g->original;
    }
  else if (stop < g->text_len)
    o = inline_original = bounce_original_from_headers_text (g->text + stop, g->text_len - stop, "inline");
  kind = weigh (g, stop, o != NULL, found);
  if (kind == BOUNCE_KIND_NOT_BOUNCE)
    g_ptr_array_set_size (g->recipients, 0);
  else if (g->recipients->len > 0)
    {
      /* Found beside their codes: a failure unless it says it is a delay
       * or a scanner's notice. */
      if (kind != BOUNCE_KIND_DELAY && kind != BOUNCE_KIND_VIRUS_NOTICE)
        kind = BOUNCE_KIND_FAILURE;
    }
  else if (kind != BOUNCE_KIND_NOT_BOUNCE)
    text_recipients (g, stop, o);
  for (guint i = 0; kind == BOUNCE_KIND_DELAY && i < g->recipients->len; i++)
    {
      BounceRecipient *x = g_ptr_array_index (g->recipients, i);

      g_free (x->action);
      x->action = g_strdup ("delayed");
    }
  g_clear_pointer (&inline_original, bounce_original_free);
  return kind;
}

/* bounce_generic_dsn: the delivery-status fields left in the report text
 * (a boundary that matches no part leaves them there), or NULL when they
 * name no recipient. Returns: (transfer full) (nullable) */
BounceDsn *
bounce_generic_dsn (const char *text, gsize len)
{
  const char *fields = dsn_fields_in_text (text, len);
  g_autoptr (BounceDsn) dsn = NULL;

  if (fields == NULL)
    return NULL;
  dsn = bounce_dsn_parse (fields, text + len - fields);
  return dsn->recipients->len > 0 ? g_steal_pointer (&dsn) : NULL;
}

/* bounce_generic_read: what the reader makes of @g's report after the
 * MIME structure and the format rules were read: the recipients they did
 * not name, and, when neither knew the report, its kind, format and where
 * its inline original starts. */
void
bounce_generic_read (BounceGeneric *g)
{
  GPtrArray *r = g->recipients;

  if (g->rule)
    {
      if (r->len == 0 && (g->kind == BOUNCE_KIND_FAILURE || g->kind == BOUNCE_KIND_DELAY))
        failed_recipients_header (r, g->message);
      /* A canned "could not be delivered" from a mail system is a
       * failure, whatever auto-reply convention it follows. */
      if (g->kind == BOUNCE_KIND_AUTOREPLY && g->format && r->len == 0)
        {
          gsize at = bounce_generic_original (g->text, g->text_len);
          BounceKind k = read_unknown (g, at, FOUND_NONE);

          if (k == BOUNCE_KIND_FAILURE)
            {
              g->kind = k;
              g->format = "generic";
              g->inline_at = at;
            }
          else
            g_ptr_array_set_size (r, 0);
        }
    }
  else if (g->format == NULL)
    {
      /* No rule knows it: addresses next to error codes make a failure;
       * failing that, RFC 3834 headers make an auto-reply. */
      Found found = FOUND_NONE;
      g_autofree char *challenge = NULL;
      guint listed;

      failed_recipients_header (r, g->message);
      listed = r->len;
      g->inline_at = bounce_generic_original (g->text, g->text_len);
      generic_recipients (r, g->text, g->text_len, g->inline_at);
      if (r->len > listed)
        found = FOUND_CODED;
      else if (r->len == 0)
        {
          daemon_recipients (r, g->message, g->text, g->text_len, g->inline_at);
          found = r->len > 0 ? FOUND_DAEMON : FOUND_NONE;
        }
      if ((g->kind = read_unknown (g, g->inline_at, found)) != BOUNCE_KIND_NOT_BOUNCE)
        g->format = "generic";
      else if ((challenge = is_challenge (g)) != NULL)
        {
          g->kind = BOUNCE_KIND_CHALLENGE;
          g->format = "generic";
          signal_add (g, "a request to confirm in the Subject, and a challenge's words in the text", challenge);
        }
      else if (is_auto_reply (g->message))
        {
          g->kind = BOUNCE_KIND_AUTOREPLY;
          g->format = "rfc3834";
          signal_add (g, "an automatic reply's header (RFC 3834)", NULL);
        }
    }
  if (g->kind == BOUNCE_KIND_FAILURE && g_strcmp0 (g->format, "rfc3464") == 0 && r->len == 0)
    {
      /* Recipients only in the human-readable part. */
      failed_recipients_header (r, g->message);
      if (r->len == 0)
        generic_recipients (r, g->text, g->text_len, G_MAXSIZE);
    }
  if (g->kind == BOUNCE_KIND_FAILURE || g->kind == BOUNCE_KIND_DELAY)
    recipient_diagnostics (g, g->inline_at);
}

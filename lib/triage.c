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
 * wrong "no" loses a report.
 *
 * Only the first BOUNCE_MAX_HEADER_BYTES of the header block are read.
 */
#include "bounce-private.h"

#include <string.h>

/* bounce_header_block_end: the offset where the body starts (after the
 * blank line ending the header block), or @len when there is none. */
gsize
bounce_header_block_end (const char *data, gsize len)
{
  const char *p = data, *end = data + len;

  while (p < end)
    {
      const char *nl = memchr (p, '\n', end - p);

      if (nl == NULL)
        return len;
      if (nl == p || (nl == p + 1 && *p == '\r'))
        return nl + 1 - data;
      p = nl + 1;
    }
  return len;
}

/* The header value, ASCII letters lowered, in @buf (cut to its size). */
static gsize
lower_copy (const char *value, gsize n, char *buf, gsize size)
{
  gsize m = MIN (n, size - 1);

  for (gsize i = 0; i < m; i++)
    buf[i] = g_ascii_tolower (value[i]);
  buf[m] = '\0';
  return m;
}

/* Whether lowered text holds one of @needles (written in lower case). */
static gboolean
contains_any (const char *lowered, gsize n, const char *const *needles)
{
  for (guint i = 0; needles[i]; i++)
    if (memmem (lowered, n, needles[i], strlen (needles[i])) != NULL)
      return TRUE;
  return FALSE;
}

static gboolean
contains_ci (const char *lowered, gsize n, const char *needle)
{
  return memmem (lowered, n, needle, strlen (needle)) != NULL;
}

/* Words in the From of automatic senders. */
static const char *const auto_senders[] = {
  "mailer-daemon", "mailer_daemon", "maildaemon", "mailerdaemon", "postmaster",
  "post_master", "mail delivery", "delivery subsystem", "delivery system",
  "mail system", "mail administrator", "mailadmin", "mail-admin",
  "system administrator", "bounce", "devnull", "nobody@", "noreply",
  "no-reply", "do-not-reply", "donotreply", "virus", "antivirus",
  "anti-virus", "scanner", "mailscanner", "mailsweeper", "interscan",
  "quarantine", "amavis", "mailguard", "mail guard", "autoreply",
  "auto-reply", "autoresponder", "auto-responder", "vacation",
  "out of office", "challenge", "verify", "confirm", "tmda", "spamarrest",
  "boxbe", "bluebottle", "mailblocks", "root@", "mmdf", "abuse", "feedback",
  "fbl", "complaints", "mailmaster", "mail-router", "-admin@", "owner-",
  "-owner@", "-request@", "listserv", "majordomo", "mailman", NULL,
};

/* Words of reports in scripts an encoded subject may use. */
static const char *const foreign_subjects[] = {
  "配信", "不達", "エラー", "送信", "未送信", "返送", "宛先", "不在", "自動", "通知",
  "退信", "投递", "失败", "系统", "退回", "無法", "傳遞", "자동", "반송", "실패",
  "Недостав", "недостав", "Не доставлено", "не доставлено", "Ошибка", "ошибка",
  "Автоответ", "автоответ", "Уведомление", "уведомление", "Возврат", "Отпуск",
  "abwesenheit", "unzustellbar", "zustellung", "nicht zustellbar", "non remis",
  "absence", "Échec", "échec", "réponse automatique", "risposta automatica",
  "respuesta automática", "resposta automática", "não entregue", "no entregado", NULL,
};

/* The envelope senders of reports: empty, or a mail system's. */
static const char *const report_envelopes[] = {
  "mailer-daemon", "mailer_daemon", "postmaster", "post_master", "<>", NULL,
};

/* Words in the Subject of reports, notices, challenges and auto-replies. */
static const char *const report_subjects[] = {
  "undeliver", "undelivered", "not delivered", "non delivered",
  "nondeliver", "non-deliver", "delivery", "deliver", "failure", "failed",
  "fail", "returned", "return", "bounce", "rejected", "reject", "error",
  "unable", "could not", "couldn't", "can't", "cannot", "warning",
  "delayed", "delay", "notice", "notification", "virus", "infected",
  "malware", "worm", "blocked", "quarantin", "banned", "filtered",
  "policy", "out of office", "out-of-office", "autorepl", "auto-repl", "auto repl", "automatic", "automatisch", "auto:", "autoresp", "vacation",
  "away", "absent", "absence", "holiday", "abwesen", "urlaub",
  "abwesenheit", "congé", "conge", "ausencia", "ausente", "vacanze",
  "assente", "afwezig", "vakantie", "frånvaro", "confirm", "verif",
  "challenge", "authori", "approval", "pending",   "abuse", "complaint", "read:", "receipt", "disposition", "displayed",
  "message status", "mail system", "postmaster", "mailer",
  "non remis", "non-remis", "distribuição", "entrega", "zustell",
  "unzustellbar", "nicht zustellbar", "onbestelbaar", "recipient",
  "user unknown", "unknown", "mailbox", "quota", "expired",
  "not member", "not a member", "loop", "test message", "registration", NULL,
};

static const char *const auto_headers[] = {
  "x-failed-recipients", "x-autoreply", "x-autorespond", "x-autoresponder",
  "x-auto-response", "x-vacation", "x-mailer-daemon", "x-amavis-alert",
  "x-virus-notice", "x-mailscanner-virus", "x-tmda", "x-boxbe",
  "x-spamarrest", "x-challenge", "x-autogenerated", "x-ms-exchange-generated-message-source",
  "x-ms-exchange-message-is-ndr", "x-postfix-queue-id-bounce", "x-dsnsource",
  "x-ses-outgoing", "x-mailgun-bounce", "x-sendgrid-bounce",
  "feedback-type", "x-hmxmroriginalrecipient", "x-original-failed-recipients", NULL,
};

/* An encoded subject, decoded: does it hold a report's words? */
static gboolean
subject_words (const char *value, gsize n)
{
  g_autofree char *raw = g_strndup (value, n);
  g_autoptr (GMimeParserOptions) opts = (bounce_gmime_init (), bounce_parser_options ());
  g_autofree char *text = g_mime_utils_header_decode_text (opts, raw);
  gsize tl = text ? strlen (text) : 0;
  g_autofree char *low = g_malloc (tl + 1);

  tl = lower_copy (text ? text : "", tl, low, tl + 1);
  return contains_any (low, tl, report_subjects) || contains_any (low, tl, foreign_subjects);
}

/* bounce_triage: whether the header block of @data could belong to a
 * report of any kind. */
gboolean
bounce_triage (const char *data, gsize len)
{
  gsize hlen = bounce_header_block_end (data, len);
  const char *p = data, *end;

  if (hlen > BOUNCE_MAX_HEADER_BYTES)
    hlen = BOUNCE_MAX_HEADER_BYTES;
  end = data + hlen;
  while (p < end)
    {
      const char *line = p, *colon, *vend;
      char lowered[1024];
      gsize nlen, vlen = 0;

      /* One unfolded header: this line and its continuation lines. */
      vend = p;
      for (;;)
        {
          const char *nl = memchr (vend, '\n', end - vend);

          if (nl == NULL)
            {
              vend = end;
              break;
            }
          vend = nl + 1;
          if (vend >= end || (*vend != ' ' && *vend != '\t'))
            break;
        }
      p = vend;
      colon = memchr (line, ':', vend - line);
      if (colon == NULL)
        continue;
      nlen = colon - line;

#define IS(name) (nlen == strlen (name) && g_ascii_strncasecmp (line, name, nlen) == 0)
#define VALUE() (vlen = lower_copy (colon + 1, vend - colon - 1, lowered, sizeof lowered))
      if (IS ("content-type"))
        {
          if (VALUE () && contains_ci (lowered, vlen, "report"))
            return TRUE;
        }
      else if (IS ("from"))
        {
          if (VALUE () && contains_any (lowered, vlen, auto_senders))
            return TRUE;
        }
      else if (IS ("sender") || IS ("return-path"))
        {
          /* A list's envelope is its own address; a report's, a mail
           * system's or empty. */
          if (VALUE () && contains_any (lowered, vlen, report_envelopes))
            return TRUE;
        }
      else if (IS ("subject"))
        {
          if (VALUE () && contains_any (lowered, vlen, report_subjects))
            return TRUE;
          if (contains_ci (lowered, vlen, "=?") && subject_words (colon + 1, vend - colon - 1))
            return TRUE;
        }
      else if (IS ("auto-submitted"))
        {
          const char *q = lowered;

          VALUE ();
          while (*q == ' ' || *q == '\t')
            q++;
          if (!(strncmp (q, "no", 2) == 0 && !g_ascii_isalpha (q[2])))
            return TRUE;
        }
      else if (IS ("precedence"))
        {
          if (VALUE () && contains_ci (lowered, vlen, "auto"))
            return TRUE;
        }
      else
        {
          for (guint i = 0; auto_headers[i]; i++)
            if (IS (auto_headers[i]))
              return TRUE;
        }
#undef VALUE
#undef IS
    }
  return FALSE;
}

/* recipients.c — assemble a report's failed recipients.
 *
 * Recipients come from a delivery-status part, a format rule or the
 * format-free reader; here they are merged (the DSN names the recipients
 * when it names any, the text fills in the gaps) and completed: reply
 * code and status from the diagnostic, the action in RFC 3464's words,
 * whether the failure is permanent, the SMTP command it answered and the
 * reason from the reasons rules.
 *
 * Limits: at most BOUNCE_MAX_RECIPIENTS are added; the command is sought
 * in a few mentions of the address only.
 */
#include "bounce-private.h"

#include <string.h>

#define MAX_LINES_BACK 40    /* lines of an SMTP transcript read back to the command */
#define PARAGRAPH_BYTES 4096 /* of the paragraph read for the command a reply answered */

/* bounce_recipients_find: the recipient of @recipients with @address
 * (ASCII case ignored), or NULL. Returns: (transfer none) */
BounceRecipient *
bounce_recipients_find (GPtrArray *recipients, const char *address)
{
  for (guint i = 0; i < recipients->len; i++)
    {
      BounceRecipient *x = g_ptr_array_index (recipients, i);

      if (g_ascii_strcasecmp (x->address, address) == 0)
        return x;
    }
  return NULL;
}

/* The five actions of RFC 3464; "deliverable" (an address verification
 * report) is delivered; other words real servers use ("expired",
 * "bounced", "undeliverable") mean failed. */
static void
normalise_action (BounceRecipient *x)
{
  static const char *const actions[] = { "failed", "delayed", "delivered", "relayed", "expanded" };
  const char *a = x->action;

  if (a == NULL)
    return;
  if (strcmp (a, "deliverable") == 0) /* an address verification report */
    a = "delivered";
  for (guint i = 0; i < G_N_ELEMENTS (actions); i++)
    if (g_str_has_prefix (a, actions[i]) || (i == 1 && g_str_has_prefix (a, "delay")))
      {
        if (strcmp (x->action, actions[i]) != 0)
          {
            g_free (x->action);
            x->action = g_strdup (actions[i]);
          }
        return;
      }
  g_free (x->action);
  x->action = g_strdup ("failed");
}

static gboolean
is_generic_status (const char *status)
{
  return status == NULL || g_str_has_suffix (status, ".0.0");
}

/* bounce_recipients_merge: merge what a format rule @found into the
 * @recipients a DSN gave: the DSN names the recipients when it names
 * any; the text fills in the gaps. */
void
bounce_recipients_merge (GPtrArray *recipients, GPtrArray *found)
{
  gboolean add_new = recipients->len == 0;

  for (guint i = 0; i < found->len; i++)
    {
      BounceRecipient *f = g_ptr_array_index (found, i);
      BounceRecipient *x = bounce_recipients_find (recipients, f->address);

      if (x == NULL)
        {
          if (add_new && recipients->len < BOUNCE_MAX_RECIPIENTS)
            g_ptr_array_add (recipients, g_ptr_array_steal_index (found, i--));
          continue;
        }
      if (x->diagnostic == NULL)
        x->diagnostic = g_steal_pointer (&f->diagnostic);
      if (x->status == NULL || (is_generic_status (x->status) && f->status && f->status[0] == x->status[0]))
        {
          g_free (x->status);
          x->status = g_steal_pointer (&f->status);
        }
      if (x->reply_code == NULL)
        x->reply_code = g_steal_pointer (&f->reply_code);
    }
}

/* The SMTP command named in @text ("in reply to end of DATA command",
 * "after RCPT TO", a ">>> DATA" transcript line), or NULL. */
static char *
command_in (const char *text, gsize len)
{
  static BouncePattern *re;
  static gsize once;
  g_autoptr (GMatchInfo) mi = NULL;
  g_autofree char *found = NULL;
  g_autofree char *word = NULL;

  if (g_once_init_enter (&once))
    {
      re = bounce_pattern_new ("(?:in reply to (?:end of )?|after (?:end of )?|^>>> )"
                               "(DATA|RCPT(?: TO)?|MAIL(?: FROM)?|HELO|EHLO|STARTTLS|AUTH)\\b",
                               G_REGEX_CASELESS | G_REGEX_MULTILINE);
      g_once_init_leave (&once, 1);
    }
  if (text == NULL || !g_regex_match_full (bounce_pattern_re (re, len), text, len, 0, 0, &mi, NULL))
    return NULL;
  found = g_match_info_fetch (mi, 1);
  word = g_ascii_strup (found, -1);
  if (g_str_has_prefix (word, "RCPT"))
    return g_strdup ("RCPT");
  if (g_str_has_prefix (word, "MAIL"))
    return g_strdup ("MAIL");
  if (strcmp (word, "EHLO") == 0)
    return g_strdup ("HELO");
  return g_steal_pointer (&word);
}

/* The command a recipient's error answered: from its diagnostic, from the
 * paragraph of the report text that names it, or from the last ">>>" line
 * of a session transcript before the first "<<<" line that names it. */
static char *
recipient_command (BounceRecipient *x, const char *text, gsize len)
{
  const char *at, *p;
  char *cmd = command_in (x->diagnostic, x->diagnostic ? strlen (x->diagnostic) : 0);

  guint looked = 0;

  if (cmd || text == NULL || x->address == NULL)
    return cmd;
  /* A few mentions of the address, a few dozen lines back: enough for any
   * real report, bounded for a hostile one. */
  for (p = text; looked++ < 8 && (at = memmem (p, text + len - p, x->address, strlen (x->address))) != NULL; p = at + 1)
    {
      const char *line = at, *end;

      while (line > text && line[-1] != '\n')
        line--;
      if (g_str_has_prefix (line, "<<<"))
        {
          /* back to the command this answer was for */
          const char *q = line;
          int back = 0;

          while (q > text && back++ < MAX_LINES_BACK)
            {
              const char *prev = q - 1;

              while (prev > text && prev[-1] != '\n')
                prev--;
              if (g_str_has_prefix (prev, ">>> "))
                {
                  /* With pipelining, RCPT replies come after DATA was
                   * sent; "503 Need RCPT" or "no valid recipients" in
                   * answer to DATA says so. */
                  const char *gap = strstr (line, "\n\n");
                  gsize span = gap ? (gsize) (gap - line) : strlen (line);
                  g_autofree char *rest = g_strndup (line, span);

                  if (strstr (rest, "\n<<< 503") || g_strrstr (rest, "no valid recipients"))
                    return g_strdup ("RCPT");
                  return command_in (prev, q - prev);
                }
              q = prev;
            }
          continue;
        }
      /* the paragraph from this line to the next blank line */
      end = memmem (at, MIN ((gsize) (text + len - at), PARAGRAPH_BYTES), "\n\n", 2);
      if (end == NULL)
        end = at + MIN ((gsize) (text + len - at), PARAGRAPH_BYTES);
      if ((cmd = command_in (line, end - line)) != NULL)
        return cmd;
    }
  return NULL;
}

/* bounce_recipients_finish: complete each recipient of @recipients from
 * its diagnostic, the rule that recognised the report (nullable), the
 * report text and the reasons of @rules: reply code, status, action,
 * permanence, the SMTP command and the reason. Returns: how many
 * diagnostics were cut to BOUNCE_MAX_DIAGNOSTIC_BYTES. */
guint
bounce_recipients_finish (GPtrArray *recipients, BounceRules *rules, const BounceFormatRule *rule, const char *text,
                          gsize text_len)
{
  guint cut = 0;

  for (guint i = 0; i < recipients->len; i++)
    {
      BounceRecipient *x = g_ptr_array_index (recipients, i);
      const char *reason;
      char code[4], status[16];

      if (x->diagnostic && !g_utf8_validate (x->diagnostic, -1, NULL))
        {
          /* Regular expressions read UTF-8 only. */
          char *valid = g_utf8_make_valid (x->diagnostic, -1);

          g_free (x->diagnostic);
          x->diagnostic = valid;
        }
      if (x->diagnostic)
        {
          if (bounce_truncate_utf8 (x->diagnostic, BOUNCE_MAX_DIAGNOSTIC_BYTES))
            cut++;
          if (x->reply_code == NULL && bounce_find_reply_code (x->diagnostic, code))
            x->reply_code = g_strdup (code);
          /* A DSN's "5.0.0" says less than the diagnostic's own code. */
          if (is_generic_status (x->status) && bounce_find_status (x->diagnostic, status)
              && (x->status == NULL || status[0] == x->status[0]))
            {
              g_free (x->status);
              x->status = g_strdup (status);
            }
        }
      if (x->status == NULL && rule && bounce_format_rule_default_status (rule))
        x->status = g_strdup (bounce_format_rule_default_status (rule));
      if (x->status == NULL && x->reply_code)
        x->status = g_strdup_printf ("%c.0.0", x->reply_code[0]);
      if (x->action == NULL)
        x->action = g_strdup ("failed");
      normalise_action (x);
      if (x->status)
        x->permanent = x->status[0] == '5' ? 1 : x->status[0] == '4' ? 0 : -1;
      else if (x->reply_code)
        x->permanent = x->reply_code[0] == '5' ? 1 : 0;
      if (g_strcmp0 (x->action, "delayed") == 0)
        x->permanent = 0;
      else if (x->permanent < 0 && g_strcmp0 (x->action, "failed") == 0)
        x->permanent = 1;

      x->command = recipient_command (x, text, text_len);
      reason = bounce_rules_reason (rules, x->diagnostic, x->status);
      /* A recipient refused only after DATA was accepted at RCPT TO: what
       * refused it looked at the content. */
      if (g_strcmp0 (reason, "userunknown") == 0 && g_strcmp0 (x->command, "DATA") == 0)
        reason = "filtered";
      if (reason == NULL && rule)
        reason = bounce_format_rule_default_reason (rule);
      /* A reply to MAIL FROM refused the sender, whatever mailbox its
       * words say does not exist. */
      if ((reason == NULL || strcmp (reason, "userunknown") == 0) && g_strcmp0 (x->command, "MAIL") == 0
          && g_strcmp0 (x->action, "failed") == 0)
        reason = "rejected";
      if (reason == NULL)
        {
          if (g_strcmp0 (x->action, "delivered") == 0 || g_strcmp0 (x->action, "relayed") == 0
              || g_strcmp0 (x->action, "expanded") == 0)
            reason = "delivered";
          else if (g_strcmp0 (x->action, "delayed") == 0)
            reason = "expired";
          else
            reason = x->diagnostic ? "onhold" : "undefined";
        }
      x->reason = g_strdup (reason);
      /* A failure because the queue's time ran out ("I'm not going to try
       * again; this message has been in the queue too long") is final,
       * whatever the class of the last error it met. */
      if (x->permanent == 0 && strcmp (reason, "expired") == 0 && g_strcmp0 (x->action, "failed") == 0)
        x->permanent = 1;
    }
  return cut;
}

/* bounce_kind_from_actions: the kind a DSN's actions make: failure when
 * any failed (or none is named), else delay, else delivered. */
BounceKind
bounce_kind_from_actions (GPtrArray *recipients)
{
  gboolean failed = FALSE, delayed = FALSE, delivered = FALSE;

  for (guint i = 0; i < recipients->len; i++)
    {
      BounceRecipient *x = g_ptr_array_index (recipients, i);
      const char *a;

      normalise_action (x);
      a = x->action;

      if (a == NULL || g_str_has_prefix (a, "fail"))
        failed = TRUE;
      else if (g_str_has_prefix (a, "delay"))
        delayed = TRUE;
      else if (g_str_has_prefix (a, "deliver") || g_str_has_prefix (a, "relay") || g_str_has_prefix (a, "expand"))
        delivered = TRUE;
      else
        failed = TRUE;
    }
  if (failed || recipients->len == 0)
    return BOUNCE_KIND_FAILURE;
  if (delayed)
    return BOUNCE_KIND_DELAY;
  return delivered ? BOUNCE_KIND_DELIVERED : BOUNCE_KIND_FAILURE;
}

/* dsn.c — parse the body of a message/delivery-status part (RFC 3464) or a
 * message/global-delivery-status part (RFC 6533).
 *
 * The body is one group of per-message fields followed by one group per
 * recipient, groups separated by blank lines. Real reports omit the blank
 * lines, fold lines anywhere, add comments and indent fields; so a new
 * recipient group also starts where a recipient field appears that the
 * current group already has, or where a Final-Recipient or
 * Original-Recipient follows per-message fields.
 *
 * Limits: BOUNCE_MAX_DSN_BYTES of input, BOUNCE_MAX_RECIPIENTS groups,
 * BOUNCE_MAX_FIELD_BYTES per value; what is beyond is ignored.
 */
#include "bounce-private.h"

#include <string.h>

void
bounce_dsn_free (BounceDsn *dsn)
{
  if (dsn == NULL)
    return;
  g_free (dsn->reporting_mta);
  g_free (dsn->received_from_mta);
  g_free (dsn->arrival_date);
  g_free (dsn->envelope_id);
  g_ptr_array_unref (dsn->recipients);
  g_free (dsn);
}

/* Remove RFC 822 comments "(...)" (nesting, quoted pairs) from @s. */
static char *
strip_comments (const char *s)
{
  GString *out = g_string_sized_new (strlen (s));
  int depth = 0;
  gboolean quoted = FALSE;

  for (; *s; s++)
    {
      if (*s == '\\' && s[1] && (depth > 0 || quoted))
        {
          if (depth == 0)
            g_string_append_len (out, s, 2);
          s++;
          continue;
        }
      if (depth == 0 && *s == '"')
        quoted = !quoted;
      if (!quoted && *s == '(')
        depth++;
      else if (!quoted && *s == ')' && depth > 0)
        depth--;
      else if (depth == 0)
        g_string_append_c (out, *s);
    }
  return g_string_free (out, FALSE);
}

/* Decode RFC 6533 "\x{HHHH}" escapes in a utf-8 address. */
static char *
decode_unicode_escapes (const char *s)
{
  GString *out = g_string_sized_new (strlen (s));

  while (*s)
    {
      if (s[0] == '\\' && s[1] == 'x' && s[2] == '{')
        {
          char *end = NULL;
          gulong c = strtoul (s + 3, &end, 16);

          if (end && *end == '}' && end > s + 3 && g_unichar_validate (c))
            {
              g_string_append_unichar (out, c);
              s = end + 1;
              continue;
            }
        }
      g_string_append_c (out, *s++);
    }
  return g_string_free (out, FALSE);
}

/* "rfc822; user@example.com" -> "user@example.com" */
static char *
typed_address (const char *value)
{
  g_autofree char *v = g_strchug (strip_comments (value));
  const char *semi = strchr (v, ';');
  const char *addr = v;
  g_autofree char *decoded = NULL;

  if (semi)
    {
      addr = semi + 1;
      if (g_ascii_strncasecmp (v, "utf-8", 5) == 0 || g_ascii_strncasecmp (v, "unknown", 7) == 0)
        addr = decoded = decode_unicode_escapes (semi + 1);
    }
  return bounce_addr_spec (addr);
}

/* "dns; mx.example.com" -> "mx.example.com" */
static char *
typed_name (const char *value)
{
  g_autofree char *v = strip_comments (value);
  const char *semi = strchr (v, ';');
  char *name = g_strdup (semi ? semi + 1 : v);

  return bounce_strip (name);
}

static void
set_field (char **slot, char *value)
{
  if (value == NULL)
    return;
  g_free (*slot);
  *slot = value;
}

static void
set_diagnostic (BounceRecipient *r, const char *value)
{
  const char *semi = strchr (value, ';');
  const char *text = value;
  char code[4], status[16];

  /* "smtp; 550 5.1.1 ..." : the type is up to the first ';' when it is a
   * single word. */
  if (semi)
    {
      const char *p = value;

      while (p < semi && (g_ascii_isalnum (*p) || *p == '-' || *p == '_' || *p == ' '))
        p++;
      if (p == semi)
        text = semi + 1;
    }
  set_field (&r->diagnostic, bounce_collapse_space (text));
  if (r->diagnostic == NULL)
    return;
  if (r->reply_code == NULL && bounce_find_reply_code (r->diagnostic, code))
    r->reply_code = g_strdup (code);
  if (r->status == NULL && bounce_find_status (r->diagnostic, status))
    r->status = g_strdup (status);
}

typedef enum
{
  F_OTHER,
  F_REPORTING_MTA,
  F_RECEIVED_FROM_MTA,
  F_ARRIVAL_DATE,
  F_ENVELOPE_ID,
  F_ORIGINAL_RECIPIENT,
  F_FINAL_RECIPIENT,
  F_ACTION,
  F_STATUS,
  F_REMOTE_MTA,
  F_DIAGNOSTIC,
  F_LAST_ATTEMPT,
  F_WILL_RETRY,
} Field;

static Field
field_of (const char *name)
{
  static const struct
  {
    const char *name;
    Field field;
  } table[] = {
    { "reporting-mta", F_REPORTING_MTA },
    { "received-from-mta", F_RECEIVED_FROM_MTA },
    { "arrival-date", F_ARRIVAL_DATE },
    { "original-envelope-id", F_ENVELOPE_ID },
    { "x-original-envelope-id", F_ENVELOPE_ID },
    { "original-recipient", F_ORIGINAL_RECIPIENT },
    { "x-actual-recipient", F_ORIGINAL_RECIPIENT },
    { "final-recipient", F_FINAL_RECIPIENT },
    { "action", F_ACTION },
    { "status", F_STATUS },
    { "remote-mta", F_REMOTE_MTA },
    { "diagnostic-code", F_DIAGNOSTIC },
    { "x-postfix-diagnostic-code", F_OTHER },
    { "last-attempt-date", F_LAST_ATTEMPT },
    { "will-retry-until", F_WILL_RETRY },
  };

  for (guint i = 0; i < G_N_ELEMENTS (table); i++)
    if (g_ascii_strcasecmp (name, table[i].name) == 0)
      return table[i].field;
  return F_OTHER;
}

static gboolean
is_recipient_field (Field f)
{
  return f >= F_ORIGINAL_RECIPIENT;
}

typedef struct
{
  BounceDsn *dsn;
  BounceRecipient *cur;       /* the recipient group being filled */
  gboolean in_recipients;     /* a recipient field has been seen */
  gboolean blank_before;      /* a blank line since the last field */
  gboolean field_after_blank; /* the field being read follows one */
} State;

static gboolean
has_dotted_domain (const char *address)
{
  const char *at = strrchr (address, '@');

  return at && strchr (at + 1, '.') != NULL;
}

static void
finish_recipient (State *st)
{
  BounceRecipient *r = st->cur;

  st->cur = NULL;
  if (r == NULL)
    return;
  if (r->address == NULL && r->original_recipient != NULL)
    r->address = g_strdup (r->original_recipient);
  /* A final recipient at a bare host name ("user@server", a gateway's
   * internal rewrite) is not the address the sender wrote; the original
   * recipient is, when it has a domain. */
  else if (r->address && r->original_recipient && !has_dotted_domain (r->address)
           && has_dotted_domain (r->original_recipient))
    {
      g_free (r->address);
      r->address = g_strdup (r->original_recipient);
    }
  if (r->address != NULL && st->dsn->recipients->len >= BOUNCE_MAX_RECIPIENTS)
    st->dsn->cut = TRUE;
  if (r->address == NULL || st->dsn->recipients->len >= BOUNCE_MAX_RECIPIENTS)
    {
      bounce_recipient_free (r);
      return;
    }
  g_ptr_array_add (st->dsn->recipients, r);
}

static void
take_field (State *st, const char *name, const char *raw)
{
  Field f = field_of (name);
  g_autofree char *value = bounce_utf8 (raw, -1);
  BounceRecipient *r;
  char status[16];

  if (f == F_OTHER)
    return;
  if (!is_recipient_field (f))
    {
      /* A per-message field after recipients is most likely a second
       * report glued on; keep the first values. */
      BounceDsn *d = st->dsn;
      char **slot = f == F_REPORTING_MTA       ? &d->reporting_mta
                    : f == F_RECEIVED_FROM_MTA ? &d->received_from_mta
                    : f == F_ARRIVAL_DATE      ? &d->arrival_date
                                               : &d->envelope_id;

      if (*slot == NULL)
        *slot = (f == F_REPORTING_MTA || f == F_RECEIVED_FROM_MTA) ? typed_name (value) : bounce_collapse_space (value);
      return;
    }

  r = st->cur;
  /* Does this field open a new recipient group? */
  if (r != NULL)
    {
      gboolean again = FALSE;

      switch (f)
        {
        case F_FINAL_RECIPIENT:
          again = r->address != NULL;
          break;
        case F_ORIGINAL_RECIPIENT:
          again = r->original_recipient != NULL || r->address != NULL;
          /* "Final-Recipient" then "Original-Recipient" in one group is
           * common; a blank line is what really separates groups. */
          if (r->original_recipient == NULL && !st->field_after_blank)
            again = FALSE;
          break;
        case F_ACTION:
          again = r->action != NULL;
          break;
        default:
          break;
        }
      if (st->field_after_blank && (f == F_FINAL_RECIPIENT || f == F_ORIGINAL_RECIPIENT))
        again = TRUE;
      if (again)
        finish_recipient (st);
    }
  if (st->cur == NULL)
    st->cur = bounce_recipient_new ();
  r = st->cur;
  st->in_recipients = TRUE;

  switch (f)
    {
    case F_FINAL_RECIPIENT:
      set_field (&r->address, typed_address (value));
      break;
    case F_ORIGINAL_RECIPIENT:
      set_field (&r->original_recipient, typed_address (value));
      break;
    case F_ACTION:
      {
        g_autofree char *v = strip_comments (value);

        set_field (&r->action, bounce_strip (g_ascii_strdown (v, -1)));
        if (r->action && strchr (r->action, ' '))
          *strchr (r->action, ' ') = '\0';
      }
      break;
    case F_STATUS:
      if (bounce_find_status (value, status))
        set_field (&r->status, g_strdup (status));
      break;
    case F_REMOTE_MTA:
      set_field (&r->remote_mta, typed_name (value));
      break;
    case F_DIAGNOSTIC:
      set_diagnostic (r, value);
      break;
    case F_LAST_ATTEMPT:
      set_field (&r->last_attempt, bounce_collapse_space (value));
      break;
    case F_WILL_RETRY:
      set_field (&r->will_retry_until, bounce_collapse_space (value));
      break;
    default:
      break;
    }
}

/* Is @line a field line, "Name: value", of a field we know? Real reports
 * indent fields, so leading white space is allowed: an indented line is a
 * continuation unless it names a field. */
static gboolean
known_field_line (const char *line, gsize len)
{
  gsize i = 0, start;
  char name[64];

  while (i < len && (line[i] == ' ' || line[i] == '\t'))
    i++;
  start = i;
  while (i < len && (g_ascii_isalnum (line[i]) || line[i] == '-'))
    i++;
  if (i == start || i - start >= sizeof name)
    return FALSE;
  memcpy (name, line + start, i - start);
  name[i - start] = '\0';
  while (i < len && line[i] == ' ')
    i++;
  if (i == len || line[i] != ':')
    return FALSE;
  return start == 0 || field_of (name) != F_OTHER;
}

static void
flush_field (State *st, GString *field)
{
  char *colon;

  if (field->len == 0)
    return;
  colon = strchr (field->str, ':');
  *colon = '\0';
  take_field (st, g_strstrip (field->str), colon + 1);
  g_string_truncate (field, 0);
}

/* bounce_dsn_parse: parse the fields of a delivery-status body.
 * Returns: (transfer full): never NULL; recipients may be empty. */
BounceDsn *
bounce_dsn_parse (const char *data, gsize len)
{
  State st = { 0 };
  GString *field = g_string_new (NULL);
  gsize pos = 0;

  st.dsn = g_new0 (BounceDsn, 1);
  st.dsn->recipients = g_ptr_array_new_with_free_func ((GDestroyNotify) bounce_recipient_free);
  if (len > BOUNCE_MAX_DSN_BYTES)
    {
      len = BOUNCE_MAX_DSN_BYTES;
      st.dsn->cut = TRUE;
    }

  while (pos < len)
    {
      const char *line = data + pos;
      const char *nl = memchr (line, '\n', len - pos);
      gsize n = nl ? (gsize) (nl - line) : len - pos;
      gboolean blank = TRUE;

      pos += n + 1;
      if (n > 0 && line[n - 1] == '\r')
        n--;
      for (gsize i = 0; i < n && blank; i++)
        blank = g_ascii_isspace (line[i]);
      if (blank)
        {
          flush_field (&st, field);
          st.blank_before = TRUE;
          continue;
        }
      if (known_field_line (line, n))
        {
          gsize start = 0;

          flush_field (&st, field);
          st.field_after_blank = st.blank_before;
          st.blank_before = FALSE;
          while (line[start] == ' ' || line[start] == '\t')
            start++;
          g_string_append_len (field, line + start, MIN (n - start, BOUNCE_MAX_FIELD_BYTES));
          continue;
        }
      /* A continuation line (folded, or a wrapped diagnostic). */
      if (field->len && field->len < BOUNCE_MAX_FIELD_BYTES)
        {
          g_string_append_c (field, ' ');
          g_string_append_len (field, line, MIN (n, BOUNCE_MAX_FIELD_BYTES));
        }
    }
  flush_field (&st, field);
  finish_recipient (&st);
  g_string_free (field, TRUE);
  return st.dsn;
}

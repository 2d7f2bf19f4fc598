/* milter-policy.c — the decisions of `backscatter milter`, step by step
 * through an SMTP transaction, and its `[milter]` settings.
 *
 * Outgoing mail (an authenticated client, a client in outgoing-networks,
 * or one of the outgoing-daemons) is recorded in the sent-mail index and,
 * for the batv-sign domains, leaves with a BATV-tagged envelope sender.
 * Incoming mail is judged at its end exactly as `check` judges a file;
 * bounces (a null or MAILER-DAEMON sender) are also checked at RCPT: a
 * valid BATV tag is taken off the recipient, a forged or expired one is
 * refused, and an untagged address of a batv-sign domain gets
 * action-untagged. Nothing here fails a message: whatever goes wrong is
 * logged and the message accepted.
 *
 * Memory: a message is kept up to max-message-size bytes and judged from
 * its start beyond that.
 */
#include "config.h"
#include "milter-policy.h"

#include <gio/gio.h>
#include <stdio.h>
#include <string.h>

#define DEFAULT_MAX_MESSAGE (2 * 1024 * 1024)
#define DEFAULT_BATV_DAYS 7
#define MAX_REWRITES 100 /* tagged recipients taken off per message */

struct _MilterConfig
{
  gint ref;
  BounceRules *rules;
  BounceIdentity *identity;
  BounceIndex *index; /* nullable until opened */
  GMutex index_lock;  /* one connection thread at a time */
  char *index_path;
  char *socket;
  char *user;
  char *socket_group;
  guint socket_mode;
  GPtrArray *out_nets; /* GInetAddressMask */
  GStrv out_daemons;
  GStrv sign_domains; /* lower case */
  guint batv_days;
  MilterAction actions[4]; /* by BounceVerdict */
  MilterAction untagged;
  gsize max_message;
};

struct _MilterSession
{
  MilterConfig *cfg;
  char *client; /* for the log */
  gboolean outgoing_client;
  /* the message */
  gboolean outgoing;
  gboolean bounce;     /* null or MAILER-DAEMON sender */
  char *sender;        /* without <>; "" for the null sender */
  GPtrArray *rewrites; /* tagged (as given), "<plain>" pairs */
  char *untagged;      /* a bounce came to this untagged address */
  GByteArray *data;
  gboolean truncated;
};

static const char *const action_names[] = {
  [MILTER_ACCEPT] = "accept",
  [MILTER_TAG] = "tag",
  [MILTER_QUARANTINE] = "quarantine",
  [MILTER_REJECT] = "reject",
};

const char *
milter_action_to_string (MilterAction action)
{
  return action_names[action];
}

/* ---- settings --------------------------------------------------------- */

MilterConfig *
milter_config_ref (MilterConfig *cfg)
{
  g_atomic_int_inc (&cfg->ref);
  return cfg;
}

void
milter_config_unref (MilterConfig *cfg)
{
  if (cfg == NULL || !g_atomic_int_dec_and_test (&cfg->ref))
    return;
  g_clear_pointer (&cfg->index, bounce_index_unref);
  g_mutex_clear (&cfg->index_lock);
  g_clear_pointer (&cfg->rules, bounce_rules_unref);
  g_clear_pointer (&cfg->identity, bounce_identity_unref);
  g_free (cfg->index_path);
  g_free (cfg->socket);
  g_free (cfg->user);
  g_free (cfg->socket_group);
  g_ptr_array_unref (cfg->out_nets);
  g_strfreev (cfg->out_daemons);
  g_strfreev (cfg->sign_domains);
  g_free (cfg);
}

const char *
milter_config_get_socket (MilterConfig *cfg)
{
  return cfg->socket;
}

const char *
milter_config_get_user (MilterConfig *cfg)
{
  return cfg->user;
}

const char *
milter_config_get_socket_group (MilterConfig *cfg)
{
  return cfg->socket_group;
}

guint
milter_config_get_socket_mode (MilterConfig *cfg)
{
  return cfg->socket_mode;
}

const char *
milter_config_get_index_path (MilterConfig *cfg)
{
  return cfg->index_path;
}

/* Open the index for recording and lookups (after privileges are
 * dropped, so that its files belong to the milter's user). */
gboolean
milter_config_open_index (MilterConfig *cfg, GError **error)
{
  if (cfg->index)
    return TRUE;
  cfg->index = bounce_index_open (cfg->index_path, FALSE, error);
  return cfg->index != NULL;
}

static gboolean
parse_action (const char *v, MilterAction *out, gboolean untagged)
{
  for (guint i = 0; i < G_N_ELEMENTS (action_names); i++)
    if (g_ascii_strcasecmp (v, action_names[i]) == 0)
      {
        if (untagged && i == MILTER_QUARANTINE)
          return FALSE;
        *out = i;
        return TRUE;
      }
  return FALSE;
}

static char *
single (GKeyFile *kf, const char *key)
{
  g_auto (GStrv) v = cli_config_list (kf, "milter", key);

  return v && v[0] ? g_strdup (v[0]) : NULL;
}

static gboolean
read_group (MilterConfig *cfg, const char *path, GError **error)
{
  g_autofree char *text = NULL;
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) err = NULL;
  static const char *const verdict_keys[] = {
    [BOUNCE_VERDICT_NOT_BOUNCE] = "action-not-bounce",
    [BOUNCE_VERDICT_UNKNOWN] = "action-unknown",
    [BOUNCE_VERDICT_LEGITIMATE] = "action-legitimate",
    [BOUNCE_VERDICT_BACKSCATTER] = "action-backscatter",
  };
  g_auto (GStrv) nets = NULL;
  g_autofree char *v = NULL;

  if (!g_file_get_contents (path, &text, NULL, &err))
    return g_error_matches (err, G_FILE_ERROR, G_FILE_ERROR_NOENT)
               ? TRUE
               : (g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_CONFIG, "%s", err->message), FALSE);
  if (!g_key_file_load_from_data (kf, text, -1, G_KEY_FILE_NONE, &err))
    {
      g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_CONFIG, "%s: %s", path, err->message);
      return FALSE;
    }
  if ((v = single (kf, "socket")))
    g_free (cfg->socket), cfg->socket = g_steal_pointer (&v);
  if ((v = single (kf, "user")))
    g_free (cfg->user), cfg->user = g_steal_pointer (&v);
  if ((v = single (kf, "socket-group")))
    cfg->socket_group = g_steal_pointer (&v);
  if ((v = single (kf, "socket-mode")))
    {
      guint64 mode;

      if (!g_ascii_string_to_unsigned (v, 8, 0, 0777, &mode, NULL))
        return cli_config_error (error, path, text, "milter/socket-mode",
                                 "socket-mode takes an octal mode such as 660");
      cfg->socket_mode = mode;
      g_clear_pointer (&v, g_free);
    }
  nets = cli_config_list (kf, "milter", "outgoing-networks");
  for (guint i = 0; nets && nets[i]; i++)
    {
      GInetAddressMask *m = g_inet_address_mask_new_from_string (nets[i], NULL);

      if (m == NULL)
        {
          GInetAddress *a = g_inet_address_new_from_string (nets[i]);

          if (a)
            m = g_inet_address_mask_new (a, g_inet_address_get_family (a) == G_SOCKET_FAMILY_IPV4 ? 32 : 128, NULL);
          g_clear_object (&a);
        }
      if (m == NULL)
        return cli_config_error (error, path, text, "milter/outgoing-networks", "'%s' is not an IP address or network",
                                 nets[i]);
      g_ptr_array_add (cfg->out_nets, m);
    }
  cfg->out_daemons = cli_config_list (kf, "milter", "outgoing-daemons");
  cfg->sign_domains = cli_config_list (kf, "milter", "batv-sign");
  for (guint i = 0; cfg->sign_domains && cfg->sign_domains[i]; i++)
    {
      char *d = cfg->sign_domains[i];

      for (char *p = d; *p; p++)
        *p = g_ascii_tolower (*p);
      if (strchr (d, '@') || !strchr (d, '.'))
        return cli_config_error (error, path, text, "milter/batv-sign", "'%s' is not a domain", d);
    }
  if ((v = single (kf, "batv-days")))
    {
      guint64 days;

      if (!g_ascii_string_to_unsigned (v, 10, 1, 60, &days, NULL))
        return cli_config_error (error, path, text, "milter/batv-days", "batv-days takes 1 to 60");
      cfg->batv_days = days;
      g_clear_pointer (&v, g_free);
    }
  for (guint i = 0; i < G_N_ELEMENTS (verdict_keys); i++)
    if ((v = single (kf, verdict_keys[i])))
      {
        g_autofree char *where = g_strconcat ("milter/", verdict_keys[i], NULL);

        if (!parse_action (v, &cfg->actions[i], FALSE))
          return cli_config_error (error, path, text, where, "%s takes reject, quarantine, tag or accept",
                                   verdict_keys[i]);
        g_clear_pointer (&v, g_free);
      }
  if ((v = single (kf, "action-untagged")))
    {
      if (!parse_action (v, &cfg->untagged, TRUE))
        return cli_config_error (error, path, text, "milter/action-untagged",
                                 "action-untagged takes reject, tag or accept");
      g_clear_pointer (&v, g_free);
    }
  if ((v = single (kf, "max-message-size")))
    {
      guint64 n;

      if (!g_ascii_string_to_unsigned (v, 10, 65536, G_MAXINT32, &n, NULL))
        return cli_config_error (error, path, text, "milter/max-message-size",
                                 "max-message-size takes a number of bytes, at least 65536");
      cfg->max_message = n;
      g_clear_pointer (&v, g_free);
    }
  return TRUE;
}

/**
 * milter_config_load: the rules, the identity (the host's addresses,
 * relays, DKIM domains, BATV key) and the [milter] group of the config
 * file named by @settings. The index is opened later.
 */
MilterConfig *
milter_config_load (CliSettings *settings, GError **error)
{
  g_autoptr (MilterConfig) cfg = g_new0 (MilterConfig, 1);
  g_autofree char *path = cli_config_path (settings);

  cfg->ref = 1;
  g_mutex_init (&cfg->index_lock);
  cfg->out_nets = g_ptr_array_new_with_free_func (g_object_unref);
  cfg->socket_mode = 0660;
  cfg->batv_days = DEFAULT_BATV_DAYS;
  cfg->max_message = DEFAULT_MAX_MESSAGE;
  cfg->actions[BOUNCE_VERDICT_NOT_BOUNCE] = MILTER_ACCEPT;
  cfg->actions[BOUNCE_VERDICT_UNKNOWN] = MILTER_TAG;
  cfg->actions[BOUNCE_VERDICT_LEGITIMATE] = MILTER_TAG;
  cfg->actions[BOUNCE_VERDICT_BACKSCATTER] = MILTER_REJECT;
  cfg->untagged = MILTER_REJECT;
  cfg->index_path = cli_index_path (settings);
  cfg->rules = cli_load_rules (settings->rules_dirs, error);
  if (cfg->rules == NULL)
    return NULL;
  bounce_rules_compile (cfg->rules);
  cfg->identity = cli_load_identity (settings, error);
  if (cfg->identity == NULL)
    return NULL;
  if (!read_group (cfg, path, error))
    return NULL;
  if (cfg->sign_domains && cfg->sign_domains[0] && bounce_identity_get_batv_key (cfg->identity) == NULL)
    {
      g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_CONFIG,
                   "%s: [milter] batv-sign needs a key: set batv-key-file in [identity]", path);
      return NULL;
    }
  return g_steal_pointer (&cfg);
}

/* ---- one connection ---------------------------------------------------- */

static gboolean
in_networks (MilterConfig *cfg, const char *ip)
{
  g_autoptr (GInetAddress) a = ip ? g_inet_address_new_from_string (ip) : NULL;

  if (a == NULL)
    return FALSE;
  for (guint i = 0; i < cfg->out_nets->len; i++)
    {
      GInetAddressMask *m = cfg->out_nets->pdata[i];

      if (g_inet_address_mask_get_family (m) == g_inet_address_get_family (a) && g_inet_address_mask_matches (m, a))
        return TRUE;
    }
  return FALSE;
}

/**
 * milter_session_new:
 * @client_ip: (nullable): the SMTP client's address; NULL for mail
 *   submitted on the host itself (sendmail(1), Postfix's pickup)
 * @client_name: (nullable): its name, for the log
 * @daemon: (nullable): the MTA's name for the server it came through
 *   (Postfix's {daemon_name}: "submission", ...)
 */
MilterSession *
milter_session_new (MilterConfig *cfg, const char *client_ip, const char *client_name, const char *daemon)
{
  MilterSession *s = g_new0 (MilterSession, 1);

  s->cfg = milter_config_ref (cfg);
  s->client = g_strdup_printf ("%s[%s]", client_name ? client_name : "local", client_ip ? client_ip : "-");
  s->outgoing_client =
      client_ip == NULL || in_networks (cfg, client_ip)
      || (daemon && cfg->out_daemons && g_strv_contains ((const char *const *) cfg->out_daemons, daemon));
  s->rewrites = g_ptr_array_new_with_free_func (g_free);
  return s;
}

void
milter_session_abort (MilterSession *s)
{
  s->outgoing = s->bounce = FALSE;
  g_clear_pointer (&s->sender, g_free);
  g_clear_pointer (&s->untagged, g_free);
  g_ptr_array_set_size (s->rewrites, 0);
  g_clear_pointer (&s->data, g_byte_array_unref);
  s->truncated = FALSE;
}

void
milter_session_free (MilterSession *s)
{
  if (s == NULL)
    return;
  milter_session_abort (s);
  g_ptr_array_unref (s->rewrites);
  g_free (s->client);
  milter_config_unref (s->cfg);
  g_free (s);
}

gboolean
milter_session_is_outgoing (MilterSession *s)
{
  return s->outgoing;
}

gsize
milter_session_buffered (MilterSession *s)
{
  return s->data ? s->data->len : 0;
}

/* "<a@b>" -> "a@b"; NULL stays NULL. */
static char *
strip_brackets (const char *addr)
{
  gsize n;

  if (addr == NULL)
    return NULL;
  while (*addr == ' ')
    addr++;
  n = strlen (addr);
  if (n >= 2 && addr[0] == '<' && addr[n - 1] == '>')
    return g_strndup (addr + 1, n - 2);
  return g_strdup (addr);
}

static const char *
domain_of (const char *addr)
{
  const char *at = addr ? strrchr (addr, '@') : NULL;

  return at ? at + 1 : NULL;
}

static gboolean
signs_domain (MilterConfig *cfg, const char *addr)
{
  const char *d = domain_of (addr);

  if (d == NULL || cfg->sign_domains == NULL)
    return FALSE;
  for (guint i = 0; cfg->sign_domains[i]; i++)
    if (g_ascii_strcasecmp (cfg->sign_domains[i], d) == 0)
      return TRUE;
  return FALSE;
}

/**
 * milter_session_mail: a new message, from @sender (as given to MAIL
 * FROM, brackets and all); @auth_authen is the SMTP AUTH login, if any.
 */
void
milter_session_mail (MilterSession *s, const char *sender, const char *auth_authen)
{
  milter_session_abort (s);
  s->sender = strip_brackets (sender ? sender : "");
  s->outgoing = s->outgoing_client || (auth_authen && *auth_authen);
  s->bounce = s->sender[0] == '\0' || g_ascii_strncasecmp (s->sender, "mailer-daemon@", 14) == 0
              || g_ascii_strcasecmp (s->sender, "mailer-daemon") == 0;
  s->data = g_byte_array_new ();
}

/**
 * milter_session_rcpt: the BATV check of one recipient.
 * @reply: (out): the text of the 550 5.7.1 reply when refused
 * @log: (out) (nullable): a line to log, for a decision
 *
 * Returns: MILTER_REJECT or MILTER_ACCEPT
 */
MilterAction
milter_session_rcpt (MilterSession *s, const char *rcpt, char **reply, char **log)
{
  GBytes *key = bounce_identity_get_batv_key (s->cfg->identity);
  g_autofree char *addr = strip_brackets (rcpt);
  g_autofree char *plain = NULL;

  *reply = NULL;
  *log = NULL;
  if (s->outgoing || key == NULL || addr == NULL || s->data == NULL)
    return MILTER_ACCEPT;
  switch (bounce_batv_verify (key, addr, g_get_real_time () / G_USEC_PER_SEC, &plain))
    {
    case BOUNCE_BATV_VALID:
      if (s->rewrites->len < 2 * MAX_REWRITES)
        {
          g_ptr_array_add (s->rewrites, g_strdup (rcpt));
          g_ptr_array_add (s->rewrites, g_strdup_printf ("<%s>", plain));
        }
      return MILTER_ACCEPT;
    case BOUNCE_BATV_INVALID:
      if (!s->bounce)
        return MILTER_ACCEPT;
      *reply = g_strdup_printf ("backscatter: %s carries a BATV tag this host did not make", plain);
      *log = g_strdup_printf ("client=%s from=<%s> to=<%s> verdict=backscatter evidence=batv-invalid action=reject",
                              s->client, s->sender, addr);
      return MILTER_REJECT;
    case BOUNCE_BATV_EXPIRED:
      if (!s->bounce)
        return MILTER_ACCEPT;
      *reply = g_strdup_printf ("backscatter: the BATV tag of %s has expired", plain);
      *log = g_strdup_printf ("client=%s from=<%s> to=<%s> verdict=backscatter evidence=batv-expired action=reject",
                              s->client, s->sender, addr);
      return MILTER_REJECT;
    case BOUNCE_BATV_NONE:
    default:
      break;
    }
  if (!s->bounce || !signs_domain (s->cfg, addr) || s->cfg->untagged == MILTER_ACCEPT)
    return MILTER_ACCEPT;
  if (s->cfg->untagged == MILTER_REJECT)
    {
      *reply = g_strdup_printf ("backscatter: %s sends all its mail with BATV-tagged senders; "
                                "this bounce came to an untagged address",
                                domain_of (addr));
      *log = g_strdup_printf ("client=%s from=<%s> to=<%s> verdict=backscatter evidence=batv-untagged action=reject",
                              s->client, s->sender, addr);
      return MILTER_REJECT;
    }
  if (s->untagged == NULL)
    s->untagged = g_strdup (addr);
  return MILTER_ACCEPT;
}

static void
append (MilterSession *s, const void *data, gsize len)
{
  gsize room;

  if (s->data == NULL)
    return;
  room = s->cfg->max_message > s->data->len ? s->cfg->max_message - s->data->len : 0;
  if (len > room)
    {
      len = room;
      s->truncated = TRUE;
    }
  g_byte_array_append (s->data, data, len);
}

/* One header field as the MTA passes it (the value without the space
 * after the colon; folded lines keep their line breaks). */
void
milter_session_header (MilterSession *s, const char *name, const char *value)
{
  append (s, name, strlen (name));
  append (s, ": ", 2);
  append (s, value, strlen (value));
  append (s, "\r\n", 2);
}

void
milter_session_eoh (MilterSession *s)
{
  append (s, "\r\n", 2);
}

void
milter_session_body (MilterSession *s, const void *data, gsize len)
{
  append (s, data, len);
}

void
milter_result_free (MilterResult *r)
{
  if (r == NULL)
    return;
  g_free (r->reply);
  g_free (r->quarantine);
  g_free (r->new_sender);
  g_ptr_array_unref (r->del_rcpt);
  g_ptr_array_unref (r->add_rcpt);
  g_ptr_array_unref (r->headers);
  g_free (r->log);
  g_free (r);
}

/* Text safe for an SMTP reply and a log line: printable ASCII, no '%'. */
static char *
reply_text (const char *s, gsize max)
{
  GString *out = g_string_new (NULL);

  for (; s && *s && out->len < max; s++)
    {
      guchar c = *s;

      if (c == '%')
        g_string_append (out, "%%");
      else
        g_string_append_c (out, c >= 0x20 && c < 0x7f ? c : '?');
    }
  return g_string_free (out, FALSE);
}

/* The heaviest evidence towards backscatter: what a refusal says. */
static const BounceEvidence *
main_reason (BounceJudgement *jm)
{
  const BounceEvidence *best = NULL;

  for (guint i = 0; i < bounce_judgement_get_n_evidence (jm); i++)
    {
      const BounceEvidence *e = bounce_judgement_get_evidence (jm, i);

      if (e->weight > 0 && (best == NULL || e->weight > best->weight))
        best = e;
    }
  return best;
}

/* The X-Backscatter headers `filter` adds, as name/value pairs. */
static void
add_headers (GPtrArray *out, BounceJudgement *jm, BounceReport *report)
{
  g_autofree char *text = bounce_judgement_to_headers (jm, report, "\n");
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  GString *value = NULL;

  for (guint i = 0; lines[i]; i++)
    {
      const char *l = lines[i];

      if ((*l == ' ' || *l == '\t') && value)
        {
          g_string_append_printf (value, "\n%s", l);
          continue;
        }
      if (value)
        g_ptr_array_add (out, g_string_free (value, FALSE));
      value = NULL;
      if (*l)
        {
          const char *colon = strchr (l, ':');

          if (colon == NULL)
            continue;
          g_ptr_array_add (out, g_strndup (l, colon - l));
          value = g_string_new (colon[1] == ' ' ? colon + 2 : colon + 1);
        }
    }
  if (value)
    g_ptr_array_add (out, g_string_free (value, FALSE));
}

static MilterResult *
result_new (void)
{
  MilterResult *r = g_new0 (MilterResult, 1);

  r->action = MILTER_ACCEPT;
  r->del_rcpt = g_ptr_array_new_with_free_func (g_free);
  r->add_rcpt = g_ptr_array_new_with_free_func (g_free);
  r->headers = g_ptr_array_new_with_free_func (g_free);
  return r;
}

static MilterResult *
eom_outgoing (MilterSession *s, const char *queue_id)
{
  MilterResult *r = result_new ();
  GBytes *key = bounce_identity_get_batv_key (s->cfg->identity);
  g_autoptr (GError) error = NULL;
  gboolean added = FALSE, ok;
  const char *recorded;

  g_mutex_lock (&s->cfg->index_lock);
  ok = s->cfg->index
       && bounce_index_add_message (s->cfg->index, (const char *) s->data->data, s->data->len, &added, &error);
  g_mutex_unlock (&s->cfg->index_lock);
  recorded = !s->cfg->index ? "no-index" : !ok ? "error" : added ? "recorded" : "known";
  if (key && s->sender[0] && !s->bounce && signs_domain (s->cfg, s->sender))
    {
      g_autofree char *tagged =
          bounce_batv_sign (key, s->sender, g_get_real_time () / G_USEC_PER_SEC, s->cfg->batv_days);

      if (tagged)
        r->new_sender = g_strdup_printf ("<%s>", tagged);
    }
  {
    g_autofree char *why = error ? reply_text (error->message, 200) : NULL;

    r->log = g_strdup_printf ("queue=%s client=%s from=<%s> outgoing sent-index=%s%s%s%s%s", queue_id ? queue_id : "-",
                              s->client, s->sender, recorded, why ? " (" : "", why ? why : "", why ? ")" : "",
                              r->new_sender ? " batv=signed" : "");
  }
  return r;
}

/**
 * milter_session_eom: the message is complete; what to do with it.
 * @queue_id: (nullable): the MTA's queue id, for the log
 *
 * Returns: (transfer full): never NULL; accepts what could not be judged
 */
MilterResult *
milter_session_eom (MilterSession *s, const char *queue_id)
{
  MilterResult *r;
  MilterConfig *cfg = s->cfg;
  g_autoptr (GError) error = NULL;
  g_autoptr (BounceReport) report = NULL;
  g_autoptr (BounceJudgement) jm = NULL;
  g_autoptr (GString) names = g_string_new (NULL);
  BounceVerdict verdict;
  char score[G_ASCII_DTOSTR_BUF_SIZE];
  const char *qid = queue_id ? queue_id : "-";

  if (s->data == NULL)
    {
      r = result_new ();
      r->log = g_strdup_printf ("queue=%s client=%s no message: accepted", qid, s->client);
      return r;
    }
  if (s->outgoing)
    return eom_outgoing (s, queue_id);
  r = result_new ();
  for (guint i = 0; i + 1 < s->rewrites->len; i += 2)
    {
      g_ptr_array_add (r->del_rcpt, g_strdup (s->rewrites->pdata[i]));
      g_ptr_array_add (r->add_rcpt, g_strdup (s->rewrites->pdata[i + 1]));
    }
  report = bounce_report_new_from_data ((const char *) s->data->data, s->data->len, cfg->rules, BOUNCE_PARSE_DEFAULT,
                                        &error);
  if (report == NULL)
    {
      g_autofree char *why = reply_text (error->message, 200);

      r->log =
          g_strdup_printf ("queue=%s client=%s from=<%s> error=\"%s\" action=accept", qid, s->client, s->sender, why);
      return r;
    }
  g_mutex_lock (&cfg->index_lock);
  {
    g_autoptr (BounceJudge) judge = bounce_judge_new (cfg->identity, cfg->index, cfg->rules);

    jm = bounce_judge_report (judge, report);
  }
  g_mutex_unlock (&cfg->index_lock);
  verdict = bounce_judgement_get_verdict (jm);
  r->action = cfg->actions[verdict];
  for (guint i = 0; i < bounce_judgement_get_n_evidence (jm); i++)
    g_string_append_printf (names, "%s%s", i ? "," : "", bounce_judgement_get_evidence (jm, i)->rule);
  g_ascii_formatd (score, sizeof score, "%.1f", bounce_judgement_get_score (jm));
  switch (r->action)
    {
    case MILTER_REJECT:
      {
        const BounceEvidence *e = main_reason (jm);
        g_autofree char *why = reply_text (e ? e->detail : bounce_verdict_to_string (verdict), 400);

        r->reply = g_strdup_printf ("%s: %s", bounce_verdict_to_string (verdict), why);
        g_ptr_array_set_size (r->del_rcpt, 0);
        g_ptr_array_set_size (r->add_rcpt, 0);
        break;
      }
    case MILTER_QUARANTINE:
      r->quarantine = g_strdup_printf ("backscatter: %s (score %s)", bounce_verdict_to_string (verdict), score);
      add_headers (r->headers, jm, report);
      break;
    case MILTER_TAG:
      add_headers (r->headers, jm, report);
      break;
    case MILTER_ACCEPT:
      break;
    }
  if (s->untagged && r->action != MILTER_REJECT)
    {
      g_ptr_array_add (r->headers, g_strdup ("X-Backscatter-BATV"));
      g_ptr_array_add (r->headers, g_strdup_printf ("untagged; to=%s", s->untagged));
    }
  r->log = g_strdup_printf ("queue=%s client=%s from=<%s> verdict=%s score=%s kind=%s evidence=%s%s action=%s", qid,
                            s->client, s->sender, bounce_verdict_to_string (verdict), score,
                            bounce_kind_to_string (bounce_report_get_kind (report)), names->len ? names->str : "-",
                            s->truncated ? " truncated=yes" : "", milter_action_to_string (r->action));
  return r;
}

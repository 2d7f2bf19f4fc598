/* config.c — the owner's identity and settings from
 * $XDG_CONFIG_HOME/backscatter/config (a GKeyFile), each overridable by a
 * command-line flag. A mistake in the file is an error naming its line:
 * an unknown group or key, an address, relay or domain that cannot be one,
 * a BATV key file that cannot be read.
 *
 *   [identity]
 *   addresses = me@example.org; *@example.net
 *   relays = smtp.example.org; *.out.example.org; 192.0.2.0/24
 *   dkim-domains = example.org
 *   batv-key-file = ~/.config/backscatter/batv.key
 *   [sent]
 *   folders = ~/Maildir/.Sent; ~/mail/sent-mail
 *   complete = true
 *   index = ~/.local/share/backscatter/sent.db
 *
 * A relative path in the file (batv-key-file, folders, index) is taken
 * from the file's own folder, so that `--config testdata/owner.conf`
 * means the same from anywhere; a relative path given as a flag is taken
 * from the current folder, as usual.
 */
#include "config.h"
#include "cli.h"

#include <stdio.h>
#include <string.h>

static const char *const known[][2] = {
  { "identity", "addresses" },
  { "identity", "relays" },
  { "identity", "dkim-domains" },
  { "identity", "batv-key-file" },
  { "sent", "folders" },
  { "sent", "complete" },
  { "sent", "index" },
  /* backscatter milter (cli/milter-policy.c reads these) */
  { "milter", "socket" },
  { "milter", "user" },
  { "milter", "socket-mode" },
  { "milter", "socket-group" },
  { "milter", "outgoing-networks" },
  { "milter", "outgoing-daemons" },
  { "milter", "batv-sign" },
  { "milter", "batv-days" },
  { "milter", "action-backscatter" },
  { "milter", "action-unknown" },
  { "milter", "action-legitimate" },
  { "milter", "action-not-bounce" },
  { "milter", "action-untagged" },
  { "milter", "max-message-size" },
};

/* "~/x" -> "$HOME/x" */
char *
cli_expand_path (const char *path)
{
  if (path[0] == '~' && (path[1] == '/' || path[1] == '\0'))
    return g_build_filename (g_get_home_dir (), path + 1, NULL);
  return g_strdup (path);
}

/* A path written in the config file @config: "~/x" from $HOME, a relative
 * one from the file's folder. */
static char *
config_relative_path (const char *config, const char *path)
{
  g_autofree char *dir = NULL;

  if (path[0] == '~' || g_path_is_absolute (path))
    return cli_expand_path (path);
  dir = g_path_get_dirname (config);
  return g_build_filename (dir, path, NULL);
}

/* cli_config_path: the config file in use (named with --config, or the
 * default one, which need not exist). */
char *
cli_config_path (CliSettings *s)
{
  return s->config ? cli_expand_path (s->config)
                   : g_build_filename (g_get_user_config_dir (), "backscatter", "config", NULL);
}

GOptionEntry *
cli_identity_entries (CliSettings *s)
{
  GOptionEntry entries[] = {
    { "config", 0, 0, G_OPTION_ARG_FILENAME, &s->config, "Read settings from FILE", "FILE" },
    { "me", 0, 0, G_OPTION_ARG_STRING_ARRAY, &s->me, "An address (or *@domain) of yours; replaces the configured ones",
      "ADDR" },
    { "relay", 0, 0, G_OPTION_ARG_STRING_ARRAY, &s->relays,
      "A relay your mail leaves through (host glob, IP or network)", "HOST" },
    { "dkim-domain", 0, 0, G_OPTION_ARG_STRING_ARRAY, &s->dkim_domains, "A domain that signs all your mail", "DOMAIN" },
    { "batv-key-file", 0, 0, G_OPTION_ARG_FILENAME, &s->batv_key_file, "The file holding your BATV key", "FILE" },
    { "sent", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &s->sent, "A Maildir or mbox of your sent mail", "PATH" },
    { "complete", 0, 0, G_OPTION_ARG_NONE, &s->complete, "Every message you send is in the sent folders", NULL },
    { "index", 0, 0, G_OPTION_ARG_FILENAME, &s->index,
      "The sent-mail index (default: [sent] index, or $XDG_DATA_HOME/backscatter/sent.db)", "FILE" },
    { "rules", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &s->rules_dirs, "Read rules from DIR instead of the installed ones",
      "DIR" },
    { NULL },
  };

  return g_memdup2 (entries, sizeof entries);
}

void
cli_settings_clear (CliSettings *s)
{
  g_free (s->config);
  g_strfreev (s->me);
  g_strfreev (s->relays);
  g_strfreev (s->dkim_domains);
  g_free (s->batv_key_file);
  g_strfreev (s->sent);
  g_free (s->index);
  g_strfreev (s->rules_dirs);
}

/* The line of the file where [group] key is set, for messages. */
static int
line_of (const char *text, const char *group, const char *key)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  gboolean in_group = group == NULL;

  for (int i = 0; lines[i]; i++)
    {
      char *l = g_strstrip (lines[i]);

      if (l[0] == '[')
        {
          in_group = group && strncmp (l + 1, group, strlen (group)) == 0 && l[1 + strlen (group)] == ']';
          if (key == NULL && in_group)
            return i + 1;
          continue;
        }
      if (in_group && key && g_str_has_prefix (l, key))
        {
          const char *p = l + strlen (key);

          while (*p == ' ' || *p == '\t')
            p++;
          if (*p == '=')
            return i + 1;
        }
    }
  return 0;
}

gboolean
cli_config_error (GError **error, const char *path, const char *text, const char *group_key, const char *fmt, ...)
{
  va_list ap;
  g_autofree char *msg = NULL;
  g_auto (GStrv) gk = g_strsplit (group_key, "/", 2);
  int line = line_of (text, gk[0], gk[1]);

  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_CONFIG, "%s:%d: %s", path, line, msg);
  return FALSE;
}

/* A list value: ';'-separated, white space trimmed, a " #" comment cut. */
GStrv
cli_config_list (GKeyFile *kf, const char *group, const char *key)
{
  g_autofree char *raw = g_key_file_get_value (kf, group, key, NULL);
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (g_free);
  g_auto (GStrv) parts = NULL;
  char *hash;

  if (raw == NULL)
    return NULL;
  for (hash = raw; (hash = strchr (hash, '#')) != NULL; hash++)
    if (hash == raw || g_ascii_isspace (hash[-1]))
      {
        *hash = '\0';
        break;
      }
  parts = g_strsplit (raw, ";", -1);
  for (guint i = 0; parts[i]; i++)
    {
      char *v = g_strstrip (parts[i]);

      if (*v)
        g_ptr_array_add (out, g_strdup (v));
    }
  g_ptr_array_add (out, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&out), FALSE);
}

static gboolean
add_each (BounceIdentity *id, GStrv values, gboolean (*fn) (BounceIdentity *, const char *, GError **),
          const char *path, const char *text, const char *where, GError **error)
{
  for (guint i = 0; values && values[i]; i++)
    {
      g_autoptr (GError) err = NULL;

      if (!fn (id, values[i], &err))
        {
          if (path)
            return cli_config_error (error, path, text, where, "%s", err->message);
          g_propagate_error (error, g_steal_pointer (&err));
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
load_batv_key (BounceIdentity *id, const char *path, GError **error)
{
  g_autofree char *data = NULL;
  gsize len;
  g_autoptr (GError) err = NULL;
  g_autoptr (GBytes) key = NULL;

  if (!g_file_get_contents (path, &data, &len, &err))
    {
      g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_CONFIG, "BATV key: %s", err->message);
      return FALSE;
    }
  key = g_bytes_new_take (g_steal_pointer (&data), len);
  bounce_identity_set_batv_key (id, key);
  return TRUE;
}

/* Read the config file into @id. A missing file is no error unless it was
 * named with --config. */
static gboolean
load_file (CliSettings *s, BounceIdentity *id, GError **error)
{
  g_autofree char *path = cli_config_path (s);
  g_autofree char *text = NULL;
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) err = NULL;
  g_auto (GStrv) groups = NULL;
  g_auto (GStrv) v = NULL;

  if (!g_file_get_contents (path, &text, NULL, &err))
    {
      if (s->config == NULL && g_error_matches (err, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return TRUE;
      g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_CONFIG, "%s", err->message);
      return FALSE;
    }
  if (!g_key_file_load_from_data (kf, text, -1, G_KEY_FILE_NONE, &err))
    {
      g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_CONFIG, "%s: %s", path, err->message);
      return FALSE;
    }
  groups = g_key_file_get_groups (kf, NULL);
  for (guint g = 0; groups[g]; g++)
    {
      g_auto (GStrv) keys = g_key_file_get_keys (kf, groups[g], NULL, NULL);
      gboolean group_ok = FALSE;

      for (guint k = 0; k < G_N_ELEMENTS (known); k++)
        group_ok |= strcmp (known[k][0], groups[g]) == 0;
      if (!group_ok)
        {
          g_autofree char *where = g_strdup (groups[g]);

          return cli_config_error (error, path, text, where, "unknown group [%s]", groups[g]);
        }
      for (guint i = 0; keys && keys[i]; i++)
        {
          gboolean ok = FALSE;

          for (guint k = 0; k < G_N_ELEMENTS (known); k++)
            ok |= strcmp (known[k][0], groups[g]) == 0 && strcmp (known[k][1], keys[i]) == 0;
          if (!ok)
            {
              g_autofree char *where = g_strdup_printf ("%s/%s", groups[g], keys[i]);

              return cli_config_error (error, path, text, where, "unknown key '%s' in [%s]", keys[i], groups[g]);
            }
        }
    }
  if (s->me == NULL)
    {
      v = cli_config_list (kf, "identity", "addresses");
      if (!add_each (id, v, bounce_identity_add_address, path, text, "identity/addresses", error))
        return FALSE;
      g_clear_pointer (&v, g_strfreev);
    }
  if (s->relays == NULL)
    {
      v = cli_config_list (kf, "identity", "relays");
      if (!add_each (id, v, bounce_identity_add_relay, path, text, "identity/relays", error))
        return FALSE;
      g_clear_pointer (&v, g_strfreev);
    }
  if (s->dkim_domains == NULL)
    {
      v = cli_config_list (kf, "identity", "dkim-domains");
      if (!add_each (id, v, bounce_identity_add_dkim_domain, path, text, "identity/dkim-domains", error))
        return FALSE;
      g_clear_pointer (&v, g_strfreev);
    }
  if (s->batv_key_file == NULL)
    {
      v = cli_config_list (kf, "identity", "batv-key-file");
      if (v && v[0])
        {
          g_autoptr (GError) e2 = NULL;
          g_autofree char *key = config_relative_path (path, v[0]);

          if (!load_batv_key (id, key, &e2))
            return cli_config_error (error, path, text, "identity/batv-key-file", "%s", e2->message);
        }
      g_clear_pointer (&v, g_strfreev);
    }
  if (s->sent == NULL)
    {
      v = cli_config_list (kf, "sent", "folders");
      for (guint i = 0; v && v[i]; i++)
        {
          g_autofree char *p = config_relative_path (path, v[i]);

          bounce_identity_add_sent_folder (id, p);
        }
      g_clear_pointer (&v, g_strfreev);
    }
  if (!s->complete && g_key_file_has_key (kf, "sent", "complete", NULL))
    {
      /* Read as the lists are, so that a " # comment" after the value is one. */
      g_auto (GStrv) c = cli_config_list (kf, "sent", "complete");

      if (c == NULL || c[0] == NULL || c[1] != NULL || (strcmp (c[0], "true") != 0 && strcmp (c[0], "false") != 0))
        return cli_config_error (error, path, text, "sent/complete", "complete takes true or false");
      bounce_identity_set_complete (id, strcmp (c[0], "true") == 0);
    }
  return TRUE;
}

/* cli_load_identity: the configured identity with the flags applied. */
BounceIdentity *
cli_load_identity (CliSettings *s, GError **error)
{
  g_autoptr (BounceIdentity) id = bounce_identity_new ();

  if (!load_file (s, id, error))
    return NULL;
  if (!add_each (id, s->me, bounce_identity_add_address, NULL, NULL, NULL, error)
      || !add_each (id, s->relays, bounce_identity_add_relay, NULL, NULL, NULL, error)
      || !add_each (id, s->dkim_domains, bounce_identity_add_dkim_domain, NULL, NULL, NULL, error))
    return NULL;
  if (s->batv_key_file)
    {
      g_autofree char *key = cli_expand_path (s->batv_key_file);

      if (!load_batv_key (id, key, error))
        return NULL;
    }
  for (guint i = 0; s->sent && s->sent[i]; i++)
    {
      g_autofree char *p = cli_expand_path (s->sent[i]);

      bounce_identity_add_sent_folder (id, p);
    }
  if (s->complete)
    bounce_identity_set_complete (id, TRUE);
  return g_steal_pointer (&id);
}

/* cli_index_path: where the sent-mail index lives: --index, else the
 * config file's [sent] index, else $XDG_DATA_HOME/backscatter/sent.db.
 * A config file that cannot be read is left to cli_load_identity() to
 * report. */
char *
cli_index_path (CliSettings *s)
{
  g_autofree char *config = cli_config_path (s);
  g_autoptr (GKeyFile) kf = g_key_file_new ();

  if (s->index)
    return cli_expand_path (s->index);
  if (g_key_file_load_from_file (kf, config, G_KEY_FILE_NONE, NULL))
    {
      g_auto (GStrv) v = cli_config_list (kf, "sent", "index");

      if (v && v[0])
        return config_relative_path (config, v[0]);
    }
  return g_build_filename (g_get_user_data_dir (), "backscatter", "sent.db", NULL);
}

/* cli_setting_values: the values of a list setting as the program uses
 * them: the flags' when given, else the config file's (for doctor). */
GStrv
cli_setting_values (CliSettings *s, const char *group, const char *key)
{
  g_autofree char *config = cli_config_path (s);
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  char **flags = strcmp (key, "addresses") == 0      ? s->me
                 : strcmp (key, "relays") == 0       ? s->relays
                 : strcmp (key, "dkim-domains") == 0 ? s->dkim_domains
                                                     : NULL;

  if (flags)
    return g_strdupv (flags);
  if (!g_key_file_load_from_file (kf, config, G_KEY_FILE_NONE, NULL))
    return NULL;
  return cli_config_list (kf, group, key);
}

/* Loads the rules, the index (when there is one) and the judge that
 * cli_context_prepare() left for later. */
static gboolean
context_load_rest (CliContext *ctx, GError **error)
{
  g_autoptr (BounceRules) rules = cli_load_rules (ctx->rules_dirs, error);

  if (rules == NULL)
    return FALSE;
  if (g_file_test (ctx->index_path, G_FILE_TEST_EXISTS))
    {
      ctx->index = bounce_index_open (ctx->index_path, TRUE, error);
      if (ctx->index == NULL)
        return FALSE;
    }
  g_clear_pointer (&ctx->judge, bounce_judge_unref);
  g_clear_pointer (&ctx->rules, bounce_rules_unref);
  ctx->rules = g_steal_pointer (&rules);
  ctx->judge = bounce_judge_new (ctx->identity, ctx->index, ctx->rules);
  ctx->pending = FALSE;
  g_clear_pointer (&ctx->rules_dirs, g_strfreev);
  g_clear_pointer (&ctx->index_path, g_free);
  return TRUE;
}

/* cli_context_prepare: the identity (the configuration is read and
 * checked now); the rules, the index and the judge that weighs reports are
 * loaded by cli_context_ready_for() when a message first needs them.
 * Until then ctx->rules is an empty set and ctx->judge a judge without
 * rules or index: enough for a message that is no report, as
 * bounce_report_needs_rules() says. For the commands that read one
 * message per run, where loading the rules would cost more than the rest
 * of the run for ordinary mail. */
gboolean
cli_context_prepare (CliContext *ctx, CliSettings *s, GError **error)
{
  ctx->identity = cli_load_identity (s, error);
  if (ctx->identity == NULL)
    return FALSE;
  ctx->rules_dirs = g_strdupv (s->rules_dirs);
  ctx->index_path = cli_index_path (s);
  ctx->rules = bounce_rules_new ();
  ctx->judge = bounce_judge_new (ctx->identity, NULL, ctx->rules);
  ctx->pending = TRUE;
  return TRUE;
}

/* cli_context_ready_for: makes @ctx ready to read and judge the message
 * @data (@len bytes): loads what cli_context_prepare() left when the
 * message needs the rules. FALSE, with @error set, when they cannot be
 * loaded (a rule file with a mistake, an index that cannot be opened). */
gboolean
cli_context_ready_for (CliContext *ctx, const char *data, gsize len, GError **error)
{
  if (!ctx->pending || !bounce_report_needs_rules (data, len, BOUNCE_PARSE_DEFAULT))
    return TRUE;
  return context_load_rest (ctx, error);
}

/* cli_context_load: rules, identity, index (when there is one) and judge,
 * for the commands that judge reports. */
gboolean
cli_context_load (CliContext *ctx, CliSettings *s, GError **error)
{
  return cli_context_prepare (ctx, s, error) && context_load_rest (ctx, error);
}

void
cli_context_clear (CliContext *ctx)
{
  g_clear_pointer (&ctx->judge, bounce_judge_unref);
  g_clear_pointer (&ctx->index, bounce_index_unref);
  g_clear_pointer (&ctx->identity, bounce_identity_unref);
  g_clear_pointer (&ctx->rules, bounce_rules_unref);
  g_clear_pointer (&ctx->rules_dirs, g_strfreev);
  g_clear_pointer (&ctx->index_path, g_free);
}

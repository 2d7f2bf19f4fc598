/* milter.c — `backscatter milter --socket unix:PATH|inet:PORT@HOST`: the
 * judgement of `check` at SMTP time, for a whole mail host, through the
 * Sendmail milter protocol (libmilter) that Postfix and Sendmail speak.
 *
 * Runs in the foreground until SIGTERM; SIGHUP reads the configuration,
 * rules and BATV key again (a mistake keeps the old ones and is logged).
 * Binds its socket first, then gives up root for the configured user.
 * Logs one line per decision to syslog (mail facility), or to stderr with
 * --log-stderr. What each step decides is in milter-policy.c; this file
 * only speaks libmilter. No error of its own makes it refuse or delay
 * mail: it accepts and logs.
 */
#include "config.h"
#include "milter-policy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <libmilter/mfapi.h>
#include <netinet/in.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

/* The settings in force: swapped whole on SIGHUP; each connection holds
 * a reference to the one it started with. */
static GMutex current_lock;
static MilterConfig *current;
static gboolean log_stderr;

static void log_line (int priority, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static void
log_line (int priority, const char *fmt, ...)
{
  va_list ap;
  g_autofree char *line = NULL;

  va_start (ap, fmt);
  line = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  if (log_stderr)
    fprintf (stderr, "backscatter milter: %s\n", line);
  else
    syslog (priority, "%s", line);
}

static MilterConfig *
current_config (void)
{
  MilterConfig *cfg;

  g_mutex_lock (&current_lock);
  cfg = current ? milter_config_ref (current) : NULL;
  g_mutex_unlock (&current_lock);
  return cfg;
}

static sfsistat
on_connect (SMFICTX *ctx, char *hostname, _SOCK_ADDR *addr)
{
  g_autoptr (MilterConfig) cfg = current_config ();
  char ip[INET6_ADDRSTRLEN] = "";
  gboolean have_ip = FALSE;

  if (cfg == NULL)
    return SMFIS_ACCEPT;
  if (addr && addr->sa_family == AF_INET)
    have_ip = inet_ntop (AF_INET, &((struct sockaddr_in *) addr)->sin_addr, ip, sizeof ip) != NULL;
  else if (addr && addr->sa_family == AF_INET6)
    have_ip = inet_ntop (AF_INET6, &((struct sockaddr_in6 *) addr)->sin6_addr, ip, sizeof ip) != NULL;
  smfi_setpriv (ctx, milter_session_new (cfg, have_ip ? ip : NULL, hostname, smfi_getsymval (ctx, "{daemon_name}")));
  return SMFIS_CONTINUE;
}

static sfsistat
on_envfrom (SMFICTX *ctx, char **argv)
{
  MilterSession *s = smfi_getpriv (ctx);

  if (s == NULL)
    return SMFIS_ACCEPT;
  milter_session_mail (s, argv[0], smfi_getsymval (ctx, "{auth_authen}"));
  return SMFIS_CONTINUE;
}

static sfsistat
on_envrcpt (SMFICTX *ctx, char **argv)
{
  MilterSession *s = smfi_getpriv (ctx);
  g_autofree char *reply = NULL, *log = NULL;

  if (s == NULL)
    return SMFIS_ACCEPT;
  if (milter_session_rcpt (s, argv[0], &reply, &log) == MILTER_REJECT)
    {
      const char *qid = smfi_getsymval (ctx, "i");

      log_line (LOG_NOTICE, "queue=%s %s", qid ? qid : "-", log);
      if (smfi_setreply (ctx, "550", "5.7.1", reply) != MI_SUCCESS)
        smfi_setreply (ctx, "550", "5.7.1", "backscatter: this bounce is not for a real sender here");
      return SMFIS_REJECT;
    }
  return SMFIS_CONTINUE;
}

static sfsistat
on_header (SMFICTX *ctx, char *name, char *value)
{
  MilterSession *s = smfi_getpriv (ctx);

  if (s)
    milter_session_header (s, name, value);
  return SMFIS_CONTINUE;
}

static sfsistat
on_eoh (SMFICTX *ctx)
{
  MilterSession *s = smfi_getpriv (ctx);

  if (s)
    milter_session_eoh (s);
  return SMFIS_CONTINUE;
}

static sfsistat
on_body (SMFICTX *ctx, unsigned char *data, size_t len)
{
  MilterSession *s = smfi_getpriv (ctx);

  if (s)
    milter_session_body (s, data, len);
  return SMFIS_CONTINUE;
}

static sfsistat
on_eom (SMFICTX *ctx)
{
  MilterSession *s = smfi_getpriv (ctx);
  g_autoptr (MilterResult) r = NULL;
  const char *qid = smfi_getsymval (ctx, "i");
  sfsistat status = SMFIS_CONTINUE;

  if (s == NULL)
    return SMFIS_ACCEPT;
  r = milter_session_eom (s, qid);
  milter_session_abort (s);
  if (r->action == MILTER_REJECT)
    {
      log_line (LOG_NOTICE, "%s", r->log);
      if (smfi_setreply (ctx, "550", "5.7.1", r->reply) != MI_SUCCESS)
        smfi_setreply (ctx, "550", "5.7.1", "backscatter: this bounce is not for a message sent from here");
      return SMFIS_REJECT;
    }
  for (guint i = 0; i < r->del_rcpt->len; i++)
    if (smfi_addrcpt (ctx, r->add_rcpt->pdata[i]) != MI_SUCCESS
        || smfi_delrcpt (ctx, r->del_rcpt->pdata[i]) != MI_SUCCESS)
      log_line (LOG_WARNING, "queue=%s could not take the BATV tag off %s", qid ? qid : "-",
                (char *) r->del_rcpt->pdata[i]);
  if (r->new_sender && smfi_chgfrom (ctx, r->new_sender, NULL) != MI_SUCCESS)
    log_line (LOG_WARNING, "queue=%s could not sign the sender with BATV", qid ? qid : "-");
  /* Inserted at the top, last first, so they end up in order. */
  for (guint i = r->headers->len; i >= 2; i -= 2)
    smfi_insheader (ctx, 0, r->headers->pdata[i - 2], r->headers->pdata[i - 1]);
  if (r->quarantine)
    smfi_quarantine (ctx, r->quarantine);
  log_line (LOG_INFO, "%s", r->log);
  return status;
}

static sfsistat
on_abort (SMFICTX *ctx)
{
  MilterSession *s = smfi_getpriv (ctx);

  if (s)
    milter_session_abort (s);
  return SMFIS_CONTINUE;
}

static sfsistat
on_close (SMFICTX *ctx)
{
  MilterSession *s = smfi_getpriv (ctx);

  smfi_setpriv (ctx, NULL);
  milter_session_free (s);
  return SMFIS_CONTINUE;
}

static struct smfiDesc description = {
  .xxfi_name = (char *) "backscatter",
  .xxfi_version = SMFI_VERSION,
  .xxfi_flags = SMFIF_ADDHDRS | SMFIF_ADDRCPT | SMFIF_DELRCPT | SMFIF_CHGFROM | SMFIF_QUARANTINE,
  .xxfi_connect = on_connect,
  .xxfi_envfrom = on_envfrom,
  .xxfi_envrcpt = on_envrcpt,
  .xxfi_header = on_header,
  .xxfi_eoh = on_eoh,
  .xxfi_body = on_body,
  .xxfi_eom = on_eom,
  .xxfi_abort = on_abort,
  .xxfi_close = on_close,
};

/* The file of a "unix:PATH" or "local:PATH" socket, or NULL. */
static const char *
socket_file (const char *spec)
{
  if (g_str_has_prefix (spec, "unix:"))
    return spec + 5;
  if (g_str_has_prefix (spec, "local:"))
    return spec + 6;
  if (spec[0] == '/')
    return spec;
  return NULL;
}

static gboolean
drop_privileges (const char *user, const char *socket_path, const char *group, guint mode, GError **error)
{
  struct passwd *pw = NULL;
  gid_t gid = (gid_t) -1;

  if (user && (pw = getpwnam (user)) == NULL)
    {
      g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_CONFIG, "no user '%s'", user);
      return FALSE;
    }
  if (group)
    {
      struct group *gr = getgrnam (group);

      if (gr == NULL)
        {
          g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_CONFIG, "no group '%s'", group);
          return FALSE;
        }
      gid = gr->gr_gid;
    }
  if (socket_path)
    {
      if ((pw || gid != (gid_t) -1) && geteuid () == 0 && chown (socket_path, pw ? pw->pw_uid : (uid_t) -1, gid) != 0)
        {
          g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_IO, "%s: %s", socket_path, g_strerror (errno));
          return FALSE;
        }
      if (chmod (socket_path, mode) != 0)
        {
          g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_IO, "%s: %s", socket_path, g_strerror (errno));
          return FALSE;
        }
    }
  if (geteuid () != 0)
    return TRUE;
  if (pw == NULL)
    {
      g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_CONFIG,
                   "will not run as root: name an unprivileged user ([milter] user or --user)");
      return FALSE;
    }
  if (pw->pw_uid == 0)
    {
      g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_CONFIG, "user '%s' is root", user);
      return FALSE;
    }
  if (initgroups (pw->pw_name, pw->pw_gid) != 0 || setgid (pw->pw_gid) != 0 || setuid (pw->pw_uid) != 0
      || setuid (0) == 0)
    {
      g_set_error (error, BOUNCE_ERROR, BOUNCE_ERROR_IO, "cannot become %s: %s", user, g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

static pthread_t main_thread;

static gpointer
run_milter (gpointer data)
{
  int *status = data;

  *status = smfi_main ();
  /* Tell the main thread, which waits for signals, that it is over. */
  pthread_kill (main_thread, SIGUSR1);
  return NULL;
}

static void
reload (CliSettings *settings)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MilterConfig) cfg = milter_config_load (settings, &error);

  if (cfg == NULL || !milter_config_open_index (cfg, &error))
    {
      log_line (LOG_ERR, "reload failed, keeping the settings in force: %s", error->message);
      return;
    }
  g_mutex_lock (&current_lock);
  g_clear_pointer (&current, milter_config_unref);
  current = g_steal_pointer (&cfg);
  g_mutex_unlock (&current_lock);
  log_line (LOG_INFO, "reloaded the configuration, rules and BATV key");
}

int
cli_milter (CliRun *run, int argc, char **argv)
{
  CliSettings *settings = &run->settings;
  g_autofree char *socket_spec = NULL, *user = NULL;
  GOptionEntry entries[] = {
    { "socket", 0, 0, G_OPTION_ARG_STRING, &socket_spec, "Listen on unix:PATH or inet:PORT@HOST", "SOCKET" },
    { "user", 0, 0, G_OPTION_ARG_STRING, &user, "Run as USER after binding the socket", "USER" },
    { "log-stderr", 0, 0, G_OPTION_ARG_NONE, &log_stderr, "Log to standard error instead of syslog", NULL },
    { NULL },
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (MilterConfig) cfg = NULL;
  const char *spec, *path;
  GThread *thread;
  sigset_t set, blocked;
  int status = MI_FAILURE, sig;
  mode_t old_umask;

  if (!cli_parse_options (run, entries, &argc, &argv))
    return EX_USAGE;
  if (argc > 1)
    {
      fprintf (stderr, "backscatter milter: unexpected argument '%s'\n", argv[1]);
      return EX_USAGE;
    }
  /* Blocked from the start: a SIGTERM that comes while the rules load
   * waits for libmilter's signal thread, which then stops cleanly. */
  sigemptyset (&set);
  sigaddset (&set, SIGHUP);
  sigaddset (&set, SIGUSR1);
  blocked = set;
  sigaddset (&blocked, SIGTERM);
  sigaddset (&blocked, SIGINT);
  pthread_sigmask (SIG_BLOCK, &blocked, NULL);
  openlog ("backscatter-milter", LOG_PID, LOG_MAIL);
  cfg = milter_config_load (settings, &error);
  if (cfg == NULL)
    {
      fprintf (stderr, "backscatter milter: %s\n", error->message);
      return cli_exit_for_error (error);
    }
  spec = socket_spec ? socket_spec : milter_config_get_socket (cfg);
  if (spec == NULL)
    {
      fprintf (stderr, "backscatter milter: no socket: use --socket unix:PATH or inet:PORT@HOST\n");
      return EX_USAGE;
    }
  path = socket_file (spec);
  if (smfi_setconn ((char *) spec) != MI_SUCCESS || smfi_register (description) != MI_SUCCESS)
    {
      fprintf (stderr, "backscatter milter: cannot use socket '%s'\n", spec);
      return EX_USAGE;
    }
  old_umask = umask (0777 & ~milter_config_get_socket_mode (cfg));
  if (smfi_opensocket (true) != MI_SUCCESS)
    {
      umask (old_umask);
      fprintf (stderr, "backscatter milter: cannot listen on %s\n", spec);
      return EX_UNAVAILABLE;
    }
  umask (old_umask);
  if (!drop_privileges (user ? user : milter_config_get_user (cfg), path, milter_config_get_socket_group (cfg),
                        milter_config_get_socket_mode (cfg), &error)
      || !milter_config_open_index (cfg, &error))
    {
      fprintf (stderr, "backscatter milter: %s\n", error->message);
      if (path)
        unlink (path);
      return cli_exit_for_error (error);
    }
  current = g_steal_pointer (&cfg);

  /* SIGHUP and SIGUSR1 are for this thread: it waits for them while
   * libmilter's threads serve connections. SIGTERM and SIGINT go to
   * libmilter's own signal thread, which ends smfi_main () cleanly; a
   * signal sent to the process goes to its first thread when that one
   * waits for it, so SIGHUP reaches this one. */
  main_thread = pthread_self ();
  log_line (LOG_INFO, "listening on %s", spec);
  thread = g_thread_new ("milter", run_milter, &status);
  for (;;)
    {
      if (sigwait (&set, &sig) != 0)
        continue;
      if (sig == SIGUSR1)
        break;
      reload (settings);
    }
  g_thread_join (thread);
  log_line (LOG_INFO, "stopped");
  g_mutex_lock (&current_lock);
  g_clear_pointer (&current, milter_config_unref);
  g_mutex_unlock (&current_lock);
  closelog ();
  return status == MI_SUCCESS ? 0 : EX_SOFTWARE;
}

/* milter-policy.h — what `backscatter milter` decides at each step of an
 * SMTP transaction, without libmilter: cli/milter.c turns these decisions
 * into libmilter calls, tests/test-milter.c calls them directly. */
#ifndef BOUNCE_MILTER_POLICY_H
#define BOUNCE_MILTER_POLICY_H

#include "cli.h"

/* What is done with a message of one verdict (or a bounce to an untagged
 * address of a domain that tags all its mail). */
typedef enum
{
  MILTER_ACCEPT,
  MILTER_TAG,
  MILTER_QUARANTINE,
  MILTER_REJECT,
} MilterAction;

const char *milter_action_to_string (MilterAction action);

typedef struct _MilterConfig MilterConfig;

MilterConfig *milter_config_load (CliSettings *settings, GError **error);
MilterConfig *milter_config_ref (MilterConfig *cfg);
void milter_config_unref (MilterConfig *cfg);
const char *milter_config_get_socket (MilterConfig *cfg);
const char *milter_config_get_user (MilterConfig *cfg);
const char *milter_config_get_socket_group (MilterConfig *cfg);
guint milter_config_get_socket_mode (MilterConfig *cfg);
const char *milter_config_get_index_path (MilterConfig *cfg);
gboolean milter_config_open_index (MilterConfig *cfg, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MilterConfig, milter_config_unref)

typedef struct _MilterSession MilterSession;

/* What to do at the end of a message. */
typedef struct
{
  MilterAction action;
  char *reply;         /* the text of a 550 5.7.1 reply (REJECT) */
  char *quarantine;    /* the reason (QUARANTINE) */
  char *new_sender;    /* the envelope sender to put in its place (BATV) */
  GPtrArray *del_rcpt; /* recipients to remove, as given at RCPT */
  GPtrArray *add_rcpt; /* recipients to add, "<addr>" */
  GPtrArray *headers;  /* name, value, name, value... to add at the top */
  char *log;           /* the line to log */
} MilterResult;

void milter_result_free (MilterResult *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MilterResult, milter_result_free)

MilterSession *milter_session_new (MilterConfig *cfg, const char *client_ip, const char *client_name,
                                   const char *daemon);
void milter_session_free (MilterSession *s);
void milter_session_mail (MilterSession *s, const char *sender, const char *auth_authen);
MilterAction milter_session_rcpt (MilterSession *s, const char *rcpt, char **reply, char **log);
void milter_session_header (MilterSession *s, const char *name, const char *value);
void milter_session_eoh (MilterSession *s);
void milter_session_body (MilterSession *s, const void *data, gsize len);
MilterResult *milter_session_eom (MilterSession *s, const char *queue_id);
void milter_session_abort (MilterSession *s);
gboolean milter_session_is_outgoing (MilterSession *s);
gsize milter_session_buffered (MilterSession *s);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MilterSession, milter_session_free)

#endif

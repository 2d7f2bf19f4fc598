/* backscatter.h — public interface of libbackscatter.
 *
 * libbackscatter reads a bounce (an RFC 3464 / RFC 6533 delivery status
 * notification, or one of the non-standard reports real servers send, a
 * virus notice, a challenge, an auto-reply), extracts who failed and why,
 * recovers the headers of the message that bounced, and judges whether the
 * owner of the mailbox really sent that message.
 *
 * All strings handed out are valid UTF-8 and borrowed from their owner
 * unless documented otherwise. Errors are reported in BOUNCE_ERROR.
 */
#ifndef BACKSCATTER_H
#define BACKSCATTER_H

#include <glib.h>

#include "backscatter-version.h"

G_BEGIN_DECLS

#if defined(BOUNCE_COMPILATION)
#define BOUNCE_PUBLIC __attribute__ ((visibility ("default"))) extern
#else
#define BOUNCE_PUBLIC extern
#endif

/**
 * bounce_version:
 * Returns: the version of the library the program runs against, as
 * "MAJOR.MINOR.MICRO" (static; BOUNCE_*_VERSION give the one it was
 * compiled against).
 */
BOUNCE_PUBLIC const char *bounce_version (void);

/**
 * BOUNCE_MAX_MESSAGE_BYTES:
 * The most of one message that is read: a larger one is judged from its
 * start (with a warning on the report) and never acted on.
 */
#define BOUNCE_MAX_MESSAGE_BYTES (32 * 1024 * 1024)

#define BOUNCE_ERROR (bounce_error_quark ())
BOUNCE_PUBLIC GQuark bounce_error_quark (void);

/**
 * BounceError:
 * @BOUNCE_ERROR_PARSE: the message could not be parsed at all
 * @BOUNCE_ERROR_LIMIT: the message exceeds a limit (size, depth, count)
 * @BOUNCE_ERROR_RULES: a rule file is wrong (the message says file:line)
 * @BOUNCE_ERROR_CONFIG: a configuration file or setting is wrong
 * @BOUNCE_ERROR_IO: reading or writing a file or folder failed
 * @BOUNCE_ERROR_INDEX: the sent-mail index could not be used
 * @BOUNCE_ERROR_LOCKED: another process holds the mailbox
 * @BOUNCE_ERROR_VANISHED: the message was moved or deleted by someone
 *   else (a mail client) before it could be acted on
 */
typedef enum
{
  BOUNCE_ERROR_PARSE,
  BOUNCE_ERROR_LIMIT,
  BOUNCE_ERROR_RULES,
  BOUNCE_ERROR_CONFIG,
  BOUNCE_ERROR_IO,
  BOUNCE_ERROR_INDEX,
  BOUNCE_ERROR_LOCKED,
  BOUNCE_ERROR_VANISHED,
} BounceError;

/**
 * BounceKind: what a message is.
 */
typedef enum
{
  BOUNCE_KIND_NOT_BOUNCE,
  BOUNCE_KIND_FAILURE,
  BOUNCE_KIND_DELAY,
  BOUNCE_KIND_DELIVERED,
  BOUNCE_KIND_VIRUS_NOTICE,
  BOUNCE_KIND_CHALLENGE,
  BOUNCE_KIND_AUTOREPLY,
  BOUNCE_KIND_FEEDBACK,
  BOUNCE_KIND_MDN,
} BounceKind;

BOUNCE_PUBLIC const char *bounce_kind_to_string (BounceKind kind);
BOUNCE_PUBLIC gboolean bounce_kind_from_string (const char *name, BounceKind *kind);

/**
 * BounceVerdict: did the owner send the returned message?
 */
typedef enum
{
  BOUNCE_VERDICT_NOT_BOUNCE,
  BOUNCE_VERDICT_UNKNOWN,
  BOUNCE_VERDICT_LEGITIMATE,
  BOUNCE_VERDICT_BACKSCATTER,
} BounceVerdict;

BOUNCE_PUBLIC const char *bounce_verdict_to_string (BounceVerdict verdict);
BOUNCE_PUBLIC gboolean bounce_verdict_from_string (const char *name, BounceVerdict *verdict);

/* ---- Rules ------------------------------------------------------------ */

typedef struct _BounceRules BounceRules;

BOUNCE_PUBLIC BounceRules *bounce_rules_new (void);
BOUNCE_PUBLIC gboolean bounce_rules_load_dir (BounceRules *rules, const char *dir, gboolean user, GError **error);
BOUNCE_PUBLIC gboolean bounce_rules_load_data (BounceRules *rules, const char *name, const char *data, gssize length,
                                               gboolean user, GError **error);
BOUNCE_PUBLIC guint bounce_rules_get_n_formats (BounceRules *rules);
BOUNCE_PUBLIC void bounce_rules_compile (BounceRules *rules);
BOUNCE_PUBLIC void bounce_rules_set_checked (BounceRules *rules, gboolean checked);
BOUNCE_PUBLIC char *bounce_rules_dir_stamp (const char *dir, GError **error);
BOUNCE_PUBLIC GBytes *bounce_rules_to_cache (BounceRules *rules, const char *key);
BOUNCE_PUBLIC BounceRules *bounce_rules_new_from_cache (const void *data, gsize len, const char *key, GError **error);
BOUNCE_PUBLIC double bounce_rules_get_weight (BounceRules *rules, const char *evidence, double fallback);
BOUNCE_PUBLIC BounceRules *bounce_rules_ref (BounceRules *rules);
BOUNCE_PUBLIC void bounce_rules_unref (BounceRules *rules);

/* ---- Reports ---------------------------------------------------------- */

typedef struct _BounceReport BounceReport;
typedef struct _BounceRecipient BounceRecipient;
typedef struct _BounceOriginal BounceOriginal;

/**
 * BounceParseFlags:
 * @BOUNCE_PARSE_NO_TRIAGE: parse every message fully, even one whose
 *   headers say it cannot be a report (for testing the triage).
 */
typedef enum
{
  BOUNCE_PARSE_DEFAULT = 0,
  BOUNCE_PARSE_NO_TRIAGE = 1 << 0,
} BounceParseFlags;

BOUNCE_PUBLIC BounceReport *bounce_report_new_from_data (const char *data, gsize length, BounceRules *rules,
                                                         BounceParseFlags flags, GError **error);
BOUNCE_PUBLIC BounceReport *bounce_report_new_from_start (const char *data, gsize length);
BOUNCE_PUBLIC gboolean bounce_report_needs_rules (const char *data, gsize length, BounceParseFlags flags);
BOUNCE_PUBLIC BounceReport *bounce_report_new_from_file (const char *path, BounceRules *rules, BounceParseFlags flags,
                                                         GError **error);
BOUNCE_PUBLIC BounceReport *bounce_report_ref (BounceReport *report);
BOUNCE_PUBLIC void bounce_report_unref (BounceReport *report);

BOUNCE_PUBLIC BounceKind bounce_report_get_kind (BounceReport *report);
BOUNCE_PUBLIC const char *bounce_report_get_format (BounceReport *report);
BOUNCE_PUBLIC const char *bounce_report_get_rule_name (BounceReport *report);
BOUNCE_PUBLIC const char *bounce_report_get_reporting_mta (BounceReport *report);
BOUNCE_PUBLIC const char *bounce_report_get_received_from_mta (BounceReport *report);
BOUNCE_PUBLIC const char *bounce_report_get_arrival_date (BounceReport *report);
BOUNCE_PUBLIC const char *bounce_report_get_envelope_id (BounceReport *report);
BOUNCE_PUBLIC const char *bounce_report_get_header (BounceReport *report, const char *name);
BOUNCE_PUBLIC const char *bounce_report_get_bounce_to (BounceReport *report);
BOUNCE_PUBLIC guint bounce_report_get_n_recipients (BounceReport *report);
BOUNCE_PUBLIC BounceRecipient *bounce_report_get_recipient (BounceReport *report, guint index);
BOUNCE_PUBLIC BounceOriginal *bounce_report_get_original (BounceReport *report);
BOUNCE_PUBLIC const char *const *bounce_report_get_warnings (BounceReport *report);
BOUNCE_PUBLIC const char *const *bounce_report_get_signals (BounceReport *report);
BOUNCE_PUBLIC const char *bounce_report_get_not_report_reason (BounceReport *report);

/**
 * BounceJsonWriter: writes one JSON text, keeping track of where commas
 * go. A report and a judgement write their members into an object the
 * caller opened (bounce_report_write_json(), bounce_judgement_write_json()),
 * so that a program can add its own members beside them. Strings that are
 * not UTF-8 are written with U+FFFD, so the text is always valid JSON.
 * Writing a value where none may go (a member without a name, closing what
 * is not open) is a programming error: it is refused with a critical
 * warning.
 */
typedef struct _BounceJsonWriter BounceJsonWriter;

BOUNCE_PUBLIC BounceJsonWriter *bounce_json_writer_new (void);
BOUNCE_PUBLIC void bounce_json_writer_free (BounceJsonWriter *w);
BOUNCE_PUBLIC void bounce_json_writer_reset (BounceJsonWriter *w);
BOUNCE_PUBLIC const char *bounce_json_writer_get_text (BounceJsonWriter *w, gsize *length);
BOUNCE_PUBLIC char *bounce_json_writer_steal_text (BounceJsonWriter *w);
BOUNCE_PUBLIC void bounce_json_writer_begin_object (BounceJsonWriter *w);
BOUNCE_PUBLIC void bounce_json_writer_end_object (BounceJsonWriter *w);
BOUNCE_PUBLIC void bounce_json_writer_begin_array (BounceJsonWriter *w);
BOUNCE_PUBLIC void bounce_json_writer_end_array (BounceJsonWriter *w);
BOUNCE_PUBLIC void bounce_json_writer_key (BounceJsonWriter *w, const char *name);
BOUNCE_PUBLIC void bounce_json_writer_string (BounceJsonWriter *w, const char *s);
BOUNCE_PUBLIC void bounce_json_writer_null (BounceJsonWriter *w);
BOUNCE_PUBLIC void bounce_json_writer_boolean (BounceJsonWriter *w, gboolean value);
BOUNCE_PUBLIC void bounce_json_writer_int (BounceJsonWriter *w, gint64 value);
BOUNCE_PUBLIC void bounce_json_writer_double (BounceJsonWriter *w, double value);

BOUNCE_PUBLIC void bounce_report_write_json (BounceReport *report, BounceJsonWriter *w);
BOUNCE_PUBLIC char *bounce_report_to_json (BounceReport *report);

BOUNCE_PUBLIC const char *bounce_recipient_get_address (BounceRecipient *rcpt);
BOUNCE_PUBLIC const char *bounce_recipient_get_original_recipient (BounceRecipient *rcpt);
BOUNCE_PUBLIC const char *bounce_recipient_get_action (BounceRecipient *rcpt);
BOUNCE_PUBLIC const char *bounce_recipient_get_status (BounceRecipient *rcpt);
BOUNCE_PUBLIC const char *bounce_recipient_get_reply_code (BounceRecipient *rcpt);
BOUNCE_PUBLIC const char *bounce_recipient_get_diagnostic (BounceRecipient *rcpt);
BOUNCE_PUBLIC const char *bounce_recipient_get_remote_mta (BounceRecipient *rcpt);
BOUNCE_PUBLIC const char *bounce_recipient_get_reason (BounceRecipient *rcpt);
BOUNCE_PUBLIC int bounce_recipient_get_permanent (BounceRecipient *rcpt);

/*
 * Open structures: BounceAttachment, BounceReceived, BounceDkim (here),
 * BounceMessageRef, BounceSpan, BounceLearnCounts and BounceEvidence.
 * Programs read (or set) their fields directly; each ends with reserved
 * room, always zero, that a later version may turn into fields without
 * changing the structure's size, so that a program built against this
 * version keeps working with the next. Room rather than getters: most
 * are handed out by the library as const pointers and read field by
 * field (a getter per field would add twenty calls and protect nothing
 * more), and the others a program allocates itself (BounceSpan in a
 * GArray, BounceLearnCounts) or copies to change a field and pass back
 * (BounceMessageRef), which needs their size fixed. A structure a
 * program fills must start zeroed: `= { 0 }`, or an initialiser that
 * names what it sets.
 */

/**
 * BounceAttachment: one attachment of the returned original.
 */
typedef struct
{
  char *name; /* nullable */
  char *content_type;
  gboolean risky; /* executable, script or archive */
  /*< private >*/
  gpointer reserved[2];
} BounceAttachment;

/**
 * BounceReceived: one Received header of the returned original.
 */
typedef struct
{
  char *from_host; /* nullable */
  char *from_ip;   /* nullable */
  char *by_host;   /* nullable */
  char *date;      /* nullable */
  /*< private >*/
  gpointer reserved[2];
} BounceReceived;

/**
 * BounceDkim: one DKIM-Signature of the returned original.
 */
typedef struct
{
  char *domain;
  char *selector; /* nullable */
  /*< private >*/
  gpointer reserved[2];
} BounceDkim;

BOUNCE_PUBLIC const char *bounce_original_get_header (BounceOriginal *orig, const char *name);
BOUNCE_PUBLIC const char *bounce_original_get_message_id (BounceOriginal *orig);
BOUNCE_PUBLIC const char *bounce_original_get_from (BounceOriginal *orig);
BOUNCE_PUBLIC const char *bounce_original_get_carried_as (BounceOriginal *orig);
BOUNCE_PUBLIC guint bounce_original_get_n_received (BounceOriginal *orig);
BOUNCE_PUBLIC const BounceReceived *bounce_original_get_received (BounceOriginal *orig, guint index);
BOUNCE_PUBLIC guint bounce_original_get_n_dkim (BounceOriginal *orig);
BOUNCE_PUBLIC const BounceDkim *bounce_original_get_dkim (BounceOriginal *orig, guint index);
BOUNCE_PUBLIC guint bounce_original_get_n_attachments (BounceOriginal *orig);
BOUNCE_PUBLIC const BounceAttachment *bounce_original_get_attachment (BounceOriginal *orig, guint index);

BOUNCE_PUBLIC gboolean bounce_filename_is_risky (const char *name, const char *content_type);

/* ---- Mailboxes --------------------------------------------------------- */

/**
 * BounceMessageRef: one message of a mailbox, as bounce_mailbox_foreach()
 * hands it out. Valid only during the callback.
 */
typedef struct
{
  const char *path;   /* the Maildir file, or the mbox file */
  const char *folder; /* the Maildir (or subfolder) it is in, or the mbox */
  const char *data;   /* the message; NULL when it could not be read */
  gsize length;
  goffset offset; /* mbox: where the message starts */
  gsize span;     /* mbox: its length up to the next message */
  gboolean in_mbox;
  gboolean truncated;     /* larger than the read limit: never act on it */
  const char *read_error; /* why data is NULL */
  int dirfd;              /* Maildir: its cur/ or new/, open; -1 for an mbox */
  const char *name;       /* Maildir: the file's name in dirfd */
  gboolean start_only;    /* data is only the file's start (BOUNCE_MAILBOX_START_FIRST) */
  /*< private >*/
  gpointer reserved[3];
} BounceMessageRef;

/**
 * BounceMailboxFlags:
 * @BOUNCE_MAILBOX_RECURSIVE: read Maildir++ subfolders too
 * @BOUNCE_MAILBOX_START_FIRST: hand the prepare function only the start
 *   of a large Maildir file first (start_only set), and the whole file
 *   only when it returns NULL for the start: a scan that can tell most
 *   mail from its header block (bounce_report_new_from_start()) then
 *   reads no more of it. What the prepare function returned for a start
 *   goes to the message function with the start.
 */
typedef enum
{
  BOUNCE_MAILBOX_DEFAULT = 0,
  BOUNCE_MAILBOX_RECURSIVE = 1 << 0,
  BOUNCE_MAILBOX_START_FIRST = 1 << 1,
} BounceMailboxFlags;

typedef gpointer (*BounceMessagePrepareFunc) (const BounceMessageRef *msg, gpointer user_data);
typedef gboolean (*BounceMessageFunc) (const BounceMessageRef *msg, gpointer prepared, gpointer user_data,
                                       GError **error);

BOUNCE_PUBLIC gboolean bounce_mailbox_is_maildir (const char *path);
BOUNCE_PUBLIC gboolean bounce_mailbox_foreach (const char *path, BounceMailboxFlags flags,
                                               const char *const *skip_folders, guint threads,
                                               BounceMessagePrepareFunc prepare, GDestroyNotify prepared_free,
                                               BounceMessageFunc func, gpointer user_data, GError **error);

BOUNCE_PUBLIC gboolean bounce_folder_name_is_valid (const char *name);
typedef struct _BounceMaildirFolder BounceMaildirFolder;

BOUNCE_PUBLIC BounceMaildirFolder *bounce_maildir_folder_open (const char *maildir, const char *name, GError **error);
BOUNCE_PUBLIC const char *bounce_maildir_folder_get_path (BounceMaildirFolder *folder);
BOUNCE_PUBLIC gboolean bounce_maildir_folder_holds (BounceMaildirFolder *folder, const BounceMessageRef *msg);
BOUNCE_PUBLIC void bounce_maildir_folder_free (BounceMaildirFolder *folder);
BOUNCE_PUBLIC gboolean bounce_maildir_move (const BounceMessageRef *msg, BounceMaildirFolder *folder,
                                            gboolean link_only, char **target, GError **error);
BOUNCE_PUBLIC gboolean bounce_maildir_delete (const BounceMessageRef *msg, GError **error);
BOUNCE_PUBLIC gboolean bounce_maildir_fix_name (const BounceMessageRef *msg, char **new_name, GError **error);
BOUNCE_PUBLIC gboolean bounce_maildir_replace (const BounceMessageRef *msg, const char *data, gsize length,
                                               char **new_path, GError **error);

/**
 * BounceSpan: one message of an mbox file to change: where it lies, the
 * target mbox its text is appended to (an index into the targets given
 * to bounce_mbox_rewrite(), or -1), and its new text (NULL: taken out).
 * The program allocates these (a GArray of them) and the library reads
 * them: their size never changes, and what is reserved must be zero.
 */
typedef struct
{
  goffset offset;
  gsize length;
  int target;
  const char *data;
  gsize data_length;
  /*< private >*/
  gpointer reserved[4];
} BounceSpan;

/*
 * Locks: each an opaque object that its constructor takes (or fails to
 * take, with an error) and its unlock function releases and frees;
 * g_autoptr() does it at the end of a scope.
 * BounceMailboxLock keeps two backscatter runs that change one mailbox
 * apart (an flock in a folder of the caller's, never waited for);
 * BounceMboxLock locks an mbox file as mail readers and delivery agents
 * do (fcntl, then a dot lock), for a rewrite.
 */
typedef struct _BounceMailboxLock BounceMailboxLock;

BOUNCE_PUBLIC BounceMailboxLock *bounce_mailbox_lock (const char *path, const char *lock_dir, GError **error);
BOUNCE_PUBLIC void bounce_mailbox_unlock (BounceMailboxLock *lock);

typedef struct _BounceMboxLock BounceMboxLock;

BOUNCE_PUBLIC BounceMboxLock *bounce_mbox_lock (const char *path, const char *create_like, GError **error);
BOUNCE_PUBLIC void bounce_mbox_lock_refresh (BounceMboxLock *lock);
BOUNCE_PUBLIC void bounce_mbox_unlock (BounceMboxLock *lock);
BOUNCE_PUBLIC gboolean bounce_mbox_recover (BounceMboxLock *lock, const char *state_dir, char **note, GError **error);
BOUNCE_PUBLIC gboolean bounce_mbox_rewrite (BounceMboxLock *lock, GArray *spans, BounceMboxLock **targets,
                                            guint n_targets, const char *state_dir, GError **error);

BOUNCE_PUBLIC char *bounce_defang (const char *data, gsize length, const char *note, gsize *out_length, guint *removed,
                                   GError **error);

/* ---- Identity ---------------------------------------------------------- */

typedef struct _BounceIdentity BounceIdentity;

BOUNCE_PUBLIC BounceIdentity *bounce_identity_new (void);
BOUNCE_PUBLIC BounceIdentity *bounce_identity_ref (BounceIdentity *id);
BOUNCE_PUBLIC void bounce_identity_unref (BounceIdentity *id);
BOUNCE_PUBLIC gboolean bounce_identity_add_address (BounceIdentity *id, const char *pattern, GError **error);
BOUNCE_PUBLIC gboolean bounce_identity_add_relay (BounceIdentity *id, const char *pattern, GError **error);
BOUNCE_PUBLIC gboolean bounce_identity_add_dkim_domain (BounceIdentity *id, const char *domain, GError **error);
BOUNCE_PUBLIC void bounce_identity_set_batv_key (BounceIdentity *id, GBytes *key);
BOUNCE_PUBLIC GBytes *bounce_identity_get_batv_key (BounceIdentity *id);
BOUNCE_PUBLIC void bounce_identity_add_sent_folder (BounceIdentity *id, const char *path);
BOUNCE_PUBLIC const char *const *bounce_identity_get_sent_folders (BounceIdentity *id);
BOUNCE_PUBLIC void bounce_identity_set_complete (BounceIdentity *id, gboolean complete);
BOUNCE_PUBLIC gboolean bounce_identity_get_complete (BounceIdentity *id);
BOUNCE_PUBLIC gboolean bounce_identity_has_addresses (BounceIdentity *id);
BOUNCE_PUBLIC gboolean bounce_identity_has_relays (BounceIdentity *id);
BOUNCE_PUBLIC gboolean bounce_identity_has_dkim_domains (BounceIdentity *id);
BOUNCE_PUBLIC gboolean bounce_identity_is_owner_address (BounceIdentity *id, const char *address);
BOUNCE_PUBLIC const char *bounce_identity_is_relay (BounceIdentity *id, const char *host, const char *ip);
BOUNCE_PUBLIC const char *bounce_identity_signs (BounceIdentity *id, const char *domain);

/**
 * BounceBatv: what a BATV "prvs=" tag on an address says.
 */
typedef enum
{
  BOUNCE_BATV_NONE,    /* the address carries no tag */
  BOUNCE_BATV_VALID,   /* made with the key, not expired */
  BOUNCE_BATV_INVALID, /* not made with the key */
  BOUNCE_BATV_EXPIRED, /* made with the key, but its day has passed */
} BounceBatv;

BOUNCE_PUBLIC char *bounce_batv_sign (GBytes *key, const char *address, gint64 now, guint days);
BOUNCE_PUBLIC BounceBatv bounce_batv_verify (GBytes *key, const char *address, gint64 now, char **plain);

/* ---- The sent-mail index --------------------------------------------- */

typedef struct _BounceIndex BounceIndex;

BOUNCE_PUBLIC BounceIndex *bounce_index_open (const char *path, gboolean readonly, GError **error);
BOUNCE_PUBLIC BounceIndex *bounce_index_ref (BounceIndex *idx);
BOUNCE_PUBLIC void bounce_index_unref (BounceIndex *idx);
BOUNCE_PUBLIC gboolean bounce_index_clear (BounceIndex *idx, GError **error);
BOUNCE_PUBLIC gboolean bounce_index_begin (BounceIndex *idx, GError **error);
BOUNCE_PUBLIC gboolean bounce_index_commit (BounceIndex *idx, GError **error);
BOUNCE_PUBLIC gboolean bounce_index_rollback (BounceIndex *idx, GError **error);
BOUNCE_PUBLIC gboolean bounce_index_add_message (BounceIndex *idx, const char *data, gsize length, gboolean *added,
                                                 GError **error);
BOUNCE_PUBLIC gboolean bounce_index_learn_folder (BounceIndex *idx, const char *path, guint *n_read, guint *n_added,
                                                  GError **error);
/**
 * BounceLearnCounts: what bounce_index_learn() read, in a structure the
 * program allocates and the library fills whole (reserved room included).
 */
typedef struct
{
  guint read;      /* messages read this time */
  guint added;     /* of those, new to the index */
  guint not_owner; /* of those, not From one of the owner's addresses */
  /*< private >*/
  guint reserved[5];
} BounceLearnCounts;

typedef void (*BounceLearnProgressFunc) (const BounceLearnCounts *counts, guint looked_at, goffset offset,
                                         gpointer user_data);

BOUNCE_PUBLIC gboolean bounce_index_learn (BounceIndex *idx, const char *path, BounceMailboxFlags flags,
                                           BounceIdentity *owner, BounceLearnProgressFunc progress, gpointer user_data,
                                           BounceLearnCounts *counts, GError **error);
BOUNCE_PUBLIC gboolean bounce_index_lookup (BounceIndex *idx, const char *message_id, gint64 *date);

/**
 * BounceIndexKey: what the sent-mail index counts in the owner's mail,
 * and the form of the value bounce_index_count() looks up (compared
 * without regard to case).
 * @BOUNCE_INDEX_RECIPIENT: an address written to (To, Cc, Bcc)
 * @BOUNCE_INDEX_FROM: a From address
 * @BOUNCE_INDEX_AGENT: a mail program, without its version ("thunderbird")
 * @BOUNCE_INDEX_ID_DOMAIN: the domain of a Message-ID
 * @BOUNCE_INDEX_ID_SHAPE: the shape of a Message-ID ("x-x-x-x-x+@example.org":
 *   its words' classes, then its domain)
 * @BOUNCE_INDEX_TIME_ZONE: the zone of a Date ("+0200")
 * @BOUNCE_INDEX_DKIM: a domain that signed with DKIM
 * @BOUNCE_INDEX_HOP: a hop the mail took first: "s:" and the organisation
 *   of the submission server, or "n:" and the network it came from
 * @BOUNCE_INDEX_STYLE: one way of sending, "HOP|SHAPE|AGENT" ("-" for
 *   what is unknown)
 */
typedef enum
{
  BOUNCE_INDEX_RECIPIENT,
  BOUNCE_INDEX_FROM,
  BOUNCE_INDEX_AGENT,
  BOUNCE_INDEX_ID_DOMAIN,
  BOUNCE_INDEX_ID_SHAPE,
  BOUNCE_INDEX_TIME_ZONE,
  BOUNCE_INDEX_DKIM,
  BOUNCE_INDEX_HOP,
  BOUNCE_INDEX_STYLE,
} BounceIndexKey;

BOUNCE_PUBLIC guint bounce_index_count (BounceIndex *idx, BounceIndexKey key, const char *value);
BOUNCE_PUBLIC gint64 bounce_index_get_updated (BounceIndex *idx);
BOUNCE_PUBLIC gboolean bounce_index_get_range (BounceIndex *idx, guint *n, gint64 *first, gint64 *last);

/* ---- Judgement --------------------------------------------------------- */

typedef struct _BounceJudge BounceJudge;
typedef struct _BounceJudgement BounceJudgement;

/**
 * BounceEvidence: one reason for a verdict.
 */
typedef struct
{
  char *rule;    /* its name, as in rules/weights.rules */
  double weight; /* > 0 towards backscatter, < 0 towards legitimate */
  char *detail;  /* one sentence saying what was seen */
  /*< private >*/
  gpointer reserved[2];
} BounceEvidence;

BOUNCE_PUBLIC BounceJudge *bounce_judge_new (BounceIdentity *identity, BounceIndex *index, BounceRules *rules);
BOUNCE_PUBLIC BounceJudge *bounce_judge_ref (BounceJudge *judge);
BOUNCE_PUBLIC void bounce_judge_unref (BounceJudge *judge);
BOUNCE_PUBLIC BounceJudgement *bounce_judge_report (BounceJudge *judge, BounceReport *report);
BOUNCE_PUBLIC void bounce_judgement_free (BounceJudgement *judgement);
BOUNCE_PUBLIC BounceVerdict bounce_judgement_get_verdict (BounceJudgement *judgement);
BOUNCE_PUBLIC double bounce_judgement_get_score (BounceJudgement *judgement);
BOUNCE_PUBLIC guint bounce_judgement_get_n_evidence (BounceJudgement *judgement);
BOUNCE_PUBLIC const BounceEvidence *bounce_judgement_get_evidence (BounceJudgement *judgement, guint index);
BOUNCE_PUBLIC void bounce_judgement_write_json (BounceJudgement *judgement, BounceJsonWriter *w);
/**
 * BOUNCE_HEADER_PREFIX:
 * What the names of the fields bounce_judgement_to_headers() writes begin
 * with: bounce_message_add_headers() replaces those a message came with.
 */
#define BOUNCE_HEADER_PREFIX "X-Backscatter"

BOUNCE_PUBLIC char *bounce_judgement_to_headers (BounceJudgement *judgement, BounceReport *report, const char *newline);
BOUNCE_PUBLIC char *bounce_message_add_headers (const char *data, gsize length, const char *headers,
                                                const char *replace, gsize *out_length);
BOUNCE_PUBLIC GByteArray *bounce_message_read (int fd, gboolean *more, GError **error);
BOUNCE_PUBLIC char *bounce_message_get_header (const char *data, gsize length, const char *name);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BounceRules, bounce_rules_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BounceReport, bounce_report_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BounceIdentity, bounce_identity_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BounceIndex, bounce_index_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BounceJudge, bounce_judge_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BounceJudgement, bounce_judgement_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BounceJsonWriter, bounce_json_writer_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BounceMaildirFolder, bounce_maildir_folder_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BounceMailboxLock, bounce_mailbox_unlock)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BounceMboxLock, bounce_mbox_unlock)

G_END_DECLS

#endif /* BACKSCATTER_H */

/* bounce-private.h — types and helpers shared inside libbackscatter.
 *
 * Nothing here is exported. The limits below bound the work done on one
 * message whatever its content; exceeding one is recorded as a warning on
 * the report (or a BOUNCE_ERROR_LIMIT error where no result is possible).
 */
#ifndef BOUNCE_PRIVATE_H
#define BOUNCE_PRIVATE_H

#include "backscatter.h"
#include <gmime/gmime.h>
#include <string.h>

/* Limits on hostile input. */
#define BOUNCE_MAX_HEADER_BYTES (256 * 1024) /* triage header block */
#define BOUNCE_MAX_MIME_DEPTH 32             /* nesting walked */
#define BOUNCE_MAX_MIME_PARTS 2000           /* parts walked */
#define BOUNCE_MAX_RECIPIENTS 1000           /* per report */
#define BOUNCE_MAX_RECEIVED 64               /* Received kept */
#define BOUNCE_MAX_ATTACHMENTS 100           /* listed per original */
#define BOUNCE_MAX_TEXT_BYTES (256 * 1024)   /* report text matched */
#define BOUNCE_MAX_DSN_BYTES (1024 * 1024)   /* delivery-status body */
#define BOUNCE_MAX_FIELD_BYTES 4096          /* one value kept */
#define BOUNCE_MAX_DIAGNOSTIC_BYTES 2048     /* one recipient's diagnostic */
#define BOUNCE_MAX_ORIGINAL_FIELDS 500       /* header fields of an original kept */
#define BOUNCE_MAX_LISTED_ADDRESSES 500      /* addresses read from one header */
#define BOUNCE_BARE_CR_PROBE 4096            /* bytes looked at for an LF */

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeObject, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeMessage, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeContentType, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeParser, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeStream, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeParserOptions, g_mime_parser_options_free)

struct _BounceRecipient
{
  char *address;
  char *original_recipient;
  char *action;
  char *status;
  char *reply_code;
  char *diagnostic;
  char *remote_mta;
  char *reason;
  char *last_attempt;
  char *will_retry_until;
  char *command; /* the SMTP command the error answered: MAIL, RCPT, DATA... */
  int permanent; /* 1, 0, or -1 for unknown */
};

struct _BounceOriginal
{
  char *carried_as;
  GPtrArray *headers; /* alternating name, value (decoded) */
  char *message_id;
  char *from;
  GArray *received;         /* BounceReceived */
  GPtrArray *received_text; /* each Received value, NULL-terminated */
  GArray *dkim;             /* BounceDkim */
  GArray *attachments;      /* BounceAttachment */
  gboolean cut_received;    /* more Received than BOUNCE_MAX_RECEIVED */
  gboolean cut_fields;      /* more fields than BOUNCE_MAX_ORIGINAL_FIELDS */
  gboolean cut_attachments; /* more attachments than BOUNCE_MAX_ATTACHMENTS */
};

/* Per-message fields of a delivery-status body. */
typedef struct
{
  char *reporting_mta;
  char *received_from_mta;
  char *arrival_date;
  char *envelope_id;
  GPtrArray *recipients; /* BounceRecipient */
  gboolean cut;          /* more than BOUNCE_MAX_DSN_BYTES: the rest unread */
} BounceDsn;

/* util.c */
void bounce_gmime_init (void);
GMimeParserOptions *bounce_parser_options (void);
gboolean bounce_utf8_valid (const char *s, gsize len);
char *bounce_utf8 (const char *s, gssize len);
const char *bounce_charset_iconv_name (const char *charset);
char *bounce_header_decode (const char *raw);
char *bounce_header_value (GMimeHeader *header);
char *bounce_header_unfold_plain (const char *raw);
char *bounce_date_iso (GDateTime *date);
gboolean bounce_date_unix (const char *value, gint64 *out);
char *bounce_date_to_iso (const char *value);
char *bounce_header_text (GMimeObject *object, const char *name);
char *bounce_convert_to_utf8 (const char *data, gsize len, const char *charset, gsize *written);
char *bounce_strip (char *s);
char *bounce_addr_spec (const char *s);
gboolean bounce_find_status (const char *text, char out[16]);
gboolean bounce_find_reply_code (const char *text, char out[4]);
char *bounce_collapse_space (const char *s);
gboolean bounce_truncate_utf8 (char *s, gsize max);
void bounce_recipient_free (BounceRecipient *r);
BounceRecipient *bounce_recipient_new (void);
void bounce_original_free (BounceOriginal *o);
GMimeMessage *bounce_parse_bounded_message (const char *data, gsize len);
GMimeObject *bounce_parse_bounded_part (const char *data, gsize len);
GByteArray *bounce_part_content (GMimePart *part, gsize max);
int bounce_name_index (const char *const *names, guint n, const char *name);
int bounce_compare_strings (gconstpointer a, gconstpointer b);

/* decode.c */
GByteArray *bounce_transfer_decode (GMimeContentEncoding encoding, const char *in, gsize len, gsize max);

/* dsn.c */
BounceDsn *bounce_dsn_parse (const char *data, gsize len);
void bounce_dsn_free (BounceDsn *dsn);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BounceDsn, bounce_dsn_free)

/* original.c */
BounceOriginal *bounce_original_from_message (GMimeMessage *msg, const char *carried_as);
BounceOriginal *bounce_original_from_headers_text (const char *text, gsize len, const char *carried_as);
BounceOriginal *bounce_original_from_part (GMimeObject *part);
guint bounce_original_get_n_fields (BounceOriginal *orig);
const char *const *bounce_original_get_received_text (BounceOriginal *orig);

/* pattern.c */
/* A regular expression of the rules (or of the format-free reader's
 * phrases), matched without regard to case, ^ and $ at line ends: checked
 * when read, and run as checked (PCRE2's interpreter) its first
 * PATTERN_PLAIN_RUNS times; compiled again for speed (PCRE2's JIT) only
 * when it runs more often than that: the JIT compile costs more than it
 * saves a pattern that runs a few times, and most patterns run a few
 * times or never in a run of the program (one message in check or filter:
 * none is worth it). An alternative cut from a checked pattern is
 * compiled the first time it runs. */
typedef struct _BouncePattern BouncePattern;
struct _BouncePattern
{
  char *source;
  GRegexCompileFlags flags; /* PATTERN_FLAGS for the rules' patterns */
  GRegex *re;               /* the checked one; NULL until it first runs for an alternative */
  GRegex *fast;             /* the JIT-compiled one, once it has run often enough */
  gint runs;
  BouncePattern *whole; /* an alternative: the pattern it was cut from */
};

#define PATTERN_FLAGS (G_REGEX_CASELESS | G_REGEX_MULTILINE)
/* The runs of a pattern before it is compiled for speed. */
#define PATTERN_PLAIN_RUNS 16
/* The longest text the checked expression runs over (bytes). */
#define PATTERN_PLAIN_MAX_TEXT (16 * 1024)

BouncePattern *bounce_pattern_new (const char *source, GRegexCompileFlags flags);
GRegex *bounce_pattern_re (BouncePattern *p, gssize len);
GRegex *bounce_pattern_compile (BouncePattern *p);
void bounce_pattern_free (gpointer data);

/* prefilter.c */
typedef struct _BouncePrefilter BouncePrefilter;

/* The words of a pattern as bounce_prefilter_add_pattern() numbers them:
 * sets of ids, each ended by BOUNCE_PREFILTER_AND but the last, which
 * G_MAXUINT ends; a text the pattern matches holds a word of every set. */
#define BOUNCE_PREFILTER_AND (G_MAXUINT - 1)

GPtrArray *bounce_pattern_words (const char *pattern);
GPtrArray *bounce_pattern_word_sets (const char *pattern);
GStrv bounce_pattern_split (const char *pattern);
BouncePrefilter *bounce_prefilter_new (void);
void bounce_prefilter_free (BouncePrefilter *pf);
guint *bounce_prefilter_add_pattern (BouncePrefilter *pf, const char *pattern);
guint bounce_prefilter_add_word (BouncePrefilter *pf, const char *word);
void bounce_prefilter_add_words (BouncePrefilter *pf, char **words, guint n);
const GPtrArray *bounce_prefilter_get_words (BouncePrefilter *pf);
void bounce_prefilter_set_enabled (BouncePrefilter *pf, gboolean on);
gboolean bounce_prefilter_get_enabled (BouncePrefilter *pf);
gsize bounce_prefilter_seen_len (BouncePrefilter *pf);
void bounce_prefilter_scan (BouncePrefilter *pf, const char *text, gsize len, guint64 *seen);
gboolean bounce_prefilter_may_match (BouncePrefilter *pf, const guint *ids, const guint64 *seen);

/* rules.c */
typedef struct _BounceFormatRule BounceFormatRule;

typedef struct
{
  GMimeObject *message; /* the bounce: its top part (bounce_parse_bounded_part) */
  const char *text;     /* the report text, UTF-8, LF line ends */
  gsize text_len;
} BounceRuleInput;

const BounceFormatRule *bounce_rules_match (BounceRules *rules, const BounceRuleInput *in);
const char *bounce_format_rule_name (const BounceFormatRule *rule);
BounceKind bounce_format_rule_kind (const BounceFormatRule *rule);
void bounce_format_rule_extract (const BounceFormatRule *rule, const char *text, gsize len, GPtrArray *recipients,
                                 gsize *original_offset);
const char *bounce_format_rule_default_status (const BounceFormatRule *rule);
const char *bounce_format_rule_default_reason (const BounceFormatRule *rule);
void bounce_rules_set_prefilter (BounceRules *rules, gboolean on);
const char *bounce_rules_reason (BounceRules *rules, const char *diagnostic, const char *status);
const char *const *bounce_format_rule_samples (const BounceFormatRule *rule);
GPtrArray *bounce_rules_list_formats (BounceRules *rules);

/* profile.c */
typedef enum
{
  BOUNCE_SUBMISSION_NONE,          /* relayed from a public address */
  BOUNCE_SUBMISSION_AUTHENTICATED, /* the client logged in */
  BOUNCE_SUBMISSION_LOCAL,         /* injected on the host itself */
  BOUNCE_SUBMISSION_WEBMAIL,       /* webmail or MAPI */
  BOUNCE_SUBMISSION_PRIVATE,       /* a client on a private network */
} BounceSubmission;

typedef struct
{
  char *by_host;   /* lower-case */
  char *from_host; /* nullable */
  char *from_ip;   /* nullable */
  char *from_name; /* the client's name as the receiving server found it
                    * (reverse DNS), not as the client claimed; nullable */
  char *with;      /* the protocol, lower-case; nullable */
  gboolean authenticated;
  BounceSubmission submission;
} BounceHop;

gboolean bounce_hop_parse (const char *received, BounceHop *hop);
void bounce_hop_clear (BounceHop *hop);
char *bounce_hop_key (const BounceHop *hop);
gboolean bounce_ip_is_private (const char *ip);
char *bounce_org_domain (const char *host);
char *bounce_message_id_shape (const char *message_id);
char *bounce_date_zone (const char *date);
char *bounce_sending_style (const char *hop_key, const char *shape, const char *agent);
char *bounce_message_id_domain (const char *message_id);
char *bounce_user_agent_family (const char *ua);

/* identity.c */
const char *bounce_identity_sends_under (BounceIdentity *id, const char *domain);

/* sentindex.c */
guint bounce_index_count_kind (BounceIndex *idx, BounceIndexKey key);
guint bounce_index_count_prefix (BounceIndex *idx, BounceIndexKey key, const char *prefix);

/* judgement.c */
const char *bounce_judge_evidence_name (guint i);

/* mimewalk.c */
/* The subtype (of "message") the parse gives a part that carries a
 * message, so that GMime leaves it a leaf (report.c): the walk reads it
 * as a message part. */
#define BOUNCE_CARRIED_SUBTYPE "x-backscatter-carried"

/* The parts of a report's MIME tree the parse reads. */
typedef struct
{
  GMimeObject *status_part;    /* delivery-status or global-delivery-status */
  GMimeObject *more_status[3]; /* later ones: the first may hold prose, not fields */
  gboolean global;
  GMimeObject *mdn_part;
  GMimeObject *feedback_part;
  GMimeObject *orig_part;
  GMimeObject *text_part;
  GMimeObject *html_part;
  GMimeObject *text_attachment; /* a later text part: may hold headers */
  GMimeObject *report_message;  /* the message whose report we read */
  GMimeMessage *carried_report; /* owned: a report a carried message holds, parsed */
  GByteArray *carried_bytes;    /* owned: what it was parsed from */
  const char *prologue;         /* the first non-empty multipart prologue */
  guint parts;
  gboolean limited;
  gboolean text_cut; /* out of bounce_report_text: text past the cap */
} BounceWalk;

void bounce_walk (BounceWalk *w, GMimeObject *obj);
void bounce_walk_clear (BounceWalk *w);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (BounceWalk, bounce_walk_clear)
char *bounce_text_to_utf8 (char *bytes, gsize n, const char *charset, gsize *len);
char *bounce_text_of (GMimeObject *part, gsize *len);
gsize bounce_finish_text (char *text, gsize len, gboolean *cut);
char *bounce_report_text (BounceWalk *w, gsize *len);
/* Decodes a part to UTF-8 text; *@len: its length. */
typedef char *(*BounceTextOf) (gconstpointer part, gsize *len);
char *bounce_report_text_from (BounceTextOf text_of, gconstpointer text_part, gconstpointer html_part,
                               const char *prologue, gsize *len, gboolean *cut);

/* recipients.c */
BounceRecipient *bounce_recipients_find (GPtrArray *recipients, const char *address);
void bounce_recipients_merge (GPtrArray *recipients, GPtrArray *found);
guint bounce_recipients_finish (GPtrArray *recipients, BounceRules *rules, const BounceFormatRule *rule,
                                const char *text, gsize text_len);
BounceKind bounce_kind_from_actions (GPtrArray *recipients);

/* generic.c */
/* A report as the format-free reader sees it, after the MIME structure and
 * the format rules were read. */
typedef struct
{
  GMimeObject *message; /* the report: its top part (bounce_parse_bounded_part) */
  const char *text;     /* its text, as the rules read it */
  gsize text_len;
  gboolean rule;            /* a format rule recognised it */
  BounceRules *rules;       /* (nullable) whose reasons name a paragraph that says why */
  BounceKind kind;          /* in: what is known; out: what the reader makes of it */
  const char *format;       /* likewise; (transfer none) a static or rule name */
  GPtrArray *recipients;    /* BounceRecipient, added to */
  gsize inline_at;          /* where an inline original starts; G_MAXSIZE: none */
  GMimeObject *orig_part;   /* the part carrying the original, or NULL */
  BounceOriginal *original; /* out: (transfer full) (nullable) read from @orig_part */
  GPtrArray *signals;       /* out: char *, what made the reader take it for a report */
  guint64 *text_words;      /* the phrases' words in @text, once looked for; freed with g_free() */
  int text_valid;           /* whether the start of @text the phrases read is UTF-8: 1, -1; 0 not looked */
} BounceGeneric;

BounceDsn *bounce_generic_dsn (const char *text, gsize len);
void bounce_generic_read (BounceGeneric *g);
gsize bounce_generic_original (const char *text, gsize len);

/* batv.c */
char *bounce_batv_tag (GBytes *key, const char *mailbox, int k, int day);
BounceBatv bounce_batv_check (GBytes *key, const char *address, gint64 today, char **mailbox_out);

/* fileio.c */
gboolean bounce_io_error (GError **error, const char *what, const char *path);
gboolean bounce_pwrite_all (int fd, const char *data, gsize len, goffset at, const char *path, GError **error);
gboolean bounce_pread_all (int fd, char *data, gsize len, goffset at, const char *path, GError **error);
gboolean bounce_fsync_fd (int fd, const char *path, GError **error);
void bounce_sync_dir (const char *dir);

/* maildir.c */
char *bounce_maildir_sized_name (const char *name, gsize size);

/* headers.c */
gsize bounce_mbox_from_end (const char *data, gsize len, char eol);
gsize bounce_message_start (const char *data, gsize len);
gsize bounce_header_block_end (const char *data, gsize len);
/* A Content-Type value in its plainest form, as bounce_content_type_quick()
 * reads it: pointers into the value, NULL for a parameter not given. */
typedef struct
{
  const char *type, *subtype;
  gsize type_len, subtype_len;
  const char *boundary, *charset, *name;
  gsize boundary_len, charset_len, name_len;
} BounceQuickType;
const char *bounce_content_type_media (const char *v, BounceQuickType *qt);
gboolean bounce_content_type_quick (const char *v, BounceQuickType *qt);
/* One field of a header block, as bounce_header_next() reads it. */
typedef struct
{
  const char *line;  /* its first line */
  gsize len;         /* with its continuation lines and their line ends */
  gsize name_len;    /* the name's, blanks before the colon dropped; 0: none */
  const char *value; /* after the colon; NULL when the field has none */
  gsize value_len;   /* to the field's end, line ends included */
} BounceHeaderField;
/* bounce_header_span: where the field of the header block of @data
 * (@len bytes) at *@pos lies: its first line and the continuation lines
 * (those that start with a blank) after it, in @field's line and len.
 * *@pos moves past it. Returns FALSE, with *@pos after it, at the blank
 * line ("\n" or "\r\n") that ends the block, or at the end of @data
 * (*@pos = @len). Defined here, inline, for the triage reads every field
 * of every message of a mailbox with it. */
static inline gboolean
bounce_header_span (const char *data, gsize len, gsize *pos, BounceHeaderField *field)
{
  const char *p = data + *pos, *end = data + len, *vend = p;

  if (p >= end)
    {
      *pos = len;
      return FALSE;
    }
  if (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n'))
    {
      *pos += *p == '\n' ? 1 : 2;
      return FALSE;
    }
  for (;;)
    {
      const char *nl = memchr (vend, '\n', end - vend);

      vend = nl ? nl + 1 : end;
      if (nl == NULL || vend >= end || (*vend != ' ' && *vend != '\t'))
        break;
    }
  *pos = vend - data;
  field->line = p;
  field->len = vend - p;
  return TRUE;
}

/* bounce_header_name: the name and value of the field that
 * bounce_header_span found. */
static inline void
bounce_header_name (BounceHeaderField *field)
{
  const char *p = field->line, *vend = p + field->len;
  const char *colon = memchr (p, ':', field->len);

  field->value = colon ? colon + 1 : NULL;
  field->value_len = colon ? (gsize) (vend - colon - 1) : 0;
  /* The name as GMime reads it: blanks before the colon dropped
   * ("Content-Type : multipart/report"). */
  for (field->name_len = colon ? (gsize) (colon - p) : 0;
       field->name_len > 0 && (p[field->name_len - 1] == ' ' || p[field->name_len - 1] == '\t'); field->name_len--)
    ;
}

/* bounce_header_next: the field of the header block of @data (@len
 * bytes) at *@pos, unfolded, as bounce_header_span finds it, with its
 * name and value. */
static inline gboolean
bounce_header_next (const char *data, gsize len, gsize *pos, BounceHeaderField *field)
{
  if (!bounce_header_span (data, len, pos, field))
    return FALSE;
  bounce_header_name (field);
  return TRUE;
}

/* triage.c */
/* What the triage saw in a header block. */
typedef enum
{
  BOUNCE_TRIAGE_NO,      /* nothing of a report */
  BOUNCE_TRIAGE_SUBJECT, /* only a word of the Subject */
  BOUNCE_TRIAGE_ROLE,    /* a role address's From, maybe a word of the Subject */
  BOUNCE_TRIAGE_YES,     /* a report's type, sender or headers */
} BounceTriage;

BounceTriage bounce_triage (const char *data, gsize len, gsize *header_end);
gboolean bounce_worth_parsing (const char *data, gsize length, gsize probe, BounceRules *rules, BounceParseFlags flags,
                               gsize *hend, BounceTriage *triage);
/* secondlook.c */
gboolean bounce_second_look (const char *data, gsize length, gsize hend, BounceRules *rules);
char *bounce_second_look_header (const char *data, gsize hend, const char *name);
char *bounce_second_look_text (const char *data, gsize length, gsize hend, gsize *len, gboolean *later,
                               gboolean *original);
/* What the second look at a message knows of it, for the rules. */
typedef struct
{
  const char *const *from;    /* the forms its From may take for the rules, NULL-terminated
                               * (none: it has none); NULL: not known */
  const char *const *subject; /* the same for its Subject */
  GHashTable *headers;        /* lower-case name -> GPtrArray, NULL-terminated: the forms of
                               * its values (NULL: not known); of the headers rules read */
  const char *text;           /* the text the rules read */
  gsize text_len;
} BounceLook;

gboolean bounce_rules_may_report (BounceRules *rules, const BounceLook *look);
gboolean bounce_rules_reads_header (BounceRules *rules, const char *lower_name);

/* util.c */
char *bounce_bare_cr_to_lf (const char *data, gsize *length);

/* The end of the line at @p (after its '\n'), or @end. */
static inline const char *
bounce_line_end (const char *p, const char *end)
{
  const char *nl = memchr (p, '\n', end - p);

  return nl ? nl + 1 : end;
}

/* mimescan.c */
/* A stretch of a message: bytes [start, end). */
typedef struct
{
  gsize start, end;
} BounceRange;

gsize bounce_mime_bounded_length (const char *data, gsize length, char **warning, GArray *carried);
GMimeMessage *bounce_parse_message_bytes (const char *data, gsize len);
GMimeObject *bounce_parse_part_bytes (const char *data, gsize len);

/* report.c */
char *bounce_parser_input (const char *data, gsize *len, BounceRules *rules, GArray *carried);

#endif /* BOUNCE_PRIVATE_H */

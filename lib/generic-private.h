/* generic-private.h — shared by the reader of reports no rule describes
 * (generic.c), the weighing of whether a message is one
 * (generic-evidence.c) and the diagnostics of its recipients
 * (generic-diagnostic.c).
 */
#ifndef BOUNCE_GENERIC_PRIVATE_H
#define BOUNCE_GENERIC_PRIVATE_H

#include "bounce-private.h"

/* The patterns of a sender and a Subject the reader weighs, which the
 * second look also needs (secondlook.c) without the reader's phrases:
 * a mail system's From, a role address's From, a Subject that asks to
 * confirm (a challenge's). Each compiled when it first runs. */
typedef struct
{
  BouncePattern *system, *role, *confirm;
} BounceSenderPatterns;

const BounceSenderPatterns *bounce_generic_senders (void);

/* A phrase pattern, ready for long texts (generic-evidence.c). */
typedef struct _BouncePhrases BouncePhrases;

/* The phrases and patterns the generic reader looks for, each compiled
 * the first time it runs (BouncePattern); @words: the words of the
 * phrases' alternatives. */
typedef struct
{
  BouncePrefilter *words;
  BouncePhrases *failure, *delay, *content, *challenge;
  BouncePattern *sender, *weak_sender, *code, *near, *address;
} BounceGenericPhrases;

/* How the recipients the reader holds were found before it weighed the
 * evidence. */
typedef enum
{
  FOUND_NONE,
  FOUND_CODED,  /* each beside a reply or status code */
  FOUND_DAEMON, /* on a line of failure words, in mail from a mail system */
} Found;

const BounceGenericPhrases *bounce_generic_phrases (void);
gboolean bounce_generic_says (BouncePattern *p, const char *s, gssize len);
gboolean bounce_generic_says_phrase (const BouncePhrases *ph, const char *s, gssize len);
void bounce_generic_signal_add (BounceGeneric *g, const char *what, const char *seen);
BounceKind bounce_generic_weigh (BounceGeneric *g, gsize stop, gboolean original, Found found);
char *bounce_generic_challenge (BounceGeneric *g);
gboolean bounce_generic_is_auto_reply (GMimeObject *msg);
gboolean bounce_generic_may_report (gboolean role, gboolean part, const char *subject, const char *text, gsize len);
gboolean bounce_generic_finds_coded (const char *text, gsize len, gsize stop);

/* generic-diagnostic.c */
char *bounce_generic_paragraph_at (const char *text, gsize len, gsize s, gsize e);
char *bounce_generic_first_code_paragraph (BounceGeneric *g, gsize n);
void bounce_generic_recipient_diagnostics (BounceGeneric *g, gsize stop);

#endif /* BOUNCE_GENERIC_PRIVATE_H */

/* judge-private.h — the judge's insides, shared by the files that
 * gather evidence (judge.c, judge-profile.c) and the one that adds it up
 * (judgement.c).
 */
#ifndef BOUNCE_JUDGE_PRIVATE_H
#define BOUNCE_JUDGE_PRIVATE_H

#include "bounce-private.h"

struct _BounceJudge
{
  gint ref;
  BounceIdentity *identity; /* nullable */
  BounceIndex *index;       /* nullable */
  BounceRules *rules;
  guint index_n;
  gint64 index_first, index_last, index_updated;
  gboolean index_dated;
};

struct _BounceJudgement
{
  BounceVerdict verdict;
  double score;
  GArray *evidence; /* BounceEvidence */
};

/* What the original's path showed, for the evidence read after it. */
typedef struct
{
  gboolean known;     /* a hop the owner's mail takes */
  gboolean style;     /* shape and mail program of one of the owner's ways */
  gboolean submitted; /* some hop is a submission hop */
} PathFacts;

/* Sent messages in the index before what they show of the owner's ways
 * (Message-ID domains, programs, recipients) speaks. */
#define MIN_HISTORY 20

void bounce_judge_add (BounceJudge *j, BounceJudgement *jm, const char *name, const char *fmt, ...)
    G_GNUC_PRINTF (4, 5);
char *bounce_judge_day (gint64 t);

/* judge-profile.c */
void bounce_judge_path (BounceJudge *j, BounceJudgement *jm, BounceReport *r, BounceOriginal *o, const char *mid,
                        PathFacts *pf);
void bounce_judge_profile (BounceJudge *j, BounceJudgement *jm, BounceReport *r, BounceOriginal *o, const char *mid,
                           gint64 orig_date);

/* judgement.c */
BounceJudgement *bounce_judgement_new (void);
void bounce_judgement_decide (BounceJudgement *jm, BounceRules *rules);

#endif /* BOUNCE_JUDGE_PRIVATE_H */

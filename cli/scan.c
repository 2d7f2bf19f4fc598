/* scan.c — `backscatter scan PATH... [--action report|tag|move=FOLDER|delete]
 * [--dry-run] [--json] [--quiet] [--recursive] [--only VERDICT]
 * [--defang FOLDER]`: judge every message of Maildirs and mbox files and
 * act on the ones with the chosen verdict (backscatter by default).
 *
 * Safe under concurrent delivery: one scan per mailbox (a lock), Maildir
 * files renamed or rewritten atomically, an mbox locked as delivery agents
 * expect while it is read and rewritten. A message that could not be read
 * whole or parsed is never acted on. Quiet when there is nothing to say.
 */
#include "config.h"
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef enum
{
  ACTION_REPORT,
  ACTION_TAG,
  ACTION_MOVE,
  ACTION_DELETE,
} Action;

typedef struct
{
  CliContext *ctx;
  Action action;
  char *folder;    /* move=FOLDER */
  char *defang;    /* --defang FOLDER */
  char *writes[3]; /* the folders written to: folder, defang */
  BounceVerdict only;
  gboolean dry_run, json, quiet, recursive;
  int jobs; /* threads reading and parsing; 0: one per processor */

  /* the mailbox being scanned */
  const char *mailbox;
  char *root; /* Maildir: the Maildir++ top its folders are made in */
  gboolean is_mbox;
  GArray *spans;         /* mbox messages to change */
  GPtrArray *texts;      /* mbox: the new texts of the spans */
  BounceMboxLock *mlock; /* mbox: held while it is scanned for a change */
  char *lock_dir;        /* one-run-per-mailbox locks */
  char *state_dir;       /* backups of mbox rewrites */
  GHashTable *folders;   /* folder name -> BounceMaildirFolder, for this mailbox */

  guint messages, bounces, errors, acted, defanged;
  guint verdicts[4];
  int first_error;
  CliProgress progress;          /* on a terminal */
  guint mb_messages, mb_bounces; /* the counts when this mailbox began */
} Scan;

static const char *
action_verb (Scan *s, gboolean past)
{
  switch (s->action)
    {
    case ACTION_TAG:
      return past ? "tagged" : "tag";
    case ACTION_MOVE:
      return past ? "moved" : "move";
    case ACTION_DELETE:
      return past ? "deleted" : "delete";
    default:
      return "none";
    }
}

/* The Maildir++ top of a Maildir: its parent when it is itself a
 * subfolder (".NAME" holding a "maildirfolder" mark, inside a Maildir),
 * else the Maildir. Returns: (transfer full) */
static char *
maildir_root (const char *path)
{
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *mark = g_build_filename (path, "maildirfolder", NULL);
  g_autofree char *parent = g_path_get_dirname (path);
  g_autofree char *parent_cur = g_build_filename (parent, "cur", NULL);

  if (base[0] == '.' && base[1] != '\0' && strcmp (base, "..") != 0 && g_file_test (mark, G_FILE_TEST_IS_REGULAR)
      && g_file_test (parent_cur, G_FILE_TEST_IS_DIR))
    return g_steal_pointer (&parent);
  return g_strdup (path);
}

/* A Maildir's move= and --defang folders are Maildir++ folders of its
 * top. Scanning the folder a run would move to (a second run over
 * .Backscatter) would put its messages in a folder inside a folder, where
 * no mail reader looks: refused before anything is read. */
static gboolean
maildir_target_is_valid (const char *path, const char *folder)
{
  g_autofree char *root = maildir_root (path);
  g_autofree char *dotted = g_strconcat (".", folder, NULL);
  g_autofree char *target = g_build_filename (root, dotted, NULL);
  struct stat st, tst;

  if (stat (path, &st) == 0 && stat (target, &tst) == 0 && st.st_dev == tst.st_dev && st.st_ino == tst.st_ino)
    {
      g_autofree char *shown = cli_escape (path);

      fprintf (stderr, "backscatter scan: the folder '%s' is the Maildir %s itself\n", folder, shown);
      return FALSE;
    }
  return TRUE;
}

/* The folder @name of the Maildir being scanned (created on first use),
 * in its Maildir++ top: a subfolder's messages go to the top's folder. */
static BounceMaildirFolder *
target_folder (Scan *s, const char *name, GError **error)
{
  BounceMaildirFolder *folder = g_hash_table_lookup (s->folders, name);

  if (folder)
    return folder;
  folder = bounce_maildir_folder_open (s->root, name, error);
  if (folder)
    g_hash_table_insert (s->folders, g_strdup (name), folder);
  return folder;
}

/* The progress line, drawn again (@now) or when it is time. */
static void
progress (Scan *s, gboolean now)
{
  guint b = s->bounces - s->mb_bounces;

  if (!s->progress.on)
    return;
  s->progress.done = s->messages - s->mb_messages;
  g_free (s->progress.more);
  s->progress.more = g_strdup_printf (", %u %s", b, b == 1 ? "bounce" : "bounces");
  cli_progress_update (&s->progress, now);
}

static void
print_error (Scan *s, const char *source, const char *message, int code)
{
  s->errors++;
  if (s->first_error == 0)
    s->first_error = code;
  cli_progress_clear (&s->progress);
  if (s->json)
    cli_print_json (source, NULL, NULL, message);
  else
    cli_print_error (source, message);
  fflush (stdout);
  progress (s, TRUE);
}

/* Act on one judged message; returns what was done, for the output. */
static const char *
act (Scan *s, const BounceMessageRef *ref, BounceReport *report, BounceJudgement *jm, char **target, GError **error)
{
  BounceVerdict v = bounce_judgement_get_verdict (jm);

  if (s->action == ACTION_REPORT || v != s->only)
    return NULL;
  if (s->action == ACTION_DELETE && v != BOUNCE_VERDICT_BACKSCATTER)
    return NULL;
  if (s->is_mbox)
    {
      /* Changes to an mbox are made together at the end (bounce_mbox_rewrite). */
      BounceSpan span = { ref->offset, ref->span, s->action == ACTION_MOVE ? 0 : -1, NULL, 0 };

      if (s->action == ACTION_TAG)
        {
          g_autofree char *headers = bounce_judgement_to_headers (jm, report, "\n");
          gsize len;
          char *data = bounce_message_add_headers (ref->data, ref->length, headers, BOUNCE_HEADER_PREFIX, &len);

          if (len == ref->length && memcmp (data, ref->data, len) == 0)
            {
              g_free (data);
              return NULL;
            }
          span.data = data;
          span.data_length = len;
          g_ptr_array_add (s->texts, data);
        }
      if (!s->dry_run)
        g_array_append_val (s->spans, span);
      return s->dry_run ? "would-be" : action_verb (s, TRUE);
    }
  if (s->dry_run)
    return "would-be";
  switch (s->action)
    {
    case ACTION_MOVE:
      {
        BounceMaildirFolder *folder = target_folder (s, s->folder, error);

        if (folder && bounce_maildir_folder_holds (folder, ref))
          return NULL; /* there already */
        if (folder == NULL || !bounce_maildir_move (ref, folder, FALSE, target, error))
          return NULL;
        break;
      }
    case ACTION_DELETE:
      if (!bounce_maildir_delete (ref, error))
        return NULL;
      break;
    case ACTION_TAG:
      {
        g_autofree char *headers = bounce_judgement_to_headers (jm, report, "\n");
        gsize len;
        g_autofree char *data =
            bounce_message_add_headers (ref->data, ref->length, headers, BOUNCE_HEADER_PREFIX, &len);

        /* A message that carries these headers already is left as it is;
         * X-Backscatter headers it came with are replaced by ours. */
        if (len == ref->length && memcmp (data, ref->data, len) == 0)
          return NULL;
        if (!bounce_maildir_replace (ref, data, len, target, error))
          return NULL;
        break;
      }
    default:
      return NULL;
    }
  return action_verb (s, TRUE);
}

/* --defang: a bounce that stays but carries a worm keeps its text; the
 * untouched message goes to the quarantine folder first. */
static gboolean
defang (Scan *s, const BounceMessageRef *ref, BounceReport *report, BounceJudgement *jm, char **kept, GError **error)
{
  BounceOriginal *o = bounce_report_get_original (report);
  BounceVerdict v = bounce_judgement_get_verdict (jm);
  gboolean risky = FALSE;
  BounceMaildirFolder *folder;
  g_autofree char *note = NULL, *data = NULL, *dotted = NULL, *in = NULL;
  gsize len;
  guint removed = 0;

  if (s->defang == NULL || o == NULL || (v != BOUNCE_VERDICT_LEGITIMATE && v != BOUNCE_VERDICT_UNKNOWN))
    return FALSE;
  for (guint i = 0; i < bounce_original_get_n_attachments (o); i++)
    risky |= bounce_original_get_attachment (o, i)->risky;
  if (!risky)
    return FALSE;
  /* The quarantine itself holds the untouched messages: never touched. */
  dotted = g_strconcat (".", s->defang, NULL);
  in = g_path_get_basename (ref->folder);
  if (strcmp (in, dotted) == 0)
    return FALSE;
  if (s->dry_run)
    return TRUE;
  if (s->is_mbox)
    {
      /* The untouched message goes to the mbox FOLDER beside this one. */
      BounceSpan span = { ref->offset, ref->span, 1, NULL, 0 };
      g_autofree char *dir = g_path_get_dirname (ref->path);

      *kept = g_build_filename (dir, s->defang, NULL);
      note = g_strdup_printf ("The untouched message is kept in the mbox %s.", *kept);
      data = bounce_defang (ref->data, ref->length, note, &len, &removed, error);
      if (data == NULL || removed == 0)
        {
          g_clear_pointer (kept, g_free);
          return FALSE;
        }
      span.data = data;
      span.data_length = len;
      g_ptr_array_add (s->texts, g_steal_pointer (&data));
      g_array_append_val (s->spans, span);
      return TRUE;
    }
  folder = target_folder (s, s->defang, error);
  if (folder == NULL || bounce_maildir_folder_holds (folder, ref))
    return FALSE;
  {
    g_autofree char *dir = g_path_get_dirname (ref->path);
    g_autofree char *sub = g_path_get_basename (dir);

    *kept = g_build_filename (bounce_maildir_folder_get_path (folder), sub, ref->name, NULL);
  }
  note = g_strdup_printf ("The untouched message is kept in the folder %s as %s.", s->defang, *kept);
  data = bounce_defang (ref->data, ref->length, note, &len, &removed, error);
  if (data == NULL || removed == 0)
    {
      g_clear_pointer (kept, g_free);
      return FALSE; /* nothing could be taken out: the message stays as it was */
    }
  /* The untouched message is kept before its place is taken. */
  if (!bounce_maildir_move (ref, folder, TRUE, NULL, error))
    return FALSE;
  return bounce_maildir_replace (ref, data, len, NULL, error);
}

/* What the threads of the walk make of a message: its report or why not. */
typedef struct
{
  BounceReport *report;
  GError *error;
} Parsed;

/* What they make of a message that is no report (most mail): the report
 * is let go by the thread that made it, whose memory it is. */
static Parsed not_a_report;

static gpointer
parse_one (const BounceMessageRef *ref, gpointer user_data)
{
  Scan *s = user_data;
  Parsed *p;
  BounceReport *report = NULL;
  GError *error = NULL;

  /* A large file's start: enough for most mail, which is then not read
   * further; NULL asks for the whole. */
  if (ref->start_only && (report = bounce_report_new_from_start (ref->data, ref->length)) == NULL)
    return NULL;
  if (report == NULL)
    report = bounce_report_new_from_data (ref->data, ref->length, s->ctx->rules, BOUNCE_PARSE_DEFAULT, &error);
  if (report && bounce_report_get_kind (report) == BOUNCE_KIND_NOT_BOUNCE)
    {
      bounce_report_unref (report);
      return &not_a_report;
    }
  p = g_new0 (Parsed, 1);
  p->report = report;
  p->error = error;
  return p;
}

static void
parsed_free (gpointer data)
{
  Parsed *p = data;

  if (p == &not_a_report)
    return;
  g_clear_pointer (&p->report, bounce_report_unref);
  g_clear_error (&p->error);
  g_free (p);
}

static gboolean
scan_one (const BounceMessageRef *ref, gpointer prepared, gpointer user_data, GError **error)
{
  Scan *s = user_data;
  Parsed *parsed = prepared;
  g_autoptr (GError) err = NULL;
  BounceReport *report;
  g_autoptr (BounceJudgement) jm = NULL;
  g_autofree char *source = NULL;
  g_autofree char *target = NULL, *kept = NULL;
  const char *done = NULL;
  BounceVerdict v;

  s->messages++;
  s->progress.offset = ref->offset;
  progress (s, FALSE);
  bounce_mbox_lock_refresh (s->mlock);
  if (parsed == &not_a_report)
    return TRUE;                           /* most mail */
  report = parsed ? parsed->report : NULL; /* nothing was prepared when it could not be read */
  source = ref->in_mbox ? g_strdup_printf ("%s:%" G_GOFFSET_FORMAT, ref->path, ref->offset) : g_strdup (ref->path);
  if (ref->data == NULL)
    {
      print_error (s, source, ref->read_error, EX_IOERR);
      return TRUE;
    }
  if (report == NULL)
    {
      print_error (s, source, parsed->error->message, cli_exit_for_error (parsed->error));
      return TRUE;
    }
  s->bounces++;
  jm = bounce_judge_report (s->ctx->judge, report);
  v = bounce_judgement_get_verdict (jm);
  s->verdicts[v]++;
  if (ref->truncated)
    print_error (s, source, "the message is larger than the read limit; it was judged from its start and left alone",
                 EX_DATAERR);
  else
    {
      BounceMessageRef renamed;
      g_autofree char *new_name = NULL, *new_path = NULL;

      /* A run that writes first finishes the rewrite a killed run left
       * with a name that says the old size. */
      if (!ref->in_mbox && !s->dry_run && (s->action != ACTION_REPORT || s->defang)
          && bounce_maildir_fix_name (ref, &new_name, &err) && new_name)
        {
          g_autofree char *dir = g_path_get_dirname (ref->path);

          new_path = g_build_filename (dir, new_name, NULL);
          renamed = *ref;
          renamed.name = new_name;
          renamed.path = new_path;
          ref = &renamed;
        }
      if (err == NULL)
        done = act (s, ref, report, jm, &target, &err);
      if (done == NULL && err == NULL && defang (s, ref, report, jm, &kept, &err))
        {
          done = s->dry_run ? "would-be-defanged" : "defanged";
          s->defanged++;
        }
      else if (done)
        s->acted++;
      if (err && err->code == BOUNCE_ERROR_VANISHED)
        {
          /* A mail client took it meanwhile: nothing to do, no error. */
          g_clear_error (&err);
          done = NULL;
        }
      if (err)
        {
          if (err->code == BOUNCE_ERROR_CONFIG)
            {
              g_propagate_error (error, g_steal_pointer (&err));
              return FALSE;
            }
          /* The mailbox could not be written: an I/O error. */
          print_error (s, source, err->message,
                       err->domain == BOUNCE_ERROR && err->code == BOUNCE_ERROR_IO ? EX_IOERR
                                                                                   : cli_exit_for_error (err));
          done = NULL;
        }
    }
  if (s->json)
    {
      BounceJsonWriter *o = cli_json_begin (source, report, jm);

      cli_json_member (o, "action",
                       done ? (strcmp (done, "would-be") == 0 ? (s->action == ACTION_MOVE     ? "would-move"
                                                                 : s->action == ACTION_DELETE ? "would-delete"
                                                                                              : "would-tag")
                                                              : done)
                            : "none");
      if (target || kept)
        cli_json_member (o, "target", target ? target : kept);
      else if (done && strcmp (done, "would-be") == 0 && s->action == ACTION_MOVE)
        cli_json_member (o, "target", s->folder);
      cli_json_print (o);
    }
  else if (!s->quiet)
    {
      BounceRecipient *r = bounce_report_get_n_recipients (report) ? bounce_report_get_recipient (report, 0) : NULL;
      GString *t = g_string_sized_new (256);

      g_string_append_printf (t, "%-11s %-12s ", bounce_verdict_to_string (v),
                              bounce_kind_to_string (bounce_report_get_kind (report)));
      cli_escape_append (t, source);
      if (done)
        g_string_append_printf (t, " (%s)", strcmp (done, "would-be") == 0 ? "dry run" : done);
      g_string_append (t, ": ");
      cli_escape_append (t, r ? bounce_recipient_get_address (r) : "no recipient");
      if (r)
        {
          g_string_append_c (t, ' ');
          cli_escape_append (t, bounce_recipient_get_reason (r));
        }
      g_string_append_c (t, '\n');
      /* The report line goes above the progress line, which stays. */
      cli_progress_clear (&s->progress);
      fwrite (t->str, 1, t->len, stdout);
      fflush (stdout);
      progress (s, TRUE);
      g_string_free (t, TRUE);
    }
  return TRUE;
}

static gboolean
parse_action (Scan *s, const char *action)
{
  if (action == NULL || strcmp (action, "report") == 0)
    s->action = ACTION_REPORT;
  else if (strcmp (action, "tag") == 0)
    s->action = ACTION_TAG;
  else if (strcmp (action, "delete") == 0)
    s->action = ACTION_DELETE;
  else if (g_str_has_prefix (action, "move="))
    {
      s->action = ACTION_MOVE;
      s->folder = g_strdup (action + 5);
      if (!bounce_folder_name_is_valid (s->folder))
        {
          fprintf (stderr,
                   "backscatter scan: '%s' is not a folder name inside the Maildir "
                   "(no '/', no '..', no leading dot)\n",
                   s->folder);
          return FALSE;
        }
    }
  else
    {
      fprintf (stderr, "backscatter scan: unknown action '%s' (report, tag, move=FOLDER or delete)\n", action);
      return FALSE;
    }
  return TRUE;
}

/* An mbox's move= and --defang folders are mbox files beside it. One
 * that is the scanned mbox itself (the same file, or the same path once
 * links are resolved) or a name locks and temporary files use would take
 * the messages it is given into a file that the run then rewrites or
 * removes: refused before anything is read. */
static gboolean
mbox_target_is_valid (const char *path, const char *folder)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *target = g_build_filename (dir, folder, NULL);
  g_autofree char *real_source = realpath (path, NULL);
  g_autofree char *real_dir = realpath (dir, NULL);
  g_autofree char *real_target = real_dir ? g_build_filename (real_dir, folder, NULL) : NULL;
  g_autofree char *real_linked = realpath (target, NULL);
  struct stat st, tst;

  if (g_str_has_suffix (folder, ".lock") || strstr (folder, ".backscatter-") != NULL)
    {
      fprintf (stderr, "backscatter scan: '%s' is the name of a lock or temporary file, not a mailbox\n", folder);
      return FALSE;
    }
  if ((stat (path, &st) == 0 && stat (target, &tst) == 0 && st.st_dev == tst.st_dev && st.st_ino == tst.st_ino)
      || (real_source
          && ((real_target && strcmp (real_source, real_target) == 0)
              || (real_linked && strcmp (real_source, real_linked) == 0))))
    {
      g_autofree char *shown = cli_escape (path);

      fprintf (stderr, "backscatter scan: the folder '%s' is the mbox %s itself\n", folder, shown);
      return FALSE;
    }
  return TRUE;
}

/* An mbox changed by this run: locked as mail readers lock it, an
 * interrupted earlier rewrite recovered, read, and rewritten in place. */
static void
scan_mbox (Scan *s, const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *note = NULL;
  g_autofree char *dir = g_path_get_dirname (path);
  BounceMboxLock *targets[2] = { NULL, NULL };
  guint acted = s->acted, defanged = s->defanged;

  s->mlock = bounce_mbox_lock (path, NULL, &error);
  if (s->mlock == NULL)
    {
      print_error (s, path, error->message, cli_exit_for_error (error));
      return;
    }
  if (!bounce_mbox_recover (s->mlock, s->state_dir, &note, &error))
    {
      /* A leftover that cannot be resolved: nothing is done to this mbox. */
      print_error (s, path, error->message, EX_IOERR);
      g_clear_pointer (&s->mlock, bounce_mbox_unlock);
      return;
    }
  if (note)
    fprintf (stderr, "backscatter scan: %s\n", note);
  if (!bounce_mailbox_foreach (path, 0, NULL, s->jobs, parse_one, parsed_free, scan_one, s, &error))
    print_error (s, path, error->message, cli_exit_for_error (error));
  else if (s->spans->len > 0)
    {
      gboolean ok = TRUE;

      for (guint i = 0; i < s->spans->len && ok; i++)
        {
          int t = g_array_index (s->spans, BounceSpan, i).target;

          if (t >= 0 && targets[t] == NULL)
            {
              g_autofree char *target = g_build_filename (dir, t == 0 ? s->folder : s->defang, NULL);

              targets[t] = bounce_mbox_lock (target, path, &error);
              ok = targets[t] != NULL;
            }
        }
      if (!ok || !bounce_mbox_rewrite (s->mlock, s->spans, targets, G_N_ELEMENTS (targets), s->state_dir, &error))
        {
          print_error (s, path, error->message, error->code == BOUNCE_ERROR_LOCKED ? EX_TEMPFAIL : EX_IOERR);
          s->acted = acted;
          s->defanged = defanged;
        }
    }
  for (guint i = 0; i < G_N_ELEMENTS (targets); i++)
    bounce_mbox_unlock (targets[i]);
  g_clear_pointer (&s->mlock, bounce_mbox_unlock);
}

static void
scan_mailbox (Scan *s, const char *path)
{
  g_autoptr (GError) error = NULL;
  gboolean writes = !s->dry_run && (s->action != ACTION_REPORT || s->defang);
  BounceMailboxLock *lock = NULL;

  s->mailbox = path;
  s->is_mbox = !g_file_test (path, G_FILE_TEST_IS_DIR);
  g_free (s->root);
  s->root = s->is_mbox ? NULL : maildir_root (path);
  g_array_set_size (s->spans, 0);
  g_ptr_array_set_size (s->texts, 0);
  g_hash_table_remove_all (s->folders);
  s->mb_messages = s->messages;
  s->mb_bounces = s->bounces;
  cli_progress_start (&s->progress, "scanning", path, s->recursive, (const char *const *) s->writes);
  /* Only a run that changes the mailbox takes a lock: a report or a dry
   * run writes nothing, not even a lock file. */
  if (writes)
    {
      lock = bounce_mailbox_lock (path, s->lock_dir, &error);
      if (lock == NULL)
        {
          print_error (s, path, error->message, cli_exit_for_error (error));
          return;
        }
    }
  if (s->is_mbox && writes)
    scan_mbox (s, path);
  /* -r never reads a folder this run writes to. */
  else if (!bounce_mailbox_foreach (path, BOUNCE_MAILBOX_START_FIRST | (s->recursive ? BOUNCE_MAILBOX_RECURSIVE : 0),
                                    (const char *const *) s->writes, s->jobs, parse_one, parsed_free, scan_one, s,
                                    &error))
    print_error (s, path, error->message, cli_exit_for_error (error));
  bounce_mailbox_unlock (lock);
  cli_progress_end (&s->progress);
}

int
cli_scan (CliRun *run, int argc, char **argv)
{
  Scan s = { .ctx = &run->ctx };
  g_autofree char *action = NULL, *only = NULL;
  gboolean exit_status = FALSE;
  GOptionEntry entries[] = {
    { "action", 'a', 0, G_OPTION_ARG_STRING, &action,
      "What to do with backscatter: report (default), tag, move=FOLDER, delete", "ACTION" },
    { "only", 0, 0, G_OPTION_ARG_STRING, &only,
      "Act on this verdict instead of backscatter (unknown, legitimate; delete takes backscatter only)", "VERDICT" },
    { "defang", 0, 0, G_OPTION_ARG_STRING, &s.defang,
      "Remove worm attachments from bounces that stay, keeping the untouched message in FOLDER", "FOLDER" },
    { "dry-run", 'n', 0, G_OPTION_ARG_NONE, &s.dry_run, "Say what would be done, change nothing", NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &s.json, "One JSON object per bounce, one per line", NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &s.quiet, "Only a summary, and only when something was found or done", NULL },
    { "recursive", 'r', 0, G_OPTION_ARG_NONE, &s.recursive, "Read the Maildir++ subfolders too", NULL },
    { "jobs", 'j', 0, G_OPTION_ARG_INT, &s.jobs, "Threads reading and parsing messages (default: one per processor)",
      "N" },
    { "exit-status", 0, 0, G_OPTION_ARG_NONE, &exit_status,
      "Exit as check does: 0 backscatter found, 1 none, 2 only undecided bounces", NULL },
    { NULL },
  };
  g_autoptr (GError) error = NULL;
  int status;

  if (!cli_parse_options (run, entries, &argc, &argv))
    return EX_USAGE;
  s.only = BOUNCE_VERDICT_BACKSCATTER;
  if (!parse_action (&s, action)
      || (only && (!bounce_verdict_from_string (only, &s.only) || s.only == BOUNCE_VERDICT_NOT_BOUNCE))
      || (s.defang && !bounce_folder_name_is_valid (s.defang)))
    {
      if (only && s.only == BOUNCE_VERDICT_BACKSCATTER && strcmp (only, "backscatter") != 0)
        fprintf (stderr, "backscatter scan: --only takes backscatter, unknown or legitimate\n");
      else if (s.defang && !bounce_folder_name_is_valid (s.defang))
        fprintf (stderr, "backscatter scan: '%s' is not a folder name inside the Maildir\n", s.defang);
      g_free (s.folder);
      g_free (s.defang);
      return EX_USAGE;
    }
  if (s.jobs < 0 || s.jobs > 64)
    {
      fprintf (stderr, "backscatter scan: --jobs takes a number from 1 to 64 (0: one per processor)\n");
      g_free (s.folder);
      g_free (s.defang);
      return EX_USAGE;
    }
  if (s.action == ACTION_DELETE && s.only != BOUNCE_VERDICT_BACKSCATTER)
    {
      fprintf (stderr, "backscatter scan: delete removes backscatter only\n");
      return EX_USAGE;
    }
  if (argc < 2)
    {
      fprintf (stderr, "backscatter scan: name a Maildir or mbox to scan\n");
      return EX_USAGE;
    }
  /* Every mailbox's targets are checked before the first is read. */
  for (int i = 1; i < argc; i++)
    {
      gboolean (*valid) (const char *, const char *) =
          g_file_test (argv[i], G_FILE_TEST_IS_DIR) ? maildir_target_is_valid : mbox_target_is_valid;

      if ((s.action != ACTION_MOVE || valid (argv[i], s.folder)) && (!s.defang || valid (argv[i], s.defang)))
        continue;
      g_free (s.folder);
      g_free (s.defang);
      return EX_USAGE;
    }
  if (!cli_run_load (run, &error))
    {
      fprintf (stderr, "backscatter: %s\n", error->message);
      return cli_exit_for_error (error);
    }
  s.progress.on = !s.json && !s.quiet && isatty (STDERR_FILENO);
  s.spans = g_array_new (FALSE, FALSE, sizeof (BounceSpan));
  s.texts = g_ptr_array_new_with_free_func (g_free);
  s.lock_dir = g_build_filename (g_get_user_runtime_dir (), "backscatter", NULL);
  s.state_dir = g_build_filename (g_get_user_data_dir (), "backscatter", "mbox-backups", NULL);
  s.folders = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) bounce_maildir_folder_free);
  {
    guint w = 0;

    if (s.action == ACTION_MOVE)
      s.writes[w++] = s.folder;
    if (s.defang)
      s.writes[w++] = s.defang;
  }
  for (int i = 1; i < argc; i++)
    scan_mailbox (&s, argv[i]);
  if (!s.json && (s.bounces > 0 || s.errors > 0)
      && (!s.quiet || s.acted || s.defanged || s.errors || s.verdicts[BOUNCE_VERDICT_BACKSCATTER]))
    {
      g_autofree char *messages = cli_count (s.messages, "message", NULL);
      g_autofree char *bounces = cli_count (s.bounces, "bounce", NULL);
      g_autofree char *errors = cli_count (s.errors, "error", NULL);

      printf ("%s, %s: %u backscatter, %u legitimate, %u unknown", messages, bounces,
              s.verdicts[BOUNCE_VERDICT_BACKSCATTER], s.verdicts[BOUNCE_VERDICT_LEGITIMATE],
              s.verdicts[BOUNCE_VERDICT_UNKNOWN]);
      if (s.action != ACTION_REPORT)
        printf ("; %u %s%s%s%s", s.acted, s.dry_run ? "would be " : "", action_verb (&s, TRUE),
                s.action == ACTION_MOVE ? " to " : "", s.action == ACTION_MOVE ? s.folder : "");
      if (s.defang)
        printf ("; %u %sdefanged", s.defanged, s.dry_run ? "would be " : "");
      if (s.errors)
        printf ("; %s", errors);
      printf ("\n");
    }
  if (s.json)
    {
      /* One summary object ends the output: {"summary": {...}}. */
      BounceJsonWriter *w = bounce_json_writer_new ();
      const struct
      {
        const char *name;
        guint value;
      } counts[] = {
        { "messages", s.messages },
        { "bounces", s.bounces },
        { "backscatter", s.verdicts[BOUNCE_VERDICT_BACKSCATTER] },
        { "legitimate", s.verdicts[BOUNCE_VERDICT_LEGITIMATE] },
        { "unknown", s.verdicts[BOUNCE_VERDICT_UNKNOWN] },
      };

      bounce_json_writer_begin_object (w);
      bounce_json_writer_key (w, "summary");
      bounce_json_writer_begin_object (w);
      for (guint i = 0; i < G_N_ELEMENTS (counts); i++)
        {
          bounce_json_writer_key (w, counts[i].name);
          bounce_json_writer_int (w, counts[i].value);
        }
      cli_json_member (w, "action", s.action == ACTION_REPORT ? "report" : action_verb (&s, FALSE));
      cli_json_member (w, "target", s.action == ACTION_MOVE ? s.folder : NULL);
      bounce_json_writer_key (w, "acted");
      bounce_json_writer_int (w, s.acted);
      bounce_json_writer_key (w, "defanged");
      bounce_json_writer_int (w, s.defanged);
      bounce_json_writer_key (w, "dry_run");
      bounce_json_writer_boolean (w, s.dry_run);
      bounce_json_writer_key (w, "errors");
      bounce_json_writer_int (w, s.errors);
      bounce_json_writer_end_object (w);
      cli_json_print (w);
    }
  fflush (stdout);
  /* A run that could not do all it was asked to must not look like a
   * success to cron or a script; one without errors is a success, whatever
   * it found (undecided bounces are no failure of the run), unless the
   * verdicts were asked for. */
  if (s.first_error)
    status = s.first_error;
  else if (!exit_status)
    status = 0;
  else if (s.verdicts[BOUNCE_VERDICT_BACKSCATTER])
    status = EXIT_FOUND;
  else
    status = s.verdicts[BOUNCE_VERDICT_UNKNOWN] ? EXIT_UNDECIDED : EXIT_NONE;
  g_array_unref (s.spans);
  g_ptr_array_unref (s.texts);
  g_free (s.lock_dir);
  g_free (s.state_dir);
  g_hash_table_unref (s.folders);
  g_free (s.folder);
  g_free (s.defang);
  g_free (s.root);
  return status;
}

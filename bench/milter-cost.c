/* milter-cost.c — CPU per message on the judged path of `backscatter
 * milter`: the decisions of cli/milter-policy.c (header by header, the
 * body in chunks, the end of message: parse, triage, judge against an
 * index of sent mail) for an ordinary message and for a bounce, with the
 * rules loaded once, as the daemon does. No MTA and no socket: what is
 * measured is the milter's own work.
 *
 *   build/tests/bench-milter-cost [N] [RULES_DIR]
 *
 * Prints user+system CPU milliseconds per message of each kind (best of
 * three runs of N messages). See bench/README.md. */
#include "config.h"
#include "milter-policy.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static double
cpu_ms (void)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3 + ru.ru_stime.tv_sec * 1e3 + ru.ru_stime.tv_usec / 1e3;
}

/* Feed @msg (LF line ends) as an MTA does: headers, then 64 KiB chunks. */
static MilterResult *
one (MilterConfig *cfg, const char *ip, const char *from, const char *msg)
{
  g_autoptr (MilterSession) s = milter_session_new (cfg, ip, "client.example", NULL);
  g_autofree char *reply = NULL, *log = NULL;
  const char *body = strstr (msg, "\n\n");
  g_autofree char *head = g_strndup (msg, body - msg);
  g_auto (GStrv) lines = g_strsplit (head, "\n", -1);
  g_autoptr (GString) crlf = g_string_new (NULL);

  milter_session_mail (s, from, NULL);
  milter_session_rcpt (s, "<alice@example.net>", &reply, &log);
  for (guint i = 0; lines[i]; i++)
    {
      const char *colon = strchr (lines[i], ':');
      g_autofree char *name = g_strndup (lines[i], colon - lines[i]);

      milter_session_header (s, name, colon + 2);
    }
  milter_session_eoh (s);
  for (const char *p = body + 2; *p; p++)
    {
      if (*p == '\n')
        g_string_append_c (crlf, '\r');
      g_string_append_c (crlf, *p);
    }
  for (gsize at = 0; at < crlf->len; at += 65536)
    milter_session_body (s, crlf->str + at, MIN (65536, crlf->len - at));
  return milter_session_eom (s, "BENCH");
}

static char *
ordinary (void)
{
  GString *m = g_string_new ("From: Dan <dan@example.com>\nTo: alice@example.net\nSubject: the results of the week\n"
                             "Date: Mon, 8 Apr 2024 10:00:00 +0000\nMessage-ID: <o-1@example.com>\n"
                             "Received: from mail.example.com (mail.example.com [198.51.100.7]) by mx.example.org\n"
                             "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n");

  for (int i = 0; i < 200; i++) /* about 12 KB */
    g_string_append_printf (m, "line %d of the weekly report, with nothing in it of a bounce.\n", i);
  return g_string_free (m, FALSE);
}

static char *
bounce (void)
{
  return g_strdup (
      "From: Mail Delivery System <MAILER-DAEMON@mail.example.com>\nTo: alice@example.net\n"
      "Subject: Undelivered Mail Returned to Sender\nDate: Mon, 8 Apr 2024 11:00:00 +0000\n"
      "Message-ID: <bounce.1@mail.example.com>\nMIME-Version: 1.0\n"
      "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n"
      "--B\nContent-Type: text/plain\n\nI could not deliver your message to carol@example.com.\n\n"
      "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mail.example.com\n\n"
      "Final-Recipient: rfc822; carol@example.com\nAction: failed\nStatus: 5.1.1\n"
      "Diagnostic-Code: smtp; 550 5.1.1 <carol@example.com>: Recipient address rejected: User unknown\n\n"
      "--B\nContent-Type: text/rfc822-headers\n\n"
      "Received: from infected.example.com ([203.0.113.9]) by mail.example.com; Mon, 8 Apr 2024 10:00:01 +0000\n"
      "From: Alice <alice@example.net>\nTo: carol@example.com\nSubject: the minutes\n"
      "Date: Mon, 8 Apr 2024 10:00:00 +0000\nMessage-ID: <worm-1@example.net>\n\n--B--\n");
}

int
main (int argc, char **argv)
{
  int n = argc > 1 ? atoi (argv[1]) : 2000;
  char *rules[] = { argc > 2 ? argv[2] : (char *) BOUNCE_SOURCE_RULES_DIR, NULL };
  g_autofree char *dir = g_dir_make_tmp ("backscatter-bench-XXXXXX", NULL);
  g_autofree char *conf = g_build_filename (dir, "config", NULL);
  g_autofree char *text = g_strdup_printf ("[identity]\naddresses = *@example.org; *@example.net\n"
                                           "relays = mx.example.org\n[sent]\ncomplete = true\n"
                                           "index = %s/sent.db\n[milter]\noutgoing-networks = 192.0.2.0/24\n",
                                           dir);
  CliSettings s = { .config = conf, .rules_dirs = rules };
  g_autoptr (GError) error = NULL;
  g_autoptr (MilterConfig) cfg = NULL;
  g_autofree char *ord = ordinary (), *bnc = bounce ();
  const char *names[] = { "ordinary", "bounce" };
  const char *msgs[] = { ord, bnc };
  const char *froms[] = { "<dan@example.com>", "<>" };
  MilterAction want[] = { MILTER_ACCEPT, MILTER_REJECT };
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", dir);

  g_file_set_contents (conf, text, -1, NULL);
  cfg = milter_config_load (&s, &error);
  if (cfg == NULL || !milter_config_open_index (cfg, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  /* An index of 5,000 sent messages, recorded as the milter records them. */
  for (int i = 0; i < 5000; i++)
    {
      g_autofree char *m = g_strdup_printf ("From: alice@example.net\nTo: friend%d@example.com\n"
                                            "Subject: note %d\nDate: Sun, 7 Apr 2024 10:00:00 +0000\n"
                                            "Message-ID: <sent-%d@example.net>\n\nA note.\n",
                                            i % 300, i, i);
      g_autoptr (MilterResult) r = one (cfg, "192.0.2.10", "<alice@example.net>", m);
    }
  printf ("messages per kind: %d (best of 3 runs); index: 5000 sent messages\n", n);
  for (guint k = 0; k < 2; k++)
    {
      double best = 1e18;

      for (int run = 0; run < 3; run++)
        {
          double t0 = cpu_ms ();

          for (int i = 0; i < n; i++)
            {
              g_autoptr (MilterResult) r = one (cfg, "198.51.100.7", froms[k], msgs[k]);

              if (r->action != want[k])
                {
                  fprintf (stderr, "%s: wrong action %s (%s)\n", names[k], milter_action_to_string (r->action), r->log);
                  return 1;
                }
            }
          best = MIN (best, (cpu_ms () - t0) / n);
        }
      printf ("%-9s %.3f ms CPU per message\n", names[k], best);
    }
  if (system (cmd) != 0)
    return 1;
  return 0;
}

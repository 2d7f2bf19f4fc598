/* startup-floor — the least a one-message run of backscatter can cost:
 * a program linked against the same libraries as `backscatter` (libbackscatter
 * and, through it, GMime, GLib/GIO, SQLite; libmilter when the
 * program has it), that sets the locale as the program does, initialises
 * GMime and exits. bench/run.sh times it beside `backscatter filter` and
 * `backscatter check` on one message.
 *
 *   build/bench/startup-floor   (prints the libbackscatter version) */
#include <backscatter.h>
#include <gmime/gmime.h>
#include <locale.h>
#include <stdio.h>
#ifdef BOUNCE_HAVE_MILTER
#include <libmilter/mfapi.h>
#endif

int
main (void)
{
  setlocale (LC_ALL, "");
  g_mime_init ();
#ifdef BOUNCE_HAVE_MILTER
  /* Keeps libmilter among the libraries loaded at start, as it is for the
   * program; the call itself does nothing that costs. */
  {
    unsigned int major, minor, patch;

    (void) smfi_version (&major, &minor, &patch);
  }
#endif
  printf ("%s\n", bounce_version ());
  return 0;
}

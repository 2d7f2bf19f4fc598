/* fuzz-config.c — a configuration file through cli_load_identity(), the
 * loader of cli/config.c (compiled into this program), as `backscatter
 * --config FILE` reads it. The input is written to a memfd and named by
 * its /proc/self/fd path, so nothing touches the disk. HOME is an empty
 * temporary folder, so that "~/" paths lead nowhere real.
 *
 * A faulty file must fail with a BOUNCE_ERROR; a good one gives an
 * identity that answers questions.
 */
#include "config.h"
#include "fuzz.h"

#include "../cli/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static int fd = -1;
static char *path;

static void
init (void)
{
  char *home;

  if (fd >= 0)
    return;
  fuzz_init_logging ();
  home = g_dir_make_tmp ("fuzz-config-home-XXXXXX", NULL);
  if (home == NULL)
    g_error ("cannot make a temporary HOME");
  g_setenv ("HOME", home, TRUE);
  g_free (home);
  fd = memfd_create ("fuzz-config", MFD_CLOEXEC);
  if (fd < 0)
    g_error ("memfd_create: %s", g_strerror (errno));
  path = g_strdup_printf ("/proc/self/fd/%d", fd);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  CliSettings s = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (BounceIdentity) id = NULL;
  size_t done = 0;

  init ();
  if (ftruncate (fd, 0) != 0)
    g_error ("ftruncate: %s", g_strerror (errno));
  while (done < size)
    {
      ssize_t n = pwrite (fd, data + done, size - done, done);

      if (n <= 0)
        g_error ("pwrite: %s", g_strerror (errno));
      done += n;
    }
  s.config = path;
  id = cli_load_identity (&s, &error);
  if (id == NULL)
    {
      g_assert (error != NULL && error->domain == BOUNCE_ERROR);
      return 0;
    }
  g_assert (error == NULL);
  (void) bounce_identity_is_owner_address (id, "me@example.org");
  (void) bounce_identity_is_owner_address (id, "someone@sub.example.net");
  (void) bounce_identity_is_relay (id, "smtp.example.org", "192.0.2.7");
  (void) bounce_identity_is_relay (id, NULL, "2001:db8::1");
  (void) bounce_identity_signs (id, "example.org");
  (void) bounce_identity_get_sent_folders (id);
  return 0;
}

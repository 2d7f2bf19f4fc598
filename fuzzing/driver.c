/* driver.c — run a fuzz target without libFuzzer, as GLib's fuzzing/
 * folder does: each file named on the command line, or every file under
 * a named folder (recursively, in name order), goes once through
 * LLVMFuzzerTestOneInput. Each input is copied into a buffer of exactly
 * its size, so that a sanitizer build catches reads past its end.
 *
 *   fuzz-message [-v] FILE|DIR...
 *
 * Exit status 0 when every input ran; a crash is a crash. `meson test`
 * replays each target's seed corpus (and testdata/malformed) this way.
 */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static gboolean verbose;
static guint n_inputs;

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static void
run_file (const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *contents = NULL;
  g_autofree guint8 *exact = NULL;
  gsize len;

  if (!g_file_get_contents (path, &contents, &len, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      exit (1);
    }
  if (verbose)
    fprintf (stderr, "Running: %s (%" G_GSIZE_FORMAT " bytes)\n", path, len);
  exact = g_malloc (len ? len : 1);
  memcpy (exact, contents, len);
  LLVMFuzzerTestOneInput (exact, len);
  n_inputs++;
}

static void
run_path (const char *path)
{
  g_autoptr (GDir) dir = NULL;
  g_autoptr (GPtrArray) names = NULL;
  const char *name;

  if (!g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      run_file (path);
      return;
    }
  dir = g_dir_open (path, 0, NULL);
  if (dir == NULL)
    {
      fprintf (stderr, "%s: cannot read the folder\n", path);
      exit (1);
    }
  names = g_ptr_array_new_with_free_func (g_free);
  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *child = g_build_filename (path, g_ptr_array_index (names, i), NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) || g_file_test (child, G_FILE_TEST_IS_REGULAR))
        run_path (child);
    }
}

int
main (int argc, char **argv)
{
  int i = 1;

  if (i < argc && strcmp (argv[i], "-v") == 0)
    {
      verbose = TRUE;
      i++;
    }
  if (i >= argc)
    {
      fprintf (stderr, "usage: %s [-v] FILE|DIR...\n", argv[0]);
      return 2;
    }
  for (; i < argc; i++)
    run_path (argv[i]);
  printf ("%u inputs ran\n", n_inputs);
  fflush (stdout);
  return 0;
}

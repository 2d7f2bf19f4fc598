/* test-common.h — what the C test programs share.
 *
 * test_corpus_path (): a file or folder of the shared corpus of real mail,
 * from $BACKSCATTER_CORPUS or ../shared/corpus beside the source tree.
 * The caller frees the result; tests that need the corpus skip, saying
 * where they looked, when it is not there.
 *
 * test_is_zero (): whether a structure's reserved room is zero.
 *
 * test_project_rules (): the project's own rules (rules/ of the source
 * tree), loaded and checked.
 *
 * test_collect_files (): every file below a folder, in name order;
 * test_collect_samples (): those of testdata/ and of the corpus.
 */
#pragma once

#include <glib.h>
#include <string.h>

#include "backscatter.h"

static inline char *
test_corpus_path (const char *first, ...)
{
  const char *env = g_getenv ("BACKSCATTER_CORPUS");
  g_autofree char *root =
      env && *env ? g_strdup (env) : g_test_build_filename (G_TEST_DIST, "..", "..", "shared", "corpus", NULL);
  GString *path = g_string_new (root);
  va_list ap;

  va_start (ap, first);
  for (const char *part = first; part; part = va_arg (ap, const char *))
    g_string_append_printf (path, G_DIR_SEPARATOR_S "%s", part);
  va_end (ap);
  return g_string_free (path, FALSE);
}

/* test_is_zero (): whether the @size bytes at @p are all zero, as the
 * reserved room of the public structures must be. */
static inline gboolean
test_is_zero (gconstpointer p, gsize size)
{
  const guint8 *b = p;

  for (gsize i = 0; i < size; i++)
    if (b[i] != 0)
      return FALSE;
  return TRUE;
}

static inline BounceRules *
test_project_rules (void)
{
  g_autofree char *dir = g_test_build_filename (G_TEST_DIST, "..", "rules", NULL);
  BounceRules *rules = bounce_rules_new ();
  g_autoptr (GError) error = NULL;

  if (!bounce_rules_load_dir (rules, dir, FALSE, &error))
    g_error ("%s", error->message);
  return rules;
}

static inline int
test_compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* Every regular file below @dir (when @suffix: only the names ending so),
 * sorted, appended to @out. Hidden files are left out. */
static inline void
test_collect_files (const char *dir, const char *suffix, GPtrArray *out)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  if (d == NULL)
    return;
  while ((name = g_dir_read_name (d)) != NULL)
    if (name[0] != '.')
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, test_compare_names);
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *path = g_build_filename (dir, g_ptr_array_index (names, i), NULL);

      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        test_collect_files (path, suffix, out);
      else if (g_file_test (path, G_FILE_TEST_IS_REGULAR) && (suffix == NULL || g_str_has_suffix (path, suffix)))
        g_ptr_array_add (out, g_steal_pointer (&path));
    }
}

/* test_collect_samples (): every file of testdata/ and, when it is
 * there, of the shared corpus, each folder's in name order. */
static inline GPtrArray *
test_collect_samples (void)
{
  g_autofree char *testdata = g_test_build_filename (G_TEST_DIST, "..", "testdata", NULL);
  g_autofree char *corpus = test_corpus_path (NULL);
  GPtrArray *files = g_ptr_array_new_with_free_func (g_free);

  test_collect_files (testdata, NULL, files);
  if (corpus && g_file_test (corpus, G_FILE_TEST_IS_DIR))
    test_collect_files (corpus, NULL, files);
  return files;
}

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
 */
#pragma once

#include <glib.h>

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

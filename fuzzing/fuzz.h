/* fuzz.h — what the fuzz targets share: the libFuzzer entry point and a
 * log writer that keeps the fuzzer's output quiet.
 *
 * GMime and GLib warn about bad input (a charset they do not know, a
 * malformed header): such warnings are expected and dropped. Critical
 * messages are made fatal: a g_return_if_fail() that fires means the
 * library called something with arguments it must never pass, which is a
 * bug even when nothing crashes. Every failure ends in abort(), which
 * libFuzzer catches and saves the input of.
 */
#ifndef BOUNCE_FUZZ_H
#define BOUNCE_FUZZ_H

#include <glib.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static inline GLogWriterOutput
fuzz_log_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  (void) user_data;
  if (level & (G_LOG_FLAG_FATAL | G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
    {
      /* abort() rather than GLib's breakpoint trap, which libFuzzer does
       * not catch: the input would not be saved. */
      g_log_writer_standard_streams (level, fields, n_fields, NULL);
      abort ();
    }
  return G_LOG_WRITER_HANDLED;
}

/* fuzz_init: once per process, before the first input. */
static inline void
fuzz_init_logging (void)
{
  static gboolean done;

  if (done)
    return;
  done = TRUE;
  g_log_set_writer_func (fuzz_log_writer, NULL, NULL);
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
}

/* fuzz_assert_utf8: abort unless @s (nullable) is valid UTF-8: every
 * string the library hands out must be. */
static inline void
fuzz_assert_utf8 (const char *what, const char *s)
{
  if (s != NULL && !g_utf8_validate (s, -1, NULL))
    {
      fprintf (stderr, "%s is not valid UTF-8: %s\n", what, s);
      abort ();
    }
}

#endif /* BOUNCE_FUZZ_H */

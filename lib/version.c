/* version.c — which libbackscatter a program runs against. */
#include "backscatter.h"

#include "config.h"

/* bounce_version: Returns: (transfer none) the version of the library
 * the program runs with, "MAJOR.MINOR.MICRO", a static string (compare
 * BOUNCE_CHECK_VERSION, the version it was built against). */
const char *
bounce_version (void)
{
  return BOUNCE_VERSION;
}

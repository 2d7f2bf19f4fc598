/* version.c — which libbackscatter a program runs against. */
#include "backscatter.h"

#include "config.h"

const char *
bounce_version (void)
{
  return BOUNCE_VERSION;
}

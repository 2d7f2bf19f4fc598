/* rules-extract.c — read a report's failed recipients with its format
 * rule.
 *
 * Within the error text (between errors-start and errors-end, and before
 * the returned original) each recipient pattern's matches give the
 * recipients; the diagnostic of each is its own diag group, else the
 * first diagnostic-after match after it, else the paragraph after it,
 * else the rule's shared diagnostic. At most BOUNCE_MAX_RECIPIENTS.
 */
#include "rules-private.h"

#include <string.h>

/* The offset of the start of the line after the first match of @re in
 * text[from, len), or -1. */
static gssize
line_after_match (GRegex *re, const char *text, gsize len, gsize from)
{
  g_autoptr (GMatchInfo) mi = NULL;
  int start, end;
  const char *nl;

  if (!g_regex_match_full (re, text, len, from, 0, &mi, NULL))
    return -1;
  g_match_info_fetch_pos (mi, 0, &start, &end);
  nl = memchr (text + end, '\n', len - end);
  return nl ? nl - text + 1 : (gssize) len;
}

/* The offset of the start of the line holding the first match, or -1. */
static gssize
line_of_match (GRegex *re, const char *text, gsize len, gsize from)
{
  g_autoptr (GMatchInfo) mi = NULL;
  int start, end;

  if (!g_regex_match_full (re, text, len, from, 0, &mi, NULL))
    return -1;
  g_match_info_fetch_pos (mi, 0, &start, &end);
  while (start > (int) from && text[start - 1] != '\n')
    start--;
  return start;
}

typedef struct
{
  int start, end; /* the recipient match */
  char *addr;
  char *diag; /* from a diag group, or NULL */
  char *code;
  char *status;
} Hit;

static void
hit_clear (gpointer p)
{
  Hit *h = p;

  g_free (h->addr);
  g_free (h->diag);
  g_free (h->code);
  g_free (h->status);
}

static int
compare_hits (gconstpointer a, gconstpointer b)
{
  const Hit *x = a, *y = b;

  return x->start - y->start;
}

static char *
named (GMatchInfo *mi, const char *name)
{
  char *v = g_match_info_fetch_named (mi, name);

  return bounce_strip (v);
}

/* A diagnostic-after match: where it starts, and its text. */
typedef struct
{
  int start;
  char *diag;
} Follow;

static void
follow_clear (gpointer p)
{
  g_free (((Follow *) p)->diag);
}

static int
compare_follows (gconstpointer a, gconstpointer b)
{
  int x = ((const Follow *) a)->start, y = ((const Follow *) b)->start;

  return (x > y) - (x < y);
}

/* Every match of @rule's diagnostic-after patterns in the error text, in
 * order: each recipient takes the first one after it. One pass over the
 * text for all recipients, rather than a search from each. */
static GArray *
follows_in (const BounceFormatRule *rule, const char *text, gsize err_start, gsize err_end)
{
  GArray *out = g_array_new (FALSE, TRUE, sizeof (Follow));

  g_array_set_clear_func (out, follow_clear);
  for (guint i = 0; i < rule->follows->len; i++)
    {
      g_autoptr (GMatchInfo) mi = NULL;

      g_regex_match_full (bounce_pattern_re (g_ptr_array_index (rule->follows, i), err_end), text, err_end, err_start,
                          0, &mi, NULL);
      while (g_match_info_matches (mi) && out->len < BOUNCE_MAX_RECIPIENTS)
        {
          Follow f = { 0 };
          g_autofree char *d = named (mi, "diag");

          g_match_info_fetch_pos (mi, 0, &f.start, NULL);
          if (d == NULL)
            d = bounce_strip (g_match_info_fetch (mi, 0));
          f.diag = d ? bounce_collapse_space (d) : NULL;
          if (f.diag)
            g_array_append_val (out, f);
          if (!g_match_info_next (mi, NULL))
            break;
        }
    }
  g_array_sort (out, compare_follows);
  return out;
}

/* The first of @follows that starts at or after @pos, or NULL. */
static const char *
follow_after (GArray *follows, int pos)
{
  guint lo = 0, hi = follows->len;

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;

      if (g_array_index (follows, Follow, mid).start < pos)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo < follows->len ? g_array_index (follows, Follow, lo).diag : NULL;
}

/* The paragraph after a recipient: up to @limit, ending at a blank line;
 * when the text right after the match is blank, the next paragraph. */
static char *
paragraph_after (const char *text, gsize pos, gsize limit)
{
  const char *p = text + pos, *end = text + limit;
  const char *start, *stop;
  gboolean skipped = FALSE;

  /* rest of the matched line */
  start = p;
  for (;;)
    {
      const char *nl;

      stop = start;
      while (stop < end)
        {
          nl = memchr (stop, '\n', end - stop);
          if (nl == NULL)
            {
              stop = end;
              break;
            }
          /* a blank line ends the paragraph */
          {
            const char *q = nl + 1;

            while (q < end && (*q == ' ' || *q == '\t' || *q == '\r'))
              q++;
            if (q >= end || *q == '\n')
              {
                stop = nl;
                break;
              }
          }
          stop = nl + 1;
        }
      {
        g_autofree char *raw = g_strndup (start, stop - start);
        char *c = bounce_collapse_space (raw);

        if (c || skipped || stop >= end)
          return c;
        g_free (c);
      }
      /* blank right after the recipient: take the next paragraph */
      skipped = TRUE;
      start = stop;
      while (start < end && g_ascii_isspace (*start))
        start++;
      if (start >= end)
        return NULL;
    }
}

/* bounce_format_rule_extract: apply @rule's extraction to the report text:
 * add failed recipients to @recipients (BounceRecipient) and set
 * @original_offset to where an inline original starts (or G_MAXSIZE). */
void
bounce_format_rule_extract (const BounceFormatRule *rule, const char *text, gsize len, GPtrArray *recipients,
                            gsize *original_offset)
{
  gsize err_start = 0, err_end = len, orig = G_MAXSIZE;
  g_autoptr (GArray) hits = g_array_new (FALSE, TRUE, sizeof (Hit));
  g_autoptr (GArray) follows = NULL;
  g_autofree char *shared_diag = NULL;

  g_array_set_clear_func (hits, hit_clear);
  for (guint i = 0; i < rule->originals->len && orig == G_MAXSIZE; i++)
    {
      GRegex *re = bounce_pattern_re (g_ptr_array_index (rule->originals, i), len);
      gssize at = line_after_match (re, text, len, 0);
      gssize line = line_of_match (re, text, len, 0);

      if (at >= 0)
        {
          orig = at;
          err_end = line;
        }
    }
  *original_offset = orig;
  if (rule->errors_start)
    {
      gssize at = line_after_match (bounce_pattern_re (rule->errors_start, err_end), text, err_end, 0);

      if (at >= 0)
        err_start = at;
    }
  if (rule->errors_end)
    {
      gssize at = line_of_match (bounce_pattern_re (rule->errors_end, err_end), text, err_end, err_start);

      if (at >= 0)
        err_end = at;
    }
  if (err_end <= err_start)
    return;

  for (guint i = 0; i < rule->recipients->len; i++)
    {
      GRegex *re = bounce_pattern_re (g_ptr_array_index (rule->recipients, i), err_end);
      g_autoptr (GMatchInfo) mi = NULL;

      g_regex_match_full (re, text, err_end, err_start, 0, &mi, NULL);
      while (g_match_info_matches (mi) && hits->len < BOUNCE_MAX_RECIPIENTS)
        {
          Hit h = { 0 };
          g_autofree char *raw = named (mi, "addr");

          g_match_info_fetch_pos (mi, 0, &h.start, &h.end);
          h.addr = bounce_addr_spec (raw);
          if (h.addr)
            {
              h.diag = named (mi, "diag");
              h.code = named (mi, "code");
              h.status = named (mi, "status");
              g_array_append_val (hits, h);
            }
          if (!g_match_info_next (mi, NULL))
            break;
        }
    }
  g_array_sort (hits, compare_hits);
  follows = follows_in (rule, text, err_start, err_end);

  for (guint i = 0; i < rule->diagnostics->len && shared_diag == NULL; i++)
    {
      g_autoptr (GMatchInfo) mi = NULL;

      if (g_regex_match_full (bounce_pattern_re (g_ptr_array_index (rule->diagnostics, i), err_end), text, err_end,
                              err_start, 0, &mi, NULL))
        {
          shared_diag = named (mi, "diag");
          if (shared_diag == NULL)
            shared_diag = bounce_strip (g_match_info_fetch (mi, 0));
          if (shared_diag)
            {
              char *c = bounce_collapse_space (shared_diag);

              g_free (shared_diag);
              shared_diag = c;
            }
        }
    }

  for (guint i = 0; i < hits->len; i++)
    {
      Hit *h = &g_array_index (hits, Hit, i);
      BounceRecipient *r = NULL;
      gsize limit = err_end;

      for (guint j = i + 1; j < hits->len; j++)
        if (g_array_index (hits, Hit, j).start >= h->end)
          {
            limit = g_array_index (hits, Hit, j).start;
            break;
          }
      for (guint k = 0; k < recipients->len; k++)
        {
          BounceRecipient *x = g_ptr_array_index (recipients, k);

          if (g_ascii_strcasecmp (x->address, h->addr) == 0)
            r = x;
        }
      if (r == NULL)
        {
          if (recipients->len >= BOUNCE_MAX_RECIPIENTS)
            break;
          r = bounce_recipient_new ();
          r->address = g_strdup (h->addr);
          r->action = g_strdup (rule->kind == BOUNCE_KIND_DELAY       ? "delayed"
                                : rule->kind == BOUNCE_KIND_DELIVERED ? "delivered"
                                                                      : "failed");
          g_ptr_array_add (recipients, r);
        }
      if (r->diagnostic == NULL)
        {
          const char *after = h->diag ? NULL : follow_after (follows, h->end);
          char *d = h->diag ? bounce_collapse_space (h->diag)
                    : after ? g_strdup (after)
                            : paragraph_after (text, h->end, limit);

          r->diagnostic = d ? d : g_strdup (shared_diag);
        }
      if (r->reply_code == NULL && h->code)
        r->reply_code = g_strndup (h->code, 3);
      if (r->status == NULL && h->status)
        {
          char st[16];

          if (bounce_find_status (h->status, st))
            r->status = g_strdup (st);
        }
    }
}

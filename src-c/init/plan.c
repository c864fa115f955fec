/* Parsing of the plan: one step per line, fields separated by tabs.
 *
 * A field escapes backslash, tab and newline as \\, \t and \n, so any path except one holding a
 * NUL byte (which no path can) travels unchanged.  */

#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "init.h"

static char *
unescape_field (const char *start, size_t len)
{
  char *out = malloc (len + 1);
  size_t i, j = 0;

  if (out == NULL)
    return NULL;

  for (i = 0; i < len; i++)
    {
      if (start[i] != '\\' || i + 1 == len)
        {
          out[j++] = start[i];
          continue;
        }

      i++;
      out[j++] = start[i] == 't' ? '\t' : start[i] == 'n' ? '\n' : start[i];
    }

  out[j] = '\0';
  return out;
}

static int
parse_line (const char *line, size_t len, struct step *step)
{
  size_t i, start = 0, n = 1;

  for (i = 0; i < len; i++)
    if (line[i] == '\t')
      n++;

  step->argv = calloc (n + 1, sizeof (char *));
  if (step->argv == NULL)
    return -1;

  step->argc = 0;
  for (i = 0; i <= len; i++)
    {
      if (i < len && line[i] != '\t')
        continue;

      step->argv[step->argc] = unescape_field (line + start, i - start);
      if (step->argv[step->argc] == NULL)
        return -1;

      step->argc++;
      start = i + 1;
    }

  return 0;
}

int
parse_plan (const char *text, struct plan *plan)
{
  const char *line = text;
  size_t cap = 64;

  plan->len = 0;
  plan->steps = calloc (cap, sizeof (struct step));
  if (plan->steps == NULL)
    return -1;

  while (*line)
    {
      const char *end = strchr (line, '\n');
      size_t len = end ? (size_t) (end - line) : strlen (line);

      if (len > 0)
        {
          if (plan->len == cap)
            {
              struct step *grown = realloc (plan->steps, cap * 2 * sizeof (struct step));

              if (grown == NULL)
                return -1;
              plan->steps = grown;
              cap *= 2;
            }

          if (parse_line (line, len, &plan->steps[plan->len]) < 0)
            return -1;
          plan->len++;
        }

      line += len + (end ? 1 : 0);
    }

  return 0;
}

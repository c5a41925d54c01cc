#include <stdio.h>
#include <string.h>
#include "calc.h"

/* calc_format writes v and this file's base name into buf. */
int calc_format(char *buf, size_t n, int v)
{
	const char *file = strrchr(__FILE__, '/');
	return snprintf(buf, n, "%d (%s)", v, file ? file + 1 : __FILE__);
}
